//! Fully connected layer: `acc[o] = bias[o] + sum_i w[o][i] * x[i]`.

use cert_kernels::Kernels;

use super::{Domain, Shape, Sink};
use crate::format::Dense;

/// The output shape, or `None` when the input does not match.
pub(crate) fn output_shape(layer: &Dense<'_>, input: Shape) -> Option<Shape> {
    (input.len() == layer.inputs as usize).then_some(Shape {
        channels: layer.outputs as usize,
        height: 1,
        width: 1,
    })
}

/// Accumulates every output channel over the packed input `src` and puts
/// it in `sink` with its flat output index and its channel (the same).
pub(crate) fn run<K: Kernels, D: Domain, S: Sink<D::Acc>>(
    layer: &Dense<'_>,
    src: &[i16],
    sink: &mut S,
) {
    let params = &layer.params;
    let (weights, bias) = (params.weights, params.bias);
    D::rows_into::<K, S>(weights, layer.inputs as usize, bias, src, sink, (0, 1));
}
