//! From a trained run to a model file: fold BatchNorm and the input
//! normalisation, calibrate activation ranges (clean and IBP bounds),
//! quantise to int8 onto `cert_runtime::grid`'s grids, write with
//! `cert-runtime`'s own builder, and measure the int8 model with
//! `cert-runtime`'s own code.

mod card;
mod fold;
mod quantize;

pub use card::{
    ModelCard, QuantizedAccuracy, RefinedAccuracy, SampleRefinement, SampleResult, certify_set,
};
pub use fold::{FoldedLayer, fold, fold_batch_norm};
pub use quantize::{Header, quantize};

use anyhow::{Result, anyhow};
use burn::tensor::Device;
use cert_runtime::format::owned::OwnedModel;
use cert_runtime::format::{CertSpec, InputSpec};
use cert_runtime::{Bounds, Model};

use crate::calibrate::activation_max;
use crate::data::Dataset;
use crate::eps::Eps;
use crate::model::Net;
use crate::train::TrainConfig;

/// Quantises a trained network into a model description certified at the
/// run's budget, with `refine_boxes` boxes of refinement by default and
/// margins bounded by `bounds`;
/// activation ranges come from the IBP bounds of `calibration_eps` around
/// the calibration inputs (0 calibrates on clean activations only).
pub fn export(
    net: &Net,
    cfg: &TrainConfig,
    calibration: &Dataset,
    calibration_eps: &Eps,
    refine_boxes: u32,
    bounds: Bounds,
    device: &Device,
) -> Result<OwnedModel> {
    let layers = fold(net);
    let maxima = activation_max(net, calibration, &cfg.perturbation(calibration_eps), device);
    if maxima.len() + 1 != layers.len() {
        return Err(anyhow!(
            "calibration saw {} hidden layers, the network has {}",
            maxima.len(),
            layers.len() - 1
        ));
    }
    let s = cfg.input;
    let dims = [s.channels, s.height, s.width].map(|d| d as u16);
    let input = InputSpec::new(dims, &cfg.space.quantizers(), &cfg.channel_names);
    let header = Header {
        input,
        certification: CertSpec::new(&cfg.eps.values(cfg.channels()), refine_boxes)
            .with_bounds(bounds),
        class_names: cfg.class_names.clone(),
        description: match &cfg.imported_from {
            Some(file) => format!("{} imported from {file} for eps {}", cfg.arch, cfg.eps),
            None => format!(
                "{} trained at eps {} for eps {}, seed {}",
                cfg.arch, cfg.eps_train, cfg.eps, cfg.seed
            ),
        },
    };
    quantize(&layers, &maxima, header)
}

/// Certified accuracy on `set`, at the run's budget, of the int8 model that
/// `export` makes of `net`, computed by the runtime's own code: what the
/// device would certify. Calibrates as `certnn export` does by default.
/// This is what quantisation-aware training selects its epochs on.
pub fn int8_certified_accuracy(
    net: &Net,
    cfg: &TrainConfig,
    calibration: &Dataset,
    set: &Dataset,
    device: &Device,
) -> Result<f32> {
    let bytes = export(net, cfg, calibration, &cfg.eps, 0, Bounds::Interval, device)?
        .to_bytes()
        .map_err(|e| anyhow!("the exported model does not load: {e}"))?;
    let model = Model::from_bytes(&bytes).map_err(|e| anyhow!("{e}"))?;
    let (accuracy, _) = certify_set(&model, set, model.budget(), None)?;
    Ok(accuracy.certified_accuracy)
}
