//! 2-D convolution, CHW layout, weights `[out][in][kh][kw]`, zero padding,
//! computed as im2col: the receptive field of one output pixel is gathered
//! into a packed column, and every output channel is one long dot product
//! with it.
//!
//! Padding is zero in real terms, which is zero in the zero-point-shifted
//! activations the kernels read.

use cert_kernels::Kernels;

use super::{Domain, Shape};
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

/// Weights per output channel: `in_channels * kh * kw`.
pub(crate) fn fan_in(layer: &Conv2d<'_>) -> usize {
    usize::from(layer.in_channels) * usize::from(layer.kernel[0]) * usize::from(layer.kernel[1])
}

/// Accumulates every output value over the packed input `src` and hands it
/// to `sink` with its flat CHW output index and its channel. `col` holds
/// one packed column of [`fan_in`] values.
pub(crate) fn run<K: Kernels, D: Domain>(
    layer: &Conv2d<'_>,
    input: Shape,
    output: Shape,
    src: &[i16],
    col: &mut [i16],
    mut sink: impl FnMut(usize, usize, D::Acc),
) {
    let [kh, kw] = layer.kernel.map(usize::from);
    let [sh, sw] = layer.stride.map(usize::from);
    let [ph, pw] = layer.padding.map(usize::from);
    let params = &layer.params;
    let fan_in = fan_in(layer);
    let plane = input.height * input.width;
    let pixels = output.height * output.width;
    for oy in 0..output.height {
        for ox in 0..output.width {
            let (top, left) = (oy * sh, ox * sw);
            let mut k = 0;
            for ic in 0..input.channels {
                for ky in 0..kh {
                    // Padded coordinates: input row `top + ky - ph`.
                    let row = (top + ky)
                        .checked_sub(ph)
                        .filter(|&iy| iy < input.height)
                        .map(|iy| ic * plane + iy * input.width);
                    for kx in 0..kw {
                        let from = row.and_then(|base| {
                            let ix = (left + kx).checked_sub(pw)?;
                            (ix < input.width).then_some(base + ix)
                        });
                        D::gather(src, col, from, k);
                        k += 1;
                    }
                }
            }
            let pixel = oy * output.width + ox;
            D::rows::<K>(params.weights, fan_in, params.bias, col, |oc, acc| {
                sink(oc * pixels + pixel, oc, acc)
            });
        }
    }
}
