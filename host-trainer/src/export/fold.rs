//! Float weights out of burn, with BatchNorm folded into the layer before it.

use burn::tensor::Tensor;

use crate::model::{ConvSpec, Net};

/// One affine layer with BatchNorm folded in: `y = W x + b`.
#[derive(Debug, Clone, PartialEq)]
pub struct FoldedLayer {
    /// Convolution geometry, or `None` for a fully connected layer.
    pub conv: Option<ConvSpec>,
    /// Input features (Dense) or input channels (Conv).
    pub inputs: usize,
    /// Output features or channels.
    pub outputs: usize,
    /// Weights `[out][in]` or `[out][in][kh][kw]`, row-major.
    pub weights: Vec<f32>,
    /// Bias per output.
    pub bias: Vec<f32>,
}

impl FoldedLayer {
    /// Weights of output channel `o`.
    pub fn row(&self, o: usize) -> &[f32] {
        let n = self.weights.len() / self.outputs;
        &self.weights[o * n..(o + 1) * n]
    }
}

fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data()
        .convert::<f32>()
        .try_to_vec::<f32>()
        .expect("f32 data")
}

/// Per-channel affine form of a BatchNorm in evaluation: `(scale, shift)`.
fn bn_affine(bn: &burn::nn::BatchNorm) -> (Vec<f32>, Vec<f32>) {
    let gamma = values(bn.gamma.val());
    let beta = values(bn.beta.val());
    let mean = values(bn.running_mean.value());
    let var = values(bn.running_var.value());
    let scale: Vec<f32> = gamma
        .iter()
        .zip(&var)
        .map(|(g, v)| g / (v + bn.epsilon as f32).sqrt())
        .collect();
    let shift = beta
        .iter()
        .zip(&mean)
        .zip(&scale)
        .map(|((b, m), s)| b - m * s)
        .collect();
    (scale, shift)
}

/// The network as affine layers (hidden layers followed by ReLU, the last
/// one the classifier), BatchNorm and the input normalisation folded: the
/// first layer takes inputs in real units.
pub fn fold(net: &Net) -> Vec<FoldedLayer> {
    let mut layers = fold_batch_norm(net);
    if let Some(norm) = &net.input_norm {
        unnormalize(
            &mut layers[0],
            &values(norm.mean.val()),
            &values(norm.inv_std.val()),
        );
    }
    layers
}

/// The network as affine layers with BatchNorm folded, the first one
/// reading normalised inputs (what ONNX export writes after the input's
/// `(x - mean) / std`).
pub fn fold_batch_norm(net: &Net) -> Vec<FoldedLayer> {
    let mut layers = Vec::new();
    for block in &net.convs {
        let [out, inp, kh, kw] = block.conv.weight.dims();
        let (scale, shift) = bn_affine(&block.bn);
        let mut weights = values(block.conv.weight.val());
        for (o, chunk) in weights.chunks_mut(inp * kh * kw).enumerate() {
            chunk.iter_mut().for_each(|w| *w *= scale[o]);
        }
        let spec = ConvSpec {
            channels: out,
            kernel: kh,
            stride: block.conv.stride[0],
            padding: block.padding,
        };
        layers.push(FoldedLayer {
            conv: Some(spec),
            inputs: inp,
            outputs: out,
            weights,
            bias: shift,
        });
    }
    for block in &net.dense {
        let (scale, shift) = bn_affine(&block.bn);
        layers.push(dense(block.linear.weight.val(), None, Some(&scale), shift));
    }
    let head_bias = net.head.bias.as_ref().map(|b| values(b.val()));
    let classes = net.head.weight.dims()[1];
    layers.push(dense(
        net.head.weight.val(),
        head_bias,
        None,
        vec![0.0; classes],
    ));
    layers
}

/// Folds `(x - mean) / std` per input channel into a layer that reads its
/// output: `W' = W / std`, `b' = b - sum W mean / std`. A padded
/// convolution's zeros stay the network's own because the input quantiser
/// puts its zero at the mean ([`crate::data::InputSpace::quantizers`]).
fn unnormalize(layer: &mut FoldedLayer, mean: &[f32], inv_std: &[f32]) {
    let per_channel = layer.weights.len() / layer.outputs / mean.len();
    let row_len = layer.weights.len() / layer.outputs;
    for o in 0..layer.outputs {
        let row = &mut layer.weights[o * row_len..(o + 1) * row_len];
        let mut shift = 0.0f64;
        for (k, w) in row.iter_mut().enumerate() {
            let c = k / per_channel;
            *w *= inv_std[c];
            shift += f64::from(*w) * f64::from(mean[c]);
        }
        layer.bias[o] -= shift as f32;
    }
}

/// A Linear layer (weight stored `[in, out]`) transposed to `[out][in]`,
/// rows scaled, plus `bias + shift`.
fn dense(
    weight: Tensor<2>,
    bias: Option<Vec<f32>>,
    scale: Option<&[f32]>,
    shift: Vec<f32>,
) -> FoldedLayer {
    let [inputs, outputs] = weight.dims();
    let w = values(weight);
    let mut weights = vec![0.0; inputs * outputs];
    for i in 0..inputs {
        for o in 0..outputs {
            weights[o * inputs + i] = w[i * outputs + o] * scale.map_or(1.0, |s| s[o]);
        }
    }
    let bias = match bias {
        Some(b) => b.iter().zip(&shift).map(|(b, s)| b + s).collect(),
        None => shift,
    };
    FoldedLayer {
        conv: None,
        inputs,
        outputs,
        weights,
        bias,
    }
}
