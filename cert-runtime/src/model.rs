//! Loading and validating a model, and integer inference.

use crate::error::Error;
use crate::format::{self, Dense, Header, Layer, ModelDesc, Output, le_i32};
use crate::layer::{self, Domain, Point, Shape};
use crate::requant::{quantize_input, requantize};
use crate::{MAX_CLASSES, MAX_LAYERS};

/// Logits of one input: one `i32` per class, in the last layer's units.
pub type Logits = heapless::Vec<i32, MAX_CLASSES>;

/// A validated model, borrowing its weights from the file's bytes.
///
/// Loading checks everything the arithmetic relies on (shapes, parameter
/// lengths, quantisation ranges, accumulator headroom), so inference and
/// certification cannot fail on a loaded model except through their inputs.
#[derive(Debug, Clone)]
pub struct Model<'a> {
    desc: ModelDesc<'a>,
    /// The last layer, which produces the logits.
    logits_layer: Dense<'a>,
    /// Activation shapes: `shapes[i]` is the input of layer `i`; the last
    /// entry is the logits' shape.
    shapes: heapless::Vec<Shape, { MAX_LAYERS + 1 }>,
    /// Largest activation (input included, logits excluded), in values.
    max_activation: usize,
}

/// The predicted class and logits of one input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prediction {
    /// Index of the largest logit (the lowest index on ties).
    pub class: usize,
    /// Logits, one per class.
    pub logits: Logits,
}

impl<'a> Model<'a> {
    /// Loads and validates a model file. `bytes` can live in flash: weights
    /// are borrowed, nothing is copied.
    pub fn from_bytes(bytes: &'a [u8]) -> Result<Self, Error> {
        Self::from_desc(format::decode(bytes)?)
    }

    /// Validates a decoded model description.
    pub fn from_desc(desc: ModelDesc<'a>) -> Result<Self, Error> {
        let input = desc.header.input;
        let classes = usize::from(desc.header.classes);
        if desc.layers.is_empty() || !(2..=MAX_CLASSES).contains(&classes) {
            return Err(Error::UnsupportedSize);
        }
        let input_ok = input.scale.is_finite()
            && input.scale > 0.0
            && input.domain_min.is_finite()
            && input.domain_max.is_finite()
            && input.domain_min <= input.domain_max;
        if !input_ok {
            return Err(Error::InvalidQuantization { layer: 0 });
        }
        let mut shape = Shape {
            channels: input.channels.into(),
            height: input.height.into(),
            width: input.width.into(),
        };
        if !shape.fits() {
            return Err(Error::UnsupportedSize);
        }
        let mut shapes = heapless::Vec::new();
        let mut max_activation = 0;
        let mut logits_layer = None;
        let last = desc.layers.len() - 1;
        for (i, layer) in desc.layers.iter().enumerate() {
            max_activation = max_activation.max(shape.len());
            // Capacity is MAX_LAYERS + 1 and there are at most MAX_LAYERS layers.
            let _ = shapes.push(shape);
            let out = match layer {
                Layer::Dense(d) => layer::dense::output_shape(d, shape),
                Layer::Conv2d(c) => layer::conv::output_shape(c, shape),
            }
            .filter(Shape::fits)
            .ok_or(Error::ShapeMismatch { layer: i })?;
            validate_params(i, layer, shape, out)?;
            match (layer, i == last) {
                (Layer::Dense(d), true) if matches!(d.params.output, Output::Logits { .. }) => {
                    if out.len() != classes {
                        return Err(Error::ShapeMismatch { layer: i });
                    }
                    logits_layer = Some(*d);
                }
                (_, false) if matches!(layer.params().output, Output::Requantize(_)) => {}
                _ => return Err(Error::LogitsNotLast { layer: i }),
            }
            shape = out;
        }
        let _ = shapes.push(shape);
        let logits_layer = logits_layer.ok_or(Error::LogitsNotLast { layer: last })?;
        Ok(Model {
            desc,
            logits_layer,
            shapes,
            max_activation,
        })
    }

