//! The second pass: onnx-ir's graph, one node after the other along the
//! value the network carries, folded into affine layers.

use onnx_ir::padding::PaddingConfig2d;
use onnx_ir::{Node, OnnxGraph};

use super::ImportError;
use super::Imported;
use super::arithmetic::Arithmetic;
use super::check::Input;
use super::walk::{Flow, Walk, constant, scale_output, unsupported};
use crate::data::InputShape;
use crate::export::FoldedLayer;
use crate::model::ConvSpec;

/// Folds `graph` into layers, from its `input`.
pub(super) fn fold_graph(graph: &OnnxGraph, input: Input) -> Result<Imported, ImportError> {
    let source = graph
        .inputs
        .iter()
        .find(|a| a.value().is_none())
        .ok_or_else(|| ImportError::Graph("the graph has no input".into()))?;
    let channels = input.shape.channels;
    let mut walk = Walk {
        value: source.name.clone(),
        flow: if input.features {
            Flow::Vector(channels)
        } else {
            Flow::Planes(input.shape)
        },
        scale: vec![1.0; channels],
        shift: vec![0.0; channels],
        pending: None,
        layers: Vec::new(),
    };
    for node in &graph.nodes {
        let on_chain = node.inputs().iter().any(|a| a.name == walk.value);
        if !on_chain || matches!(node, Node::Constant(_)) {
            continue;
        }
        walk.step(node)?;
    }
    let last = walk.pending.take().ok_or_else(|| {
        ImportError::Graph(
            "the network does not end in a Gemm/MatMul without activation: certnn needs the logits"
                .into(),
        )
    })?;
    if last.conv.is_some() {
        return Err(ImportError::Graph(
            "the network ends in a convolution; certnn needs a fully connected classifier".into(),
        ));
    }
    walk.layers.push(last);
    match graph.outputs.as_slice() {
        [out] if out.name == walk.value => {}
        _ => {
            return Err(ImportError::Graph(
                "the graph's output is not the end of its chain of layers".into(),
            ));
        }
    }
    let mean = walk
        .scale
        .iter()
        .zip(&walk.shift)
        .map(|(a, c)| (-c / a) as f32)
        .collect();
    let std = walk.scale.iter().map(|a| (1.0 / a) as f32).collect();
    Ok(Imported {
        input: input.shape,
        features: input.features,
        mean,
        std,
        layers: walk.layers,
    })
}

