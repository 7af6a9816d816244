//! 2-D convolution, CHW layout, weights `[out][in][kh][kw]`, zero padding,
//! computed as im2col: the receptive field of one output pixel is gathered
//! into a packed column, and every output channel is one long dot product
//! with it.
//!
//! Padding is zero in real terms, which is zero in the zero-point-shifted
//! activations the kernels read.

use cert_kernels::Kernels;

use cert_kernels::GROUP;

use super::{Domain, Shape, Sink};
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

/// Accumulates every output value over the input `src` (natural order: a
/// convolution's input is laid out for gathering) and hands it to `sink`
/// with its flat CHW output index and its channel. `col` holds one packed
/// column of `layer.fan_in()` values.
pub(crate) fn run<K: Kernels, D: Domain, S: Sink<D::Acc>>(
    layer: &Conv2d<'_>,
    input: Shape,
    output: Shape,
    src: &[i16],
    col: &mut [i16],
    sink: &mut S,
) {
    let [kh, kw] = layer.kernel.map(usize::from);
    let [sh, sw] = layer.stride.map(usize::from);
    let [ph, pw] = layer.padding.map(usize::from);
    let params = &layer.params;
    let fan_in = layer.fan_in();
    let plane = input.height * input.width;
    let pixels = output.height * output.width;
    for oy in 0..output.height {
        // Kernel rows `ky0..ky1` land inside the input (the rest is padding).
        let top = oy * sh;
        let ky0 = ph.saturating_sub(top);
        let ky1 = kh.min(input.height + ph - top);
        for ox in 0..output.width {
            let left = ox * sw;
            let kx0 = pw.saturating_sub(left);
            let kx1 = kw.min(input.width + pw - left);
            let interior = ky0 == 0 && ky1 == kh && kx0 == 0 && kx1 == kw;
            if interior && kw.is_multiple_of(GROUP) {
                // The whole field is inside the input and every kernel row
                // is whole groups: copy rows without the edge cases.
                let start = (top - ph) * input.width + left - pw;
                let mut k = 0;
                for ic in 0..input.channels {
                    let mut row = ic * plane + start;
                    for _ in 0..kh {
                        D::copy_groups(src, row, col, k, kw);
                        row += input.width;
                        k += kw;
                    }
                }
            } else {
                gather_edge::<D>(layer, input, src, col, top, left, (ky0, ky1), (kx0, kx1));
            }
            let pixel = oy * output.width + ox;
            D::rows::<K, S>(
                params.weights,
                fan_in,
                params.bias,
                col,
                sink,
                pixel,
                pixels,
            );
        }
    }
}

/// Gathers the receptive field of the pixel whose top-left input corner
/// is (`top`, `left`) in padded coordinates, where kernel rows `ky0..ky1`
/// and columns `kx0..kx1` fall inside the input and the rest is padding.
#[allow(clippy::too_many_arguments)]
#[inline(never)]
fn gather_edge<D: Domain>(
    layer: &Conv2d<'_>,
    input: Shape,
    src: &[i16],
    col: &mut [i16],
    top: usize,
    left: usize,
    (ky0, ky1): (usize, usize),
    (kx0, kx1): (usize, usize),
) {
    let [kh, kw] = layer.kernel.map(usize::from);
    let [ph, pw] = layer.padding.map(usize::from);
    let plane = input.height * input.width;
    let mut k = 0;
    for ic in 0..input.channels {
        for ky in 0..kh {
            if (ky0..ky1).contains(&ky) {
                // Input row `top + ky - ph`, columns `left + kx - pw`.
                let row = ic * plane + (top + ky - ph) * input.width + left;
                if kx0 > 0 {
                    D::zero_run(col, k, kx0);
                }
                D::copy_run(src, row + kx0 - pw, col, k + kx0, kx1 - kx0);
                if kx1 < kw {
                    D::zero_run(col, k + kx1, kw - kx1);
                }
            } else {
                D::zero_run(col, k, kw);
            }
            k += kw;
        }
    }
}
