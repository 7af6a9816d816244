//! 2-D convolution, CHW layout, weights `[out][in][kh][kw]`, zero padding.
//!
//! Padding is zero in real terms, which is zero in the zero-point-shifted
//! activations the kernels read, so padded taps are simply skipped.

use super::{Domain, Shape};
use crate::format::{Conv2d, le_i32};

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

/// Accumulates every output value in `domain` and hands it to `sink` with
/// its flat CHW output index and its channel.
#[inline(always)]
pub(crate) fn run<D: Domain>(
    layer: &Conv2d<'_>,
    input: Shape,
    output: Shape,
    domain: &D,
    mut sink: impl FnMut(usize, usize, D::Acc),
) {
    let [kh, kw] = layer.kernel.map(usize::from);
    let [sh, sw] = layer.stride.map(usize::from);
    let [ph, pw] = layer.padding.map(usize::from);
    let params = &layer.params;
    let per_out = input.channels * kh * kw;
    let mut index = 0;
    for (oc, kernel) in params.weights.chunks_exact(per_out).enumerate() {
        let bias = le_i32(params.bias, oc);
        for oy in 0..output.height {
            // Kernel rows that land inside the input.
            let top = oy * sh;
            let ky0 = ph.saturating_sub(top);
            let ky1 = kh.min(input.height + ph - top);
            for ox in 0..output.width {
                let left = ox * sw;
                let kx0 = pw.saturating_sub(left);
                let kx1 = kw.min(input.width + pw - left);
                let mut acc = D::start(bias);
                for ic in 0..input.channels {
                    let plane = ic * input.height * input.width;
                    let taps = &kernel[ic * kh * kw..(ic + 1) * kh * kw];
                    for ky in ky0..ky1 {
                        let iy = top + ky - ph;
                        let run = &taps[ky * kw + kx0..ky * kw + kx1];
                        domain.dot(&mut acc, run, plane + iy * input.width + left + kx0 - pw);
                    }
                }
                sink(index, oc, acc);
                index += 1;
            }
        }
    }
}
