//! One training step: the loss of a batch at the current eps, and the
//! running sums an epoch reports.

use burn::tensor::{Int, Tensor};

use super::{TrainConfig, regularizer};
use crate::ibp::{
    Bounds, CleanInput, Mode, Training, cross_entropy, propagate, robust_loss, verified,
};
use crate::model::Net;

/// eps of the box that feeds the regularisers while eps is still 0.
const WARMUP_REG_EPS: f32 = 1e-6;

/// The loss of one batch and what it tells about the batch.
pub(super) struct Step {
    pub(super) loss: Tensor<1>,
    /// Correct clean predictions, when the step carried the clean batch.
    clean_correct: Option<Tensor<1, Int>>,
    verified: Option<Tensor<1, Int>>,
}

/// Loss at eps: clean cross entropy while eps = 0, then the robust loss
/// mixed with the clean loss at weight `w = 1 - (1 - clean_weight) * eps /
/// eps_max`; plus the warm-up regularisers, weighted by `lambda * (1 - eps /
/// eps_max)`, until eps is full. With `CleanInput::Centres` the clean terms
/// (natural loss, BatchNorm statistics) are taken on the box centres and the
/// clean batch is not carried once eps > 0.
pub(super) fn training_step(
    net: &Net,
    cfg: &TrainConfig,
    x: Tensor<4>,
    y: Tensor<1, Int>,
    eps: f32,
    activation_max: Option<&[f32]>,
) -> Step {
    let progress = if cfg.eps_train > 0.0 {
        eps / cfg.eps_train
    } else {
        1.0
    };
    let clean_weight = if eps > 0.0 {
        1.0 - (1.0 - cfg.clean_weight) * progress
    } else {
        1.0
    };
    let regularise = cfg.reg_lambda > 0.0 && eps < cfg.eps_train;
    let box_eps = if eps > 0.0 { eps } else { WARMUP_REG_EPS };
    let need_box = eps > 0.0 || regularise;
    let carry_clean = !need_box || cfg.clean_input == CleanInput::Batch;
    let input_box = need_box.then(|| Bounds::around(x.clone(), box_eps, 0.0, 1.0));
    let input_radius = input_box.as_ref().map(|b| b.radius.clone().mean());
    let pass = propagate(
        net,
        carry_clean.then_some(x),
        input_box,
        Some(y.clone()),
        Mode::Train(Training {
            clean_input: cfg.clean_input,
            activation_max,
        }),
        regularise,
    );
    let clean_correct = pass.logits.as_ref().map(|logits| {
        logits
            .clone()
            .argmax(1)
            .reshape([-1])
            .equal(y.clone())
            .int()
    });
    let natural_logits = match cfg.clean_input {
        CleanInput::Batch => pass.logits,
        CleanInput::Centres => pass.centre_logits.or(pass.logits),
    };
    let clean_loss = natural_logits
        .filter(|_| clean_weight > 0.0)
        .map(|logits| cross_entropy(logits, y.clone()).mul_scalar(clean_weight));
    let robust_loss = pass
        .margins
        .as_ref()
        .filter(|_| eps > 0.0 && clean_weight < 1.0)
        .map(|m| robust_loss(m.clone(), y.clone()).mul_scalar(1.0 - clean_weight));
    let mut loss = match (clean_loss, robust_loss) {
        (Some(c), Some(r)) => c + r,
        (Some(l), None) | (None, Some(l)) => l,
        (None, None) => unreachable!("a step has a clean or a robust term"),
    };
    if regularise && let Some(r0) = input_radius {
        let reg = regularizer::tightness(&pass.preactivations, r0, cfg.reg_tau)
            + regularizer::relu_balance(&pass.preactivations, cfg.reg_tau);
        loss = loss + reg.mul_scalar(cfg.reg_lambda * f64::from(1.0 - progress));
    }
    let verified = (eps > 0.0)
        .then(|| pass.margins.map(|m| verified(m).int()))
        .flatten();
    Step {
        loss,
        clean_correct,
        verified,
    }
}

#[derive(Default)]
pub(super) struct Sums {
    loss: f64,
    clean: i64,
    clean_samples: usize,
    verified: i64,
    samples: usize,
    batches: usize,
}

impl Sums {
    pub(super) fn add(&mut self, step: &Step, n: usize) {
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
    pub(super) fn loss(&self) -> f32 {
        (self.loss / self.batches.max(1) as f64) as f32
    }
    /// Clean accuracy over the batches that carried the clean batch.
    pub(super) fn clean(&self) -> Option<f32> {
        (self.clean_samples > 0).then(|| self.clean as f32 / self.clean_samples as f32)
    }
    pub(super) fn verified(&self) -> f32 {
        self.verified as f32 / self.samples.max(1) as f32
    }
}
