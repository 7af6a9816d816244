//! Linear bounds on the float network, backward from the margins: CROWN-IBP
//! (Zhang et al. 2020) for training and evaluation, and the tightness of
//! IBP (Mao et al. 2024) as a training metric.
//!
//! One backward pass carries the coefficients `A` (`[batch, classes,
//! features]`) of the margins `f_y - f_j` in terms of a layer's input, from
//! the classifier back to the input box, and a constant `k`:
//!
//! - classifier: `A = W_y - W_j`, `k = b_y - b_j` (row `y` is zero);
//! - ReLU, over the pre-activation bounds `[l, u]` of the IBP pass (CROWN's
//!   relaxation): upper line `d_u (z - l⁻)` with `d_u = u⁺ / (u⁺ - l⁻)`,
//!   lower line `d_l z` with `d_l = 1[d_u > 1/2]` (no gradient); positive
//!   coefficients take the lower line, negative ones the upper;
//! - BatchNorm `s z + t`: `k += A t`, `A <- A s` (the statistics the IBP pass
//!   used);
//! - Linear `x W`: `A <- A Wᵀ`; Conv2d: `A <- conv_transpose(A, W)` with the
//!   same stride and padding;
//! - input normalisation `(x - m) / σ`: `k -= A m / σ`, `A <- A / σ`;
//! - input box `[c - r, c + r]`: the margin is at least `A c - |A| r + k`.
//!
//! The tightness pass runs the same layers with the ReLUs fixed to the clean
//! input's activation pattern and no offsets, once with the weights and once
//! with their magnitudes: `Σ |A| r / Σ Ā r` is the optimal box of the
//! network linearised at the input over its IBP box, per margin (1 when IBP
//! is exact).

use burn::tensor::module::conv_transpose2d;
use burn::tensor::ops::ConvTransposeOptions;
use burn::tensor::{Int, Tensor};
use serde::{Deserialize, Serialize};

use crate::bounds::{Bounds, Perturbation};
use crate::ibp::{Affine, Mode, Pass, propagate, verified};
use crate::model::Net;

/// The bound a training step's robust loss is computed on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Bound {
    /// Interval bound propagation (Gowal et al.; Shi et al. 2021).
    #[default]
    Ibp,
    /// CROWN-IBP (Zhang et al. 2020): during the eps ramp the margins are
    /// `beta * CROWN-IBP + (1 - beta) * IBP` with `beta = 1 - progress`
    /// (pure IBP once eps is full).
    CrownIbp,
}

/// CROWN-IBP-verified correctness of a batch (evaluation statistics) and
/// the batch's mean IBP tightness, both at `eps`.
pub fn crown_verified_and_tightness(
    net: &Net,
    x: Tensor<4>,
    y: Tensor<1, Int>,
    eps: &Perturbation,
) -> (Tensor<1, Int>, Tensor<1>) {
    let input = eps.around(x.clone());
    let pass = propagate(
        net,
        None,
        Some(input.clone()),
        Some(y.clone()),
        Mode::Eval,
        true,
    );
    let margins = crown_ibp_margins(net, &pass, &input, y.clone(), net.head.weight.val());
    let point = Bounds {
        centre: x.clone(),
        radius: x.zeros_like(),
    };
    let clean = propagate(net, None, Some(point), Some(y.clone()), Mode::Eval, true);
    (verified(margins).int(), tightness(net, &clean, &input, y))
}

/// How the backward pass crosses a ReLU.
#[derive(Clone, Copy)]
enum Relax {
    /// CROWN's relaxation over the pass's pre-activation bounds.
    Crown,
    /// The clean input's activation pattern (`centre >= 0` of a zero-radius
    /// pass), with magnitudes everywhere when `absolute`.
    Pattern { absolute: bool },
}

/// CROWN-IBP lower bounds of `f_y - f_j`, `[batch, classes]` (0 at `j = y`),
/// over the box `input` whose IBP pass is `pass` (with its pre-activations
/// and BatchNorm maps), for the labels `labels`. `head_weight` is the
/// classifier weight the pass used (`[features, classes]`).
pub fn crown_ibp_margins(
    net: &Net,
    pass: &Pass,
    input: &Bounds<4>,
    labels: Tensor<1, Int>,
    head_weight: Tensor<2>,
) -> Tensor<2> {
    let (a, k) = specification(net, head_weight, labels, false);
    let (a, k) = backward(net, pass, input.centre.dims(), a, k, Relax::Crown);
    let [batch, classes, _] = a.dims();
    let flat = |t: Tensor<4>| t.reshape([batch as i32, 1, -1]);
    let centre = flat(input.centre.clone());
    let radius = flat(input.radius.clone());
    let lb = (a.clone() * centre).sum_dim(2) - (a.abs() * radius).sum_dim(2);
    lb.reshape([batch, classes]) + k
}

