//! Interval bound propagation over burn tensors, centre/radius form.
//!
//! One pass carries up to three tensors through the network: the clean
//! batch, and the centre and radius of the input box. Linear maps take the
//! centre through the layer and the radius through `|W|`; BatchNorm uses
//! batch statistics in training (of the clean batch or of the box centres,
//! see [`CleanInput`]; not detached) and the running statistics in
//! evaluation; ReLU maps `[c - r, c + r]` to `[relu(c - r), relu(c + r)]`.
//! The classifier is folded with the specification (rows `e_y - e_j`),
//! which bounds every margin `f_y - f_j` directly. A quantisation-aware
//! training pass runs the same rules on fake-quantised values.

use burn::nn::Linear;
use burn::tensor::activation::{log_softmax, relu};
use burn::tensor::module::conv2d;
use burn::tensor::ops::ConvOptions;
use burn::tensor::{Bool, Int, Tensor};
use cert_runtime::Quantizer;
use serde::{Deserialize, Serialize};

mod batch_norm;

pub use crate::bounds::Bounds;
use crate::fake_quant;
use crate::model::{ConvBlock, DenseBlock, InputNorm, Net};
use batch_norm::{batch_norm, per_channel};

/// Training or evaluation: whether BatchNorm uses batch statistics (and
/// updates its running ones), and whether the pass is quantisation-aware.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Mode<'a> {
    /// Batch statistics; running statistics updated.
    Train(Training<'a>),
    /// Running statistics, float arithmetic.
    Eval,
}

impl Mode<'_> {
    fn quant_aware(self) -> bool {
        self.grids().is_some()
    }

    fn grids(&self) -> Option<&Grids<'_>> {
        match self {
            Mode::Train(t) => t.quantized.as_ref(),
            Mode::Eval => None,
        }
    }
}

/// The int8 grids a quantisation-aware pass rounds onto.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Grids<'a> {
    /// The calibrated top of every hidden layer's ReLU output (as
    /// [`crate::calibrate::activation_max`] finds it).
    pub activation_max: &'a [f32],
    /// The input quantiser of every channel.
    pub input: &'a [Quantizer],
}

/// How a training pass computes.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Training<'a> {
    /// What BatchNorm takes its batch statistics from (the loss's use of
    /// the same choice is the caller's).
    pub clean_input: CleanInput,
    /// Quantisation-aware (QA-IBP, see [`crate::fake_quant`]) when given:
    /// weights, activations and the input box are fake-quantised to these
    /// grids of the exported model.
    pub quantized: Option<Grids<'a>>,
}

/// What the clean terms of a training pass (BatchNorm's batch statistics
/// and the natural cross-entropy loss) are computed on. When that tensor is
/// not carried, BatchNorm uses the other one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum CleanInput {
    /// The clean images, as in Shi et al. 2021: an IBP step carries three
    /// tensors (clean, centre, radius) through every layer.
    // The `Default`: what runs saved before this choice existed used (their
    // config.json lacks the field). `certnn train` defaults to `Centres`.
    #[default]
    Batch,
    /// The centres of the input boxes (the images themselves while eps =
    /// 0): an IBP step carries two tensors, a third less work.
    Centres,
}

/// What one propagation produced.
pub struct Pass {
    /// Logits of the clean batch, when a clean batch was given.
    pub logits: Option<Tensor<2>>,
    /// Logits of the box centres, when a box was given.
    pub centre_logits: Option<Tensor<2>>,
    /// Lower bounds of `f_y - f_j`, `[batch, classes]` (0 at `j = y`), when
    /// a box and labels were given.
    pub margins: Option<Tensor<2>>,
    /// Pre-activation bounds (after BatchNorm) of every ReLU layer,
    /// flattened to `[batch, units]`, when asked for.
    pub preactivations: Vec<Bounds<2>>,
    /// The affine map every BatchNorm applied (batch statistics in
    /// training, running ones in evaluation), one per block in order, when
    /// pre-activations are asked for: what a backward bound needs.
    pub affines: Vec<Affine>,
}

/// A per-channel affine map `scale * x + shift` (a BatchNorm as applied).
#[derive(Debug, Clone)]
pub struct Affine {
    /// Per channel.
    pub scale: Tensor<1>,
    /// Per channel.
    pub shift: Tensor<1>,
}

