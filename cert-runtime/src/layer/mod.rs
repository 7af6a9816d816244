//! Layer kernels. Each layer walks its weights once, row by row, and hands
//! the rows to a [`Domain`], which accumulates either a point (inference)
//! or an interval (certification) with the [`Kernels`] it is given: one
//! loop structure, two arithmetics, so the bound can never drift from what
//! it bounds.
//!
//! Activations live in the packed order of `cert_kernels` (groups of four,
//! lanes `x0 x2 x1 x3`; intervals as `c0 c2 c1 c3 r0 r2 r1 r3`). A Dense
//! layer reads its input buffer directly; a Conv2d layer first gathers the
//! receptive fields of its output pixels into packed columns (im2col: four
//! pixels per quad for inference, two per interval pair for
//! certification), so that every multiply-accumulate runs in one long
//! kernel call and each weight is loaded once for every pixel of the set.

mod buffer;
#[cfg(feature = "conv")]
pub(crate) mod conv;
pub(crate) mod dense;

pub(crate) use buffer::Layout;
pub use buffer::Shape;

use cert_kernels::{Kernels, interval_tail, point_tail, whole_groups};
#[cfg(feature = "conv")]
use cert_kernels::{QUAD, interval_pair_tail, quad_tail};

#[cfg(feature = "conv")]
use crate::format::Conv2d;

/// Rows a kernel call covers at most: the accumulators live on the stack.
pub(crate) const ROWS_PER_CALL: usize = 16;

/// Where a layer's accumulators go: its output stage (requantisation into
/// the next buffer, or the logits). A trait rather than a closure so that
/// the output stage is inlined into the layer loops.
pub(crate) trait Sink<A: Copy> {
    /// Takes the accumulator of output `index` (flat CHW), of channel
    /// `channel`.
    fn put(&mut self, index: usize, channel: usize, acc: A);

    /// Takes the accumulators of channels `channel..channel + accs.len()`,
    /// outputs `first`, `first + step`, ...: what [`Sink::put`] does for
    /// each, which a sink may do in tighter loops (one pass per stage).
    #[inline(always)]
    fn put_run(&mut self, first: usize, step: usize, channel: usize, accs: &[A]) {
        for (i, &acc) in accs.iter().enumerate() {
            self.put(first + i * step, channel + i, acc);
        }
    }

    /// Takes the sums of channels `channel..channel + sums.len()` of four
    /// output pixels, without their `biases` (one per channel,
    /// little-endian): column `j` of each quad of sums is output `first +
    /// i * step + j` of the run's channel `i`, for `j <= last` (columns past
    /// `last` repeat pixel `last`). What [`Sink::put`] does for each
    /// accumulator (sum plus bias), which a sink may do with each channel's
    /// parameters loaded once for all four.
    #[cfg(feature = "conv")]
    #[inline(always)]
    fn put_quads(
        &mut self,
        (first, step, last): (usize, usize, usize),
        channel: usize,
        biases: &[[u8; 4]],
        sums: &mut [[A; QUAD]],
    ) where
        A: From<i32> + core::ops::Add<Output = A>,
    {
        for (i, (quad, b)) in sums.iter().zip(biases).enumerate() {
            let (at, bias) = (first + i * step, A::from(i32::from_le_bytes(*b)));
            for (j, &sum) in quad.iter().enumerate().take(last + 1) {
                self.put(at + j, channel + i, sum + bias);
            }
        }
    }
}

/// The runs of at most [`ROWS_PER_CALL`] rows of `weights` (`fan_in`
/// each, `fan_in > 0`) with their `i32` biases, each with its first row:
/// how every row loop walks a layer.
#[inline(always)]
fn runs<'w>(
    weights: &'w [u8],
    fan_in: usize,
    bias: &'w [u8],
) -> impl Iterator<Item = (usize, &'w [u8], &'w [[u8; 4]])> {
    let runs = weights
        .chunks(ROWS_PER_CALL * fan_in)
        .zip(bias.chunks(4 * ROWS_PER_CALL));
    let runs = runs.map(|(rows, biases)| (rows, biases.as_chunks::<4>().0));
    (0..)
        .step_by(ROWS_PER_CALL)
        .zip(runs)
        .map(|(o, (rows, biases))| (o, rows, biases))
}

/// What an accumulator is, and where a value sits in a packed buffer: a
/// point or an interval over zero-point-shifted int8 activations.
pub(crate) trait Domain {
    /// The accumulator.
    type Acc: Copy;