    /// Header: input spec, classes, names, description.
    pub fn header(&self) -> &Header<'a> {
        &self.desc.header
    }

    /// Layers in order.
    pub fn layers(&self) -> &[Layer<'a>] {
        &self.desc.layers
    }

    /// The decoded description (what an encoder writes back).
    pub fn desc(&self) -> &ModelDesc<'a> {
        &self.desc
    }

    /// Activation shapes: entry `i` is the input of layer `i`, the last entry the logits.
    pub fn shapes(&self) -> &[Shape] {
        &self.shapes
    }

    /// Number of input values.
    pub fn input_len(&self) -> usize {
        self.desc.header.input.len()
    }

    /// Number of classes.
    pub fn classes(&self) -> usize {
        usize::from(self.desc.header.classes)
    }

    /// Number of weights and biases.
    pub fn parameter_count(&self) -> usize {
        self.layers()
            .iter()
            .map(|l| l.params().weights.len() + l.params().bias.len() / 4)
            .sum()
    }

    /// Scratch `i16` elements [`Model::predict`] needs.
    pub fn predict_scratch_len(&self) -> usize {
        2 * self.max_activation
    }

    /// Scratch `i16` elements [`Model::certify`] and
    /// [`Model::certified_radius`] need.
    pub fn certify_scratch_len(&self) -> usize {
        4 * self.max_activation
    }

    /// Scratch bytes [`Model::certify`] needs (`2 * certify_scratch_len()`).
    pub fn certify_scratch_bytes(&self) -> usize {
        2 * self.certify_scratch_len()
    }

    /// Predicts the class of a real-valued input (CHW order).
    pub fn predict(&self, input: &[f32], scratch: &mut [i16]) -> Result<Prediction, Error> {
        self.check_input(input)?;
        let scratch = self.take_scratch(scratch, self.predict_scratch_len())?;
        let (a, b) = scratch.split_at_mut(self.max_activation);
        let spec = &self.desc.header.input;
        self.predict_with(a, b, |x| {
            for (x, &v) in x.iter_mut().zip(input) {
                *x = i16::from(quantize_input(v, spec)) - i16::from(spec.zero_point);
            }
        })
    }

    /// Predicts the class of an already quantised input.
    pub fn predict_quantized(
        &self,
        input: &[i8],
        scratch: &mut [i16],
    ) -> Result<Prediction, Error> {
        if input.len() != self.input_len() {
            return Err(Error::InputLength {
                expected: self.input_len(),
                got: input.len(),
            });
        }
        let scratch = self.take_scratch(scratch, self.predict_scratch_len())?;
        let (a, b) = scratch.split_at_mut(self.max_activation);
        let zero = i16::from(self.desc.header.input.zero_point);
        self.predict_with(a, b, |x| {
            for (x, &q) in x.iter_mut().zip(input) {
                *x = i16::from(q) - zero;
            }
        })
    }

    /// Runs inference in two activation buffers; `fill` writes the
    /// zero-point-shifted input into the first.
    pub(crate) fn predict_with<'s>(
        &self,
        mut src: &'s mut [i16],
        mut dst: &'s mut [i16],
        fill: impl FnOnce(&mut [i16]),
    ) -> Result<Prediction, Error> {
        fill(&mut src[..self.input_len()]);
        let (hidden, last) = self.split_last();
        for (i, layer) in hidden.iter().enumerate() {
            let (input, output) = (self.shapes[i], self.shapes[i + 1]);
            let out = &mut dst[..output.len()];
            let point = Point {
                x: &src[..input.len()],
            };
            if let Output::Requantize(rq) = layer.params().output {
                run_layer(layer, input, output, &point, |index, channel, acc| {
                    let q = requantize(
                        acc,
                        le_i32(rq.multiplier, channel),
                        rq.shift[channel],
                        rq.zero_point,
                        rq.min,
                        rq.max,
                    );
                    out[index] = i16::from(q) - i16::from(rq.zero_point);
                });
            }
            core::mem::swap(&mut src, &mut dst);
        }
        let mut logits = Logits::new();
        let point = Point {
            x: &src[..last.inputs as usize],
        };
        layer::dense::run(last, &point, |_, _, acc| {
            let _ = logits.push(acc);
        });
        Ok(Prediction {
            class: argmax(&logits),
            logits,
        })
    }

    /// Hidden layers and the final (logits) Dense layer.
    pub(crate) fn split_last(&self) -> (&[Layer<'a>], &Dense<'a>) {
        let hidden = &self.desc.layers[..self.desc.layers.len() - 1];
        (hidden, &self.logits_layer)
    }

    pub(crate) fn max_activation(&self) -> usize {
        self.max_activation
    }

    pub(crate) fn check_input(&self, input: &[f32]) -> Result<(), Error> {
        let spec = &self.desc.header.input;
        if input.len() != spec.len() {
            return Err(Error::InputLength {
                expected: spec.len(),
                got: input.len(),
            });
        }
        for (index, &x) in input.iter().enumerate() {
            if !x.is_finite() {
                return Err(Error::NonFiniteInput { index });
            }
            if x < spec.domain_min || x > spec.domain_max {
                return Err(Error::InputOutOfDomain { index });
            }
        }
        Ok(())
    }

    pub(crate) fn take_scratch<'s>(
        &self,
        scratch: &'s mut [i16],
        needed: usize,
    ) -> Result<&'s mut [i16], Error> {
        let got = scratch.len();
        scratch
            .get_mut(..needed)
            .ok_or(Error::ScratchTooSmall { needed, got })
    }
}

