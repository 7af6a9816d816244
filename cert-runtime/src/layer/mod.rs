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

#[cfg(feature = "conv")]
pub(crate) mod conv;
pub(crate) mod dense;

#[cfg(feature = "conv")]
use cert_kernels::{GROUP, pack_intervals, pack_points};
use cert_kernels::{
    Kernels, centre_slot, interval_tail, point_slot, point_tail, radius_slot, whole_groups,
};

use crate::limits::MAX_ACTIVATION;

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

    /// True when the shape holds 1 to [`MAX_ACTIVATION`] values,
    /// computed without overflow (a crafted file must not wrap `usize` on
    /// a 32-bit device).
    pub(crate) fn fits(&self) -> bool {
        let len = (self.channels as u64)
            .checked_mul(self.height as u64)
            .and_then(|n| n.checked_mul(self.width as u64));
        matches!(len, Some(n) if (1..=MAX_ACTIVATION as u64).contains(&n))
    }
}

/// Rows a kernel call covers at most: the accumulators live on the stack.
const ROWS_PER_CALL: usize = 16;

/// Where the values of an activation buffer sit: packed (what a Dense
/// layer's kernels read directly) or in natural CHW order (what a Conv2d
/// layer gathers its columns from). Each layer's input buffer is laid out
/// for that layer; the layer before writes it so.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Layout {
    /// `cert_kernels`' packed order.
    Packed,
    /// Value `i` at `i` (points) or at `2 i` and `2 i + 1` (doubled centre
    /// and radius of intervals).
    Natural,
}

impl Layout {
    /// Slot of point value `i`.
    #[inline(always)]
    pub fn point(self, i: usize) -> usize {
        match self {
            Layout::Packed => point_slot(i),
            Layout::Natural => i,
        }
    }

    /// Slot of the doubled centre of interval value `i`.
    #[inline(always)]
    pub fn centre(self, i: usize) -> usize {
        match self {
            Layout::Packed => centre_slot(i),
            Layout::Natural => 2 * i,
        }
    }

    /// Slot of the radius of interval value `i`.
    #[inline(always)]
    pub fn radius(self, i: usize) -> usize {
        match self {
            Layout::Packed => radius_slot(i),
            Layout::Natural => 2 * i + 1,
        }
    }
}

/// Where a layer's accumulators go: its output stage (requantisation into
/// the next buffer, or the logits). A trait rather than a closure so that
/// the output stage is inlined into the layer loops.
pub(crate) trait Sink<A> {
    /// Takes the accumulator of output `index` (flat CHW), of channel
    /// `channel`.
    fn put(&mut self, index: usize, channel: usize, acc: A);
}

/// What an accumulator is, and where a value sits in a packed buffer: a
/// point or an interval over zero-point-shifted int8 activations.
pub(crate) trait Domain {
    /// The accumulator.
    type Acc: Copy;

    /// `i16` elements a packed buffer of `n` values takes.
    fn packed_len(n: usize) -> usize;

    /// Accumulates every row `o` of `weights` (`fan_in` weights each, one
    /// bias per row) against the packed activations `src`, and puts it in
    /// `sink` as output `first + o * step`, channel `o`.
    fn rows<K: Kernels, S: Sink<Self::Acc>>(
        weights: &[u8],
        fan_in: usize,
        bias: &[u8],
        src: &[i16],
        sink: &mut S,
        first: usize,
        step: usize,
    );

    #[cfg(feature = "conv")]
    /// Writes real zero (zero padding) to values `to..to + len` of the
    /// packed column `col`.
    fn zero_run(col: &mut [i16], to: usize, len: usize);

    #[cfg(feature = "conv")]
    /// Copies values `from..from + len` of the natural-order buffer `src`
    /// to values `to..to + len` of the packed column `col`.
    fn copy_run(src: &[i16], from: usize, col: &mut [i16], to: usize, len: usize);

    #[cfg(feature = "conv")]
    /// [`Domain::copy_run`] for `to` and `len` multiples of [`GROUP`] (whole
    /// groups only: the fast path of a convolution's interior pixels).
    fn copy_groups(src: &[i16], from: usize, col: &mut [i16], to: usize, len: usize);
}

/// Inference: one value `x = q - zero_point` per activation.
pub(crate) struct Point;

impl Domain for Point {
    type Acc = i32;

    fn packed_len(n: usize) -> usize {
        cert_kernels::point_len(n)
    }

