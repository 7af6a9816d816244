//! The per-batch schedules: the smoothed eps ramp of Shi et al. 2021 (and
//! the budget it gives every batch) and the step-decayed learning rate.

use serde::{Deserialize, Serialize};

use super::TrainConfig;
use crate::bounds::Perturbation;
use crate::data::InputSpace;
use crate::eps::Eps;

/// eps of the box that feeds the warm-up regularisers while eps is still
/// 0, for a uniform budget (images, in pixel units).
const WARMUP_EPS: f32 = 1e-6;
/// The same for a per-channel budget, as a fraction of it (features come
/// in any unit, and a fixed eps could fall below their f32 resolution).
const WARMUP_FRACTION: f32 = 1e-4;

/// eps as a function of the global batch index: 0 until the ramp starts,
/// then `alpha * t^4` for the first quarter of the ramp, then linear up to
/// `eps_max`, continuous at the junction; `eps_max` after the ramp.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EpsSchedule {
    /// Final eps.
    pub eps_max: f32,
    /// First batch of the ramp, `(start_epoch - 1) * batches_per_epoch`.
    pub init: u64,
    /// First batch at `eps_max`, `(start_epoch + length - 1) * batches_per_epoch`.
    pub fin: u64,
}

impl EpsSchedule {
    /// The schedule for a ramp starting at epoch `start` (1-based, as in
    /// the reference code) and lasting `length` epochs.
    pub fn new(eps_max: f32, start: u64, length: u64, batches_per_epoch: u64) -> Self {
        let init = start.saturating_sub(1) * batches_per_epoch;
        EpsSchedule {
            eps_max,
            init,
            fin: init + length * batches_per_epoch,
        }
    }

    /// eps at global batch `t`.
    pub fn eps(&self, t: u64) -> f32 {
        if t <= self.init {
            return 0.0;
        }
        if t >= self.fin {
            return self.eps_max;
        }
        let (init, fin) = (self.init as f64, self.fin as f64);
        let mid = init + (0.25 * (fin - init)).floor();
        let t = t as f64;
        let eps_max = f64::from(self.eps_max);
        let alpha = eps_max / ((fin - mid) * 4.0 * (mid - init).powi(3) + (mid - init).powi(4));
        let value = if t <= mid {
            alpha * (t - init).powi(4)
        } else {
            let at_mid = alpha * (mid - init).powi(4);
            at_mid + (eps_max - at_mid) * (t - mid) / (fin - mid)
        };
        value as f32
    }

    /// True once eps has reached its final value at batch `t`.
    pub fn at_full(&self, t: u64) -> bool {
        t >= self.fin
    }
}

/// Where the eps ramp stands at one batch.
#[derive(Debug, Clone, PartialEq)]
pub struct RampPoint {
    /// The batch's budget.
    pub perturbation: Perturbation,
    /// `eps / eps_train` (1 when the training budget is 0).
    pub progress: f32,
    /// True when some eps is above 0.
    pub active: bool,
    /// True once eps has reached the training budget.
    pub full: bool,
    /// The eps of a uniform budget, or the ramp's fraction of a per-channel
    /// one (what the progress bar, metrics and plot show).
    pub shown: f32,
}

/// The budget of every batch: the smoothed ramp applied to the run's
/// training budget.
#[derive(Debug, Clone, PartialEq)]
pub struct EpsRamp {
    schedule: EpsSchedule,
    eps_train: Eps,
    channels: usize,
    space: InputSpace,
}

impl EpsRamp {
    /// The ramp of `cfg` over `batches_per_epoch` batches an epoch.
    pub fn new(cfg: &TrainConfig, batches_per_epoch: u64) -> Self {
        let top = match &cfg.eps_train {
            Eps::Uniform(e) => *e,
            Eps::PerChannel(_) => 1.0,
        };
        EpsRamp {
            schedule: EpsSchedule::new(top, cfg.ramp_start, cfg.ramp_length, batches_per_epoch),
            eps_train: cfg.eps_train.clone(),
            channels: cfg.channels(),
            space: cfg.space.clone(),
        }
    }

    /// The budget at global batch `t`.
    pub fn at(&self, t: u64) -> RampPoint {
        let shown = self.schedule.eps(t);
        let (eps, progress, full) = match &self.eps_train {
            Eps::Uniform(top) => {
                let progress = if *top > 0.0 { shown / top } else { 1.0 };
                (Eps::Uniform(shown), progress, shown >= *top)
            }
            Eps::PerChannel(_) => {
                let progress = if self.eps_train.is_zero() { 1.0 } else { shown };
                (self.eps_train.scaled(shown), progress, shown >= 1.0)
            }
        };
        RampPoint {
            active: !eps.is_zero(),
            perturbation: Perturbation::new(&eps.values(self.channels), &self.space),
            progress,
            full,
            shown,
        }
    }

    /// The tiny box that feeds the warm-up regularisers while eps is 0.
    pub fn warmup(&self) -> Perturbation {
        let eps = match &self.eps_train {
            Eps::Uniform(_) => Eps::Uniform(WARMUP_EPS),
            Eps::PerChannel(_) => self.eps_train.scaled(WARMUP_FRACTION),
        };
        Perturbation::new(&eps.values(self.channels), &self.space)
    }

    /// True once eps has reached its final value at batch `t`.
    pub fn at_full(&self, t: u64) -> bool {
        self.schedule.at_full(t)
    }
}

/// Step decay: `lr * factor^k` after the k-th milestone epoch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LrSchedule {
    /// Initial learning rate.
    pub lr: f64,
    /// Epochs (0-based) at which the rate is multiplied by `factor`.
    pub milestones: Vec<usize>,
    /// Decay factor.
    pub factor: f64,
}

impl LrSchedule {
    /// Learning rate during `epoch` (0-based).
    pub fn lr(&self, epoch: usize) -> f64 {
        let decays = self.milestones.iter().filter(|&&m| epoch >= m).count();
        self.lr * self.factor.powi(decays as i32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eps_matches_the_formula() {
        let s = EpsSchedule::new(0.4, 2, 4, 100); // init 100, fin 500, mid 200
        assert_eq!(s.eps(0), 0.0);
        assert_eq!(s.eps(100), 0.0);
        let alpha = 0.4 / (300.0 * 4.0 * 100f64.powi(3) + 100f64.powi(4));
        assert!((f64::from(s.eps(150)) - alpha * 50f64.powi(4)).abs() < 1e-7);
        let at_mid = alpha * 100f64.powi(4);
        assert!((f64::from(s.eps(200)) - at_mid).abs() < 1e-7);
        assert!((f64::from(s.eps(350)) - (at_mid + (0.4 - at_mid) * 0.5)).abs() < 1e-6);
        assert_eq!(s.eps(500), 0.4);
        assert_eq!(s.eps(10_000), 0.4);
        // Monotone, and the two pieces meet with the same slope.
        let mut prev = 0.0;
        for t in 0..600 {
            assert!(s.eps(t) >= prev);
            prev = s.eps(t);
        }
        let left = s.eps(200) - s.eps(199);
        let right = s.eps(201) - s.eps(200);
        assert!((left - right).abs() < 0.05 * right);
    }

    #[test]
    fn lr_decays_at_milestones() {
        let s = LrSchedule {
            lr: 5e-4,
            milestones: vec![50, 60],
            factor: 0.2,
        };
        assert_eq!(s.lr(49), 5e-4);
        assert!((s.lr(50) - 1e-4).abs() < 1e-12);
        assert!((s.lr(69) - 2e-5).abs() < 1e-12);
    }
}
