//! Everything that defines a training run; saved as `config.json` in the
//! run directory so that `eval`, `export` and `--resume` see the same run.

use serde::{Deserialize, Serialize};

use super::step::StepConfig;
use crate::bounds::Perturbation;
use crate::crown::Bound;
use crate::data::{DataSource, InputShape, InputSpace};
use crate::eps::Eps;
use crate::ibp::CleanInput;
use crate::model::{Arch, Init};

/// A training run's settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// Architecture preset (`mlp:W,..`, `cnn-small`, `cnn-medium`, `cnn7`).
    pub arch: String,
    /// The budget the network is trained at (end of the ramp).
    pub eps_train: Eps,
    /// The budget it is evaluated, selected and certified at.
    pub eps: Eps,
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
    pub clean_input: CleanInput,
    /// The bound of the robust loss (runs saved before it: IBP).
    #[serde(default)]
    pub bound: Bound,
    /// Final epochs trained quantisation-aware (QA-IBP): weights and
    /// activations fake-quantised to the deployed int8 grid.
    pub qa_epochs: usize,
    /// Gradient-norm clipping threshold.
    pub grad_clip: f32,
    /// Fraction of the training inputs held out for model selection.
    pub val_fraction: f32,
    /// PGD steps of the per-epoch validation attack.
    pub val_pgd_steps: usize,
    /// Seed of initialisation, split and shuffling.
    pub seed: u64,
    /// The data.
    pub data: DataSource,
    /// The command that started the run.
    pub command: String,
    /// The ONNX file the network was imported from (`certnn import`), for
    /// a network trained elsewhere.
    #[serde(default)]
    pub imported_from: Option<String>,
    /// Shape of the inputs (filled in from the data).
    pub input: InputShape,
    /// Domain and normalisation of every input channel (fitted on the
    /// training split for features).
    pub space: InputSpace,
    /// Class names, index order (from the data).
    pub class_names: Vec<String>,
    /// Channel names (the features of a CSV), or none.
    pub channel_names: Vec<String>,
}

impl TrainConfig {
    /// The parsed architecture.
    pub fn arch(&self) -> Result<Arch, String> {
        self.arch.parse()
    }

    /// Number of classes.
    pub fn classes(&self) -> usize {
        self.class_names.len()
    }

    /// Number of input channels.
    pub fn channels(&self) -> usize {
        self.input.channels
    }

    /// The perturbation of the budget `eps` in this run's input space.
    pub fn perturbation(&self, eps: &Eps) -> Perturbation {
        Perturbation::new(&eps.values(self.channels()), &self.space)
    }

    /// What one training step needs to know of the run.
    pub fn step(&self) -> StepConfig {
        StepConfig {
            clean_weight: self.clean_weight,
            reg_lambda: self.reg_lambda,
            reg_tau: self.reg_tau,
            clean_input: self.clean_input,
            bound: self.bound,
        }
    }
}
