//! The one rounding rule of the hidden layers, shared by inference and
//! bounds.
//!
//! Requantisation is the single-rounding variant: one 64-bit product, one
//! round-half-up shift. It is monotone non-decreasing in the accumulator
//! (the multiplier is non-negative, adding a constant and an arithmetic
//! shift are monotone, clamping is monotone), which is what makes interval
//! propagation through it sound: the bounds of the outputs are the
//! requantised bounds of the accumulator.

/// Requantises an int32 accumulator to int8 (FORMAT.md section 4.3):
/// `clamp(zero_point + ((acc * multiplier + 2^(shift-1)) >> shift), min, max)`.
///
/// `None` outside the parameters a model file may hold, which the loader
/// checks: `multiplier` in `0..2^31`, `shift` in `1..=62`, `min <= max`.
pub fn requantize(
    acc: i32,
    multiplier: i32,
    shift: u8,
    zero_point: i8,
    min: i8,
    max: i8,
) -> Option<i8> {
    let valid = multiplier >= 0 && (1..=62).contains(&shift) && min <= max;
    valid.then(|| requantize_checked(acc, multiplier, shift, zero_point, min, max))
}

/// [`requantize`] for parameters the loader has checked, as FORMAT.md
/// section 4.3 writes it: `|acc * multiplier| <= 2^62` and the rounding
/// term is at most `2^61`, so the 64-bit sum cannot overflow, and neither
/// can adding the zero point to the shifted value.
#[inline(always)]
pub(crate) fn requantize_checked(
    acc: i32,
    multiplier: i32,
    shift: u8,
    zero_point: i8,
    min: i8,
    max: i8,
) -> i8 {
    let zero = i32::from(zero_point);
    let (lo, hi) = (i32::from(min) - zero, i32::from(max) - zero);
    (requantize_centred(acc, multiplier, shift, lo, hi) + zero) as i8
}

/// [`requantize_checked`] less the zero point, the activation the next
/// layer reads: `clamp(zero_point + r, min, max) - zero_point` is
/// `clamp(r, min - zero_point, max - zero_point)` for the rounded shift
/// `r`, so the bounds `lo`, `hi` are those differences (the layer loops
/// compute them once, and no value is shifted twice).
#[inline(always)]
pub(crate) fn requantize_centred(acc: i32, multiplier: i32, shift: u8, lo: i32, hi: i32) -> i32 {
    if shift > 32 {
        return requantize_narrow(acc, multiplier, shift, lo, hi);
    }
    requantize_wide(acc, multiplier, shift, lo, hi)
}

/// Whether every shift of a layer is narrow (`33..=62`): then
/// [`requantize_narrow`] requantises all of its channels, and a loop over
/// them needs no call to [`requantize_wide`] (whose registers it would
/// otherwise have to save).
#[cfg(feature = "conv")]
pub(crate) fn all_narrow(shifts: &[u8]) -> bool {
    shifts.iter().all(|&shift| shift > 32)
}

/// [`requantize_centred`] for a narrow shift, `33..=62` (and only there:
/// below, `shift - 33` wraps).
#[inline(always)]
pub(crate) fn requantize_narrow(acc: i32, multiplier: i32, shift: u8, lo: i32, hi: i32) -> i32 {
    // The same value from the high word of the product alone, in 32-bit
    // arithmetic (one SMMUL on a 32-bit core): with `t = shift - 32` and
    // `product = hi * 2^32 + lo`, `0 <= lo < 2^32`, adding `2^(shift-1) =
    // 2^(t-1) * 2^32` leaves `lo` alone, and `floor((A * 2^32 + lo) /
    // 2^shift) = floor(A / 2^t)` for the integer `A = hi + 2^(t-1)` because
    // `lo / 2^32 < 1`. And `floor((hi + 2^(t-1)) / 2^t) = floor((floor(hi /
    // 2^(t-1)) + 1) / 2)` (nested floors of positive divisors), two
    // arithmetic shifts and an add. `|hi| <= 2^30`, so nothing overflows.
    let high = ((i64::from(acc) * i64::from(multiplier)) >> 32) as i32;
    let t = u32::from(shift) - 33;
    (((high >> t) + 1) >> 1).max(lo).min(hi)
}

/// [`requantize_centred`] for `shift <= 32`, in 64-bit arithmetic: out of
/// line, so that the common path's loops keep their values in registers
/// (and compute only the product's high word).
#[cold]
#[inline(never)]
fn requantize_wide(acc: i32, multiplier: i32, shift: u8, lo: i32, hi: i32) -> i32 {
    let product = i64::from(acc) * i64::from(multiplier);
    let rounded = (product + (1i64 << (shift - 1))) >> shift;
    rounded.max(i64::from(lo)).min(i64::from(hi)) as i32
}

