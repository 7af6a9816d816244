//! The one rounding rule of the runtime, shared by inference and bounds.
//!
//! Requantisation is the single-rounding variant: one 64-bit product, one
//! round-half-up shift. It is monotone non-decreasing in the accumulator
//! (the multiplier is non-negative, adding a constant and an arithmetic
//! shift are monotone, clamping is monotone), which is what makes interval
//! propagation over it exact per neuron.
//!
//! Input quantisation, `round(x / scale) + zero_point` clamped to int8, is
//! monotone in `x` too (IEEE division by a positive constant is monotone and
//! `micromath`'s round is monotone), so an eps box in real units maps to an
//! integer box that contains the quantisation of every point of it.

use micromath::F32Ext;

use crate::format::InputSpec;

/// Requantises an int32 accumulator to int8:
/// `clamp(zero_point + ((acc * multiplier + 2^(shift-1)) >> shift), min, max)`.
///
/// `multiplier` must be in `0..2^31` and `shift` in `1..=62`, which the model
/// loader checks; the 64-bit product then cannot overflow.
#[inline(always)]
pub fn requantize(acc: i32, multiplier: i32, shift: u8, zero_point: i8, min: i8, max: i8) -> i8 {
    let product = i64::from(acc) * i64::from(multiplier);
    let rounded = (product + (1i64 << (shift - 1))) >> shift;
    let q = rounded.saturating_add(i64::from(zero_point));
    q.clamp(i64::from(min), i64::from(max)) as i8
}

/// Quantises one real input value. `x` must be finite.
#[inline]
pub fn quantize_input(x: f32, spec: &InputSpec) -> i8 {
    let steps = F32Ext::round(x / spec.scale) as i32;
    steps
        .saturating_add(i32::from(spec.zero_point))
        .clamp(i32::from(i8::MIN), i32::from(i8::MAX)) as i8
}

/// Integer bounds `[lo, hi]` of the quantised inputs reachable from
/// `x` within `eps`, intersected with the input domain.
#[inline]
pub fn quantize_box(x: f32, eps: f32, spec: &InputSpec) -> (i8, i8) {
    let lo = (x - eps).max(spec.domain_min);
    let hi = (x + eps).min(spec.domain_max);
    (quantize_input(lo, spec), quantize_input(hi, spec))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requantize_rounds_half_up_and_clamps() {
        // multiplier 2^30, shift 31: exactly acc / 2.
        let m = 1 << 30;
        assert_eq!(requantize(3, m, 31, 0, -128, 127), 2); // 1.5 -> 2
        assert_eq!(requantize(-3, m, 31, 0, -128, 127), -1); // -1.5 -> -1
        assert_eq!(requantize(1000, m, 31, 0, -128, 127), 127);
        assert_eq!(requantize(-1000, m, 31, 5, 5, 127), 5);
    }

    #[test]
    fn requantize_is_monotone() {
        for &(m, s) in &[
            (1 << 30, 31u8),
            (1_518_500_250, 37),
            (2_147_483_647, 62),
            (0, 1),
        ] {
            let mut prev = i8::MIN;
            for acc in (-200_000..200_000).step_by(7) {
                let q = requantize(acc, m, s, -3, -128, 127);
                assert!(q >= prev);
                prev = q;
            }
            assert!(
                requantize(i32::MIN, m, s, 0, -128, 127)
                    <= requantize(i32::MAX, m, s, 0, -128, 127)
            );
        }
    }
}