/// The mean tightness of IBP over the margins `j != y` of a batch (Mao et
/// al. 2024): `clean` is a pass of the zero-radius box at the inputs (its
/// pre-activation centres give the activation pattern), `input` the box.
pub fn tightness(net: &Net, clean: &Pass, input: &Bounds<4>, labels: Tensor<1, Int>) -> Tensor<1> {
    let head = net.head.weight.val();
    let (a, k) = specification(net, head.clone(), labels.clone(), false);
    let (a, _) = backward(
        net,
        clean,
        input.centre.dims(),
        a,
        k.clone(),
        Relax::Pattern { absolute: false },
    );
    let (bar, k) = specification(net, head, labels.clone(), true);
    let (bar, _) = backward(
        net,
        clean,
        input.centre.dims(),
        bar,
        k,
        Relax::Pattern { absolute: true },
    );
    let [batch, classes, _] = a.dims();
    let radius = input.radius.clone().reshape([batch as i32, 1, -1]);
    let optimal = (a.abs() * radius.clone())
        .sum_dim(2)
        .reshape([batch, classes]);
    let interval = (bar * radius).sum_dim(2).reshape([batch, classes]);
    // Margins j != y only (row y is zero in both).
    let others = labels.one_hot(classes).bool().bool_not().float();
    let ratio = optimal / interval.clamp_min(1e-12) * others.clone();
    ratio.sum() / others.sum()
}

/// The classifier's margin rows: `A[b, j] = W_{y_b} - W_j` (magnitudes when
/// `absolute`), `k[b, j] = b_{y_b} - b_j`.
fn specification(
    net: &Net,
    weight: Tensor<2>,
    labels: Tensor<1, Int>,
    absolute: bool,
) -> (Tensor<3>, Tensor<2>) {
    let rows = weight.transpose(); // [classes, features]
    let [classes, features] = rows.dims();
    let batch = labels.dims()[0];
    let own = rows.clone().select(0, labels.clone()); // [batch, features]
    let a = own.reshape([batch, 1, features]) - rows.reshape([1, classes, features]);
    let a = if absolute { a.abs() } else { a };
    let k = match &net.head.bias {
        Some(b) => {
            let b = b.val();
            let own = b.clone().select(0, labels).reshape([batch, 1]);
            own - b.reshape([1, classes])
        }
        None => Tensor::zeros([batch, classes], &a.device()),
    };
    (a, k)
}

