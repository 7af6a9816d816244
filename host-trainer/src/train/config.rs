//! Everything that defines a training run; saved as `config.json` in the
//! run directory so that `eval`, `export` and `--resume` see the same run.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::ibp::CleanInput;
use crate::model::{Arch, ImageShape, Init};

/// Where the images come from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataFiles {
    /// Training images (IDX).
    pub train_images: PathBuf,
    /// Training labels (IDX).
    pub train_labels: PathBuf,
    /// Test images (IDX).
    pub test_images: PathBuf,
    /// Test labels (IDX).
    pub test_labels: PathBuf,
}

/// A training run's settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// Architecture preset (`mlp:W,..`, `cnn-small`, `cnn-medium`, `cnn7`).
    pub arch: String,
    /// eps the network is trained at (end of the ramp).
    pub eps_train: f32,
    /// eps it is evaluated and selected at.
    pub eps: f32,
    /// Hidden-layer weight initialisation.
    pub init: Init,
    /// Epochs.
    pub epochs: usize,
    /// Batch size.
    pub batch_size: usize,
    /// Adam learning rate.
    pub lr: f64,
    /// Epochs (0-based) at which the rate decays.
    pub lr_milestones: Vec<usize>,
    /// Decay factor at each milestone.
    pub lr_factor: f64,
    /// Epoch (1-based) at which the eps ramp starts.
    pub ramp_start: u64,
    /// Length of the ramp in epochs.
    pub ramp_length: u64,
    /// Weight lambda of the warm-up regularisers (0 disables them).
    pub reg_lambda: f64,
    /// Threshold tau of the warm-up regularisers.
    pub reg_tau: f64,
    /// Weight of the clean loss once eps is at its maximum: the loss is
    /// `w_t * CE + (1 - w_t) * robust`, with `w_t` going from 1 to this.
    pub clean_weight: f32,
    /// Where BatchNorm takes its training statistics from.
    #[serde(default)]
    pub clean_input: CleanInput,
    /// Final epochs trained quantisation-aware (QA-IBP): weights and
    /// activations fake-quantised to the deployed int8 grid.
    #[serde(default)]
    pub qa_epochs: usize,
    /// Gradient-norm clipping threshold.
    pub grad_clip: f32,
    /// Fraction of the training images held out for model selection.
    pub val_fraction: f32,
    /// PGD steps of the per-epoch validation attack.
    pub val_pgd_steps: usize,
    /// Seed of initialisation, split and shuffling.
    pub seed: u64,
    /// The data.
    pub data: DataFiles,
    /// The command that started the run.
    pub command: String,
    /// Shape of the images (filled in from the data).
    pub input: ImageShape,
    /// Number of classes (filled in from the data).
    pub classes: usize,
}

impl TrainConfig {
    /// The parsed architecture.
    pub fn arch(&self) -> Result<Arch, String> {
        self.arch.parse()
    }
}
