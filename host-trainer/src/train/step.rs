//! One training step, shared by `certnn train`, `certnn bench` and the
//! tests: the loss of a batch at the current budget, and the running sums
//! an epoch reports.

use burn::tensor::{Int, Tensor};
use serde::{Deserialize, Serialize};

use super::regularizer;
use super::schedule::RampPoint;
use crate::bounds::Perturbation;
use crate::crown::{Bound, crown_ibp_margins};
use crate::ibp::{
    CleanInput, Grids, Mode, Training, cross_entropy, propagate, robust_loss, verified,
};
use crate::model::Net;

/// What a step needs of the run's settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct StepConfig {
    /// Weight of the clean loss once eps is at its maximum.
    pub clean_weight: f32,
    /// Weight lambda of the warm-up regularisers (0 disables them).
    pub reg_lambda: f64,
    /// Threshold tau of the warm-up regularisers.
    pub reg_tau: f64,
    /// Where BatchNorm takes its training statistics from.
    pub clean_input: CleanInput,
    /// The bound of the robust loss.
    #[serde(default)]
    pub bound: Bound,
}

/// The loss of one batch and what it tells about the batch.
pub struct Step {
    /// The loss to minimise.
    pub loss: Tensor<1>,
    /// Correct clean predictions, when the step carried the clean batch.
    clean_correct: Option<Tensor<1, Int>>,
    verified: Option<Tensor<1, Int>>,
}

/// Loss at the ramp point `at`: clean cross entropy while eps = 0, then the
/// robust loss mixed with the clean loss at weight `w = 1 - (1 -
/// clean_weight) * progress`; plus the warm-up regularisers (on the box of
/// `warmup` while eps is still 0), weighted by `lambda * (1 - progress)`,
/// until eps is full. With `CleanInput::Centres` the clean terms (natural
/// loss, BatchNorm statistics) are taken on the box centres and the clean
/// batch is not carried once eps > 0. `grids` makes the step
/// quantisation-aware. With `Bound::CrownIbp` the robust loss is on
/// CROWN-IBP's mix (see [`Bound`]); QA steps use IBP.
pub fn training_step(
    net: &Net,
    step: &StepConfig,
    x: Tensor<4>,
    y: Tensor<1, Int>,
    at: &RampPoint,
    warmup: &Perturbation,
    grids: Option<Grids<'_>>,
) -> Step {
    let progress = at.progress;
    let clean_weight = if at.active {
        1.0 - (1.0 - step.clean_weight) * progress
    } else {
        1.0
    };
    let regularise = step.reg_lambda > 0.0 && !at.full;
    // CROWN-IBP's weight, 1 - progress: none once eps is full.
    let beta = 1.0 - progress;
    let crown = step.bound == Bound::CrownIbp && at.active && beta > 1e-5 && grids.is_none();
    let need_box = at.active || regularise;
    let carry_clean = !need_box || step.clean_input == CleanInput::Batch;
    let box_of = if at.active { &at.perturbation } else { warmup };
    let input_box = need_box.then(|| box_of.around(x.clone()));
    let input_radius = input_box.as_ref().map(|b| b.radius.clone().mean());
    let mut pass = propagate(
        net,
        carry_clean.then_some(x),
        input_box.clone(),
        Some(y.clone()),
        Mode::Train(Training {
            clean_input: step.clean_input,
            quantized: grids,
        }),
        regularise || crown,
    );
    let verified_margins = pass.margins.clone();
    if crown && let (Some(ibp), Some(input)) = (pass.margins.take(), &input_box) {
        let head = net.head.weight.val();
        let linear = crown_ibp_margins(net, &pass, input, y.clone(), head);
        pass.margins = Some(linear.mul_scalar(beta) + ibp.mul_scalar(1.0 - beta));
    }
    let clean_correct = pass.logits.as_ref().map(|logits| {
        logits
            .clone()
            .argmax(1)
            .reshape([-1])
            .equal(y.clone())
            .int()
    });
    let natural_logits = match step.clean_input {
        CleanInput::Batch => pass.logits,
        CleanInput::Centres => pass.centre_logits.or(pass.logits),
    };
    let clean_loss = natural_logits
        .filter(|_| clean_weight > 0.0)
        .map(|logits| cross_entropy(logits, y.clone()).mul_scalar(clean_weight));
    let robust_loss = pass
        .margins
        .as_ref()
        .filter(|_| at.active && clean_weight < 1.0)
        .map(|m| robust_loss(m.clone(), y.clone()).mul_scalar(1.0 - clean_weight));
    let mut loss = match (clean_loss, robust_loss) {
        (Some(c), Some(r)) => c + r,
        (Some(l), None) | (None, Some(l)) => l,
        (None, None) => unreachable!("a step has a clean or a robust term"),
    };
    if regularise && let Some(r0) = input_radius {
        let reg = regularizer::tightness(&pass.preactivations, r0, step.reg_tau)
            + regularizer::relu_balance(&pass.preactivations, step.reg_tau);
        loss = loss + reg.mul_scalar(step.reg_lambda * f64::from(1.0 - progress));
    }
    // Verified by IBP, whatever the loss used.
    let verified = at
        .active
        .then(|| verified_margins.map(|m| verified(m).int()))
        .flatten();
    Step {
        loss,
        clean_correct,
        verified,
    }
}

/// The running sums of an epoch's steps.
#[derive(Default)]
pub struct Sums {
    loss: f64,
    clean: i64,
    clean_samples: usize,
    verified: i64,
    samples: usize,
    batches: usize,
}

impl Sums {
    /// Adds a step over `n` samples.
    pub fn add(&mut self, step: &Step, n: usize) {
        self.loss += f64::from(step.loss.clone().into_scalar::<f32>());
        if let Some(correct) = &step.clean_correct {
            self.clean += correct.clone().sum().into_scalar::<i64>();
            self.clean_samples += n;
        }
        self.verified += step
            .verified
            .clone()
            .map_or(0, |v| v.sum().into_scalar::<i64>());
        self.samples += n;
        self.batches += 1;
    }

    /// Mean loss per batch.
    pub fn loss(&self) -> f32 {
        (self.loss / self.batches.max(1) as f64) as f32
    }

    /// Clean accuracy over the batches that carried the clean batch.
    pub fn clean(&self) -> Option<f32> {
        (self.clean_samples > 0).then(|| self.clean as f32 / self.clean_samples as f32)
    }

    /// Verified fraction over all samples.
    pub fn verified(&self) -> f32 {
        self.verified as f32 / self.samples.max(1) as f32
    }
}
