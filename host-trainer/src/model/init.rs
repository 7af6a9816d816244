//! Weight initialisation for IBP training.
//!
//! Shi et al. 2021 draw weights from N(0, sigma^2) with
//! sigma = sqrt(2 pi) / fan_in: the expected growth of the interval radius
//! per layer, n sigma / sqrt(2 pi), is then 1.
//!
//! With BatchNorm after every layer (as here) the forward pass, the bounds
//! included, are invariant to the scale of a layer's weights: BatchNorm
//! divides centre and radius by the same clean standard deviation, which is
//! proportional to that scale. What the initialisation still decides is the
//! effective learning rate of these scale-invariant weights, which goes as
//! `lr / |w|`. Shi's scale is sqrt(pi / fan_in) times Kaiming's (16x to
//! 30x smaller for our layers), so with Adam at lr 5e-4 every step changes
//! a weight by a sizeable fraction of itself and the first hundreds of
//! steps are a random walk. That is harmless over the paper's ~16,000
//! MNIST steps; on 8,000 digits and 30 epochs (~900 steps) it wastes the
//! warm-up and the ramp starts from an untrained network. `Init::ShiBn`
//! keeps Shi's Gaussian shape (the radius growth per layer after BatchNorm
//! is the same) at Kaiming's scale sqrt(2 / fan_in).

use burn::module::Param;
use burn::tensor::{Device, Distribution, Tensor};
use serde::{Deserialize, Serialize};

/// How hidden-layer weights are drawn (the classifier keeps burn's default).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, clap::ValueEnum)]
pub enum Init {
    /// N(0, (sqrt(2 pi) / fan_in)^2), exactly as in Shi et al. 2021.
    Shi,
    /// The same Gaussian at the scale sqrt(2 / fan_in) (see the module docs).
    #[default]
    ShiBn,
}

impl Init {
    /// Standard deviation for a layer with `fan_in` inputs.
    pub fn std(self, fan_in: usize) -> f64 {
        match self {
            Init::Shi => (2.0 * std::f64::consts::PI).sqrt() / fan_in as f64,
            Init::ShiBn => (2.0 / fan_in as f64).sqrt(),
        }
    }
}

/// Replaces a weight with a fresh N(0, init.std(fan_in)^2) draw of the same shape.
pub(super) fn normal<const D: usize>(
    weight: Param<Tensor<D>>,
    init: Init,
    fan_in: usize,
    device: &Device,
) -> Param<Tensor<D>> {
    let draw = Tensor::random(
        weight.shape(),
        Distribution::Normal(0.0, init.std(fan_in)),
        device,
    );
    Param::from_tensor(draw)
}
