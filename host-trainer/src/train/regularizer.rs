//! The warm-up regularisers of Shi et al. 2021 (section 3.3 of method.md),
//! computed on the pre-activation bounds of every ReLU layer.

use burn::tensor::Tensor;
use burn::tensor::activation::relu;

use crate::bounds::Bounds;

/// `L_tight = mean_i relu(tau - r0 / mean(r_i)) / tau`: penalises layers
/// whose bounds grew much wider than the input box.
pub fn tightness(preacts: &[Bounds<2>], input_radius: Tensor<1>, tau: f64) -> Tensor<1> {
    let terms: Vec<Tensor<1>> = preacts
        .iter()
        .map(|b| {
            let growth = input_radius.clone() / b.radius.clone().mean().clamp_min(1e-12);
            relu(growth.neg().add_scalar(tau)).div_scalar(tau)
        })
        .collect();
    Tensor::cat(terms, 0).mean()
}

/// `L_relu`: per layer, the balance of active (`l > 0`) and inactive
/// (`u < 0`) neurons in mean and in variance; each ratio is taken as
/// `min(a, b) / max(a, b)` (= `min(rho, 1 / rho)`), penalised below `tau`.
pub fn relu_balance(preacts: &[Bounds<2>], tau: f64) -> Tensor<1> {
    let terms: Vec<Tensor<1>> = preacts
        .iter()
        .map(|b| {
            let c = b.centre.clone();
            let active = b.lower().greater_elem(0.0).float();
            let inactive = b.upper().lower_elem(0.0).float();
            let m_act = (c.clone() * active.clone()).mean();
            let m_inact = (c.clone() * inactive.clone()).mean().neg();
            let dev = (c.clone() - c.mean().unsqueeze::<2>()).square();
            let v_act = (dev.clone() * active).sum();
            let v_inact = (dev * inactive).sum();
            let penalty = |a: Tensor<1>, b: Tensor<1>| {
                let ratio = a.clone().min_pair(b.clone()) / a.max_pair(b).clamp_min(1e-12);
                relu(ratio.neg().add_scalar(tau))
            };
            (penalty(m_act, m_inact) + penalty(v_act, v_inact)).div_scalar(tau)
        })
        .collect();
    Tensor::cat(terms, 0).mean()
}