    #[inline(never)]
    fn rows<K: Kernels, S: Sink<i32>>(
        weights: &[u8],
        fan_in: usize,
        bias: &[u8],
        x: &[i16],
        sink: &mut S,
        first: usize,
        step: usize,
    ) {
        let whole = whole_groups(fan_in);
        let mut acc = [0i32; ROWS_PER_CALL];
        let mut o = 0;
        for (rows, biases) in weights
            .chunks(ROWS_PER_CALL * fan_in)
            .zip(bias.chunks(4 * ROWS_PER_CALL))
        {
            let acc = &mut acc[..rows.len() / fan_in];
            K::dot_rows(rows, fan_in, x, acc);
            for ((row, b), &dot) in rows
                .chunks_exact(fan_in)
                .zip(biases.chunks_exact(4))
                .zip(&*acc)
            {
                let tail = match whole == fan_in {
                    true => 0,
                    false => point_tail(&row[whole..], &x[whole..]),
                };
                let acc = i32::from_le_bytes([b[0], b[1], b[2], b[3]]) + dot + tail;
                sink.put(first + o * step, o, acc);
                o += 1;
            }
        }
    }

    #[cfg(feature = "conv")]
    #[inline(always)]
    fn zero_run(col: &mut [i16], to: usize, len: usize) {
        for k in to..to + len {
            col[point_slot(k)] = 0;
        }
    }

    #[cfg(feature = "conv")]
    #[inline(always)]
    fn copy_run(src: &[i16], from: usize, col: &mut [i16], to: usize, len: usize) {
        let src = &src[from..from + len];
        // A run that starts a group copies whole groups in lane order.
        let whole = if to.is_multiple_of(GROUP) {
            whole_groups(len)
        } else {
            0
        };
        pack_points(&src[..whole], &mut col[to..to + whole]);
        for (k, &v) in (to + whole..).zip(&src[whole..]) {
            col[point_slot(k)] = v;
        }
    }

    #[cfg(feature = "conv")]
    #[inline(always)]
    fn copy_groups(src: &[i16], from: usize, col: &mut [i16], to: usize, len: usize) {
        pack_points(&src[from..from + len], &mut col[to..to + len]);
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

    #[inline(never)]
    fn rows<K: Kernels, S: Sink<Span>>(
        weights: &[u8],
        fan_in: usize,
        bias: &[u8],
        cr: &[i16],
        sink: &mut S,
        first: usize,
        step: usize,
    ) {
        let whole = whole_groups(fan_in);
        let tail = &cr[2 * whole..];
        let mut acc = [(0i32, 0i32); ROWS_PER_CALL];
        let mut o = 0;
        for (rows, biases) in weights
            .chunks(ROWS_PER_CALL * fan_in)
            .zip(bias.chunks(4 * ROWS_PER_CALL))
        {
            let acc = &mut acc[..rows.len() / fan_in];
            K::interval_rows(rows, fan_in, cr, acc);
            for ((row, b), &(mid, rad)) in rows
                .chunks_exact(fan_in)
                .zip(biases.chunks_exact(4))
                .zip(&*acc)
            {
                let (tail_mid, tail_rad) = match whole == fan_in {
                    true => (0, 0),
                    false => interval_tail(&row[whole..], tail),
                };
                let bias = i32::from_le_bytes([b[0], b[1], b[2], b[3]]);
                let span = Span {
                    mid2: 2 * bias + mid + tail_mid,
                    rad2: rad + tail_rad,
                };
                sink.put(first + o * step, o, span);
                o += 1;
            }
        }
    }

    #[cfg(feature = "conv")]
    #[inline(always)]
    fn zero_run(col: &mut [i16], to: usize, len: usize) {
        for k in to..to + len {
            col[centre_slot(k)] = 0;
            col[radius_slot(k)] = 0;
        }
    }

    #[cfg(feature = "conv")]
    #[inline(always)]
    fn copy_run(src: &[i16], from: usize, col: &mut [i16], to: usize, len: usize) {
        let src = &src[2 * from..2 * (from + len)];
        // A run that starts a group copies whole groups in lane order.
        let whole = if to.is_multiple_of(GROUP) {
            whole_groups(len)
        } else {
            0
        };
        pack_intervals(&src[..2 * whole], &mut col[2 * to..2 * (to + whole)]);
        for (k, cr) in (to + whole..).zip(src[2 * whole..].chunks_exact(2)) {
            col[centre_slot(k)] = cr[0];
            col[radius_slot(k)] = cr[1];
        }
    }

    #[cfg(feature = "conv")]
    #[inline(always)]
    fn copy_groups(src: &[i16], from: usize, col: &mut [i16], to: usize, len: usize) {
        pack_intervals(
            &src[2 * from..2 * (from + len)],
            &mut col[2 * to..2 * (to + len)],
        );
    }
}
