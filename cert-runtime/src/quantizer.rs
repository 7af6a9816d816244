//! The input quantiser: how one channel's real values become int8, the one
//! rounding rule of the input, and the integer box of an eps box.
//!
//! `q = clamp(round((x - offset) / scale) + zero_point, -128, 127)` is
//! monotone non-decreasing in `x` (IEEE subtraction of a constant and
//! division by a positive constant are monotone, and `micromath`'s round
//! is monotone), so an eps box in real units maps to an integer box that
//! contains the quantisation of every point of it.

use micromath::F32Ext;

use crate::le::f32_from;

/// One input channel's quantiser and domain.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Quantizer {
    /// Real value of one quantisation step (finite, > 0).
    pub scale: f32,
    /// Real value subtracted before scaling (0 for image pixels).
    pub offset: f32,
    /// Integer the offset maps to; the first layer reads `q - zero_point`.
    pub zero_point: i8,
    /// Smallest valid real input value (e.g. 0.0 for pixels).
    pub domain_min: f32,
    /// Largest valid real input value (e.g. 1.0 for pixels).
    pub domain_max: f32,
}

impl Quantizer {
    /// Bytes of one encoded quantiser: scale, offset (f32 LE), zero point
    /// (i8), domain min and max (f32 LE).
    pub const ENCODED_LEN: usize = 17;

    /// The quantiser that spans `[min, max]` with all 256 int8 levels:
    /// scale `(max - min) / 255`, offset `min`, zero point -128. For
    /// `[0, 1]` it is the pixel quantiser `q = round(255 x) - 128`, exact
    /// on 8-bit images.
    pub fn spanning(min: f32, max: f32) -> Quantizer {
        Quantizer::spanning_about(min, max, min)
    }

    /// The same 256 levels over `[min, max]`, with the offset (what the
    /// first layer reads as 0, and what a convolution's zero padding
    /// stands for) on the level nearest `zero`: for an input the network
    /// normalises as `(x - mean) / std`, `zero = mean` keeps padding
    /// where the network's own is (within half a level).
    pub fn spanning_about(min: f32, max: f32, zero: f32) -> Quantizer {
        let scale = (max - min) / 255.0;
        let level = ((zero - min) / scale).round();
        // Also for a NaN `zero` or a zero scale: the saturating cast gives 0.
        let level = if level.is_finite() {
            level.clamp(0.0, 255.0) as u8
        } else {
            0
        };
        Quantizer {
            scale,
            offset: min + f32::from(level) * scale,
            zero_point: (i16::from(level) - 128) as i8,
            domain_min: min,
            domain_max: max,
        }
    }

    /// Decodes the wire form (FORMAT.md section 2.2).
    pub fn decode(b: &[u8; Self::ENCODED_LEN]) -> Quantizer {
        // Every offset is inside the 17 bytes.
        let f = |at: usize| f32_from(b, at).unwrap_or(f32::NAN);
        Quantizer {
            scale: f(0),
            offset: f(4),
            zero_point: b[8] as i8,
            domain_min: f(9),
            domain_max: f(13),
        }
    }

    /// The wire form.
    pub fn encode(&self) -> [u8; Self::ENCODED_LEN] {
        let mut b = [0; Self::ENCODED_LEN];
        b[0..4].copy_from_slice(&self.scale.to_le_bytes());
        b[4..8].copy_from_slice(&self.offset.to_le_bytes());
        b[8] = self.zero_point as u8;
        b[9..13].copy_from_slice(&self.domain_min.to_le_bytes());
        b[13..17].copy_from_slice(&self.domain_max.to_le_bytes());
        b
    }

    /// True when the arithmetic below is defined for every value of the
    /// domain: finite positive scale, finite offset, finite non-empty domain.
    pub fn is_valid(&self) -> bool {
        self.scale.is_finite()
            && self.scale > 0.0
            && self.offset.is_finite()
            && self.domain_min.is_finite()
            && self.domain_max.is_finite()
            && self.domain_min <= self.domain_max
    }

    /// True when `x` is a valid input of this channel.
    pub fn contains(&self, x: f32) -> bool {
        x >= self.domain_min && x <= self.domain_max
    }

    /// Quantises one real value (FORMAT.md section 4.1). `x` should be
    /// finite; a NaN maps to the zero point plus 0.
    #[inline]
    pub fn quantize(&self, x: f32) -> i8 {
        let steps = F32Ext::round((x - self.offset) / self.scale) as i32;
        steps
            .saturating_add(i32::from(self.zero_point))
            .clamp(i32::from(i8::MIN), i32::from(i8::MAX)) as i8
    }

    /// The inputs within `eps` of `x`, exactly: the smallest and the
    /// largest `f32` value `v` with `|v - x| <= eps` in exact (real)
    /// arithmetic, intersected with the domain. `x` must be in the domain
    /// and `eps >= 0`, both finite (then `lo <= x <= hi`).
    ///
    /// `x - eps` and `x + eps` rounded to nearest can land half an ulp
    /// outside the budget; each end is computed with its exact rounding
    /// error (TwoSum) and moved one `f32` inward when it did. This is the
    /// box both certification and refinement use: it holds every `f32`
    /// input within the budget (so certifying it is sound) and nothing
    /// else (so a counterexample taken from it is within the budget).
    #[inline]
    pub fn real_box(&self, x: f32, eps: f32) -> (f32, f32) {
        let lo = match two_sum(x, -eps) {
            // The exact `x - eps` is below the smallest f32.
            (s, _) if s == f32::NEG_INFINITY => self.domain_min,
            (s, err) if err > 0.0 => s.next_up(),
            (s, _) => s,
        };
        let hi = match two_sum(x, eps) {
            (s, _) if s == f32::INFINITY => self.domain_max,
            (s, err) if err < 0.0 => s.next_down(),
            (s, _) => s,
        };
        (lo.max(self.domain_min), hi.min(self.domain_max))
    }

    /// Integer bounds `[lo, hi]` of the quantised values of the inputs
    /// within `eps` of `x` (exactly, see [`Quantizer::real_box`]) and in
    /// the domain; `None` unless `x` is finite and `eps` finite and `>= 0`.
    #[inline]
    pub fn quantize_box(&self, x: f32, eps: f32) -> Option<(i8, i8)> {
        if !(x.is_finite() && eps.is_finite() && eps >= 0.0) {
            return None;
        }
        let (lo, hi) = self.real_box(x, eps);
        Some((self.quantize(lo), self.quantize(hi)))
    }

    /// A real value in `[lo, hi]` that quantises to `q`: the centre of
    /// `q`'s step, moved into the interval; `None` when that value does not
    /// quantise to `q` (then the interval holds no value that does, or the
    /// step is narrower than the f32 spacing there).
    pub fn representative(&self, q: i8, lo: f32, hi: f32) -> Option<f32> {
        let steps = f32::from(i16::from(q) - i16::from(self.zero_point));
        let x = (self.offset + self.scale * steps).max(lo).min(hi);
        (x >= lo && x <= hi && self.quantize(x) == q).then_some(x)
    }
}

/// `a + b` rounded to nearest, and its exact rounding error: `a + b = s +
/// err` in real arithmetic (Knuth's TwoSum, exact for every pair of finite
/// `f32` whose rounded sum does not overflow; IEEE arithmetic, which Rust
/// never reassociates).
#[inline(always)]
fn two_sum(a: f32, b: f32) -> (f32, f32) {
    let s = a + b;
    let b_part = s - a;
    let a_part = s - b_part;
    (s, (a - a_part) + (b - b_part))
}