/// Runs a hidden layer of either kind in `domain`.
#[inline(always)]
pub(crate) fn run_layer<D: Domain>(
    layer: &Layer<'_>,
    input: Shape,
    output: Shape,
    domain: &D,
    sink: impl FnMut(usize, usize, D::Acc),
) {
    match layer {
        Layer::Dense(d) => layer::dense::run(d, domain, sink),
        Layer::Conv2d(c) => layer::conv::run(c, input, output, domain, sink),
    }
}

/// Index of the largest value, the lowest index on ties.
pub(crate) fn argmax(values: &[i32]) -> usize {
    let mut best = 0;
    for (i, &v) in values.iter().enumerate() {
        if v > values[best] {
            best = i;
        }
    }
    best
}

/// Checks one layer's parameter lengths, quantisation ranges and the
/// accumulator headroom the interval arithmetic needs.
fn validate_params(
    index: usize,
    layer: &Layer<'_>,
    input: Shape,
    output: Shape,
) -> Result<(), Error> {
    let params = layer.params();
    let (channels, fan_in) = match layer {
        Layer::Dense(d) => (d.outputs as usize, d.inputs as usize),
        Layer::Conv2d(c) => (
            usize::from(c.out_channels),
            input.channels * usize::from(c.kernel[0]) * usize::from(c.kernel[1]),
        ),
    };
    let shape_err = Error::ShapeMismatch { layer: index };
    if channels == 0 || fan_in == 0 || output.channels != channels {
        return Err(shape_err);
    }
    let weights = channels.checked_mul(fan_in).ok_or(shape_err)?;
    if params.weights.len() != weights || params.bias.len() != 4 * channels {
        return Err(shape_err);
    }
    if let Output::Requantize(rq) = params.output {
        if rq.multiplier.len() != 4 * channels || rq.shift.len() != channels {
            return Err(shape_err);
        }
        let bad_quant = Error::InvalidQuantization { layer: index };
        if rq.min > rq.max || !(rq.min..=rq.max).contains(&rq.zero_point) {
            return Err(bad_quant);
        }
        for ch in 0..channels {
            if le_i32(rq.multiplier, ch) < 0 || !(1..=62).contains(&rq.shift[ch]) {
                return Err(bad_quant);
            }
        }
    }
    // Headroom: with L = |bias| + 255 * sum |w|, every accumulator of the
    // doubled centre/radius form stays within 3 L, which must fit in i32.
    for (ch, row) in params.weights.chunks_exact(fan_in).enumerate() {
        let abs_sum: i64 = row
            .iter()
            .map(|&w| i64::from((w as i8).unsigned_abs()))
            .sum();
        let headroom = i64::from(le_i32(params.bias, ch)).abs() + 255 * abs_sum;
        if 3 * headroom > i64::from(i32::MAX) {
            return Err(Error::AccumulatorOverflow {
                layer: index,
                channel: ch,
            });
        }
    }
    Ok(())
}
