//! Owned model descriptions (`std` feature): what an exporter fills in,
//! from typed values, and turns into model-file bytes. The same
//! [`ModelDesc`] as a file's, over [`Owned`] storage: [`ModelDesc::view`]
//! borrows it as a file's description, [`ModelDesc::owned`] copies a file's.
//!
//! ```
//! use cert_runtime::Model;
//! use cert_runtime::format::{CertSpec, InputSpec, Layer, ModelDesc, Output, Params};
//!
//! let logits = Params::new(&[1, -1, -1, 1], &[0, 0], Output::Logits { scale: 1.0 });
//! let desc = ModelDesc::new(
//!     InputSpec::image(1, 1, 2),
//!     CertSpec::new(&[0.1], 0),
//!     &["left".into(), "right".into()],
//!     "two pixels",
//!     vec![Layer::dense(2, 2, logits)],
//! )?;
//! let bytes = desc.to_bytes()?;
//! assert_eq!(Model::from_bytes(&bytes)?.classes(), 2);
//! # Ok::<(), cert_runtime::Error>(())
//! ```

extern crate std;

use std::string::{String, ToString};
use std::vec::Vec;

use super::{
    Bounds, CertSpec, Conv2d, Dense, Flash, Header, InputSpec, Layer, ModelDesc, Output, Owned,
    Params, Requantize, names,
};
use crate::error::Error;
use crate::quantizer::Quantizer;

/// A model description that owns its arrays.
pub type OwnedModel = ModelDesc<'static, Owned>;

fn le_i32s(values: &[i32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

impl InputSpec<'static, Owned> {
    /// An input of `channels x height x width` values, one quantiser per
    /// channel, and channel names (none, or one per channel, without
    /// commas).
    pub fn new(
        [channels, height, width]: [u16; 3],
        quantizers: &[Quantizer],
        names: &[String],
    ) -> Self {
        InputSpec {
            channels,
            height,
            width,
            quantizers: quantizers.iter().flat_map(Quantizer::encode).collect(),
            names: names.join(","),
        }
    }

    /// Images of `channels x height x width` pixels in `[0, 1]`, every
    /// channel on the 8-bit pixel grid ([`Quantizer::spanning`]`(0, 1)`).
    pub fn image(channels: u16, height: u16, width: u16) -> Self {
        let pixels = std::vec![Quantizer::spanning(0.0, 1.0); usize::from(channels)];
        InputSpec::new([channels, height, width], &pixels, &[])
    }

    /// A vector of features, one channel each (height and width 1).
    pub fn features(quantizers: &[Quantizer], names: &[String]) -> Self {
        let channels = quantizers.len().try_into().unwrap_or(u16::MAX);
        InputSpec::new([channels, 1, 1], quantizers, names)
    }
}

impl CertSpec<'static, Owned> {
    /// The budget `eps` (one per input channel, in its real units) and the
    /// default box budget of refinement, with interval bounds.
    pub fn new(eps: &[f32], refine_boxes: u32) -> Self {
        CertSpec {
            eps: eps.iter().flat_map(|e| e.to_le_bytes()).collect(),
            refine_boxes,
            bounds: Bounds::Interval,
        }
    }

    /// The same spec with margins bounded by `bounds`.
    pub fn with_bounds(self, bounds: Bounds) -> Self {
        CertSpec { bounds, ..self }
    }
}

impl Requantize<'static, Owned> {
    /// Per-channel multipliers (in `0..2^31`) and shifts (in `1..=62`),
    /// the output zero point, clamps and step.
    pub fn new(
        multiplier: &[i32],
        shift: &[u8],
        zero_point: i8,
        min: i8,
        max: i8,
        scale: f32,
    ) -> Self {
        Requantize {
            multiplier: le_i32s(multiplier),
            shift: shift.to_vec(),
            zero_point,
            min,
            max,
            scale,
        }
    }
}

impl Params<'static, Owned> {
    /// int8 weights (row-major), int32 biases (one per output channel, in
    /// accumulator units) and the output stage.
    pub fn new(weights: &[i8], bias: &[i32], output: Output<'static, Owned>) -> Self {
        Params {
            weights: weights.iter().map(|&w| w as u8).collect(),
            bias: le_i32s(bias),
            output,
        }
    }
}

impl Layer<'static, Owned> {
    /// A fully connected layer, `inputs -> outputs`.
    pub fn dense(inputs: u32, outputs: u32, params: Params<'static, Owned>) -> Self {
        Layer::Dense(Dense {
            inputs,
            outputs,
            params,
        })
    }

    /// A convolution, `[in_channels, out_channels]` with square-or-not
    /// `kernel`, `stride` and zero `padding` (vertical, horizontal).
    pub fn conv2d(
        [in_channels, out_channels]: [u16; 2],
        kernel: [u8; 2],
        stride: [u8; 2],
        padding: [u8; 2],
        params: Params<'static, Owned>,
    ) -> Self {
        Layer::Conv2d(Conv2d {
            in_channels,
            out_channels,
            kernel,
            stride,
            padding,
            params,
        })
    }
}

