//! Fake quantisation for quantisation-aware certified training (QA-IBP,
//! Lechner et al. 2023): values are rounded onto the int8 grid the exported
//! model will use, in the forward pass only; gradients pass straight through
//! the rounding (the straight-through estimator).
//!
//! The grids are `cert_runtime::grid`'s, which the exporter quantises onto:
//! - hidden-layer weights are symmetric per output channel (largest weight
//!   at 127). BatchNorm scales each output channel by one factor, so this is
//!   exactly the grid of the folded weights the exporter quantises;
//! - the classifier shares one weight step across classes;
//! - ReLU outputs span `[0, max]` in 255 steps and saturate at `max`, which
//!   the exporter calibrates on a high quantile of the IBP upper bounds
//!   (training recalibrates it the same way before every QA epoch);
//! - the device rounds the limits of an input box to each channel's input
//!   quantiser (the 1/255 grid of pixels).

use burn::tensor::Tensor;
use cert_runtime::Quantizer;
use cert_runtime::grid::{WEIGHT_LEVELS, activation_step};

use crate::bounds::{Bounds, per_channel};

/// Smallest step: keeps all-zero channels finite.
const MIN_STEP: f32 = 1e-12;

/// `x` rounded to the nearest multiple of `step` (broadcast), with the
/// gradient of the identity.
fn round_to<const D: usize>(x: Tensor<D>, step: Tensor<D>) -> Tensor<D> {
    let step = step.detach().clamp_min(MIN_STEP);
    let rounded = (x.clone().detach() / step.clone()).round() * step;
    straight_through(x, rounded)
}

/// `x` rounded to the nearest multiple of one `step`, with the gradient of
/// the identity.
fn round_to_step<const D: usize>(x: Tensor<D>, step: f32) -> Tensor<D> {
    let rounded = x.clone().detach().div_scalar(step).round().mul_scalar(step);
    straight_through(x, rounded)
}

/// The value of `rounded` with the gradient of `x`.
fn straight_through<const D: usize>(x: Tensor<D>, rounded: Tensor<D>) -> Tensor<D> {
    x.clone() + (rounded - x.detach())
}

/// Weights on their int8 grid and the magnitudes of those weights.
pub struct Grid<const D: usize> {
    /// The rounded weights (gradient of the identity).
    pub weights: Tensor<D>,
    /// `|weights|`, with the gradient of `|w|` at the unrounded weights:
    /// through `abs` of the rounded value, a weight that rounds to zero would
    /// get no gradient from the radius and drift outwards until it pops onto
    /// the grid, loosening the bounds epoch after epoch.
    pub magnitudes: Tensor<D>,
}

fn on_grid<const D: usize>(w: Tensor<D>, step: Tensor<D>) -> Grid<D> {
    Grid {
        weights: round_to(w.clone(), step.clone()),
        // Rounding is symmetric about zero: |round(w)| = round(|w|).
        magnitudes: round_to(w.abs(), step),
    }
}

/// Conv weights `[out, in, kh, kw]`, one symmetric grid per output channel.
pub fn conv_weights(w: Tensor<4>) -> Grid<4> {
    let [out, ..] = w.dims();
    let step = w
        .clone()
        .abs()
        .reshape([out as i32, -1])
        .max_dim(1)
        .div_scalar(f32::from(WEIGHT_LEVELS))
        .reshape([out, 1, 1, 1]);
    on_grid(w, step)
}

/// Linear weights in burn's `[inputs, outputs]` layout, one symmetric grid
/// per output.
pub fn dense_weights(w: Tensor<2>) -> Grid<2> {
    let step = w
        .clone()
        .abs()
        .max_dim(0)
        .div_scalar(f32::from(WEIGHT_LEVELS));
    on_grid(w, step)
}

/// Classifier weights: one symmetric grid shared by all classes, so that
/// the integer logits compare directly.
pub fn head_weights(w: Tensor<2>) -> Tensor<2> {
    let step = w
        .clone()
        .abs()
        .max()
        .div_scalar(f32::from(WEIGHT_LEVELS))
        .reshape([1, 1]);
    round_to(w, step)
}