/// Back-substitutes `(a, k)` from the classifier's input to the input
/// (`input_dims`, `[batch, channels, height, width]`): returns the
/// coefficients of the input values, `[batch, classes, values]`, and the
/// constant.
fn backward(
    net: &Net,
    pass: &Pass,
    input_dims: [usize; 4],
    mut a: Tensor<3>,
    mut k: Tensor<2>,
    relax: Relax,
) -> (Tensor<3>, Tensor<2>) {
    let convs = net.convs.len();
    for (i, block) in net.dense.iter().enumerate().rev() {
        let layer = convs + i;
        (a, k) = through_relu(a, k, &pass.preactivations[layer], relax);
        (a, k) = through_affine(a, k, &pass.affines[layer], 1, relax);
        let w = block.linear.weight.val(); // [in, out]
        let w = if absolute(relax) { w.abs() } else { w };
        let [batch, classes, out] = a.dims();
        a = a
            .reshape([batch * classes, out])
            .matmul(w.transpose())
            .reshape([batch as i32, classes as i32, -1]);
    }
    // Spatial shapes of every convolution's input and output.
    let mut shapes = vec![(input_dims[1], input_dims[2], input_dims[3])];
    for block in &net.convs {
        let (_, h, w) = *shapes.last().expect("the input's shape");
        let [out, _, kh, kw] = block.conv.weight.dims();
        let [sh, sw] = block.conv.stride;
        let p = block.padding;
        shapes.push((out, (h + 2 * p - kh) / sh + 1, (w + 2 * p - kw) / sw + 1));
    }
    for (i, block) in net.convs.iter().enumerate().rev() {
        let (c, h, w) = shapes[i + 1];
        (a, k) = through_relu(a, k, &pass.preactivations[i], relax);
        (a, k) = through_affine(a, k, &pass.affines[i], h * w, relax);
        let [batch, classes, _] = a.dims();
        let weight = block.conv.weight.val();
        let weight = if absolute(relax) {
            weight.abs()
        } else {
            weight
        };
        let [_, _, kh, kw] = weight.dims();
        let (ci, hi, wi) = shapes[i];
        let [sh, sw] = block.conv.stride;
        let p = block.padding;
        let pad_out = [
            hi + 2 * p - kh - (h - 1) * sh,
            wi + 2 * p - kw - (w - 1) * sw,
        ];
        let options = ConvTransposeOptions::new([sh, sw], [p, p], pad_out, [1, 1], 1);
        let grid = a.reshape([batch * classes, c, h, w]);
        a = conv_transpose2d(grid, weight, None, options).reshape([
            batch as i32,
            classes as i32,
            -1,
        ]);
        debug_assert_eq!(a.dims()[2], ci * hi * wi);
    }
    if let Some(norm) = &net.input_norm {
        let plane = input_dims[2] * input_dims[3];
        let inv_std = repeat(norm.inv_std.val(), plane);
        let mean = repeat(norm.mean.val(), plane);
        if !absolute(relax) {
            k = k
                - (a.clone() * (mean * inv_std.clone()).reshape([1, 1, -1]))
                    .sum_dim(2)
                    .squeeze_dim(2);
        }
        a = a * inv_std.abs().reshape([1, 1, -1]);
    }
    (a, k)
}

fn absolute(relax: Relax) -> bool {
    matches!(relax, Relax::Pattern { absolute: true })
}

/// Each of a channel's values repeated `plane` times, in CHW order.
fn repeat(v: Tensor<1>, plane: usize) -> Tensor<1> {
    let channels = v.dims()[0];
    v.reshape([channels, 1])
        .repeat_dim(1, plane)
        .reshape([channels * plane])
}

/// Crosses the ReLU whose pre-activation bounds are `pre` (`[batch, units]`).
fn through_relu(
    a: Tensor<3>,
    k: Tensor<2>,
    pre: &Bounds<2>,
    relax: Relax,
) -> (Tensor<3>, Tensor<2>) {
    match relax {
        Relax::Crown => {
            let (l, u) = (pre.lower(), pre.upper());
            let (lo, up) = (l.clamp_max(0.0), u.clamp_min(0.0));
            let slope = up.clone() / (up - lo.clone()).clamp_min(1e-12);
            let intercept = (lo.neg() * slope.clone()).unsqueeze_dim::<3>(1);
            let lower = slope
                .clone()
                .greater_elem(0.5)
                .float()
                .detach()
                .unsqueeze_dim::<3>(1);
            let upper = slope.unsqueeze_dim::<3>(1);
            let (positive, negative) = (a.clone().clamp_min(0.0), a.clamp_max(0.0));
            let k = k + (negative.clone() * intercept).sum_dim(2).squeeze_dim(2);
            (positive * lower + negative * upper, k)
        }
        Relax::Pattern { .. } => {
            let active = pre
                .centre
                .clone()
                .greater_equal_elem(0.0)
                .float()
                .unsqueeze_dim::<3>(1);
            (a * active, k)
        }
    }
}

/// Crosses a BatchNorm map over `plane` values per channel.
fn through_affine(
    a: Tensor<3>,
    k: Tensor<2>,
    affine: &Affine,
    plane: usize,
    relax: Relax,
) -> (Tensor<3>, Tensor<2>) {
    let scale = repeat(affine.scale.clone(), plane).reshape([1, 1, -1]);
    match relax {
        Relax::Crown => {
            let shift = repeat(affine.shift.clone(), plane).reshape([1, 1, -1]);
            let k = k + (a.clone() * shift).sum_dim(2).squeeze_dim(2);
            (a * scale, k)
        }
        Relax::Pattern { absolute: true } => (a * scale.abs(), k),
        Relax::Pattern { absolute: false } => (a * scale, k),
    }
}
