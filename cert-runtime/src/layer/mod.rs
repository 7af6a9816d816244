//! Layer kernels. Each layer walks its weights once, row by row, and hands
//! the rows to a [`Domain`], which accumulates either a point (inference)
//! or an interval (certification) with the [`Kernels`] it is given: one
//! loop structure, two arithmetics, so the bound can never drift from what
//! it bounds.
//!
//! Activations live in the packed order of `cert_kernels` (groups of four,
//! lanes `x0 x2 x1 x3`; intervals as `c0 c2 c1 c3 r0 r2 r1 r3`). A Dense
//! layer reads its input buffer directly; a Conv2d layer first gathers the
//! receptive field of each output pixel into a packed column (im2col), so
//! that every multiply-accumulate runs in one long kernel call.

pub(crate) mod conv;
pub(crate) mod dense;

use cert_kernels::{
    Kernels, centre_slot, interval_tail, point_slot, point_tail, radius_slot, whole_groups,
};

use crate::format::le_i32;

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

/// What an accumulator is, and where a value sits in a packed buffer: a
/// point or an interval over zero-point-shifted int8 activations.
pub(crate) trait Domain {
    /// The accumulator.
    type Acc: Copy;

    /// `i16` elements a packed buffer of `n` values takes.
    fn packed_len(n: usize) -> usize;

    /// Accumulates every row of `weights` (`fan_in` weights each, one bias
    /// per row) against the packed activations `src`, and hands each
    /// accumulator to `sink` with its row index.
    fn rows<K: Kernels>(
        weights: &[u8],
        fan_in: usize,
        bias: &[u8],
        src: &[i16],
        sink: impl FnMut(usize, Self::Acc),
    );

    /// Copies value `from` of the packed buffer `src` to value `to` of the
    /// packed column `col`, or writes real zero there when `from` is
    /// `None` (zero padding).
    fn gather(src: &[i16], col: &mut [i16], from: Option<usize>, to: usize);
}

/// Inference: one value `x = q - zero_point` per activation.
pub(crate) struct Point;

impl Domain for Point {
    type Acc = i32;

    fn packed_len(n: usize) -> usize {
        cert_kernels::point_len(n)
    }

    #[inline(always)]
    fn rows<K: Kernels>(
        weights: &[u8],
        fan_in: usize,
        bias: &[u8],
        x: &[i16],
        mut sink: impl FnMut(usize, i32),
    ) {
        let whole = whole_groups(fan_in);
        let tail_x = &x[whole..];
        let channels = weights.len() / fan_in;
        let row = |o: usize| &weights[o * fan_in..(o + 1) * fan_in];
        // Two rows at a time share the activation loads; an odd last row
        // goes alone. One call of `sink` per row keeps the code small.
        for o in (0..channels).step_by(2) {
            let r0 = row(o);
            let (a0, a1) = match o + 1 < channels {
                true => K::dot2(&r0[..whole], &row(o + 1)[..whole], x),
                false => (K::dot(&r0[..whole], x), 0),
            };
            for (k, dot) in [(o, a0), (o + 1, a1)].into_iter().take(channels - o) {
                sink(
                    k,
                    le_i32(bias, k) + dot + point_tail(&row(k)[whole..], tail_x),
                );
            }
        }
    }

    #[inline(always)]
    fn gather(src: &[i16], col: &mut [i16], from: Option<usize>, to: usize) {
        col[point_slot(to)] = from.map_or(0, |i| src[point_slot(i)]);
    }
}

/// Certification, doubled centre/radius form: for integer bounds
/// `[lo, hi]`, `c = lo + hi - 2 * zero_point` and `r = hi - lo`, both exact.
/// The accumulator is `(2 * bias + sum w c, sum |w| r)`, whose difference
/// and sum are always even: halving gives the exact integer bounds.
pub(crate) struct Interval;

/// Doubled centre and radius of an accumulator interval.
#[derive(Clone, Copy)]
pub(crate) struct Span {
    pub mid2: i32,
    pub rad2: i32,
}

impl Span {
    /// Lower and upper bound of the accumulator over the box.
    #[inline(always)]
    pub fn bounds(self) -> (i32, i32) {
        ((self.mid2 - self.rad2) >> 1, (self.mid2 + self.rad2) >> 1)
    }
}

impl Domain for Interval {
    type Acc = Span;

    fn packed_len(n: usize) -> usize {
        cert_kernels::interval_len(n)
    }

    #[inline(always)]
    fn rows<K: Kernels>(
        weights: &[u8],
        fan_in: usize,
        bias: &[u8],
        cr: &[i16],
        mut sink: impl FnMut(usize, Span),
    ) {
        let whole = whole_groups(fan_in);
        let tail = &cr[2 * whole..];
        for (o, row) in weights.chunks_exact(fan_in).enumerate() {
            let (mid, rad) = K::interval(&row[..whole], cr);
            let (tail_mid, tail_rad) = interval_tail(&row[whole..], tail);
            sink(
                o,
                Span {
                    mid2: 2 * le_i32(bias, o) + mid + tail_mid,
                    rad2: rad + tail_rad,
                },
            );
        }
    }

    #[inline(always)]
    fn gather(src: &[i16], col: &mut [i16], from: Option<usize>, to: usize) {
        let (c, r) = from.map_or((0, 0), |i| (src[centre_slot(i)], src[radius_slot(i)]));
        col[centre_slot(to)] = c;
        col[radius_slot(to)] = r;
    }
}