/// The tensors one propagation carries.
struct Flow<const D: usize> {
    clean: Option<Tensor<D>>,
    bounds: Option<Bounds<D>>,
}

/// Propagates a clean batch and/or an input box through `net`.
///
/// `labels` are needed for the margins. With `keep_preactivations`, the
/// bounds before every ReLU are returned (for the warm-up regularisers).
pub fn propagate(
    net: &Net,
    clean: Option<Tensor<4>>,
    input_box: Option<Bounds<4>>,
    labels: Option<Tensor<1, Int>>,
    mode: Mode,
    keep_preactivations: bool,
) -> Pass {
    let mut preactivations = Vec::new();
    let mut affines = Vec::new();
    let input_box = match mode.grids() {
        Some(grids) => input_box.map(|b| fake_quant::input_box(b, grids.input)),
        None => input_box,
    };
    let mut flow = Flow {
        clean,
        bounds: input_box,
    };
    if let Some(norm) = &net.input_norm {
        flow = normalize(norm, flow);
    }
    let mut preactivation_layers = 0;
    for block in &net.convs {
        let affine;
        (flow, affine) = conv_block(block, flow, mode);
        if keep_preactivations && let Some(b) = &flow.bounds {
            preactivations.push(flatten(b.clone()));
            affines.extend(affine);
        }
        flow = activate(flow, mode, preactivation_layers);
        preactivation_layers += 1;
    }
    let mut flow = Flow {
        clean: flow.clean.map(|t| t.flatten(1, 3)),
        bounds: flow.bounds.map(flatten),
    };
    for block in &net.dense {
        let (next, affine) = dense_block(block, flow, mode);
        flow = next;
        if keep_preactivations && let Some(b) = &flow.bounds {
            preactivations.push(b.clone());
            affines.extend(affine);
        }
        flow = activate(flow, mode, preactivation_layers);
        preactivation_layers += 1;
    }
    let head_weight = match mode.quant_aware() {
        true => fake_quant::head_weights(net.head.weight.val()),
        false => net.head.weight.val(),
    };
    let logits = flow
        .clean
        .map(|x| affine(x, head_weight.clone(), &net.head));
    let centre_logits = flow
        .bounds
        .as_ref()
        .map(|b| affine(b.centre.clone(), head_weight.clone(), &net.head));
    let margins = match (flow.bounds, &centre_logits, labels) {
        (Some(b), Some(c), Some(y)) => Some(margin_bounds(head_weight, b, c.clone(), y)),
        _ => None,
    };
    Pass {
        logits,
        centre_logits,
        margins,
        preactivations,
        affines,
    }
}

/// `(x - mean) / std` per channel, on the clean batch and the box.
fn normalize(norm: &InputNorm, flow: Flow<4>) -> Flow<4> {
    let (mean, inv_std) = (
        per_channel::<4>(norm.mean.val()),
        per_channel::<4>(norm.inv_std.val()),
    );
    let map = |x: Tensor<4>| (x - mean.clone()) * inv_std.clone();
    Flow {
        clean: flow.clean.map(map),
        bounds: flow.bounds.map(|b| Bounds {
            centre: map(b.centre),
            radius: b.radius * inv_std.clone(),
        }),
    }
}

fn flatten(b: Bounds<4>) -> Bounds<2> {
    Bounds {
        centre: b.centre.flatten(1, 3),
        radius: b.radius.flatten(1, 3),
    }
}

/// ReLU of hidden layer `layer` (0-based).
fn activate<const D: usize>(flow: Flow<D>, mode: Mode, layer: usize) -> Flow<D> {
    let clean = flow.clean.map(relu);
    let bounds = flow.bounds.map(Bounds::relu);
    let (clean, bounds) = match mode.grids().and_then(|g| g.activation_max.get(layer)) {
        Some(&max) => fake_quant::activations(clean, bounds, max),
        None => (clean, bounds),
    };
    Flow { clean, bounds }
}

