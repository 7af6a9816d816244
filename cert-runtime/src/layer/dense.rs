//! Fully connected layer: `acc[o] = bias[o] + sum_i w[o][i] * x[i]`.

use cert_kernels::Kernels;

use super::{Domain, Shape};
use crate::format::Dense;

/// The output shape, or `None` when the input does not match.
pub(crate) fn output_shape(layer: &Dense<'_>, input: Shape) -> Option<Shape> {
    (input.len() == layer.inputs as usize).then_some(Shape {
        channels: layer.outputs as usize,
        height: 1,
        width: 1,
    })
}

/// Accumulates every output channel over the packed input `src` and hands
/// it to `sink` with its flat output index and its channel (the same).
pub(crate) fn run<K: Kernels, D: Domain>(
    layer: &Dense<'_>,
    src: &[i16],
    mut sink: impl FnMut(usize, usize, D::Acc),
) {
    let params = &layer.params;
    D::rows::<K>(
        params.weights,
        layer.inputs as usize,
        params.bias,
        src,
        |o, acc| sink(o, o, acc),
    );
}
