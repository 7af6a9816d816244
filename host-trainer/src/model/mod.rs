//! The trainable network: an optional input normalisation, convolutions and
//! fully connected layers, each followed by BatchNorm and ReLU, then a
//! linear classifier.

mod arch;
mod init;

pub use arch::{Arch, ConvSpec};
pub use init::Init;

use burn::module::{Module, Param};
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, Linear, LinearConfig, PaddingConfig2d};
use burn::tensor::{Device, Tensor, TensorData};

pub use crate::data::InputShape;
use crate::data::InputSpace;

/// Convolution, then BatchNorm (ReLU is applied by the propagation).
#[derive(Module, Debug)]
pub struct ConvBlock {
    /// The convolution (no bias: BatchNorm follows).
    pub conv: Conv2d,
    /// Its BatchNorm.
    pub bn: BatchNorm,
    /// Symmetric zero padding of the convolution.
    pub padding: usize,
}

/// Linear layer, then BatchNorm.
#[derive(Module, Debug)]
pub struct DenseBlock {
    /// The linear layer (no bias: BatchNorm follows). Weight is `[in, out]`.
    pub linear: Linear,
    /// Its BatchNorm.
    pub bn: BatchNorm,
}

/// `(x - mean) / std` per input channel, fixed (not trained): what puts
/// features of very different units on one scale.
#[derive(Module, Debug)]
pub struct InputNorm {
    /// Per channel, subtracted first.
    pub mean: Param<Tensor<1>>,
    /// Per channel, `1 / std`.
    pub inv_std: Param<Tensor<1>>,
}

impl InputNorm {
    /// The normalisation of `space`, or `None` when it is the identity.
    fn of(space: &InputSpace, device: &Device) -> Option<Self> {
        let fixed = |v: Vec<f32>| {
            let n = v.len();
            Param::from_tensor(Tensor::from_data(TensorData::new(v, [n]), device))
                .set_require_grad(false)
        };
        space.normalizes().then(|| InputNorm {
            mean: fixed(space.channels.iter().map(|c| c.mean).collect()),
            inv_std: fixed(space.channels.iter().map(|c| 1.0 / c.std).collect()),
        })
    }
}

/// The whole network.
#[derive(Module, Debug)]
pub struct Net {
    /// The input normalisation (none for images).
    pub input_norm: Option<InputNorm>,
    /// Convolution blocks, in order.
    pub convs: Vec<ConvBlock>,
    /// Fully connected hidden blocks, in order, on the flattened features.
    pub dense: Vec<DenseBlock>,
    /// Final classifier (framework-default initialisation, with bias).
    pub head: Linear,
}

/// Spatial size after a convolution, or `None` if the kernel does not fit.
pub fn conv_output(size: usize, spec: &ConvSpec) -> Option<usize> {
    let padded = size + 2 * spec.padding;
    (padded >= spec.kernel).then(|| (padded - spec.kernel) / spec.stride + 1)
}

impl Net {
    /// Builds `arch` for inputs of `input`'s shape in `space` and `classes`
    /// outputs, hidden weights drawn by `init`.
    pub fn new(
        arch: &Arch,
        init: Init,
        input: InputShape,
        space: &InputSpace,
        classes: usize,
        device: &Device,
    ) -> Result<Self, String> {
        if input.height * input.width == 1 && !arch.convs.is_empty() {
            return Err(format!(
                "{arch}: convolutions need image inputs; use an mlp:W,... architecture for features"
            ));
        }
        let mut shape = input;
        let mut convs = Vec::new();
        for spec in &arch.convs {
            let (Some(h), Some(w)) = (
                conv_output(shape.height, spec),
                conv_output(shape.width, spec),
            ) else {
                return Err(format!(
                    "{arch}: a {0}x{0} kernel does not fit a {1}x{2} feature map",
                    spec.kernel, shape.height, shape.width
                ));
            };
            let p = spec.padding;
            let conv =
                Conv2dConfig::new([shape.channels, spec.channels], [spec.kernel, spec.kernel])
                    .with_stride([spec.stride, spec.stride])
                    .with_padding(PaddingConfig2d::Explicit(p, p, p, p))
                    .with_bias(false)
                    .init(device);
            let fan_in = shape.channels * spec.kernel * spec.kernel;
            convs.push(ConvBlock {
                conv: Conv2d {
                    weight: init::normal(conv.weight, init, fan_in, device),
                    ..conv
                },
                bn: BatchNormConfig::new(spec.channels).init(device),
                padding: p,
            });
            shape = InputShape {
                channels: spec.channels,
                height: h,
                width: w,
            };
        }
        let mut features = shape.len();
        let mut dense = Vec::new();
        for &width in &arch.dense {
            let linear = LinearConfig::new(features, width)
                .with_bias(false)
                .init(device);
            dense.push(DenseBlock {
                linear: Linear {
                    weight: init::normal(linear.weight, init, features, device),
                    ..linear
                },
                bn: BatchNormConfig::new(width).init(device),
            });
            features = width;
        }
        let head = LinearConfig::new(features, classes).init(device);
        Ok(Net {
            input_norm: InputNorm::of(space, device),
            convs,
            dense,
            head,
        })
    }
}
