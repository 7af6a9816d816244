//! Projected gradient descent (L-infinity) on the float network.

use burn::tensor::{Bool, Distribution, Int, Tensor};
use serde::{Deserialize, Serialize};

use crate::bounds::{Perturbation, at_least, at_most, per_channel};
use crate::ibp::{Mode, cross_entropy, propagate};
use crate::model::Net;

/// Attack settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PgdConfig {
    /// Gradient steps per restart.
    pub steps: usize,
    /// Random restarts; a sample counts as robust only if it survives all.
    pub restarts: usize,
    /// Step size as a multiple of `eps / steps`.
    pub step_factor: f32,
}

impl Default for PgdConfig {
    fn default() -> Self {
        PgdConfig {
            steps: 20,
            restarts: 1,
            step_factor: 2.5,
        }
    }
}

/// Per sample: still classified correctly after the attack? `net` must
/// live on an autodiff device; BatchNorm uses running statistics.
pub fn pgd_correct(
    net: &Net,
    x: Tensor<4>,
    y: Tensor<1, Int>,
    eps: &Perturbation,
    cfg: &PgdConfig,
) -> Tensor<1, Bool> {
    let x = x.without_autodiff();
    let logits = |input: Tensor<4>| {
        propagate(net, Some(input), None, None, Mode::Eval, false)
            .logits
            .expect("clean input")
    };
    let predict = |input: Tensor<4>| {
        logits(input.autodiff())
            .without_autodiff()
            .argmax(1)
            .reshape([-1])
    };
    let y_plain = y.clone().without_autodiff();
    let mut correct = predict(x.clone()).equal(y_plain.clone());
    if eps.eps().iter().all(|&e| e <= 0.0) {
        return correct;
    }
    let device = x.device();
    let steps = cfg.steps.max(1) as f32;
    // The box, a random start inside it, and the step, per channel.
    let (lo, hi, start): (Tensor<4>, Tensor<4>, Box<dyn Fn() -> Tensor<4>>) = match eps.uniform() {
        Some((e, min, max)) => {
            let shape = x.shape();
            let device = device.clone();
            let start = move || {
                Tensor::random(
                    shape.clone(),
                    Distribution::Uniform(-f64::from(e), f64::from(e)),
                    &device,
                )
            };
            (
                x.clone().sub_scalar(e).clamp_min(min),
                x.clone().add_scalar(e).clamp_max(max),
                Box::new(start),
            )
        }
        None => {
            let e = per_channel(eps.eps(), &device);
            let (min, max) = eps.limits(&x);
            let shape = x.shape();
            let (device, spread) = (device.clone(), e.clone());
            let start = move || {
                Tensor::random(shape.clone(), Distribution::Uniform(-1.0, 1.0), &device)
                    * spread.clone()
            };
            (
                at_least(x.clone() - e.clone(), min),
                at_most(x.clone() + e, max),
                Box::new(start),
            )
        }
    };
    let step = per_channel(
        &eps.eps()
            .iter()
            .map(|e| cfg.step_factor * e / steps)
            .collect::<Vec<_>>(),
        &device,
    );
    for _ in 0..cfg.restarts.max(1) {
        let mut adv = (x.clone() + start())
            .max_pair(lo.clone())
            .min_pair(hi.clone());
        for _ in 0..cfg.steps {
            let input = adv.clone().autodiff().require_grad();
            let loss = cross_entropy(logits(input.clone()), y.clone());
            let grads = loss.backward();
            let grad = input.grad(&grads).expect("input requires grad");
            adv = (adv + grad.sign() * step.clone())
                .max_pair(lo.clone())
                .min_pair(hi.clone());
        }
        correct = correct.bool_and(predict(adv).equal(y_plain.clone()));
    }
    correct
}
