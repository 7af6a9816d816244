//! What a run tells its user: per-epoch metrics and training curves.

mod plot;

pub use plot::plot_curves;

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

/// One line of `metrics.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochMetrics {
    /// Epoch, 1-based.
    pub epoch: usize,
    /// The training eps at the end of the epoch (for a per-channel budget,
    /// the fraction of it the ramp has reached).
    pub eps_train: f32,
    /// Learning rate of the epoch.
    pub lr: f64,
    /// Mean training loss.
    pub loss: f32,
    /// Clean accuracy on the training batches that carried the clean batch
    /// (none with `--clean-input centres`).
    pub train_clean: Option<f32>,
    /// Verified accuracy on the training batches at the current eps.
    pub train_verified: f32,
    /// The budget of the validation numbers.
    pub eps: String,
    /// Validation clean accuracy.
    pub val_clean: f32,
    /// Validation PGD accuracy.
    pub val_pgd: Option<f32>,
    /// Validation IBP-verified accuracy.
    pub val_verified: f32,
    /// Validation certified accuracy of the int8 export, by the runtime
    /// (quantisation-aware epochs only).
    #[serde(default)]
    pub val_int8_certified: Option<f32>,
    /// IBP's tightness (Mao et al. 2024) on the first validation inputs at
    /// the validation eps: how close interval bounds are to the optimal
    /// box of the network linearised at each input (1: exact).
    #[serde(default)]
    pub val_tightness: Option<f32>,
    /// Seconds spent training this epoch (validation excluded).
    pub seconds: f32,
}

/// Appends one epoch to `metrics.jsonl`.
pub fn append_metrics(path: &Path, m: &EpochMetrics) -> Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("opening {}", path.display()))?;
    writeln!(file, "{}", serde_json::to_string(m)?)
        .with_context(|| format!("writing {}", path.display()))
}

/// Reads every epoch of `metrics.jsonl`.
pub fn read_metrics(path: &Path) -> Result<Vec<EpochMetrics>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).with_context(|| format!("parsing {}", path.display())))
        .collect()
}
