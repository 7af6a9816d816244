//! ONNX in and out. A network trained elsewhere (PyTorch's
//! `torch.onnx.export`, or any exporter of the same operators) becomes the
//! same [`Net`](crate::model::Net) that `certnn train` makes, so export,
//! certification, refinement and the boards take it unchanged; a certnn
//! network goes out as ONNX for onnxruntime or another verifier.
//!
//! Reading takes two passes. The first (`check.rs`) goes over the file's own nodes,
//! named as the file names them, and refuses everything the runtime cannot
//! run: an operator, an attribute (dilation, groups, asymmetric padding),
//! a second input, external weight data, a dynamic shape. onnx-ir (the
//! burn project's ONNX parser) then infers shapes and resolves constants,
//! and the second (`chain.rs`) folds the graph, one node after the other, into affine
//! layers: convolutions, then fully connected layers, each followed by a
//! ReLU, then the classifier, with BatchNorm and a constant bias folded
//! into the layer before them and `(x - mean) / std` on the input kept as
//! the network's input normalisation.
//!
//! Supported operators: Conv (2-D, square kernel, equal strides and
//! symmetric padding, groups 1, dilation 1), Gemm, MatMul (+ Add),
//! BatchNormalization, Relu, Flatten and Reshape to 2-D (with the Shape,
//! Gather, Unsqueeze, Concat, Cast, Squeeze and Slice nodes that compute a
//! flattening shape), Sub/Div/Mul/Add by constants, Identity and Dropout.

mod arithmetic;
mod chain;
mod check;
mod imported;
mod walk;
mod write;

pub use imported::Imported;
pub use write::to_onnx;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

use onnx_ir::{Message, ModelProto, OnnxGraphBuilder};

use crate::data::InputShape;

/// Why a file was not imported.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file could not be read.
    #[error("reading {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// What the system said.
        source: std::io::Error,
    },
    /// Not an ONNX model (or a damaged one).
    #[error("not a readable ONNX model: {0}")]
    Malformed(String),
    /// A node the runtime cannot run.
    #[error("node `{node}` ({op}): {what}")]
    Unsupported {
        /// The node's name in the file (or its position and output).
        node: String,
        /// Its operator.
        op: String,
        /// What is wrong and what is supported.
        what: String,
    },
    /// The graph as a whole is not a network certnn can take.
    #[error("{0}")]
    Graph(String),
}

/// Reads the ONNX model at `path` as a network. `input_shape` (channels,
/// height, width) stands in for input dimensions the file leaves dynamic
/// (the batch dimension may always be).
pub fn import(path: &Path, input_shape: Option<InputShape>) -> Result<Imported, ImportError> {
    let bytes = std::fs::read(path).map_err(|source| ImportError::Read {
        path: path.display().to_string(),
        source,
    })?;
    import_bytes(&bytes, input_shape)
}

/// [`import`] of the bytes of a model file (weights inside it).
pub fn import_bytes(
    bytes: &[u8],
    input_shape: Option<InputShape>,
) -> Result<Imported, ImportError> {
    let model =
        ModelProto::parse_from_bytes(bytes).map_err(|e| ImportError::Malformed(e.to_string()))?;
    let input = check::check(&model, input_shape)?;
    let graph = catch_unwind(AssertUnwindSafe(|| {
        OnnxGraphBuilder::new().parse_bytes(bytes)
    }))
    .map_err(|_| ImportError::Malformed("the ONNX parser (onnx-ir) gave up on this graph".into()))?
    .map_err(|e| ImportError::Malformed(e.to_string()))?;
    chain::fold_graph(&graph, input)
}