impl ModelDesc<'static, Owned> {
    /// A whole model: input, certification spec, class names (one per
    /// class; the class count is the last layer's outputs), a description
    /// and the layers. Fails with [`Error::UnsupportedSize`] past
    /// `MAX_LAYERS` layers or without layers.
    pub fn new(
        input: InputSpec<'static, Owned>,
        certification: CertSpec<'static, Owned>,
        class_names: &[String],
        description: &str,
        layers: Vec<Layer<'static, Owned>>,
    ) -> Result<Self, Error> {
        let classes = layers.last().map_or(0, Layer::out_channels);
        let mut stack = heapless::Vec::new();
        for layer in layers {
            stack.push(layer).map_err(|_| Error::UnsupportedSize)?;
        }
        Ok(ModelDesc {
            header: Header {
                input,
                certification,
                classes: classes.try_into().map_err(|_| Error::UnsupportedSize)?,
                class_names: class_names.join(","),
                description: description.to_string(),
            },
            layers: stack,
        })
    }

    /// The model file's bytes (container included). Not validated: load
    /// them with `Model::from_bytes` to know that the runtime takes them.
    pub fn to_bytes(&self) -> Result<Vec<u8>, Error> {
        super::encode(self)
    }

    /// The description as a file's (borrowing these arrays).
    pub fn view(&self) -> ModelDesc<'_> {
        let h = &self.header;
        ModelDesc {
            header: Header {
                input: InputSpec {
                    channels: h.input.channels,
                    height: h.input.height,
                    width: h.input.width,
                    quantizers: &h.input.quantizers,
                    names: &h.input.names,
                },
                certification: CertSpec {
                    eps: &h.certification.eps,
                    refine_boxes: h.certification.refine_boxes,
                    bounds: h.certification.bounds,
                },
                classes: h.classes,
                class_names: &h.class_names,
                description: &h.description,
            },
            layers: self.layers.iter().map(Layer::view).collect(),
        }
    }

    /// The class names, one per class (none when the model names none).
    pub fn class_names(&self) -> Vec<String> {
        split_names(&self.header.class_names)
    }
}

impl Layer<'static, Owned> {
    /// The layer as a file's.
    pub fn view(&self) -> Layer<'_> {
        match self {
            Layer::Dense(d) => Layer::Dense(Dense {
                inputs: d.inputs,
                outputs: d.outputs,
                params: d.params.view(),
            }),
            Layer::Conv2d(c) => Layer::Conv2d(Conv2d {
                in_channels: c.in_channels,
                out_channels: c.out_channels,
                kernel: c.kernel,
                stride: c.stride,
                padding: c.padding,
                params: c.params.view(),
            }),
        }
    }
}

impl Params<'static, Owned> {
    /// The parameters as a file's.
    pub fn view(&self) -> Params<'_> {
        Params {
            weights: &self.weights,
            bias: &self.bias,
            output: match &self.output {
                Output::Requantize(rq) => Output::Requantize(Requantize {
                    multiplier: &rq.multiplier,
                    shift: &rq.shift,
                    zero_point: rq.zero_point,
                    min: rq.min,
                    max: rq.max,
                    scale: rq.scale,
                }),
                Output::Logits { scale } => Output::Logits { scale: *scale },
            },
        }
    }
}

impl ModelDesc<'_, Flash> {
    /// A copy that owns its arrays (what [`ModelDesc::to_bytes`] writes
    /// back into the same file).
    pub fn owned(&self) -> OwnedModel {
        let h = &self.header;
        ModelDesc {
            header: Header {
                input: InputSpec {
                    channels: h.input.channels,
                    height: h.input.height,
                    width: h.input.width,
                    quantizers: h.input.quantizers.to_vec(),
                    names: h.input.names.to_string(),
                },
                certification: CertSpec {
                    eps: h.certification.eps.to_vec(),
                    refine_boxes: h.certification.refine_boxes,
                    bounds: h.certification.bounds,
                },
                classes: h.classes,
                class_names: h.class_names.to_string(),
                description: h.description.to_string(),
            },
            layers: self.layers.iter().map(Layer::owned).collect(),
        }
    }
}

impl Layer<'_, Flash> {
    /// A copy that owns its arrays.
    pub fn owned(&self) -> Layer<'static, Owned> {
        let params = |p: &Params<'_>| Params {
            weights: p.weights.to_vec(),
            bias: p.bias.to_vec(),
            output: match p.output {
                Output::Requantize(rq) => Output::Requantize(Requantize {
                    multiplier: rq.multiplier.to_vec(),
                    shift: rq.shift.to_vec(),
                    zero_point: rq.zero_point,
                    min: rq.min,
                    max: rq.max,
                    scale: rq.scale,
                }),
                Output::Logits { scale } => Output::Logits { scale },
            },
        };
        match self {
            Layer::Dense(d) => Layer::Dense(Dense {
                inputs: d.inputs,
                outputs: d.outputs,
                params: params(&d.params),
            }),
            Layer::Conv2d(c) => Layer::Conv2d(Conv2d {
                in_channels: c.in_channels,
                out_channels: c.out_channels,
                kernel: c.kernel,
                stride: c.stride,
                padding: c.padding,
                params: params(&c.params),
            }),
        }
    }
}

/// The names of a comma-separated list (none for an empty one).
pub fn split_names(list: &str) -> Vec<String> {
    names(list)
        .map(|names| names.map(ToString::to_string).collect())
        .unwrap_or_default()
}

/// Splits a positive real multiplier into `(M, shift)` with
/// `M * 2^-shift ~= real`, `M` in `[2^30, 2^31)` and `shift` in `1..=62`
/// (FORMAT.md 4.3). Multipliers too small to represent become `(0, 1)`
/// (the output is the zero point); too large ones saturate at the largest
/// representable.
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
