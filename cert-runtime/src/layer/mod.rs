//! Layer kernels. Each kernel walks its weights once and hands every
//! contiguous run of weights to a [`Domain`], which accumulates either a
//! point (inference) or an interval (certification): one loop structure,
//! two arithmetics, so the bound can never drift from what it bounds.

pub(crate) mod conv;
pub(crate) mod dense;

/// A CHW activation shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Shape {
    /// Channels.
    pub channels: usize,
    /// Height.
    pub height: usize,
    /// Width.
    pub width: usize,
}

impl Shape {
    /// Number of values.
    pub fn len(&self) -> usize {
        self.channels * self.height * self.width
    }

    /// True when the shape holds no values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// True when the shape holds 1 to [`crate::MAX_ACTIVATION`] values,
    /// computed without overflow (a crafted file must not wrap `usize` on
    /// a 32-bit device).
    pub(crate) fn fits(&self) -> bool {
        let len = (self.channels as u64)
            .checked_mul(self.height as u64)
            .and_then(|n| n.checked_mul(self.width as u64));
        matches!(len, Some(n) if (1..=crate::MAX_ACTIVATION as u64).contains(&n))
    }
}

/// What an accumulator is: a point or an interval over zero-point-shifted
/// int8 activations held as `i16`.
pub(crate) trait Domain {
    /// The accumulator.
    type Acc: Copy;
    /// An accumulator holding only the bias.
    fn start(bias: i32) -> Self::Acc;
    /// Adds `sum_k w[k] * x[at + k]` over a contiguous run of weights.
    fn dot(&self, acc: &mut Self::Acc, weights: &[u8], at: usize);
}

/// Inference: `x = q - zero_point`.
pub(crate) struct Point<'s> {
    pub x: &'s [i16],
}

impl Domain for Point<'_> {
    type Acc = i32;

    #[inline(always)]
    fn start(bias: i32) -> i32 {
        bias
    }

    #[inline(always)]
    fn dot(&self, acc: &mut i32, weights: &[u8], at: usize) {
        let x = &self.x[at..at + weights.len()];
        let mut sum = 0i32;
        for (&w, &x) in weights.iter().zip(x) {
            sum += i32::from(w as i8) * i32::from(x);
        }
        *acc += sum;
    }
}

/// Certification, doubled centre/radius form: for integer bounds
/// `[lo, hi]`, `c = lo + hi - 2 * zero_point` and `r = hi - lo`, both exact.
/// The accumulator is `(2 * bias + sum w c, sum |w| r)`, whose difference
/// and sum are always even: halving gives the exact integer bounds.
pub(crate) struct Interval<'s> {
    pub c: &'s [i16],
    pub r: &'s [i16],
}

/// Doubled centre and radius of an accumulator interval.
#[derive(Clone, Copy)]
pub(crate) struct Span {
    pub mid2: i32,
    pub rad2: i32,
}

impl Span {
    /// Exact lower and upper bound of the accumulator.
    #[inline(always)]
    pub fn bounds(self) -> (i32, i32) {
        ((self.mid2 - self.rad2) >> 1, (self.mid2 + self.rad2) >> 1)
    }
}

impl Domain for Interval<'_> {
    type Acc = Span;

    #[inline(always)]
    fn start(bias: i32) -> Span {
        Span {
            mid2: 2 * bias,
            rad2: 0,
        }
    }

    #[inline(always)]
    fn dot(&self, acc: &mut Span, weights: &[u8], at: usize) {
        let n = weights.len();
        let c = &self.c[at..at + n];
        let r = &self.r[at..at + n];
        let (mut mid, mut rad) = (0i32, 0i32);
        for ((&w, &c), &r) in weights.iter().zip(c).zip(r) {
            let w = i32::from(w as i8);
            mid += w * i32::from(c);
            rad += w.abs() * i32::from(r);
        }
        acc.mid2 += mid;
        acc.rad2 += rad;
    }
}
