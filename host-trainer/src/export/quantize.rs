//! int8 quantisation of folded layers (Jacob et al.): symmetric
//! per-output-channel weights, int32 biases, fixed-point requantisation to
//! asymmetric int8 activations with the ReLU fused as the lower clamp. The
//! classifier shares one weight scale across classes so that its int32
//! logits compare directly.

use cert_runtime::Quantizer;
use cert_runtime::format::owned::{OwnedModel, quantize_multiplier};
use cert_runtime::format::{
    CertSpec, InputSpec, Layer, ModelDesc, Output, Owned, Params, Requantize,
};
use cert_runtime::grid::{ACTIVATION_STEPS, RELU_ZERO_POINT, WEIGHT_LEVELS};

use super::fold::FoldedLayer;

/// What a model file says besides its layers.
pub struct Header {
    /// Input shape, quantisers and channel names.
    pub input: InputSpec<'static, Owned>,
    /// The certification spec.
    pub certification: CertSpec<'static, Owned>,
    /// Class names, index order.
    pub class_names: Vec<String>,
    /// Free text.
    pub description: String,
}

/// Quantises `layers` (the first reading inputs in real units) for the
/// input quantisers of `header`; `activation_max[i]` is the calibrated
/// largest output of hidden layer `i`.
pub fn quantize(
    layers: &[FoldedLayer],
    activation_max: &[f32],
    header: Header,
) -> anyhow::Result<OwnedModel> {
    let Some((first, _)) = layers.split_first() else {
        unreachable!("a network has a classifier")
    };
    let (in_scale, first) = to_input_steps(first, &header.input);
    let mut layers = layers.to_vec();
    layers[0] = first;
    let mut in_scale = in_scale;
    let mut specs = Vec::new();
    let (last, hidden) = layers.split_last().expect("a network has a classifier");
    for (layer, &max) in hidden.iter().zip(activation_max) {
        let out_scale = f64::from(max.max(1e-6)) / f64::from(ACTIVATION_STEPS);
        let w_scales: Vec<f64> = (0..layer.outputs)
            .map(|o| channel_scale(layer.row(o), &layer.bias[o..=o], in_scale))
            .collect();
        let (weights, bias) = quantize_params(layer, &w_scales, in_scale);
        let (multiplier, shift): (Vec<i32>, Vec<u8>) = w_scales
            .iter()
            .map(|s| quantize_multiplier(in_scale * s / out_scale))
            .unzip();
        let requantize = Requantize::new(
            &multiplier,
            &shift,
            RELU_ZERO_POINT,
            RELU_ZERO_POINT,
            i8::MAX,
            out_scale as f32,
        );
        let params = Params::new(&weights, &bias, Output::Requantize(requantize));
        specs.push(layer_of(layer, params));
        in_scale = out_scale;
    }
    let shared = channel_scale(&last.weights, &last.bias, in_scale);
    let (weights, bias) = quantize_params(last, &vec![shared; last.outputs], in_scale);
    let logits = Output::Logits {
        scale: (in_scale * shared) as f32,
    };
    specs.push(layer_of(last, Params::new(&weights, &bias, logits)));
    Ok(ModelDesc::new(
        header.input,
        header.certification,
        &header.class_names,
        &header.description,
        specs,
    )?)
}

/// The first layer over the quantised inputs `a = q - zero_point` instead
/// of real ones: a real input is `offset + scale * a` in its channel, so
/// the weights take `scale / s` (with `s`, returned, the first channel's
/// scale, which the weight quantisation then uses as the input scale) and
/// the bias takes `sum w * offset`. For images (one scale, no offset)
/// both are exact identities.
fn to_input_steps(layer: &FoldedLayer, input: &InputSpec<'static, Owned>) -> (f64, FoldedLayer) {
    let quantizers: Vec<Quantizer> = (0..usize::from(input.channels))
        .filter_map(|c| input.quantizer(c))
        .collect();
    let reference = quantizers[0].scale;
    let row_len = layer.weights.len() / layer.outputs;
    let per_channel = row_len / quantizers.len();
    let mut out = layer.clone();
    for o in 0..layer.outputs {
        let row = &mut out.weights[o * row_len..(o + 1) * row_len];
        let mut shift = 0.0f64;
        for (k, w) in row.iter_mut().enumerate() {
            let q = &quantizers[k / per_channel];
            shift += f64::from(*w) * f64::from(q.offset);
            *w *= q.scale / reference;
        }
        out.bias[o] += shift as f32;
    }
    (f64::from(reference), out)
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
    (f64::from(max_weight) / f64::from(WEIGHT_LEVELS))
        .max(f64::from(max_bias) / (in_scale * BIAS_LIMIT))
        .max(1e-30)
}

fn quantize_params(layer: &FoldedLayer, w_scales: &[f64], in_scale: f64) -> (Vec<i8>, Vec<i32>) {
    let mut weights = Vec::with_capacity(layer.weights.len());
    for (o, &s) in w_scales.iter().enumerate() {
        weights.extend(layer.row(o).iter().map(|&w| {
            let levels = f64::from(WEIGHT_LEVELS);
            (f64::from(w) / s).round().clamp(-levels, levels) as i8
        }));
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

/// The layer of the model file that `layer` becomes, with `params`.
fn layer_of(layer: &FoldedLayer, params: Params<'static, Owned>) -> Layer<'static, Owned> {
    match layer.conv {
        Some(c) => Layer::conv2d(
            [layer.inputs as u16, layer.outputs as u16],
            [c.kernel as u8; 2],
            [c.stride as u8; 2],
            [c.padding as u8; 2],
            params,
        ),
        None => Layer::dense(layer.inputs as u32, layer.outputs as u32, params),
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
        let header = Header {
            input: InputSpec::image(1, 1, 2),
            certification: CertSpec::new(&[0.1], 0),
            class_names: vec!["a".into(), "b".into()],
            description: String::new(),
        };
        let spec = quantize(&[hidden, head], &[0.6], header).unwrap();
        let bytes = spec.to_bytes().unwrap();
        let model = Model::from_bytes(&bytes).unwrap();
        let mut scratch = vec![0i16; model.predict_scratch_len()];
        let p = model.predict(&[0.0, 0.0], &mut scratch).unwrap();
        let scale = match spec.layers[1].params().output {
            Output::Logits { scale } => scale,
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