impl Walk {
    fn step(&mut self, node: &Node) -> Result<(), ImportError> {
        let data_first = node.inputs().first().is_some_and(|a| a.name == self.value);
        match node {
            Node::Identity(_) | Node::Dropout(_) => {}
            Node::Shape(_) => return Ok(()), // a side branch: the Reshape's shape
            Node::Relu(_) => {
                let layer = self.pending.take().ok_or_else(|| {
                    unsupported(node, "a ReLU that follows no Conv, Gemm or MatMul")
                })?;
                self.layers.push(layer);
            }
            Node::Conv2d(conv) => {
                self.no_pending(node)?;
                let Flow::Planes(shape) = self.flow else {
                    return Err(unsupported(node, "a convolution after flattening"));
                };
                let c = &conv.config;
                let padding = match c.padding {
                    PaddingConfig2d::Valid => 0,
                    PaddingConfig2d::Explicit(t, l, b, r) if t == l && l == b && b == r => t,
                    PaddingConfig2d::Explicit(..) => {
                        return Err(unsupported(node, "asymmetric padding"));
                    }
                };
                let (dims, weights) = constant(node, conv.inputs.get(1), "weight")?;
                let [out, inp, kh, kw] = dims[..] else {
                    return Err(unsupported(node, "a weight that is not 4-D"));
                };
                if inp != shape.channels
                    || kh != kw
                    || c.stride[0] != c.stride[1]
                    || kh != c.kernel_size[0]
                {
                    return Err(unsupported(
                        node,
                        format!(
                            "weight {dims:?} on {} channels with stride {:?}: needs a square kernel over the input's channels and equal strides",
                            shape.channels, c.stride
                        ),
                    ));
                }
                let bias = match conv.inputs.get(2).filter(|a| !a.is_optional()) {
                    Some(b) => constant(node, Some(b), "bias")?.1,
                    None => vec![0.0; out],
                };
                let spec = ConvSpec {
                    channels: out,
                    kernel: kh,
                    stride: c.stride[0],
                    padding,
                };
                let size = |n: usize| crate::model::conv_output(n, &spec);
                let (Some(height), Some(width)) = (size(shape.height), size(shape.width)) else {
                    return Err(unsupported(node, "the kernel does not fit the feature map"));
                };
                self.flow = Flow::Planes(InputShape {
                    channels: out,
                    height,
                    width,
                });
                self.pending = Some(FoldedLayer {
                    conv: Some(spec),
                    inputs: inp,
                    outputs: out,
                    weights,
                    bias,
                });
            }
            Node::Linear(linear) => {
                let (dims, w) = constant(node, linear.inputs.get(1), "weight")?;
                let bias = linear.inputs.get(2).filter(|a| !a.is_optional());
                let bias = bias
                    .map(|b| constant(node, Some(b), "bias"))
                    .transpose()?
                    .map(|b| b.1);
                self.dense(node, &dims, w, linear.config.transpose_weight, bias)?;
            }
            Node::Gemm(gemm) => {
                let (dims, w) = constant(node, gemm.inputs.get(1), "weight")?;
                let c = &gemm.config;
                let w = w.iter().map(|v| v * c.alpha).collect();
                let bias = gemm.inputs.get(2).filter(|a| !a.is_optional());
                let bias = bias.map(|b| constant(node, Some(b), "bias")).transpose()?;
                let bias = bias.map(|(_, b)| b.iter().map(|v| v * c.beta).collect());
                self.dense(node, &dims, w, c.trans_b != 0, bias)?;
            }
            Node::MatMul(m) => {
                let (dims, w) = constant(node, m.inputs.get(1), "second operand")?;
                self.dense(node, &dims, w, false, None)?;
            }
            Node::BatchNormalization(bn) => {
                let epsilon = match &bn.config {
                    onnx_ir::batch_norm::BatchNormConfig::Static(s) => s.epsilon,
                    onnx_ir::batch_norm::BatchNormConfig::Runtime(r) => r.epsilon,
                };
                let part =
                    |i: usize, role: &str| constant(node, bn.inputs.get(i), role).map(|c| c.1);
                let (gamma, beta) = (part(1, "scale")?, part(2, "bias")?);
                let (mean, var) = (part(3, "mean")?, part(4, "variance")?);
                let layer = self.pending.as_mut().ok_or_else(|| {
                    unsupported(node, "a BatchNorm that follows no Conv, Gemm or MatMul")
                })?;
                if [&gamma, &beta, &mean, &var]
                    .iter()
                    .any(|v| v.len() != layer.outputs)
                {
                    return Err(unsupported(
                        node,
                        "statistics of another length than the layer's outputs",
                    ));
                }
                for o in 0..layer.outputs {
                    let s = f64::from(gamma[o]) / (f64::from(var[o]) + epsilon).sqrt();
                    scale_output(layer, o, s);
                    let b =
                        (f64::from(layer.bias[o]) - f64::from(mean[o])) * s + f64::from(beta[o]);
                    layer.bias[o] = b as f32;
                }
            }
            Node::Add(_) => self.elementwise(node, Arithmetic::Add, data_first)?,
            Node::Sub(_) => self.elementwise(node, Arithmetic::Sub, data_first)?,
            Node::Mul(_) => self.elementwise(node, Arithmetic::Mul, data_first)?,
            Node::Div(_) => self.elementwise(node, Arithmetic::Div, data_first)?,
            Node::Flatten(_) | Node::Reshape(_) => {
                self.no_pending(node)?;
                let out = node.outputs().first().map(|a| a.ty.rank()).unwrap_or(0);
                if out != 2 {
                    return Err(unsupported(
                        node,
                        "a reshape to other than [batch, features]",
                    ));
                }
                if let Flow::Planes(s) = self.flow {
                    self.flow = Flow::Vector(s.len());
                }
            }
            _ => {
                return Err(unsupported(node, "not a layer certnn imports"));
            }
        }
        self.value = node
            .outputs()
            .first()
            .map(|a| a.name.clone())
            .ok_or_else(|| unsupported(node, "no output"))?;
        Ok(())
    }

    fn no_pending(&self, node: &Node) -> Result<(), ImportError> {
        match self.pending {
            Some(_) => Err(unsupported(
                node,
                "two layers without a ReLU between them; certnn imports Conv/Gemm layers each followed by a ReLU, then the classifier",
            )),
            None => Ok(()),
        }
    }

    /// A fully connected layer of weight `dims` (`[out, in]` when
    /// `out_in`, else `[in, out]`).
    fn dense(
        &mut self,
        node: &Node,
        dims: &[usize],
        w: Vec<f32>,
        out_in: bool,
        bias: Option<Vec<f32>>,
    ) -> Result<(), ImportError> {
        self.no_pending(node)?;
        let Flow::Vector(features) = self.flow else {
            return Err(unsupported(
                node,
                "a fully connected layer on a 4-D value: flatten first",
            ));
        };
        let [a, b] = dims[..] else {
            return Err(unsupported(node, "a weight that is not 2-D"));
        };
        let (outputs, inputs) = if out_in { (a, b) } else { (b, a) };
        if inputs != features {
            return Err(unsupported(
                node,
                format!("a weight {dims:?} on {features} features"),
            ));
        }
        let weights = if out_in {
            w
        } else {
            let mut t = vec![0.0; w.len()];
            for i in 0..inputs {
                for o in 0..outputs {
                    t[o * inputs + i] = w[i * outputs + o];
                }
            }
            t
        };
        let bias = bias.unwrap_or_else(|| vec![0.0; outputs]);
        if bias.len() != outputs {
            return Err(unsupported(
                node,
                format!("a bias of {} values for {outputs} outputs", bias.len()),
            ));
        }
        self.flow = Flow::Vector(outputs);
        self.pending = Some(FoldedLayer {
            conv: None,
            inputs,
            outputs,
            weights,
            bias,
        });
        Ok(())
    }
}
