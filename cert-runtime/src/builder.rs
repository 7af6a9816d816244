//! Owned model description for the host: what an exporter fills in and
//! turns into model-file bytes (`std` feature). The bytes are checked by
//! loading them back with [`Model::from_bytes`] before they are returned,
//! so a builder never emits a file the runtime rejects.

extern crate std;

use std::string::String;
use std::vec::Vec;

use crate::format::{
    self, Conv2d, Dense, Header, InputSpec, Layer, ModelDesc, Output, Params, Requantize,
};
use crate::{Error, Model};

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

/// A whole model, owned.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelSpec {
    /// Input shape and quantiser.
    pub input: InputSpec,
    /// Number of classes.
    pub classes: u16,
    /// Class names separated by `,`.
    pub class_names: String,
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
        let desc = ModelDesc {
            header: Header {
                input: self.input,
                classes: self.classes,
                class_names: &self.class_names,
                description: &self.description,
            },
            layers,
        };
        let bytes = format::encode(&desc)?;
        Model::from_bytes(&bytes)?;
        Ok(bytes)
    }
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
