//! Owned model description for the host: what an exporter fills in and
//! turns into model-file bytes (`std` feature). The bytes are checked by
//! loading them back with [`Model::from_bytes`] before they are returned,
//! so a builder never emits a file the runtime rejects.

extern crate std;

use std::string::{String, ToString};
use std::vec;
use std::vec::Vec;

use crate::format::{
    self, CertSpec, Conv2d, Dense, Header, InputSpec, Layer, ModelDesc, Output, Params, Requantize,
    le_i32,
};
use crate::{Error, Model, Quantizer};

/// The geometry of a layer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LayerKind {
    /// Fully connected, `inputs -> outputs`.
    Dense {
        /// Input features.
        inputs: u32,
        /// Output features.
        outputs: u32,
    },
    /// Convolution.
    Conv2d {
        /// Input channels.
        in_channels: u16,
        /// Output channels.
        out_channels: u16,
        /// Kernel height and width.
        kernel: [u8; 2],
        /// Stride.
        stride: [u8; 2],
        /// Zero padding.
        padding: [u8; 2],
    },
}

/// Output stage of a layer, owned.
#[derive(Debug, Clone, PartialEq)]
pub enum OutputSpec {
    /// Requantise to int8.
    Requantize {
        /// Per-channel multiplier in `0..2^31`.
        multiplier: Vec<i32>,
        /// Per-channel right shift in `1..=62`.
        shift: Vec<u8>,
        /// Output zero point.
        zero_point: i8,
        /// Lower clamp.
        min: i8,
        /// Upper clamp.
        max: i8,
        /// Real value of one output step.
        scale: f32,
    },
    /// int32 logits (last layer).
    Logits {
        /// Real value of one logit unit.
        scale: f32,
    },
}

/// One layer, owned.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerSpec {
    /// Geometry.
    pub kind: LayerKind,
    /// int8 weights, `[out][in]` or `[out][in][kh][kw]`.
    pub weights: Vec<i8>,
    /// int32 bias per output channel, in accumulator units.
    pub bias: Vec<i32>,
    /// Output stage.
    pub output: OutputSpec,
}

/// The input of a model, owned: shape and one quantiser per channel.
#[derive(Debug, Clone, PartialEq)]
pub struct Input {
    /// Channels (image planes, or the features of a sensor vector).
    pub channels: u16,
    /// Height.
    pub height: u16,
    /// Width.
    pub width: u16,
    /// One quantiser per channel.
    pub quantizers: Vec<Quantizer>,
    /// Channel names: none, or one per channel (no commas).
    pub names: Vec<String>,
}

impl Input {
    /// Images of `channels x height x width` pixels in `[0, 1]`, every
    /// channel on the 8-bit pixel grid ([`Quantizer::spanning`]`(0, 1)`).
    pub fn image(channels: u16, height: u16, width: u16) -> Input {
        Input {
            channels,
            height,
            width,
            quantizers: vec![Quantizer::spanning(0.0, 1.0); usize::from(channels)],
            names: Vec::new(),
        }
    }

    /// A vector of features, one channel each (height and width 1).
    pub fn features(quantizers: Vec<Quantizer>, names: Vec<String>) -> Input {
        Input {
            channels: quantizers.len().try_into().unwrap_or(u16::MAX),
            height: 1,
            width: 1,
            quantizers,
            names,
        }
    }
}

/// The certification spec of a model, owned.
#[derive(Debug, Clone, PartialEq)]
pub struct Certification {
    /// The certified eps of every input channel, in its real units.
    pub eps: Vec<f32>,
    /// Boxes refinement may bound per input by default (0: none).
    pub refine_boxes: u32,
}

/// A whole model, owned.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelSpec {
    /// Input shape and quantisers.
    pub input: Input,
    /// What the model certifies.
    pub certification: Certification,
    /// Number of classes.
    pub classes: u16,
    /// Class names: none, or one per class (no commas).
    pub class_names: Vec<String>,
    /// Free text.
    pub description: String,
    /// Layers in order.
    pub layers: Vec<LayerSpec>,
}

/// Splits a positive real multiplier into `(M, shift)` with
/// `M * 2^-shift ~= real`, `M` in `[2^30, 2^31)` and `shift` in `1..=62`.
/// Multipliers too small to represent become `(0, 1)` (the output is the
/// zero point); too large ones saturate at the largest representable.
pub fn quantize_multiplier(real: f64) -> (i32, u8) {
    if !(real.is_finite() && real > 0.0) {
        return (0, 1);
    }
    let mut exponent = real.log2().floor() as i32;
    let mut m = (real / 2f64.powi(exponent) * 2f64.powi(30)).round();
    if m >= 2f64.powi(31) {
        m /= 2.0;
        exponent += 1;
    }
    let shift = 30 - exponent;
    match shift {
        s if s > 62 => (0, 1),
        s if s < 1 => (i32::MAX, 1),
        s => (m as i32, s as u8),
    }
}

