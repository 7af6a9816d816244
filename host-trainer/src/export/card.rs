//! The model card written beside every exported model, and the int8
//! measurements it reports, made with `cert-runtime` itself.

use std::path::Path;

use anyhow::{Context, Result};
use cert_runtime::{Error as RuntimeError, Model};
use serde::{Deserialize, Serialize};

use crate::data::Dataset;

/// Accuracy of the int8 model as the device computes it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct QuantizedAccuracy {
    /// Images.
    pub samples: usize,
    /// eps of the certificates.
    pub eps: f32,
    /// Fraction predicted correctly.
    pub clean_accuracy: f32,
    /// Fraction predicted correctly AND certified.
    pub certified_accuracy: f32,
}

/// Per-image result of `certify_set`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SampleResult {
    /// Index in the set.
    pub index: usize,
    /// True class.
    pub label: u8,
    /// Predicted class.
    pub predicted: usize,
    /// Whether the prediction is certified at eps.
    pub certified: bool,
    /// Lower bound of the smallest margin, in logit units.
    pub min_margin: i32,
}

/// Certifies every image of `set` with the runtime; returns the summary
/// and the per-image results.
pub fn certify_set(
    model: &Model<'_>,
    set: &Dataset,
    eps: f32,
) -> Result<(QuantizedAccuracy, Vec<SampleResult>), RuntimeError> {
    let mut scratch = vec![0i16; model.certify_scratch_len()];
    let mut results = Vec::with_capacity(set.len());
    for i in 0..set.len() {
        let cert = model.certify(set.image(i), eps, &mut scratch)?;
        results.push(SampleResult {
            index: i,
            label: set.labels[i],
            predicted: cert.class,
            certified: cert.certified,
            min_margin: cert.min_margin(),
        });
    }
    let n = set.len().max(1) as f32;
    let correct = results
        .iter()
        .filter(|r| r.predicted == usize::from(r.label))
        .count();
    let certified = results
        .iter()
        .filter(|r| r.certified && r.predicted == usize::from(r.label))
        .count();
    let summary = QuantizedAccuracy {
        samples: set.len(),
        eps,
        clean_accuracy: correct as f32 / n,
        certified_accuracy: certified as f32 / n,
    };
    Ok((summary, results))
}

/// What a user should know about a shipped model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelCard {
    /// File name of the model.
    pub model: String,
    /// Architecture preset.
    pub arch: String,
    /// Weights and biases.
    pub parameters: usize,
    /// Size of the model file (flash for the weights).
    pub flash_bytes: usize,
    /// Scratch RAM `certify` needs.
    pub scratch_ram_bytes: usize,
    /// eps the network was trained at.
    pub eps_train: f32,
    /// eps it is certified at.
    pub eps: f32,
    /// Float model on the test set: clean accuracy.
    pub float_clean_accuracy: f32,
    /// Float model on the test set: PGD accuracy.
    pub float_pgd_accuracy: Option<f32>,
    /// Float model on the test set: IBP-verified accuracy.
    pub float_verified_accuracy: f32,
    /// int8 model on the test set, with the device's arithmetic.
    pub int8: QuantizedAccuracy,
    /// Data the model was trained and tested on.
    pub data: String,
    /// Seed of the run.
    pub seed: u64,
    /// The command that made the run.
    pub train_command: String,
    /// The command that exported it.
    pub export_command: String,
}

impl ModelCard {
    /// Writes `NAME.json` and `NAME.md` beside `model_path`.
    pub fn write(&self, model_path: &Path) -> Result<()> {
        let json = model_path.with_extension("json");
        std::fs::write(&json, serde_json::to_string_pretty(self)? + "\n")
            .with_context(|| format!("writing {}", json.display()))?;
        let md = model_path.with_extension("md");
        std::fs::write(&md, self.markdown()).with_context(|| format!("writing {}", md.display()))
    }

    fn markdown(&self) -> String {
        let pct = |x: f32| format!("{:.2}%", 100.0 * x);
        format!(
            "# {model}\n\n\
             `{arch}` trained with fast IBP at eps {eps_train}, certified at eps {eps} (L-infinity, pixels in [0, 1]).\n\n\
             | | clean | PGD | certified |\n|---|---|---|---|\n\
             | float (IBP) | {fc} | {fp} | {fv} |\n\
             | int8 (device arithmetic) | {qc} | - | {qv} |\n\n\
             {n} test images of {data}.\n\n\
             - parameters: {params}\n- flash (model file): {flash} bytes\n- scratch RAM for `certify`: {ram} bytes\n- seed: {seed}\n\n\
             Reproduce:\n\n```sh\n{train}\n{export}\n```\n",
            model = self.model,
            arch = self.arch,
            eps_train = self.eps_train,
            eps = self.eps,
            fc = pct(self.float_clean_accuracy),
            fp = self.float_pgd_accuracy.map_or("-".into(), pct),
            fv = pct(self.float_verified_accuracy),
            qc = pct(self.int8.clean_accuracy),
            qv = pct(self.int8.certified_accuracy),
            n = self.int8.samples,
            data = self.data,
            params = self.parameters,
            flash = self.flash_bytes,
            ram = self.scratch_ram_bytes,
            seed = self.seed,
            train = self.train_command,
            export = self.export_command,
        )
    }
}
