//! Activation ranges for quantisation, from clean activations AND the IBP
//! bounds at the certification eps, so that intervals do not saturate where
//! clean activations would not.

use burn::tensor::Device;

use crate::data::{Dataset, batch};
use crate::ibp::{Bounds, Mode, propagate};
use crate::model::Net;

/// Fraction of upper-bound values allowed above the calibrated maximum
/// (outliers would otherwise coarsen every other activation's step).
const UPPER_QUANTILE: f64 = 0.9999;

/// Per hidden layer, the largest post-ReLU activation reached by the box
/// `[x - eps, x + eps]` around the calibration images (a high quantile of
/// the IBP upper bounds, which contain every clean activation).
pub fn activation_max(net: &Net, images: &Dataset, eps: f32, device: &Device) -> Vec<f32> {
    let mut per_layer: Vec<Vec<f32>> = Vec::new();
    let indices: Vec<usize> = (0..images.len()).collect();
    for chunk in indices.chunks(250) {
        let (x, _) = batch(images, chunk, device);
        let pass = propagate(
            net,
            None,
            Some(Bounds::around(x, eps, 0.0, 1.0)),
            None,
            Mode::Eval,
            true,
        );
        per_layer.resize(pass.preactivations.len(), Vec::new());
        for (values, b) in per_layer.iter_mut().zip(pass.preactivations) {
            let upper = b
                .upper()
                .clamp_min(0.0)
                .into_data()
                .convert::<f32>()
                .try_to_vec::<f32>()
                .expect("f32 data");
            values.extend(upper);
        }
    }
    per_layer
        .into_iter()
        .map(|mut v| {
            v.sort_by(f32::total_cmp);
            let i = ((v.len() as f64 - 1.0) * UPPER_QUANTILE).round() as usize;
            v.get(i).copied().unwrap_or(1.0).max(1e-6)
        })
        .collect()
}
