//! Projected gradient descent (L-infinity) on the float network.

use burn::tensor::{Bool, Distribution, Int, Tensor};
use serde::{Deserialize, Serialize};

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
    eps: f32,
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
    if eps <= 0.0 {
        return correct;
    }
    let (lo, hi) = (
        x.clone().sub_scalar(eps).clamp_min(0.0),
        x.clone().add_scalar(eps).clamp_max(1.0),
    );
    let step = cfg.step_factor * eps / cfg.steps.max(1) as f32;
    for _ in 0..cfg.restarts.max(1) {
        let noise = Tensor::random(
            x.shape(),
            Distribution::Uniform(-f64::from(eps), f64::from(eps)),
            &x.device(),
        );
        let mut adv = (x.clone() + noise)
            .max_pair(lo.clone())
            .min_pair(hi.clone());
        for _ in 0..cfg.steps {
            let input = adv.clone().autodiff().require_grad();
            let loss = cross_entropy(logits(input.clone()), y.clone());
            let grads = loss.backward();
            let grad = input.grad(&grads).expect("input requires grad");
            adv = (adv + grad.sign().mul_scalar(step))
                .max_pair(lo.clone())
                .min_pair(hi.clone());
        }
        correct = correct.bool_and(predict(adv).equal(y_plain.clone()));
    }
    correct
}
