//! Add, Sub, Mul and Div by constants along the chain: the input
//! normalisation before the first layer, a per-channel bias or scale of
//! the layer before them after it.

use onnx_ir::Node;

use super::ImportError;
use super::walk::{Flow, Walk, constant, scale_output, unsupported};

impl Walk {
    /// Add, Sub, Mul or Div of the chain's value by a per-channel constant:
    /// the input normalisation before the first layer, a bias or scale of
    /// the layer before it otherwise.
    pub(super) fn elementwise(
        &mut self,
        node: &Node,
        op: Arithmetic,
        data_first: bool,
    ) -> Result<(), ImportError> {
        let other = node.inputs().iter().find(|a| a.name != self.value);
        let (dims, values) = constant(node, other, "operand")?;
        let width = self.width();
        let rank: usize = match self.flow {
            Flow::Planes(_) => 4,
            Flow::Vector(_) => 2,
        };
        // Right-aligned broadcasting: every dimension 1 but the channel's.
        let padded: Vec<usize> = std::iter::repeat_n(1, rank.saturating_sub(dims.len()))
            .chain(dims.iter().copied())
            .collect();
        let per_channel = padded.len() == rank
            && padded
                .iter()
                .enumerate()
                .all(|(i, &d)| d == 1 || (i == 1 && d == width));
        if !per_channel {
            return Err(unsupported(
                node,
                format!("an operand of shape {dims:?}: only a scalar or one value per channel"),
            ));
        }
        let k = |c: usize| {
            f64::from(if values.len() == 1 {
                values[0]
            } else {
                values[c]
            })
        };
        if !data_first && matches!(op, Arithmetic::Sub | Arithmetic::Div) {
            return Err(unsupported(
                node,
                "the network's value must be the first operand of Sub and Div",
            ));
        }
        if (0..width).any(|c| !k(c).is_finite() || (op == Arithmetic::Div && k(c) == 0.0)) {
            return Err(unsupported(
                node,
                "a zero divisor or a value that is not finite",
            ));
        }
        if let Some(layer) = self.pending.as_mut() {
            for o in 0..layer.outputs {
                let (s, b) = op.apply(1.0, f64::from(layer.bias[o]), k(o));
                scale_output(layer, o, s);
                layer.bias[o] = b as f32;
            }
            return Ok(());
        }
        if !self.layers.is_empty() {
            return Err(unsupported(
                node,
                "arithmetic after a ReLU; certnn imports it on the input or right after a layer",
            ));
        }
        if width != self.scale.len() && values.len() != 1 {
            return Err(unsupported(
                node,
                "a per-value normalisation after flattening; normalise per channel before Flatten",
            ));
        }
        for c in 0..self.scale.len() {
            let kc = if values.len() == 1 { k(0) } else { k(c) };
            (self.scale[c], self.shift[c]) = op.apply(self.scale[c], self.shift[c], kc);
            if self.scale[c] <= 0.0 {
                return Err(unsupported(
                    node,
                    "an input normalisation that is not increasing (a scale <= 0)",
                ));
            }
        }
        Ok(())
    }
}

/// An elementwise operation with a constant.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Arithmetic {
    Add,
    Sub,
    Mul,
    Div,
}

impl Arithmetic {
    /// The map `a x + b`, followed by this operation with `k`, as `(a, b)`.
    fn apply(self, a: f64, b: f64, k: f64) -> (f64, f64) {
        match self {
            Arithmetic::Add => (a, b + k),
            Arithmetic::Sub => (a, b - k),
            Arithmetic::Mul => (a * k, b * k),
            Arithmetic::Div => (a / k, b / k),
        }
    }
}
