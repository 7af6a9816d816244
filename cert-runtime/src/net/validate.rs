//! Loading checks: everything the integer arithmetic relies on, checked
//! once, so that inference and certification cannot fail on a loaded
//! model except through their inputs and buffers.

use crate::error::Error;
use crate::format::{self, Bounds, Dense, Header, Layer, ModelDesc, Output};
use crate::layer::{self, Shape};
use crate::limits::{MAX_ACTIVATION, MAX_CLASSES, MAX_LAYERS};
use crate::quantizer::Quantizer;

/// What validation finds out about a model's geometry.
pub(crate) struct Geometry<'a> {
    /// The last layer, which produces the logits.
    pub logits: Dense<'a>,
    /// `shapes[i]` is the input of layer `i`; the last entry the logits'.
    pub shapes: heapless::Vec<Shape, { MAX_LAYERS + 1 }>,
    /// Largest activation (input included, logits excluded), in values.
    pub max_activation: usize,
    /// Largest receptive field of a convolution (0 without convolutions).
    pub max_column: usize,
}

/// Checks a decoded description and measures its geometry.
pub(crate) fn validate<'a>(desc: &ModelDesc<'a>) -> Result<Geometry<'a>, Error> {
    let header = &desc.header;
    let classes = usize::from(header.classes);
    if desc.layers.is_empty() || !(2..=MAX_CLASSES).contains(&classes) {
        return Err(Error::UnsupportedSize);
    }
    if cfg!(not(feature = "refine")) && header.certification.refine_boxes > 0 {
        return Err(Error::Unsupported { feature: "refine" });
    }
    if cfg!(not(feature = "linear")) && header.certification.bounds == Bounds::Linear {
        return Err(Error::Unsupported { feature: "linear" });
    }
    validate_input(header)?;
    validate_names(header.input.names, usize::from(header.input.channels))?;
    validate_names(header.class_names, classes)?;
    let input = header.input;
    let mut shape = Shape {
        channels: input.channels.into(),
        height: input.height.into(),
        width: input.width.into(),
    };
    if !shape.fits() {
        return Err(Error::UnsupportedSize);
    }
    let mut shapes = heapless::Vec::new();
    let (mut max_activation, mut max_column) = (0, 0);
    let mut logits = None;
    let last = desc.layers.len() - 1;
    for (i, layer) in desc.layers.iter().enumerate() {
        max_activation = max_activation.max(shape.len());
        // Capacity is MAX_LAYERS + 1 and there are at most MAX_LAYERS layers.
        let _ = shapes.push(shape);
        let out = match layer {
            Layer::Dense(d) => layer::dense::output_shape(d, shape),
            #[cfg(feature = "conv")]
            Layer::Conv2d(c) => layer::conv::output_shape(c, shape),
            #[cfg(not(feature = "conv"))]
            Layer::Conv2d(_) => return Err(Error::Unsupported { feature: "conv" }),
        }
        .filter(Shape::fits)
        .ok_or(Error::ShapeMismatch { layer: i })?;
        validate_params(i, layer, shape, out)?;
        if let Layer::Conv2d(c) = layer {
            max_column = max_column.max(c.fan_in());
        }
        match (layer, i == last) {
            (Layer::Dense(d), true) if matches!(d.params.output, Output::Logits { .. }) => {
                if out.len() != classes {
                    return Err(Error::ShapeMismatch { layer: i });
                }
                logits = Some(*d);
            }
            (_, false) if matches!(layer.params().output, Output::Requantize(_)) => {}
            _ => return Err(Error::LogitsNotLast { layer: i }),
        }
        shape = out;
    }
    let _ = shapes.push(shape);
    let logits = logits.ok_or(Error::LogitsNotLast { layer: last })?;
    Ok(Geometry {
        logits,
        shapes,
        max_activation,
        max_column,
    })
}

/// Checks every input channel's quantiser and certified eps.
fn validate_input(header: &Header<'_>) -> Result<(), Error> {
    let input = &header.input;
    let channels = usize::from(input.channels);
    if input.quantizers.len() != channels * Quantizer::ENCODED_LEN
        || header.certification.eps.len() != channels * 4
    {
        return Err(Error::Malformed);
    }
    for channel in 0..channels {
        let valid = input.quantizer(channel).is_some_and(|q| q.is_valid())
            && header
                .certification
                .eps(channel)
                .is_some_and(|eps| eps.is_finite() && eps >= 0.0);
        if !valid {
            return Err(Error::InvalidInputSpec { channel });
        }
    }
    Ok(())
}

/// A name list is empty, or `count` non-empty names separated by `,`.
fn validate_names(list: &str, count: usize) -> Result<(), Error> {
    let Some(names) = format::names(list) else {
        return Ok(());
    };
    let mut seen = 0;
    for name in names {
        if name.is_empty() {
            return Err(Error::InvalidNames);
        }
        seen += 1;
    }
    (seen == count).then_some(()).ok_or(Error::InvalidNames)
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
    let (channels, fan_in) = (layer.out_channels(), layer.fan_in());
    let shape_err = Error::ShapeMismatch { layer: index };
    if channels == 0 || fan_in == 0 || output.channels != channels || input.is_empty() {
        return Err(shape_err);
    }
    if fan_in > MAX_ACTIVATION {
        return Err(Error::UnsupportedSize);
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
            if rq.multiplier(ch) < 0 || !(1..=62).contains(&rq.shift(ch)) {
                return Err(bad_quant);
            }
        }
    }
    // Headroom: with L = |bias| + 255 * sum |w|, every accumulator of the
    // doubled centre/radius form, and every partial sum of one, stays
    // within 3 L, which must fit in i32.
    for (ch, row) in params.weights.chunks_exact(fan_in).enumerate() {
        let abs_sum: i64 = row
            .iter()
            .map(|&w| i64::from((w as i8).unsigned_abs()))
            .sum();
        let headroom = i64::from(params.bias(ch)).abs() + 255 * abs_sum;
        if 3 * headroom > i64::from(i32::MAX) {
            return Err(Error::AccumulatorOverflow {
                layer: index,
                channel: ch,
            });
        }
    }
    Ok(())
}