    /// `i16` elements a packed buffer of `n` values takes.
    fn packed_len(n: usize) -> usize;

    /// Accumulates every row `o` of `weights` (`fan_in` weights each, one
    /// bias per row) against the packed activations `src`, and hands the
    /// accumulators to `put` in runs of at most [`ROWS_PER_CALL`], each
    /// with its first row. One copy per kernel set, whatever the output
    /// stage: `put` is called once per run, through a pointer.
    fn rows<K: Kernels>(
        weights: &[u8],
        fan_in: usize,
        bias: &[u8],
        src: &[i16],
        put: &mut dyn FnMut(usize, &[Self::Acc]),
    );

    /// [`Domain::rows`] into `sink`, row `o` as output `first + o * step`,
    /// channel `o`.
    #[inline(always)]
    fn rows_into<K: Kernels, S: Sink<Self::Acc>>(
        weights: &[u8],
        fan_in: usize,
        bias: &[u8],
        src: &[i16],
        sink: &mut S,
        (first, step): (usize, usize),
    ) {
        Self::rows::<K>(weights, fan_in, bias, src, &mut |o, accs| {
            sink.put_run(first + o * step, step, o, accs)
        });
    }

    #[cfg(feature = "conv")]
    /// Runs a convolution: gathers the columns of its output pixels from
    /// the natural-order input `src` into `col` and hands every
    /// accumulator to `sink` (see [`conv`]).
    fn conv<K: Kernels, S: Sink<Self::Acc>>(
        layer: &Conv2d<'_>,
        input: Shape,
        output: Shape,
        src: &[i16],
        col: &mut [i16],
        sink: &mut S,
    );
}

/// Inference: one value `x = q - zero_point` per activation.
pub(crate) struct Point;

impl Domain for Point {
    type Acc = i32;

    fn packed_len(n: usize) -> usize {
        cert_kernels::point_len(n)
    }

    #[inline(never)]
    fn rows<K: Kernels>(
        weights: &[u8],
        fan_in: usize,
        bias: &[u8],
        x: &[i16],
        put: &mut dyn FnMut(usize, &[i32]),
    ) {
        let whole = whole_groups(fan_in);
        let mut acc = [0i32; ROWS_PER_CALL];
        for (o, rows, biases) in runs(weights, fan_in, bias) {
            let acc = &mut acc[..rows.len() / fan_in];
            K::dot_rows(rows, fan_in, x, acc);
            // One pass per stage keeps each loop's values in registers.
            for (acc, b) in acc.iter_mut().zip(biases) {
                *acc += i32::from_le_bytes(*b);
            }
            if whole != fan_in {
                for (acc, row) in acc.iter_mut().zip(rows.chunks_exact(fan_in)) {
                    *acc += point_tail(&row[whole..], &x[whole..]);
                }
            }
            put(o, acc);
        }
    }

    #[cfg(feature = "conv")]
    fn conv<K: Kernels, S: Sink<i32>>(
        layer: &Conv2d<'_>,
        input: Shape,
        output: Shape,
        src: &[i16],
        col: &mut [i16],
        sink: &mut S,
    ) {
        conv::run_quads::<K, S>(layer, input, output, src, col, sink);
    }
}

impl Point {
    /// [`Domain::rows`] against `columns`, a packed quad `q` of four columns
    /// (output pixels `first..=first + last`, repeated past `last`) and the
    /// caller's sums `acc` (not cleared per quad): one weight pass for all
    /// four.
    #[cfg(feature = "conv")]
    #[inline(never)]
    pub(crate) fn quad_rows<K: Kernels, S: Sink<i32>>(
        layer: (&[u8], usize, &[u8]),
        columns: (&[i16], &mut [[i32; QUAD]; ROWS_PER_CALL]),
        sink: &mut S,
        (first, step, last): (usize, usize, usize),
    ) {
        // The sink adds the biases as it requantises.
        let kernel = (K::quad_rows as Kernel, quad_tail as Tail);
        column_set_runs(layer, columns, kernel, |o, biases, sums| {
            sink.put_quads((first + o * step, step, last), o, biases, sums)
        });
    }
}

/// A kernel over a set of packed columns (a quad, or an interval pair).
#[cfg(feature = "conv")]
type Kernel = fn(&[u8], usize, &[i16], &mut [[i32; QUAD]]);

