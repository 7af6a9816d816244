//! Evaluation of a float network: clean, PGD-attacked and IBP-verified accuracy.

mod pgd;

pub use pgd::{PgdConfig, pgd_correct};

use burn::module::Module;
use burn::tensor::{Device, Int, Tensor};
use serde::Serialize;

use crate::bounds::Perturbation;
use crate::crown::crown_verified_and_tightness;
use crate::data::{Dataset, batch};
use crate::ibp::{Mode, propagate, verified};
use crate::model::Net;

/// Accuracies over a set, as fractions in `[0, 1]`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Accuracy {
    /// Images evaluated.
    pub samples: usize,
    /// The budget of the attack and of the verification.
    pub eps: String,
    /// Correct on the clean images.
    pub clean: f32,
    /// Correct under the PGD attack (`None` when not run).
    pub pgd: Option<f32>,
    /// Proven correct for every input within eps by IBP.
    pub verified: f32,
    /// Proven correct by CROWN-IBP (linear bounds back from the margins
    /// over IBP's pre-activation bounds), when computed.
    pub crown_ibp_verified: Option<f32>,
    /// Mean tightness of IBP (Mao et al. 2024), when computed: 1 where IBP
    /// is exact for the network linearised at the input.
    pub tightness: Option<f32>,
}

/// Clean and IBP-verified correctness of one batch, with running statistics.
pub fn clean_and_verified(
    net: &Net,
    x: Tensor<4>,
    y: Tensor<1, Int>,
    eps: &Perturbation,
) -> (Tensor<1, Int>, Tensor<1, Int>) {
    let pass = propagate(
        net,
        Some(x.clone()),
        Some(eps.around(x)),
        Some(y.clone()),
        Mode::Eval,
        false,
    );
    let logits = pass.logits.expect("a clean batch was given");
    let margins = pass.margins.expect("a box and labels were given");
    let clean = logits.argmax(1).reshape([-1]).equal(y).int();
    (clean, verified(margins).int())
}

/// Evaluates `net` on `set` within `eps`; `pgd` adds the attack, `linear`
/// CROWN-IBP-verified accuracy and IBP's tightness.
pub fn evaluate(
    net: &Net,
    set: &Dataset,
    eps: &Perturbation,
    pgd: Option<&PgdConfig>,
    linear: bool,
    batch_size: usize,
    device: &Device,
) -> Accuracy {
    let plain = net.valid();
    let plain_device = device.clone().inner();
    let (mut clean, mut verified_count, mut attacked) = (0i64, 0i64, 0i64);
    let (mut crown_count, mut tightness) = (0i64, 0f64);
    let indices: Vec<usize> = (0..set.len()).collect();
    for chunk in indices.chunks(batch_size.max(1)) {
        let (x, y) = batch(set, chunk, &plain_device);
        let (c, v) = clean_and_verified(&plain, x.clone(), y.clone(), eps);
        clean += c.sum().into_scalar::<i64>();
        verified_count += v.sum().into_scalar::<i64>();
        if linear {
            let (v, t) = crown_verified_and_tightness(&plain, x, y, eps);
            crown_count += v.sum().into_scalar::<i64>();
            tightness += f64::from(t.into_scalar::<f32>()) * chunk.len() as f64;
        }
        if let Some(cfg) = pgd {
            let (x, y) = batch(set, chunk, device);
            attacked += pgd_correct(net, x, y, eps, cfg)
                .int()
                .sum()
                .into_scalar::<i64>();
        }
    }
    let n = set.len().max(1) as f32;
    Accuracy {
        samples: set.len(),
        eps: eps.to_string(),
        clean: clean as f32 / n,
        pgd: pgd.map(|_| attacked as f32 / n),
        verified: verified_count as f32 / n,
        crown_ibp_verified: linear.then(|| crown_count as f32 / n),
        tightness: linear.then(|| (tightness / f64::from(n)) as f32),
    }
}
