//! Fully connected layer: `acc[o] = bias[o] + sum_i w[o][i] * x[i]`.

use super::{Domain, Shape};
use crate::format::{Dense, le_i32};

/// The output shape, or `None` when the input does not match.
pub(crate) fn output_shape(layer: &Dense<'_>, input: Shape) -> Option<Shape> {
    (input.len() == layer.inputs as usize).then_some(Shape {
        channels: layer.outputs as usize,
        height: 1,
        width: 1,
    })
}

/// Accumulates every output channel in `domain` and hands it to `sink`
/// together with its channel index (also its flat output index).
#[inline(always)]
pub(crate) fn run<D: Domain>(
    layer: &Dense<'_>,
    domain: &D,
    mut sink: impl FnMut(usize, usize, D::Acc),
) {
    let inputs = layer.inputs as usize;
    let params = &layer.params;
    for (o, row) in params.weights.chunks_exact(inputs).enumerate() {
        let mut acc = D::start(le_i32(params.bias, o));
        domain.dot(&mut acc, row, 0);
        sink(o, o, acc);
    }
}
