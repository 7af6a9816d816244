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

/// [`requantize`] for parameters the loader has checked. `|acc *
/// multiplier| <= 2^62` and the rounding term is at most `2^61`, so the
/// 64-bit sum cannot overflow.
#[inline(always)]
pub(crate) fn requantize_checked(
    acc: i32,
    multiplier: i32,
    shift: u8,
    zero_point: i8,
    min: i8,
    max: i8,
) -> i8 {
    let product = i64::from(acc) * i64::from(multiplier);
    let rounded = (product + (1i64 << (shift - 1))) >> shift;
    let q = rounded.saturating_add(i64::from(zero_point));
    q.max(i64::from(min)).min(i64::from(max)) as i8
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