/// The partial last group of a row against a set of packed columns.
#[cfg(feature = "conv")]
type Tail = fn(&[u8], &[i16]) -> [i32; QUAD];

/// The row loop of a set of packed columns `q`: the sums of each run of
/// rows by `kernel`, each row's partial last group added by `tail`, handed
/// to `stage` with the run's first row and biases.
#[cfg(feature = "conv")]
#[inline(always)]
fn column_set_runs(
    (weights, fan_in, bias): (&[u8], usize, &[u8]),
    (q, acc): (&[i16], &mut [[i32; QUAD]; ROWS_PER_CALL]),
    (kernel, tail): (Kernel, Tail),
    mut stage: impl FnMut(usize, &[[u8; 4]], &mut [[i32; QUAD]]),
) {
    let whole = whole_groups(fan_in);
    for (o, rows, biases) in runs(weights, fan_in, bias) {
        let acc = &mut acc[..rows.len() / fan_in];
        kernel(rows, fan_in, q, acc);
        // One pass per stage keeps each loop's values in registers.
        if whole != fan_in {
            for (sums, row) in acc.iter_mut().zip(rows.chunks_exact(fan_in)) {
                let tails = tail(&row[whole..], &q[QUAD * whole..]);
                for (sum, tail) in sums.iter_mut().zip(tails) {
                    *sum += tail;
                }
            }
        }
        stage(o, biases, acc);
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
    fn rows<K: Kernels>(
        weights: &[u8],
        fan_in: usize,
        bias: &[u8],
        cr: &[i16],
        put: &mut dyn FnMut(usize, &[Span]),
    ) {
        let whole = whole_groups(fan_in);
        let tail = &cr[2 * whole..];
        let mut acc = [(0i32, 0i32); ROWS_PER_CALL];
        let mut spans = [Span { mid2: 0, rad2: 0 }; ROWS_PER_CALL];
        for (o, rows, biases) in runs(weights, fan_in, bias) {
            let acc = &mut acc[..rows.len() / fan_in];
            K::interval_rows(rows, fan_in, cr, acc);
            let sums = rows.chunks_exact(fan_in).zip(biases).zip(&*acc);
            for (span, ((row, b), &(mid, rad))) in spans.iter_mut().zip(sums) {
                let (tail_mid, tail_rad) = match whole == fan_in {
                    true => (0, 0),
                    false => interval_tail(&row[whole..], tail),
                };
                let bias = i32::from_le_bytes(*b);
                *span = Span {
                    mid2: 2 * bias + mid + tail_mid,
                    rad2: rad + tail_rad,
                };
            }
            put(o, &spans[..acc.len()]);
        }
    }

    #[cfg(feature = "conv")]
    fn conv<K: Kernels, S: Sink<Span>>(
        layer: &Conv2d<'_>,
        input: Shape,
        output: Shape,
        src: &[i16],
        col: &mut [i16],
        sink: &mut S,
    ) {
        conv::run_intervals::<K, S>(layer, input, output, src, col, sink);
    }
}

impl Interval {
    /// [`Domain::rows`] against `columns`, a packed interval pair `q` of two
    /// pixels (output pixels `first` and `first + last`, `last` 0 or 1) and
    /// the caller's sums `acc` (not cleared per pair): one weight pass for
    /// both; each pixel's intervals go to `sink` as a run.
    #[cfg(feature = "conv")]
    #[inline(never)]
    pub(crate) fn pair_rows<K: Kernels, S: Sink<Span>>(
        layer: (&[u8], usize, &[u8]),
        columns: (&[i16], &mut [[i32; QUAD]; ROWS_PER_CALL]),
        sink: &mut S,
        (first, step, last): (usize, usize, usize),
    ) {
        let mut spans = [Span { mid2: 0, rad2: 0 }; ROWS_PER_CALL];
        let kernel = (K::interval_pair_rows as Kernel, interval_pair_tail as Tail);
        column_set_runs(layer, columns, kernel, |o, biases, sums| {
            for pixel in 0..=last {
                for (span, (sums, b)) in spans.iter_mut().zip(sums.iter().zip(biases)) {
                    *span = Span {
                        mid2: 2 * i32::from_le_bytes(*b) + sums[pixel],
                        rad2: sums[2 + pixel],
                    };
                }
                sink.put_run(first + pixel + o * step, step, o, &spans[..sums.len()]);
            }
        });
    }
}
