//! Activation ranges for quantisation, from clean activations AND the IBP
//! bounds at the certification eps, so that intervals do not saturate where
//! clean activations would not. The exporter quantises with them, and
//! quantisation-aware training rounds onto the same grids.

use burn::tensor::Device;

use crate::bounds::Perturbation;
use crate::data::{Dataset, batch};
use crate::ibp::{Mode, propagate};
use crate::model::Net;

/// Training inputs used for calibration.
pub const CALIBRATION_IMAGES: usize = 2000;

/// Fraction of upper-bound values allowed above the calibrated maximum
/// (outliers would otherwise coarsen every other activation's step).
const UPPER_QUANTILE: f64 = 0.9999;

/// Per hidden layer, the largest post-ReLU activation reached by the box of
/// `perturbation` around the first [`CALIBRATION_IMAGES`] of `images` (a
/// high quantile of the IBP upper bounds, which contain every clean
/// activation).
pub fn activation_max(
    net: &Net,
    images: &Dataset,
    perturbation: &Perturbation,
    device: &Device,
) -> Vec<f32> {
    let images = images.take(CALIBRATION_IMAGES);
    let mut per_layer: Vec<Vec<f32>> = Vec::new();
    let indices: Vec<usize> = (0..images.len()).collect();
    for chunk in indices.chunks(250) {
        let (x, _) = batch(&images, chunk, device);
        let pass = propagate(
            net,
            None,
            Some(perturbation.around(x)),
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
