//! int8 quantisation of folded layers (Jacob et al.): symmetric
//! per-output-channel weights, int32 biases, fixed-point requantisation to
//! asymmetric int8 activations with the ReLU fused as the lower clamp. The
//! classifier shares one weight scale across classes so that its int32
//! logits compare directly.

use cert_runtime::InputSpec;
use cert_runtime::builder::{LayerKind, LayerSpec, ModelSpec, OutputSpec, quantize_multiplier};

use super::fold::FoldedLayer;

/// Zero point of every ReLU output: real 0 is the lowest int8 value.
const RELU_ZERO_POINT: i8 = -128;

/// Quantises `layers` for `input`; `activation_max[i]` is the calibrated
/// largest output of hidden layer `i`.
pub fn quantize(
    layers: &[FoldedLayer],
    activation_max: &[f32],
    input: InputSpec,
    classes: u16,
    description: String,
) -> ModelSpec {
    let mut in_scale = f64::from(input.scale);
    let mut specs = Vec::new();
    let (last, hidden) = layers.split_last().expect("a network has a classifier");
    for (layer, &max) in hidden.iter().zip(activation_max) {
        let out_scale = f64::from(max.max(1e-6)) / 255.0;
        let w_scales: Vec<f64> = (0..layer.outputs)
            .map(|o| channel_scale(layer.row(o), &layer.bias[o..=o], in_scale))
            .collect();
        let (weights, bias) = quantize_params(layer, &w_scales, in_scale);
        let (multiplier, shift) = w_scales
            .iter()
            .map(|s| quantize_multiplier(in_scale * s / out_scale))
            .unzip();
        specs.push(LayerSpec {
            kind: kind(layer),
            weights,
            bias,
            output: OutputSpec::Requantize {
                multiplier,
                shift,
                zero_point: RELU_ZERO_POINT,
                min: RELU_ZERO_POINT,
                max: i8::MAX,
                scale: out_scale as f32,
            },
        });
        in_scale = out_scale;
    }
    let shared = channel_scale(&last.weights, &last.bias, in_scale);
    let (weights, bias) = quantize_params(last, &vec![shared; last.outputs], in_scale);
    specs.push(LayerSpec {
        kind: kind(last),
        weights,
        bias,
        output: OutputSpec::Logits {
            scale: (in_scale * shared) as f32,
        },
    });
    ModelSpec {
        input,
        classes,
        class_names: (0..classes)
            .map(|c| c.to_string())
            .collect::<Vec<_>>()
            .join(","),
        description,
        layers: specs,
    }
}

/// Largest quantised bias: far inside the runtime's accumulator headroom.
const BIAS_LIMIT: f64 = (1 << 24) as f64;

/// Symmetric scale mapping the largest weight to 127, but never so small
/// that the bias (in accumulator units, `bias / (in_scale * scale)`)
/// exceeds `BIAS_LIMIT`. Certified training leaves channels whose weights
/// are all (nearly) zero but whose bias is not: constant features that the
/// next layer relies on. Scaling by the weights alone would send their bias
/// off any representable range and silently zero the channel.
fn channel_scale(weights: &[f32], biases: &[f32], in_scale: f64) -> f64 {
    let max_weight = weights.iter().fold(0f32, |m, w| m.max(w.abs()));
    let max_bias = biases.iter().fold(0f32, |m, b| m.max(b.abs()));
    (f64::from(max_weight) / 127.0)
        .max(f64::from(max_bias) / (in_scale * BIAS_LIMIT))
        .max(1e-30)
}

fn quantize_params(layer: &FoldedLayer, w_scales: &[f64], in_scale: f64) -> (Vec<i8>, Vec<i32>) {
    let mut weights = Vec::with_capacity(layer.weights.len());
    for (o, &s) in w_scales.iter().enumerate() {
        weights.extend(
            layer
                .row(o)
                .iter()
                .map(|&w| (f64::from(w) / s).round().clamp(-127.0, 127.0) as i8),
        );
    }
    let bias = layer
        .bias
        .iter()
        .zip(w_scales)
        .map(|(&b, &s)| {
            (f64::from(b) / (in_scale * s))
                .round()
                .clamp(-BIAS_LIMIT, BIAS_LIMIT) as i32
        })
        .collect();
    (weights, bias)
}

fn kind(layer: &FoldedLayer) -> LayerKind {
    match layer.conv {
        Some(c) => LayerKind::Conv2d {
            in_channels: layer.inputs as u16,
            out_channels: layer.outputs as u16,
            kernel: [c.kernel as u8; 2],
            stride: [c.stride as u8; 2],
            padding: [c.padding as u8; 2],
        },
        None => LayerKind::Dense {
            inputs: layer.inputs as u32,
            outputs: layer.outputs as u32,
        },
    }
}

/// The input quantiser for pixels in `[0, 1]`: `q = round(255 x) - 128`,
/// exact on 8-bit images.
pub fn pixel_input(channels: usize, height: usize, width: usize) -> InputSpec {
    InputSpec {
        channels: channels as u16,
        height: height as u16,
        width: width as u16,
        scale: 1.0 / 255.0,
        zero_point: -128,
        domain_min: 0.0,
        domain_max: 1.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cert_runtime::Model;

    /// A channel whose weights training drove to zero still outputs its
    /// bias: the int8 model must keep that constant, not zero it.
    #[test]
    fn constant_channels_survive_quantisation() {
        let hidden = FoldedLayer {
            conv: None,
            inputs: 2,
            outputs: 2,
            weights: vec![0.5, -0.25, 0.0, 0.0],
            bias: vec![0.0, 0.3],
        };
        let head = FoldedLayer {
            conv: None,
            inputs: 2,
            outputs: 2,
            weights: vec![0.0, 1.0, 0.0, -1.0],
            bias: vec![0.0, 0.0],
        };
        let input = InputSpec {
            channels: 1,
            height: 1,
            width: 2,
            scale: 1.0 / 255.0,
            zero_point: -128,
            domain_min: 0.0,
            domain_max: 1.0,
        };
        let spec = quantize(&[hidden, head], &[0.6], input, 2, String::new());
        let bytes = spec.to_bytes().unwrap();
        let model = Model::from_bytes(&bytes).unwrap();
        let mut scratch = vec![0i16; model.predict_scratch_len()];
        let p = model.predict(&[0.0, 0.0], &mut scratch).unwrap();
        let scale = match spec.layers[1].output {
            OutputSpec::Logits { scale } => scale,
            _ => unreachable!(),
        };
        // logit 0 = +0.3, logit 1 = -0.3 (the constant channel, through the head).
        assert!(
            (p.logits[0] as f32 * scale - 0.3).abs() < 0.01,
            "{:?}",
            p.logits
        );
        assert!(
            (p.logits[1] as f32 * scale + 0.3).abs() < 0.01,
            "{:?}",
            p.logits
        );
    }
}
