//! The vocabulary of the walk along a network's chain of nodes: what flows,
//! what has been folded so far, and the errors and constants of a node.
//! The passes that fold nodes (`chain`, `arithmetic`) stand on it.

use onnx_ir::{Argument, Node, TensorDataExt};

use super::ImportError;
use crate::data::InputShape;
use crate::export::FoldedLayer;

/// What flows along the chain.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Flow {
    /// `[batch, channels, height, width]`.
    Planes(InputShape),
    /// `[batch, features]`.
    Vector(usize),
}

/// The walk along the chain.
pub(super) struct Walk {
    /// The name of the value the network carries.
    pub(super) value: String,
    pub(super) flow: Flow,
    /// Per input channel `x -> scale x + shift`, before any layer.
    pub(super) scale: Vec<f64>,
    pub(super) shift: Vec<f64>,
    /// A layer waiting for its BatchNorm, bias or ReLU.
    pub(super) pending: Option<FoldedLayer>,
    pub(super) layers: Vec<FoldedLayer>,
}

pub(super) fn unsupported(node: &Node, what: impl Into<String>) -> ImportError {
    ImportError::Unsupported {
        node: node.name().to_string(),
        op: format!("{:?}", node.node_type()),
        what: what.into(),
    }
}

/// A constant operand: its shape and values.
pub(super) fn constant(
    node: &Node,
    arg: Option<&Argument>,
    role: &str,
) -> Result<(Vec<usize>, Vec<f32>), ImportError> {
    let data = arg.and_then(Argument::value).ok_or_else(|| {
        unsupported(
            node,
            format!(
                "its {role} is not a constant; certnn imports networks whose weights are fixed"
            ),
        )
    })?;
    let values = data
        .to_f32_vec()
        .map_err(|e| unsupported(node, format!("its {role} is not numeric: {e:?}")))?;
    Ok((data.shape().to_vec(), values))
}

impl Walk {
    /// The values feeding the next layer.
    pub(super) fn width(&self) -> usize {
        match self.flow {
            Flow::Planes(s) => s.channels,
            Flow::Vector(n) => n,
        }
    }
}

/// Multiplies output `o`'s weights by `s`.
pub(super) fn scale_output(layer: &mut FoldedLayer, o: usize, s: f64) {
    let n = layer.weights.len() / layer.outputs;
    for w in &mut layer.weights[o * n..(o + 1) * n] {
        *w = (f64::from(*w) * s) as f32;
    }
}
