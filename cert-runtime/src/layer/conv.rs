//! 2-D convolution, CHW layout, weights `[out][in][kh][kw]`, zero padding,
//! computed as im2col: the receptive field of one output pixel is gathered
//! into a packed column, and every output channel is one long dot product
//! with it. Inference gathers four pixels at a time into a packed quad, so
//! that each weight is loaded once for all four; certification gathers two
//! pixels' intervals, twice the values, into a packed interval pair.
//!
//! Padding is zero in real terms, which is zero in the zero-point-shifted
//! activations the kernels read.

use cert_kernels::{
    GROUP, Kernels, QUAD, pack_interval_pair_column, pack_quad, pack_quad_column, pair_centre_slot,
    pair_radius_slot, quad_slot,
};

use super::{Interval, Point, ROWS_PER_CALL, Shape, Sink, Span};
use crate::format::Conv2d;

/// The output shape, or `None` when the input does not fit the layer.
pub(crate) fn output_shape(layer: &Conv2d<'_>, input: Shape) -> Option<Shape> {
    let [kh, kw] = layer.kernel.map(usize::from);
    let [sh, sw] = layer.stride.map(usize::from);
    let [ph, pw] = layer.padding.map(usize::from);
    if input.channels != usize::from(layer.in_channels) || kh == 0 || kw == 0 || sh == 0 || sw == 0
    {
        return None;
    }
    let (h, w) = (input.height + 2 * ph, input.width + 2 * pw);
    if h < kh || w < kw || ph >= kh || pw >= kw {
        return None;
    }
    Some(Shape {
        channels: usize::from(layer.out_channels),
        height: (h - kh) / sh + 1,
        width: (w - kw) / sw + 1,
    })
}

/// Writes gathered values into a packed column: one of the two interval
/// columns of an interval pair, or one of the four point columns of a quad.
pub(crate) trait Gather {
    /// Writes real zero (zero padding) to values `to..to + len` of `col`.
    fn zero_run(&self, col: &mut [i16], to: usize, len: usize);

    /// Copies values `from..from + len` of the natural-order buffer `src`
    /// to values `to..to + len` of `col`.
    fn copy_run(&self, src: &[i16], from: usize, col: &mut [i16], to: usize, len: usize);

    /// [`Gather::copy_run`] for `to` and `len` multiples of [`GROUP`]
    /// (whole groups only: the fast path of interior pixels), which a
    /// column kind may do in whole groups.
    #[inline(always)]
    fn copy_groups(&self, src: &[i16], from: usize, col: &mut [i16], to: usize, len: usize) {
        self.copy_run(src, from, col, to, len);
    }
}

/// One pixel's interval column of a packed interval pair: pixel `0` or `1`.
pub(crate) struct PairColumn(usize);

impl Gather for PairColumn {
    #[inline(always)]
    fn zero_run(&self, col: &mut [i16], to: usize, len: usize) {
        for k in to..to + len {
            col[pair_centre_slot(self.0, k)] = 0;
            col[pair_radius_slot(self.0, k)] = 0;
        }
    }

    #[inline(always)]
    fn copy_run(&self, src: &[i16], from: usize, col: &mut [i16], to: usize, len: usize) {
        for (k, cr) in (to..).zip(src[2 * from..2 * (from + len)].chunks_exact(2)) {
            col[pair_centre_slot(self.0, k)] = cr[0];
            col[pair_radius_slot(self.0, k)] = cr[1];
        }
    }

    #[inline(always)]
    fn copy_groups(&self, src: &[i16], from: usize, col: &mut [i16], to: usize, len: usize) {
        let pair = &mut col[QUAD * to..QUAD * (to + len)];
        pack_interval_pair_column(self.0, &src[2 * from..2 * (from + len)], pair);
    }
}

/// One point column of a packed quad: column `0..QUAD`.
pub(crate) struct QuadColumn(usize);

