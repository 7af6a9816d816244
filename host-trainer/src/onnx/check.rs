//! The first pass: every node of the file, named as the file names it,
//! against what the runtime can run; the one input and its shape.

use onnx_ir::{AttributeProto, ModelProto, NodeProto};

use super::ImportError;
use crate::data::InputShape;

/// Operators that carry the network.
const LAYERS: &[&str] = &[
    "Conv",
    "Gemm",
    "MatMul",
    "BatchNormalization",
    "Relu",
    "Flatten",
    "Reshape",
    "Add",
    "Sub",
    "Mul",
    "Div",
    "Identity",
    "Dropout",
    "Constant",
];

/// Operators that only compute a shape for a Reshape (PyTorch's
/// `x.view(x.size(0), -1)`).
const SHAPE_PLUMBING: &[&str] = &[
    "Shape",
    "Gather",
    "Unsqueeze",
    "Concat",
    "Cast",
    "Squeeze",
    "Slice",
];

/// The graph's input, as the network will see it.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Input {
    /// Channels, height and width (features: `F x 1 x 1`).
    pub shape: InputShape,
    /// A rank-2 input `[batch, features]`.
    pub features: bool,
}

/// Checks `model` and returns its input; `override_shape` fills dynamic
/// dimensions.
pub(super) fn check(
    model: &ModelProto,
    override_shape: Option<InputShape>,
) -> Result<Input, ImportError> {
    let graph = model
        .graph
        .as_ref()
        .ok_or_else(|| ImportError::Malformed("the file holds no graph".into()))?;
    if graph.node.is_empty() {
        return Err(ImportError::Malformed("the graph has no nodes".into()));
    }
    if let Some(t) = graph
        .initializer
        .iter()
        .find(|t| !t.external_data.is_empty() || t.data_location.value() == 1)
    {
        return Err(ImportError::Graph(format!(
            "initializer `{}` keeps its data in an external file; save the model with its weights inside \
             (onnx.save(model, path, save_as_external_data=False))",
            t.name
        )));
    }
    for (index, node) in graph.node.iter().enumerate() {
        check_node(index, node)?;
    }
    let weights: Vec<&str> = graph.initializer.iter().map(|t| t.name.as_str()).collect();
    let inputs: Vec<_> = graph
        .input
        .iter()
        .filter(|i| !weights.contains(&i.name.as_str()))
        .collect();
    let [input] = inputs.as_slice() else {
        let names: Vec<&str> = inputs.iter().map(|i| i.name.as_str()).collect();
        return Err(ImportError::Graph(format!(
            "the graph has {} inputs ({}); certnn imports networks of exactly one input",
            names.len(),
            names.join(", ")
        )));
    };
    if graph.output.len() != 1 {
        return Err(ImportError::Graph(format!(
            "the graph has {} outputs; certnn imports networks of one output, the logits",
            graph.output.len()
        )));
    }
    let tensor = input.type_.as_ref().map(|t| t.tensor_type());
    let Some(tensor) = tensor.filter(|t| t.elem_type == 1) else {
        return Err(ImportError::Graph(format!(
            "input `{}` is not a float32 tensor",
            input.name
        )));
    };
    let dims: Vec<Option<usize>> = tensor
        .shape
        .as_ref()
        .map(|s| {
            s.dim
                .iter()
                .map(|d| (d.has_dim_value() && d.dim_value() > 0).then(|| d.dim_value() as usize))
                .collect()
        })
        .unwrap_or_default();
    let features = dims.len() == 2;
    if let Some(shape) = override_shape {
        let expected = if features {
            vec![Some(shape.channels)]
        } else {
            vec![Some(shape.channels), Some(shape.height), Some(shape.width)]
        };
        let agrees = dims.len() == expected.len() + 1
            && dims[1..]
                .iter()
                .zip(&expected)
                .all(|(d, e)| d.is_none() || d == e);
        if !agrees {
            return Err(ImportError::Graph(format!(
                "--input-shape {}x{}x{} does not fit input `{}` of shape {}",
                shape.channels,
                shape.height,
                shape.width,
                input.name,
                show(&dims)
            )));
        }
        return Ok(Input { shape, features });
    }
    let shape = match dims.as_slice() {
        [_, Some(f)] => InputShape {
            channels: *f,
            height: 1,
            width: 1,
        },
        [_, Some(c), Some(h), Some(w)] => InputShape {
            channels: *c,
            height: *h,
            width: *w,
        },
        [_, _] | [_, _, _, _] => {
            return Err(ImportError::Graph(format!(
                "input `{}` has the dynamic shape {}; give --input-shape C,H,W (or F,1,1 for features)",
                input.name,
                show(&dims)
            )));
        }
        _ => {
            return Err(ImportError::Graph(format!(
                "input `{}` has shape {}; certnn imports [batch, features] and [batch, channels, height, width]",
                input.name,
                show(&dims)
            )));
        }
    };
    Ok(Input { shape, features })
}