fn le_bytes(values: &[i32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

struct OwnedBytes {
    weights: Vec<u8>,
    bias: Vec<u8>,
    multiplier: Vec<u8>,
}

impl ModelSpec {
    /// Encodes the model file; fails with the runtime's own error if the
    /// runtime would reject it.
    pub fn to_bytes(&self) -> Result<Vec<u8>, Error> {
        let owned: Vec<OwnedBytes> = self
            .layers
            .iter()
            .map(|l| OwnedBytes {
                weights: l.weights.iter().map(|&w| w as u8).collect(),
                bias: le_bytes(&l.bias),
                multiplier: match &l.output {
                    OutputSpec::Requantize { multiplier, .. } => le_bytes(multiplier),
                    OutputSpec::Logits { .. } => Vec::new(),
                },
            })
            .collect();
        let mut layers = heapless::Vec::new();
        for (spec, bytes) in self.layers.iter().zip(&owned) {
            let output = match &spec.output {
                OutputSpec::Requantize {
                    shift,
                    zero_point,
                    min,
                    max,
                    scale,
                    ..
                } => Output::Requantize(Requantize {
                    multiplier: &bytes.multiplier,
                    shift,
                    zero_point: *zero_point,
                    min: *min,
                    max: *max,
                    scale: *scale,
                }),
                OutputSpec::Logits { scale } => Output::Logits { scale: *scale },
            };
            let params = Params {
                weights: &bytes.weights,
                bias: &bytes.bias,
                output,
            };
            let layer = match spec.kind {
                LayerKind::Dense { inputs, outputs } => Layer::Dense(Dense {
                    inputs,
                    outputs,
                    params,
                }),
                LayerKind::Conv2d {
                    in_channels,
                    out_channels,
                    kernel,
                    stride,
                    padding,
                } => Layer::Conv2d(Conv2d {
                    in_channels,
                    out_channels,
                    kernel,
                    stride,
                    padding,
                    params,
                }),
            };
            layers.push(layer).map_err(|_| Error::UnsupportedSize)?;
        }
        let quantizers: Vec<u8> = self
            .input
            .quantizers
            .iter()
            .flat_map(|q| q.encode())
            .collect();
        let eps: Vec<u8> = self
            .certification
            .eps
            .iter()
            .flat_map(|e| e.to_le_bytes())
            .collect();
        let class_names = self.class_names.join(",");
        let channel_names = self.input.names.join(",");
        let desc = ModelDesc {
            header: Header {
                input: InputSpec {
                    channels: self.input.channels,
                    height: self.input.height,
                    width: self.input.width,
                    quantizers: &quantizers,
                    names: &channel_names,
                },
                certification: CertSpec {
                    eps: &eps,
                    refine_boxes: self.certification.refine_boxes,
                },
                classes: self.classes,
                class_names: &class_names,
                description: &self.description,
            },
            layers,
        };
        let bytes = format::encode(&desc)?;
        Model::from_bytes(&bytes)?;
        Ok(bytes)
    }
}

impl LayerSpec {
    /// The owned form of a layer of a loaded (or decoded) model.
    pub fn from_layer(layer: &Layer<'_>) -> LayerSpec {
        let params = layer.params();
        let kind = match *layer {
            Layer::Dense(d) => LayerKind::Dense {
                inputs: d.inputs,
                outputs: d.outputs,
            },
            Layer::Conv2d(c) => LayerKind::Conv2d {
                in_channels: c.in_channels,
                out_channels: c.out_channels,
                kernel: c.kernel,
                stride: c.stride,
                padding: c.padding,
            },
        };
        let words = |bytes: &[u8]| (0..bytes.len() / 4).map(|i| le_i32(bytes, i)).collect();
        let output = match params.output {
            Output::Requantize(rq) => OutputSpec::Requantize {
                multiplier: words(rq.multiplier),
                shift: rq.shift.to_vec(),
                zero_point: rq.zero_point,
                min: rq.min,
                max: rq.max,
                scale: rq.scale,
            },
            Output::Logits { scale } => OutputSpec::Logits { scale },
        };
        LayerSpec {
            kind,
            weights: params.weights.iter().map(|&w| w as i8).collect(),
            bias: words(params.bias),
            output,
        }
    }
}

impl ModelSpec {
    /// The owned form of a loaded model: what [`ModelSpec::to_bytes`]
    /// turns back into the same file.
    pub fn from_model<K>(model: &Model<'_, K>) -> ModelSpec
    where
        K: crate::Kernels,
    {
        let header = model.header();
        let channels = model.input_channels();
        ModelSpec {
            input: Input {
                channels: header.input.channels,
                height: header.input.height,
                width: header.input.width,
                quantizers: (0..channels).filter_map(|c| model.quantizer(c)).collect(),
                names: split_names(header.input.names),
            },
            certification: Certification {
                eps: (0..channels)
                    .filter_map(|c| header.certification.eps(c))
                    .collect(),
                refine_boxes: header.certification.refine_boxes,
            },
            classes: header.classes,
            class_names: split_names(header.class_names),
            description: header.description.to_string(),
            layers: model.layers().iter().map(LayerSpec::from_layer).collect(),
        }
    }
}

/// The names of a comma-separated list (none for an empty one).
pub(crate) fn split_names(list: &str) -> Vec<String> {
    format::names(list)
        .map(|names| names.map(ToString::to_string).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::quantize_multiplier;

    #[test]
    fn multiplier_round_trips() {
        for &real in &[1e-6, 0.0037, 0.25, 0.5, 0.999_999_9, 1.0, 3.7, 1000.0] {
            let (m, s) = quantize_multiplier(real);
            assert!((1 << 30..=i32::MAX).contains(&m), "{real}: {m}");
            let back = f64::from(m) / 2f64.powi(i32::from(s));
            assert!((back / real - 1.0).abs() < 1e-9, "{real} -> {back}");
        }
        assert_eq!(quantize_multiplier(0.0), (0, 1));
    }
}
