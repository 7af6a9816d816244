//! Input boxes over burn tensors in centre/radius form, and the
//! perturbation they are built from: per input channel, an eps and a
//! domain in real units.

use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor, TensorData};

use crate::data::InputSpace;

/// A box in centre/radius form.
#[derive(Debug, Clone)]
pub struct Bounds<const D: usize> {
    /// Centre `(u + l) / 2`.
    pub centre: Tensor<D>,
    /// Radius `(u - l) / 2`, non-negative.
    pub radius: Tensor<D>,
}

impl<const D: usize> Bounds<D> {
    /// The box `[x - eps, x + eps]` intersected with `[lo, hi]`.
    pub fn around(x: Tensor<D>, eps: f32, lo: f32, hi: f32) -> Self {
        let lower = x.clone().sub_scalar(eps).clamp_min(lo);
        let upper = x.add_scalar(eps).clamp_max(hi);
        Bounds::from_limits(lower, upper)
    }

    /// The box `[lower, upper]`.
    pub fn from_limits(lower: Tensor<D>, upper: Tensor<D>) -> Self {
        Bounds {
            centre: (upper.clone() + lower.clone()).div_scalar(2.0),
            radius: (upper - lower).div_scalar(2.0),
        }
    }

    /// Lower limit.
    pub fn lower(&self) -> Tensor<D> {
        self.centre.clone() - self.radius.clone()
    }

    /// Upper limit.
    pub fn upper(&self) -> Tensor<D> {
        self.centre.clone() + self.radius.clone()
    }

    /// The box after a ReLU.
    pub fn relu(self) -> Self {
        Bounds::from_limits(relu(self.lower()), relu(self.upper()))
    }
}

/// How far each input channel may move (eps) and where it must stay
/// (domain), in real units.
#[derive(Debug, Clone, PartialEq)]
pub struct Perturbation {
    eps: Vec<f32>,
    min: Vec<f32>,
    max: Vec<f32>,
}

impl Perturbation {
    /// `eps[c]` around every value of channel `c`, within `space`'s domains.
    pub fn new(eps: &[f32], space: &InputSpace) -> Self {
        Perturbation {
            eps: eps.to_vec(),
            min: space.channels.iter().map(|c| c.min).collect(),
            max: space.channels.iter().map(|c| c.max).collect(),
        }
    }

    /// The eps of every channel.
    pub fn eps(&self) -> &[f32] {
        &self.eps
    }

    /// `(eps, min, max)` when every channel has the same (images).
    pub fn uniform(&self) -> Option<(f32, f32, f32)> {
        let same = |v: &[f32]| v.iter().all(|&x| x == v[0]).then(|| v[0]);
        Some((same(&self.eps)?, same(&self.min)?, same(&self.max)?))
    }

    /// The box around a batch `x` (`[batch, channels, height, width]`).
    pub fn around(&self, x: Tensor<4>) -> Bounds<4> {
        if let Some((eps, min, max)) = self.uniform() {
            return Bounds::around(x, eps, min, max);
        }
        let eps = per_channel(&self.eps, &x.device());
        let (min, max) = self.limits(&x);
        let lower = at_least(x.clone() - eps.clone(), min);
        let upper = at_most(x + eps, max);
        Bounds::from_limits(lower, upper)
    }

    /// The domain as `[1, channels, 1, 1]` tensors on `x`'s device.
    pub fn limits(&self, x: &Tensor<4>) -> (Tensor<4>, Tensor<4>) {
        let device = x.device();
        (
            per_channel(&self.min, &device),
            per_channel(&self.max, &device),
        )
    }
}

impl std::fmt::Display for Perturbation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.uniform() {
            Some((eps, ..)) => write!(f, "{eps}"),
            None => write!(f, "{:?}", self.eps),
        }
    }
}

/// `v` as a `[1, channels, 1, 1]` tensor, to broadcast over a batch.
pub fn per_channel(v: &[f32], device: &Device) -> Tensor<4> {
    Tensor::<1>::from_data(TensorData::new(v.to_vec(), [v.len()]), device).reshape([
        1,
        v.len(),
        1,
        1,
    ])
}

/// `max(a, b)` with `b` broadcast over `a`, exactly (`relu(a - b) + b`
/// would round, and could put a box's lower limit above its upper one).
pub fn at_least(a: Tensor<4>, b: Tensor<4>) -> Tensor<4> {
    let b = b.expand(a.shape());
    a.max_pair(b)
}

/// `min(a, b)` with `b` broadcast over `a`, exactly.
pub fn at_most(a: Tensor<4>, b: Tensor<4>) -> Tensor<4> {
    let b = b.expand(a.shape());
    a.min_pair(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::ChannelSpace;

    /// Features of very different magnitudes with budgets far below the
    /// f32 resolution of the largest: every box must still contain its
    /// point and have a radius >= 0 (a rounded clamp once made it negative).
    #[test]
    fn per_channel_boxes_contain_their_points() {
        let device = Device::flex();
        let channel = |min: f32, max: f32| ChannelSpace {
            min,
            max,
            mean: 0.0,
            std: 1.0,
        };
        let space = InputSpace {
            channels: vec![
                channel(-350.0, 1700.0),
                channel(0.0, 1.7),
                channel(-1.0, 0.0),
            ],
        };
        let values: Vec<f32> = (0..300)
            .flat_map(|i| {
                let t = i as f32 / 299.0;
                [-350.0 + 2050.0 * t, 1.7 * t, -t]
            })
            .collect();
        let x =
            Tensor::<1>::from_data(TensorData::new(values, [900]), &device).reshape([300, 3, 1, 1]);
        for scale in [0.0, 1e-9, 1e-6, 1e-3, 1.0, 1e3] {
            let eps = [30.0 * scale, 0.02 * scale, 0.5 * scale];
            let b = Perturbation::new(&eps, &space).around(x.clone());
            let radius: Vec<f32> = b.radius.clone().into_data().try_to_vec::<f32>().unwrap();
            assert!(
                radius.iter().all(|&r| r >= 0.0),
                "negative radius at {scale}"
            );
            let values = |t: Tensor<4>| t.into_data().try_to_vec::<f32>().unwrap();
            let (lo, hi, x) = (values(b.lower()), values(b.upper()), values(x.clone()));
            for ((l, h), v) in lo.iter().zip(&hi).zip(&x) {
                assert!(l <= h, "lower {l} above upper {h} at {scale}");
                assert!(*l <= *v + v.abs() * 1e-6 && *v <= *h + v.abs() * 1e-6);
            }
        }
    }
}