/// `[?, 1, 28, 28]`.
fn show(dims: &[Option<usize>]) -> String {
    let dims: Vec<String> = dims
        .iter()
        .map(|d| d.map_or("?".to_string(), |d| d.to_string()))
        .collect();
    format!("[{}]", dims.join(", "))
}

/// The node's name in the file, or its position and first output.
fn name_of(index: usize, node: &NodeProto) -> String {
    if node.name.is_empty() {
        format!(
            "#{index} -> {}",
            node.output.first().map_or("", String::as_str)
        )
    } else {
        node.name.clone()
    }
}

fn attribute<'a>(node: &'a NodeProto, name: &str) -> Option<&'a AttributeProto> {
    node.attribute.iter().find(|a| a.name == name)
}

fn int(node: &NodeProto, name: &str, default: i64) -> i64 {
    attribute(node, name).map_or(default, |a| a.i)
}

fn ints(node: &NodeProto, name: &str) -> Option<Vec<i64>> {
    attribute(node, name).map(|a| a.ints.clone())
}

fn check_node(index: usize, node: &NodeProto) -> Result<(), ImportError> {
    let op = node.op_type.as_str();
    let unsupported = |what: String| ImportError::Unsupported {
        node: name_of(index, node),
        op: op.to_string(),
        what,
    };
    if !matches!(node.domain.as_str(), "" | "ai.onnx") {
        return Err(unsupported(format!(
            "operators of domain `{}` are not supported (only the standard ai.onnx ones)",
            node.domain
        )));
    }
    if !LAYERS.contains(&op) && !SHAPE_PLUMBING.contains(&op) {
        return Err(unsupported(format!(
            "unsupported operator; certnn imports {} (and {} computing a Reshape's shape)",
            LAYERS.join(", "),
            SHAPE_PLUMBING.join(", ")
        )));
    }
    match op {
        "Conv" => {
            if int(node, "group", 1) != 1 {
                return Err(unsupported(format!(
                    "groups = {}; only groups = 1 (no depthwise or grouped convolutions)",
                    int(node, "group", 1)
                )));
            }
            if let Some(d) = ints(node, "dilations").filter(|d| d.iter().any(|&d| d != 1)) {
                return Err(unsupported(format!("dilations {d:?}; only dilation 1")));
            }
            if let Some(pad) = attribute(node, "auto_pad") {
                let mode = String::from_utf8_lossy(&pad.s).to_string();
                if !matches!(mode.as_str(), "" | "NOTSET" | "VALID") {
                    return Err(unsupported(format!(
                        "auto_pad {mode}; export with explicit pads (PyTorch does)"
                    )));
                }
            }
            if let Some(k) = ints(node, "kernel_shape")
                && (k.len() != 2 || k[0] != k[1])
            {
                return Err(unsupported(format!(
                    "kernel {k:?}; only square 2-D kernels"
                )));
            }
            if let Some(s) = ints(node, "strides")
                && (s.len() != 2 || s[0] != s[1])
            {
                return Err(unsupported(format!("strides {s:?}; only equal strides")));
            }
            if let Some(p) = ints(node, "pads")
                && (p.len() != 4 || p.iter().any(|&v| v != p[0]))
            {
                return Err(unsupported(format!(
                    "pads {p:?}; only the same padding on all four sides"
                )));
            }
        }
        "Gemm" if int(node, "transA", 0) != 0 => {
            return Err(unsupported("transA = 1; only transA = 0".into()));
        }
        "BatchNormalization" if int(node, "training_mode", 0) != 0 => {
            return Err(unsupported(
                "training_mode = 1; export the network in eval mode (model.eval())".into(),
            ));
        }
        "Flatten" if int(node, "axis", 1) != 1 => {
            return Err(unsupported(format!(
                "axis = {}; only axis = 1 (keep the batch dimension)",
                int(node, "axis", 1)
            )));
        }
        _ => {}
    }
    Ok(())
}