/// The formula of FORMAT.md section 4.3, literally: what
/// [`requantize_checked`] must equal (checked by the tests).
#[cfg(test)]
fn requantize_reference(
    acc: i32,
    multiplier: i32,
    shift: u8,
    zero_point: i8,
    min: i8,
    max: i8,
) -> i8 {
    let product = i128::from(acc) * i128::from(multiplier);
    let rounded = (product + (1i128 << (shift - 1))) >> shift;
    (rounded + i128::from(zero_point)).clamp(i128::from(min), i128::from(max)) as i8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requantize_rounds_half_up_and_clamps() {
        // multiplier 2^30, shift 31: exactly acc / 2.
        let m = 1 << 30;
        let rq = |acc, zero_point, min| requantize(acc, m, 31, zero_point, min, 127).unwrap();
        assert_eq!(rq(3, 0, -128), 2); // 1.5 -> 2
        assert_eq!(rq(-3, 0, -128), -1); // -1.5 -> -1
        assert_eq!(rq(1000, 0, -128), 127);
        assert_eq!(rq(-1000, 5, 5), 5);
    }

    #[test]
    fn requantize_is_monotone() {
        for &(m, s) in &[
            (1 << 30, 31u8),
            (1_518_500_250, 37),
            (2_147_483_647, 62),
            (2_147_483_647, 1),
            (0, 1),
        ] {
            let mut prev = i8::MIN;
            let accumulators = [i32::MIN]
                .into_iter()
                .chain((-200_000..200_000).step_by(7))
                .chain([i32::MAX]);
            for acc in accumulators {
                let q = requantize(acc, m, s, -3, -128, 127).unwrap();
                assert!(q >= prev, "{m} {s} {acc}");
                prev = q;
            }
        }
    }

    /// The fast path equals the literal formula (in 128-bit arithmetic) for
    /// every shift, at the extremes and at random points.
    #[test]
    fn requantize_equals_the_formula() {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for shift in 1..=62u8 {
            let extremes = [i32::MIN, i32::MIN + 1, -1, 0, 1, i32::MAX];
            for &acc in &extremes {
                for &m in &[0, 1, 1 << 30, i32::MAX] {
                    assert_eq!(
                        requantize_checked(acc, m, shift, -128, -128, 127),
                        requantize_reference(acc, m, shift, -128, -128, 127),
                        "acc {acc} m {m} shift {shift}"
                    );
                }
            }
            for _ in 0..20_000 {
                let r = next();
                let acc = r as i32 >> (r >> 59);
                let m = (next() as u32 >> 1) as i32;
                let zero_point = (next() % 256) as u8 as i8;
                let (a, b) = ((next() % 256) as u8 as i8, (next() % 256) as u8 as i8);
                let (min, max) = (a.min(b), a.max(b));
                let expected = requantize_reference(acc, m, shift, zero_point, min, max);
                assert_eq!(
                    requantize_checked(acc, m, shift, zero_point, min, max),
                    expected,
                    "acc {acc} m {m} shift {shift} zero_point {zero_point} [{min}, {max}]"
                );
                // The zero-point-relative form the layer loops use.
                let zero = i32::from(zero_point);
                let (lo, hi) = (i32::from(min) - zero, i32::from(max) - zero);
                assert_eq!(
                    requantize_centred(acc, m, shift, lo, hi),
                    i32::from(expected) - zero
                );
                if shift > 32 {
                    assert_eq!(
                        requantize_narrow(acc, m, shift, lo, hi),
                        i32::from(expected) - zero
                    );
                }
            }
        }
    }

    #[test]
    fn requantize_refuses_what_no_model_holds() {
        assert_eq!(requantize(5, 1 << 30, 0, 0, -128, 127), None);
        assert_eq!(requantize(5, 1 << 30, 63, 0, -128, 127), None);
        assert_eq!(requantize(5, 1 << 30, 64, 0, -128, 127), None);
        assert_eq!(requantize(5, -1, 10, 0, -128, 127), None);
        assert_eq!(requantize(5, 1 << 30, 10, 0, 10, -10), None);
        // The extremes of every valid parameter do not overflow.
        for acc in [i32::MIN, i32::MAX] {
            for shift in [1, 62] {
                assert!(requantize(acc, i32::MAX, shift, 127, -128, 127).is_some());
            }
        }
    }
}
