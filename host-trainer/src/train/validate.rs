//! The end of an epoch: the network on the validation split (clean,
//! IBP-verified, IBP's tightness, PGD, the int8 model's certificates in
//! quantisation-aware epochs) and the score that selects the kept epoch.

use anyhow::Result;

use super::{QuantizedValidation, Run, Totals};
use crate::eval::{PgdConfig, evaluate};
use crate::report::EpochMetrics;

/// Validation inputs attacked with PGD each epoch (the attack is the slow part).
const VAL_PGD_SAMPLES: usize = 500;

/// Validation inputs IBP's tightness is measured on each epoch.
const VAL_TIGHTNESS_SAMPLES: usize = 500;

impl Run<'_> {
    /// The epoch's metrics on the validation split, and its selection score.
    pub(super) fn validate(
        &self,
        sums: Totals,
        seconds: f32,
        quantized: Option<QuantizedValidation<'_>>,
    ) -> Result<(EpochMetrics, f32)> {
        let (cfg, epoch) = (self.cfg, self.progress.epoch);
        let eps = cfg.perturbation(&cfg.eps);
        let acc = evaluate(&self.net, &self.val, &eps, None, false, 512, self.device);
        let val_tight = self.val.take(VAL_TIGHTNESS_SAMPLES);
        let tightness =
            evaluate(&self.net, &val_tight, &eps, None, true, 250, self.device).tightness;
        let pgd = PgdConfig {
            steps: cfg.val_pgd_steps,
            ..PgdConfig::default()
        };
        let val_pgd = self.val.take(VAL_PGD_SAMPLES);
        let pgd_acc = (cfg.val_pgd_steps > 0)
            .then(|| {
                evaluate(
                    &self.net,
                    &val_pgd,
                    &eps,
                    Some(&pgd),
                    false,
                    250,
                    self.device,
                )
                .pgd
            })
            .flatten();
        let int8_certified = match (&self.calibration, quantized, self.quant_aware()) {
            (Some(calibration), Some(validate), true) => {
                Some(validate(&self.net, calibration, &self.val)?)
            }
            _ => None,
        };
        let end_t = (epoch as u64 + 1) * self.batches;
        let metrics = EpochMetrics {
            epoch: epoch + 1,
            eps_train: self.ramp.at(end_t).shown,
            lr: self.lr.lr(epoch),
            loss: sums.loss,
            train_clean: sums.clean,
            train_verified: sums.verified,
            eps: cfg.eps.to_string(),
            val_clean: acc.clean,
            val_pgd: pgd_acc,
            val_verified: acc.verified,
            val_int8_certified: int8_certified,
            val_tightness: tightness,
            seconds,
        };
        // Selection among epochs trained at full eps (the last epoch always
        // qualifies) on IBP-verified accuracy; with QA-IBP, among the
        // quantisation-aware epochs on the int8 model's certified accuracy.
        let (eligible, score) = match cfg.qa_epochs {
            0 => (self.ramp.at_full(end_t), acc.verified),
            _ => (self.quant_aware(), int8_certified.unwrap_or(0.0)),
        };
        let eligible = eligible || epoch + 1 == cfg.epochs;
        Ok((metrics, if eligible { score } else { f32::NEG_INFINITY }))
    }
}