/// A layer's weights as a pass uses them: float, or on the int8 grid.
fn weights<const D: usize>(
    w: Tensor<D>,
    mode: Mode,
    quantise: fn(Tensor<D>) -> fake_quant::Grid<D>,
) -> fake_quant::Grid<D> {
    match mode.quant_aware() {
        true => quantise(w),
        false => fake_quant::Grid {
            weights: w.clone(),
            magnitudes: w.abs(),
        },
    }
}

fn conv_block(block: &ConvBlock, flow: Flow<4>, mode: Mode) -> (Flow<4>, Option<Affine>) {
    let conv = &block.conv;
    let w = weights(conv.weight.val(), mode, fake_quant::conv_weights);
    let bias = conv.bias.as_ref().map(|b| b.val());
    let p = block.padding;
    let options = ConvOptions::new(conv.stride, [p, p], conv.dilation, conv.groups);
    let centre_map = |x| conv2d(x, w.weights.clone(), bias.clone(), options.clone());
    let flow = Flow {
        clean: flow.clean.map(centre_map),
        bounds: flow.bounds.map(|b| Bounds {
            centre: centre_map(b.centre),
            radius: conv2d(b.radius, w.magnitudes.clone(), None, options.clone()),
        }),
    };
    batch_norm(&block.bn, flow, mode)
}

fn dense_block(block: &DenseBlock, flow: Flow<2>, mode: Mode) -> (Flow<2>, Option<Affine>) {
    let linear = &block.linear;
    let w = weights(linear.weight.val(), mode, fake_quant::dense_weights);
    let flow = Flow {
        clean: flow.clean.map(|x| affine(x, w.weights.clone(), linear)),
        bounds: flow.bounds.map(|b| Bounds {
            centre: affine(b.centre, w.weights.clone(), linear),
            radius: b.radius.matmul(w.magnitudes.clone()),
        }),
    };
    batch_norm(&block.bn, flow, mode)
}

/// `x W + b` with `linear`'s bias and the given weights (`[in, out]`).
fn affine(x: Tensor<2>, weight: Tensor<2>, linear: &Linear) -> Tensor<2> {
    let y = x.matmul(weight);
    match &linear.bias {
        Some(b) => y + b.val().unsqueeze(),
        None => y,
    }
}

/// Margin lower bounds by last-layer elision: for label `y`, the rows
/// `W_y - W_j` propagate the final box in one step.
fn margin_bounds(
    weight: Tensor<2>, // [features, classes]
    b: Bounds<2>,
    centre_logits: Tensor<2>,
    labels: Tensor<1, Int>,
) -> Tensor<2> {
    let [batch, features] = b.centre.dims();
    let classes = weight.dims()[1];
    let own = centre_logits
        .clone()
        .gather(1, labels.clone().reshape([batch, 1]));
    let centre_margin = own - centre_logits; // [batch, classes]
    let own_rows = weight.clone().transpose().select(0, labels); // [batch, features]
    let diff = own_rows.reshape([batch, features, 1]) - weight.reshape([1, features, classes]);
    let radius_margin = b
        .radius
        .reshape([batch, 1, features])
        .matmul(diff.abs())
        .reshape([batch, classes]);
    centre_margin - radius_margin
}

/// Mean cross entropy of `logits` against `labels`.
pub fn cross_entropy(logits: Tensor<2>, labels: Tensor<1, Int>) -> Tensor<1> {
    let batch = logits.dims()[0];
    log_softmax(logits, 1)
        .gather(1, labels.reshape([batch, 1]))
        .neg()
        .mean()
}

/// The robust loss `mean log(1 + sum_{j != y} exp(-lb_j))`: the cross
/// entropy of the logits `-lb` (where `-lb_y = 0`) against the label.
pub fn robust_loss(margins: Tensor<2>, labels: Tensor<1, Int>) -> Tensor<1> {
    cross_entropy(margins.neg(), labels)
}

/// Per sample: are all margins `f_y - f_j`, `j != y`, provably positive?
pub fn verified(margins: Tensor<2>) -> Tensor<1, Bool> {
    let classes = margins.dims()[1] as i64;
    // lb_y = 0 exactly; each of the other classes - 1 bounds must be > 0.
    margins
        .greater_elem(0.0)
        .int()
        .sum_dim(1)
        .reshape([-1])
        .equal_elem(classes - 1)
}