impl Gather for QuadColumn {
    #[inline(always)]
    fn zero_run(&self, col: &mut [i16], to: usize, len: usize) {
        for k in to..to + len {
            col[quad_slot(self.0, k)] = 0;
        }
    }

    #[inline(always)]
    fn copy_run(&self, src: &[i16], from: usize, col: &mut [i16], to: usize, len: usize) {
        for (k, &v) in (to..).zip(&src[from..from + len]) {
            col[quad_slot(self.0, k)] = v;
        }
    }

    #[inline(always)]
    fn copy_groups(&self, src: &[i16], from: usize, col: &mut [i16], to: usize, len: usize) {
        let quad = &mut col[QUAD * to..QUAD * (to + len)];
        pack_quad_column(self.0, &src[from..from + len], quad);
    }
}

/// Accumulates the bounds of every output value over the interval input
/// `src` (natural order: a convolution's input is laid out for gathering),
/// two pixels at a time into the packed interval pair `col` (`QUAD *
/// layer.fan_in()` values), and hands each to `sink` with its flat CHW
/// output index and its channel; where one pixel is left, it fills both
/// columns of the pair.
pub(crate) fn run_intervals<K: Kernels, S: Sink<Span>>(
    layer: &Conv2d<'_>,
    input: Shape,
    output: Shape,
    src: &[i16],
    col: &mut [i16],
    sink: &mut S,
) {
    let params = &layer.params;
    let field = Field::of(layer, input, output);
    let pixels = output.height * output.width;
    let mut acc = [[0; QUAD]; ROWS_PER_CALL];
    for first in (0..pixels).step_by(2) {
        let last = (pixels - 1 - first).min(1);
        field.gather(&PairColumn(0), src, col, first);
        field.gather(&PairColumn(1), src, col, first + last);
        let layer = (params.weights, field.fan_in, params.bias);
        Interval::pair_rows::<K, S>(layer, (col, &mut acc), sink, (first, pixels, last));
    }
}

/// [`run_intervals`] for inference, four pixels at a time into the packed
/// quad `q` (`QUAD * layer.fan_in()` values); where fewer than four are
/// left, the last one fills the rest of the quad.
pub(crate) fn run_quads<K: Kernels, S: Sink<i32>>(
    layer: &Conv2d<'_>,
    input: Shape,
    output: Shape,
    src: &[i16],
    q: &mut [i16],
    sink: &mut S,
) {
    let params = &layer.params;
    let field = Field::of(layer, input, output);
    let pixels = output.height * output.width;
    let mut acc = [[0; QUAD]; ROWS_PER_CALL];
    for first in (0..pixels).step_by(QUAD) {
        let last = (pixels - 1 - first).min(QUAD - 1);
        field.gather_quad(src, q, core::array::from_fn(|j| first + j.min(last)));
        let layer = (params.weights, field.fan_in, params.bias);
        Point::quad_rows::<K, S>(layer, (q, &mut acc), sink, (first, pixels, last));
    }
}

/// The geometry of a convolution's receptive fields, read from the layer
/// once per run (not once per pixel).
#[derive(Clone, Copy)]
struct Field {
    /// Kernel height and width.
    kh: usize,
    kw: usize,
    /// Stride.
    sh: usize,
    sw: usize,
    /// Zero padding.
    ph: usize,
    pw: usize,
    /// The input's shape.
    input: Shape,
    /// Output pixels per row.
    out_width: usize,
    /// Values per receptive field: `input.channels * kh * kw`.
    fan_in: usize,
}

impl Field {
    fn of(layer: &Conv2d<'_>, input: Shape, output: Shape) -> Field {
        let [kh, kw] = layer.kernel;
        let [sh, sw] = layer.stride;
        let [ph, pw] = layer.padding;
        Field {
            kh: usize::from(kh),
            kw: usize::from(kw),
            sh: usize::from(sh),
            sw: usize::from(sw),
            ph: usize::from(ph),
            pw: usize::from(pw),
            input,
            out_width: output.width,
            fan_in: layer.fan_in(),
        }
    }

