//! One training step, shared by `certnn train`, `certnn bench` and the
//! tests: the loss of a batch at the current budget, and the running sums
//! an epoch reports.

use burn::tensor::{Int, Tensor, Transaction};
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

/// The running sums of an epoch's steps, kept on the device: adding a step
/// reads nothing back (no wait for a GPU inside an epoch); [`Sums::totals`]
/// reads them once.
#[derive(Default)]
pub struct Sums {
    loss: Option<Tensor<1>>,
    clean: Option<Tensor<1, Int>>,
    clean_samples: usize,
    verified: Option<Tensor<1, Int>>,
    samples: usize,
    batches: usize,
}

/// An epoch's sums, read back.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Totals {
    /// Mean loss per batch.
    pub loss: f32,
    /// Clean accuracy over the batches that carried the clean batch.
    pub clean: Option<f32>,
    /// Verified fraction over all samples.
    pub verified: f32,
}

impl Sums {
    /// Adds a step over `n` samples (on the device; nothing is read).
    pub fn add(&mut self, step: &Step, n: usize) {
        let loss = step.loss.clone().detach();
        self.loss = Some(self.loss.take().map_or(loss.clone(), |s| s + loss));
        if let Some(correct) = &step.clean_correct {
            let correct = correct.clone().sum();
            self.clean = Some(self.clean.take().map_or(correct.clone(), |s| s + correct));
            self.clean_samples += n;
        }
        if let Some(verified) = &step.verified {
            let verified = verified.clone().sum();
            self.verified = Some(
                self.verified
                    .take()
                    .map_or(verified.clone(), |s| s + verified),
            );
        }
        self.samples += n;
        self.batches += 1;
    }

    /// Reads the sums back, in one transaction.
    pub fn totals(&self) -> Totals {
        let mut transaction = Transaction::default();
        if let Some(t) = &self.loss {
            transaction = transaction.register(t.clone());
        }
        if let Some(t) = &self.clean {
            transaction = transaction.register(t.clone());
        }
        if let Some(t) = &self.verified {
            transaction = transaction.register(t.clone());
        }
        let mut read = transaction.execute().into_iter();
        let mut next_f64 = |present: bool| {
            present
                .then(|| read.next())
                .flatten()
                .and_then(|d| d.convert::<f64>().try_to_vec::<f64>().ok())
                .and_then(|v| v.first().copied())
                .unwrap_or(0.0)
        };
        let loss = next_f64(self.loss.is_some());
        let clean = next_f64(self.clean.is_some());
        let verified = next_f64(self.verified.is_some());
        Totals {
            loss: (loss / self.batches.max(1) as f64) as f32,
            clean: (self.clean_samples > 0).then(|| (clean / self.clean_samples as f64) as f32),
            verified: (verified / self.samples.max(1) as f64) as f32,
        }
    }
}

#[cfg(test)]
mod tests {
    use burn::tensor::{Device, TensorData};

    use super::*;

    fn step(loss: f32, clean: Option<&[i64]>, verified: Option<&[i64]>, device: &Device) -> Step {
        let ints =
            |v: &[i64]| Tensor::<1, Int>::from_data(TensorData::new(v.to_vec(), [v.len()]), device);
        Step {
            loss: Tensor::from_data(TensorData::new(vec![loss], [1]), device),
            clean_correct: clean.map(ints),
            verified: verified.map(ints),
        }
    }

    /// The device-side sums read back as the host would have counted.
    #[test]
    fn totals_are_the_means_of_the_steps() {
        let device = Device::flex();
        let mut sums = Sums::default();
        assert_eq!(
            sums.totals(),
            Totals {
                loss: 0.0,
                clean: None,
                verified: 0.0
            }
        );
        sums.add(&step(1.5, Some(&[1, 0, 1, 1]), None, &device), 4);
        sums.add(&step(0.5, None, Some(&[1, 1]), &device), 2);
        sums.add(&step(1.0, Some(&[0, 1]), Some(&[0, 1]), &device), 2);
        let totals = sums.totals();
        assert_eq!(totals.loss, 1.0);
        assert_eq!(totals.clean, Some(4.0 / 6.0));
        assert_eq!(totals.verified, 3.0 / 8.0);
    }
}
