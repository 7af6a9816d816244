//! From a trained run to a model file: fold BatchNorm, calibrate
//! activation ranges (clean and IBP bounds), quantise to int8, write with
//! `cert-runtime`'s own builder, and measure the int8 model with
//! `cert-runtime`'s own code.

mod calibrate;
mod card;
mod fold;
mod quantize;

pub use calibrate::activation_max;
pub use card::{ModelCard, QuantizedAccuracy, certify_set};
pub use fold::{FoldedLayer, fold};
pub use quantize::{pixel_input, quantize};

use anyhow::{Result, anyhow};
use burn::tensor::Device;
use cert_runtime::Model;
use cert_runtime::builder::ModelSpec;

use crate::data::Dataset;
use crate::model::Net;
use crate::train::TrainConfig;

/// Images used for calibration.
pub const CALIBRATION_IMAGES: usize = 2000;

/// Quantises a trained network into a model description; activation
/// ranges come from the IBP bounds at `calibration_eps` around the
/// calibration images (0 calibrates on clean activations only).
pub fn export(
    net: &Net,
    cfg: &TrainConfig,
    calibration: &Dataset,
    calibration_eps: f32,
    device: &Device,
) -> Result<ModelSpec> {
    let layers = fold(net);
    let maxima = activation_max(
        net,
        &calibration.take(CALIBRATION_IMAGES),
        calibration_eps,
        device,
    );
    if maxima.len() + 1 != layers.len() {
        return Err(anyhow!(
            "calibration saw {} hidden layers, the network has {}",
            maxima.len(),
            layers.len() - 1
        ));
    }
    let s = cfg.input;
    let description = format!(
        "{} trained at eps {} for eps {}, seed {}",
        cfg.arch, cfg.eps_train, cfg.eps, cfg.seed
    );
    Ok(quantize(
        &layers,
        &maxima,
        pixel_input(s.channels, s.height, s.width),
        cfg.classes as u16,
        description,
    ))
}

/// Certified accuracy on `set`, at the run's eps, of the int8 model that
/// `export` makes of `net`, computed by the runtime's own code: what the
/// device would certify. Calibrates as `certnn export` does by default.
pub fn int8_certified_accuracy(
    net: &Net,
    cfg: &TrainConfig,
    calibration: &Dataset,
    set: &Dataset,
    device: &Device,
) -> Result<f32> {
    let bytes = export(net, cfg, calibration, cfg.eps, device)?
        .to_bytes()
        .map_err(|e| anyhow!("the exported model does not load: {e}"))?;
    let model = Model::from_bytes(&bytes).map_err(|e| anyhow!("{e}"))?;
    let (accuracy, _) = certify_set(&model, set, cfg.eps).map_err(|e| anyhow!("{e}"))?;
    Ok(accuracy.certified_accuracy)
}