    /// The field's top-left corner in padded input coordinates.
    #[inline(always)]
    fn corner(&self, pixel: usize) -> (usize, usize) {
        (
            pixel / self.out_width * self.sh,
            pixel % self.out_width * self.sw,
        )
    }

    /// Where the field of `pixel` starts in each input plane, when it lies
    /// wholly inside the input and its kernel rows are whole groups: the
    /// fast path, whose rows copy without edge cases.
    #[inline(always)]
    fn interior(&self, pixel: usize) -> Option<usize> {
        let (top, left) = self.corner(pixel);
        let (ph, pw, input) = (self.ph, self.pw, self.input);
        let inside = top >= ph
            && top - ph + self.kh <= input.height
            && left >= pw
            && left - pw + self.kw <= input.width;
        (inside && self.kw.is_multiple_of(GROUP)).then(|| (top - ph) * input.width + left - pw)
    }

    /// `copy(row, k)` for every kernel row of an interior field
    /// ([`Field::interior`]): the row's offset in the input from the
    /// field's start, and the index `k` of its first value in the column.
    #[inline(always)]
    fn interior_rows(&self, mut copy: impl FnMut(usize, usize)) {
        let plane = self.input.height * self.input.width;
        let mut k = 0;
        for ic in 0..self.input.channels {
            let mut row = ic * plane;
            for _ in 0..self.kh {
                copy(row, k);
                row += self.input.width;
                k += self.kw;
            }
        }
    }

    /// Gathers the receptive fields of the four output `pixels` into the
    /// columns of the packed quad `q`: all in one pass where all are
    /// interior, else one column at a time (out of line: one copy).
    #[inline(never)]
    fn gather_quad(&self, src: &[i16], q: &mut [i16], pixels: [usize; QUAD]) {
        let [Some(a), Some(b), Some(c), Some(d)] = pixels.map(|p| self.interior(p)) else {
            for (column, pixel) in pixels.into_iter().enumerate() {
                self.gather(&QuadColumn(column), src, q, pixel);
            }
            return;
        };
        let kw = self.kw;
        self.interior_rows(|row, k| {
            let window = |start: usize| &src[start + row..][..kw];
            let columns = [window(a), window(b), window(c), window(d)];
            pack_quad(columns, &mut q[QUAD * k..QUAD * (k + kw)]);
        });
    }

    /// Gathers the receptive field of output pixel `pixel` (flat,
    /// row-major) into `col` through `to` (out of line: one copy per
    /// column kind).
    #[inline(never)]
    fn gather<G: Gather>(&self, to: &G, src: &[i16], col: &mut [i16], pixel: usize) {
        if let Some(start) = self.interior(pixel) {
            let kw = self.kw;
            self.interior_rows(|row, k| to.copy_groups(src, start + row, col, k, kw));
            return;
        }
        let Field {
            kh,
            kw,
            ph,
            pw,
            input,
            ..
        } = *self;
        let plane = input.height * input.width;
        let (top, left) = self.corner(pixel);
        // Kernel rows `ky0..ky1` and columns `kx0..kx1` land inside the
        // input (the rest is padding).
        let ky0 = ph.saturating_sub(top);
        let ky1 = kh.min(input.height + ph - top);
        let kx0 = pw.saturating_sub(left);
        let kx1 = kw.min(input.width + pw - left);
        let mut k = 0;
        for ic in 0..input.channels {
            for ky in 0..kh {
                if (ky0..ky1).contains(&ky) {
                    // Input row `top + ky - ph`, columns `left + kx - pw`.
                    let row = ic * plane + (top + ky - ph) * input.width + left;
                    to.zero_run(col, k, kx0);
                    to.copy_run(src, row + kx0 - pw, col, k + kx0, kx1 - kx0);
                    to.zero_run(col, k + kx1, kw - kx1);
                } else {
                    to.zero_run(col, k, kw);
                }
                k += kw;
            }
        }
    }
}
