//! A network read from ONNX, and the [`Net`] training makes of it: each
//! layer's bias becomes its BatchNorm's shift (an identity scale), the
//! classifier keeps its own bias.

use burn::module::{Param, RunningState};
use burn::tensor::{Device, Tensor, TensorData};

use crate::data::{InputShape, InputSpace};
use crate::export::FoldedLayer;
use crate::model::{Arch, Init, Net};

/// A network read from ONNX: the input normalisation and affine layers,
/// every one but the last followed by a ReLU.
#[derive(Debug, Clone, PartialEq)]
pub struct Imported {
    /// Channels, height and width of one input (features: `F x 1 x 1`).
    pub input: InputShape,
    /// The file's input is `[batch, features]`.
    pub features: bool,
    /// Per input channel, subtracted first (0 without a normalisation).
    pub mean: Vec<f32>,
    /// Per input channel, divides the difference (1 without one).
    pub std: Vec<f32>,
    /// Convolutions, then fully connected layers, then the classifier,
    /// BatchNorm and biases folded in; inputs normalised.
    pub layers: Vec<FoldedLayer>,
}

impl Imported {
    /// The architecture, for the run's configuration.
    pub fn arch(&self) -> Arch {
        let hidden = &self.layers[..self.layers.len() - 1];
        Arch {
            convs: hidden.iter().filter_map(|l| l.conv).collect(),
            dense: hidden
                .iter()
                .filter(|l| l.conv.is_none())
                .map(|l| l.outputs)
                .collect(),
        }
    }

    /// Number of classes (outputs of the classifier).
    pub fn classes(&self) -> usize {
        self.layers.last().map_or(0, |l| l.outputs)
    }
}

impl Imported {
    /// The network, over inputs in `space` (whose means and standard
    /// deviations must be this network's: see [`Imported::mean`]).
    pub fn net(&self, space: &InputSpace, device: &Device) -> Result<Net, String> {
        let mut net = Net::new(
            &self.arch(),
            Init::Shi,
            self.input,
            space,
            self.classes(),
            device,
        )?;
        let (classifier, hidden) = self.layers.split_last().ok_or("no layers")?;
        let mut hidden = hidden.iter();
        for block in &mut net.convs {
            let layer = hidden.next().ok_or("fewer layers than the architecture")?;
            let dims = block.conv.weight.dims();
            block.conv.weight = param(layer.weights.clone(), dims, device);
            identity_scale(&mut block.bn, &layer.bias, device);
        }
        for block in &mut net.dense {
            let layer = hidden.next().ok_or("fewer layers than the architecture")?;
            block.linear.weight = param(in_out(layer), block.linear.weight.dims(), device);
            identity_scale(&mut block.bn, &layer.bias, device);
        }
        net.head.weight = param(in_out(classifier), net.head.weight.dims(), device);
        net.head.bias = Some(param(classifier.bias.clone(), [classifier.outputs], device));
        Ok(net)
    }
}

fn param<const D: usize>(values: Vec<f32>, dims: [usize; D], device: &Device) -> Param<Tensor<D>> {
    Param::from_tensor(Tensor::from_data(TensorData::new(values, dims), device))
}

/// A dense layer's `[out][in]` weights as burn's `[in, out]`.
fn in_out(layer: &FoldedLayer) -> Vec<f32> {
    let (inputs, outputs) = (layer.inputs, layer.outputs);
    let mut w = vec![0.0; inputs * outputs];
    for o in 0..outputs {
        for i in 0..inputs {
            w[i * outputs + o] = layer.weights[o * inputs + i];
        }
    }
    w
}

/// A BatchNorm that adds `shift`: mean 0, variance `1 - epsilon` (so that
/// `sqrt(var + epsilon)` is 1 within an ulp), scale 1.
fn identity_scale(bn: &mut burn::nn::BatchNorm, shift: &[f32], device: &Device) {
    let n = shift.len();
    let fill = |v: f32| Tensor::from_data(TensorData::new(vec![v; n], [n]), device);
    bn.gamma = Param::from_tensor(fill(1.0));
    bn.beta = param(shift.to_vec(), [n], device);
    bn.running_mean = RunningState::new(fill(0.0));
    bn.running_var = RunningState::new(fill((1.0 - bn.epsilon) as f32));
}