/// ReLU outputs of one layer: the clean activations and the box, on the
/// layer's grid of 255 steps from 0 to `max`, clamped at `max` as the
/// device clamps (no gradient beyond it).
pub fn activations<const D: usize>(
    clean: Option<Tensor<D>>,
    bounds: Option<Bounds<D>>,
    max: f32,
) -> (Option<Tensor<D>>, Option<Bounds<D>>) {
    let on_grid = |x: Tensor<D>| round_to_step(x.clamp_max(max), activation_step(max));
    let clean = clean.map(on_grid);
    let bounds = bounds.map(|b| Bounds::from_limits(on_grid(b.lower()), on_grid(b.upper())));
    (clean, bounds)
}

/// An input box (in real units) with its limits rounded to each channel's
/// input quantiser grid, `offset + k * scale`, as the device's quantiser
/// does.
pub fn input_box(b: Bounds<4>, quantizers: &[Quantizer]) -> Bounds<4> {
    let same = quantizers
        .iter()
        .all(|q| q.scale == quantizers[0].scale && q.offset == 0.0);
    if same {
        let step = quantizers[0].scale;
        let on_grid = |x: Tensor<4>| round_to_step(x, step);
        return Bounds::from_limits(on_grid(b.lower()), on_grid(b.upper()));
    }
    let device = b.centre.device();
    let scale = per_channel(
        &quantizers.iter().map(|q| q.scale).collect::<Vec<_>>(),
        &device,
    );
    let offset = per_channel(
        &quantizers.iter().map(|q| q.offset).collect::<Vec<_>>(),
        &device,
    );
    let on_grid = |x: Tensor<4>| {
        let steps = round_to(x - offset.clone(), scale.clone());
        steps + offset.clone()
    };
    Bounds::from_limits(on_grid(b.lower()), on_grid(b.upper()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Device, TensorData};

    fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
        t.into_data().convert::<f32>().try_to_vec::<f32>().unwrap()
    }

    #[test]
    fn dense_weights_land_on_their_column_grid() {
        let device = Device::flex();
        let w = Tensor::<2>::from_data(
            TensorData::new(vec![0.5f32, -0.02, 0.1234, 0.01, -0.3, 0.005], [3, 2]),
            &device,
        );
        let q = values(dense_weights(w).weights);
        // Column 0: max 0.5, step 0.5 / 127; column 1: max 0.02.
        for (i, v) in q.iter().enumerate() {
            let step = if i % 2 == 0 {
                0.5 / 127.0
            } else {
                0.02 / 127.0
            };
            let level = v / step;
            assert!((level - level.round()).abs() < 1e-3, "{v} off its grid");
            assert!(level.abs() <= 127.001);
        }
        assert!((q[0] - 0.5).abs() < 1e-6);
    }

    #[test]
    fn gradients_pass_straight_through() {
        let device: Device = Device::flex().autodiff();
        let w = Tensor::<4>::from_data(
            TensorData::new(vec![0.3f32, -0.11, 0.07, 0.2], [2, 2, 1, 1]),
            &device,
        )
        .require_grad();
        let grid = conv_weights(w.clone());
        let grads = (grid.weights.mul_scalar(3.0) + grid.magnitudes)
            .sum()
            .backward();
        let g = values(w.grad(&grads).unwrap());
        // 3 from the weights, plus sign(w) from the magnitudes.
        assert_eq!(g, vec![4.0, 2.0, 4.0, 4.0]);
    }

    #[test]
    fn activation_box_keeps_its_order_and_grid() {
        let device = Device::flex();
        let lower =
            Tensor::<2>::from_data(TensorData::new(vec![0.0f32, 0.2, 0.33], [1, 3]), &device);
        let upper =
            Tensor::<2>::from_data(TensorData::new(vec![0.1f32, 0.5, 1.7], [1, 3]), &device);
        let (_, b) = activations(None, Some(Bounds::from_limits(lower, upper)), 1.5);
        let b = b.unwrap();
        let step = 1.5 / 255.0;
        let (lo, hi) = (values(b.lower()), values(b.upper()));
        assert!((hi[2] - 1.5).abs() < 1e-6, "saturates at max: {hi:?}");
        for (l, h) in lo.iter().zip(&hi) {
            assert!(l <= h);
            for v in [l, h] {
                assert!(((v / step) - (v / step).round()).abs() < 1e-3);
            }
        }
    }
}
