//! Linear bounds of the margins, in exact integer arithmetic, for a box the
//! interval pass does not certify (a model whose spec asks for
//! `Bounds::Linear`).
//!
//! The margin `f_y - f_j = Δb + Σ_k c_k x'_k` of the logits layer
//! (`c_k = w_yk - w_jk`) is back-substituted through the last hidden layer,
//! a Dense layer: `x'_k = g_k(acc_k)`, `acc_k = b_k + Σ_i W_ki x_i`, where
//! `g_k` is the device's requantisation, `clamp(R(acc), lo, hi)` with
//! `R(a) = floor(a m + 1/2)`, `m = M / 2^s`, in zero-point-shifted units.
//! Every step is exact or rounded outward:
//!
//! - `a m - 1/2 < R(a) <= a m + 1/2`, and the clamps only raise (lower
//!   clamp) or lower (upper clamp) a value, so on the accumulator's
//!   integer interval `[al, au]` (from the interval pass) `g` lies between
//!   the concave `φ(a) = min(a m - 1/2, hi)` and the convex
//!   `ψ(a) = max(a m + 1/2, lo)`. A chord of `φ` is below `φ` (and `g`), a
//!   chord of `ψ` above `ψ` (and `g`); `g(al)` and `g(au)` are exact constant
//!   lines. Each neuron takes, per margin, the better of its chord and its
//!   constant on average over `[al, au]` (CROWN's adaptive choice), the lower
//!   line where `c_k > 0`, the upper where `c_k < 0`.
//! - A line is moved onto the grid `2^-F` by rounding its slope anywhere and
//!   its offset outward at both ends of `[al, au]`: a linear function below
//!   (above) the exact line at both ends is below (above) it between them.
//! - Substituting `acc_k` leaves `Σ_i A_i x_i + const`; its minimum over the
//!   input box is `Σ_i min(A_i xl_i, A_i xu_i)`. Sums are `i128` (products
//!   `i64`), so nothing overflows; the margin, an integer, is at least the
//!   bound rounded up.
//!
//! The bound is reported only where it beats the interval one, so it is
//! never weaker. Neurons whose box is one value are exact constants.

use cert_kernels::{Kernels, centre_slot, radius_slot};

use crate::format::{Dense, Layer, Output, Requantize};
use crate::layer::{Interval, Sink, Span, dense};
use crate::margin::{Margins, proves_margin};

mod relax;

use relax::{Line, Neuron};

/// `i16` scratch elements per output of the last hidden layer: its
/// accumulator bounds and its coefficient, three `i32` as `i16` pairs.
pub(crate) const SCRATCH_PER_NEURON: usize = 6;

/// The last hidden layer, when linear bounds apply to the model (a Dense
/// layer that requantises), and the grid `2^-F` its lines live on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Tail {
    /// Index of the last hidden layer.
    pub layer: usize,
    /// Fraction bits of the slopes and offsets.
    pub fraction: u8,
}

impl Tail {
    /// The tail of a model whose last hidden layer is `layers[last - 1]`:
    /// `None` without one, or when it is a convolution. `F = min shift - 9`
    /// keeps every slope times a logit weight difference inside `i32`
    /// (slopes are at most `m < 2^(31 - s)`); a layer whose multipliers are
    /// too large for any fraction bits has none.
    pub fn of(layers: &[Layer<'_>]) -> Option<Tail> {
        let layer = layers.len().checked_sub(2)?;
        let Layer::Dense(d) = &layers[layer] else {
            return None;
        };
        let Output::Requantize(rq) = d.params.output else {
            return None;
        };
        let min_shift = (0..d.outputs as usize).map(|k| rq.shift(k)).min()?;
        Some(Tail {
            layer,
            fraction: min_shift.saturating_sub(9),
        })
    }
}

/// Raises the margin lower bounds of `class` that the interval pass left
/// unproven, from the box of the tail layer `hidden`: its output in
/// `front` and its input in `back` (packed intervals, as the interval pass
/// leaves them). `scratch` holds [`SCRATCH_PER_NEURON`] elements per output
/// of `hidden`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn tighten<K: Kernels>(
    hidden: &Dense<'_>,
    logits: &Dense<'_>,
    tail: Tail,
    front: &[i16],
    back: &[i16],
    class: usize,
    margins: &mut Margins,
    scratch: &mut [i16],
) {
    let Output::Requantize(rq) = hidden.params.output else {
        return;
    };
    let n = hidden.outputs as usize;
    let (accs, alphas) = scratch[..SCRATCH_PER_NEURON * n].split_at_mut(4 * n);
    dense::run::<K, Interval, _>(hidden, back, &mut Recorded(Wide(accs)));
    let (accs, mut alphas) = (Wide(accs), Wide(alphas));
    let boxes = Boxes { front, back };
    for j in 0..margins.len() {
        if j == class || proves_margin(class, j, margins[j]) {
            continue;
        }
        let bound = margin_bound(
            hidden,
            &rq,
            logits,
            tail.fraction,
            &boxes,
            &accs,
            &mut alphas,
            class,
            j,
        );
        margins[j] = margins[j].max(bound);
    }
}

/// The tail layer's output box (`front`) and input box (`back`).
struct Boxes<'b> {
    front: &'b [i16],
    back: &'b [i16],
}

/// The linear lower bound of `f_class - f_j`, rounded up to an integer.
#[allow(clippy::too_many_arguments)]
fn margin_bound(
    hidden: &Dense<'_>,
    rq: &Requantize<'_>,
    logits: &Dense<'_>,
    f: u8,
    ws: &Boxes<'_>,
    accs: &Wide<'_>,
    alphas: &mut Wide<'_>,
    class: usize,
    j: usize,
) -> i32 {
    let n = hidden.outputs as usize;
    let row = |c: usize| &logits.params.weights[c * n..(c + 1) * n];
    let (row_y, row_j) = (row(class), row(j));
    let scale = 1i128 << f;
    let mut total =
        scale * i128::from(i64::from(logits.params.bias(class)) - i64::from(logits.params.bias(j)));
    for k in 0..n {
        let c = i32::from(row_y[k] as i8) - i32::from(row_j[k] as i8);
        alphas.set(k, 0);
        if c == 0 {
            continue;
        }
        // The neuron's output box, zero-point shifted (the logits layer's
        // packed input).
        let (mid2, rad) = (
            i32::from(ws.front[centre_slot(k)]),
            i32::from(ws.front[radius_slot(k)]),
        );
        let (gl, gu) = ((mid2 - rad) >> 1, (mid2 + rad) >> 1);
        let neuron = Neuron::of(rq, k, accs.get(2 * k), accs.get(2 * k + 1), f);
        let line = match (gl == gu, c > 0) {
            (true, _) => Line::constant(gl, f),
            (false, true) => neuron.lower(gl),
            (false, false) => neuron.upper(gu),
        };
        // |c| <= 254 and |slope| <= 2^22 (Tail::of) keep alpha in i32; a
        // slope that would not (a multiplier too large) takes the constant.
        let line = match c.checked_mul(line.slope) {
            Some(alpha) if alpha.unsigned_abs() < 1 << 30 => {
                alphas.set(k, alpha);
                line
            }
            _ => Line::constant(if c > 0 { gl } else { gu }, f),
        };
        total += i128::from(c) * line.offset
            + i128::from(c) * i128::from(line.slope) * i128::from(hidden.params.bias(k));
    }
    // Σ_i min(A_i xl_i, A_i xu_i) over the tail layer's input box.
    let inputs = hidden.inputs as usize;
    let weights = hidden.params.weights;
    for i in 0..inputs {
        let mut a = 0i64;
        for k in 0..n {
            let alpha = alphas.get(k);
            if alpha != 0 {
                a += i64::from(alpha) * i64::from(weights[k * inputs + i] as i8);
            }
        }
        let (mid2, rad) = (
            i32::from(ws.back[centre_slot(i)]),
            i32::from(ws.back[radius_slot(i)]),
        );
        let (xl, xu) = ((mid2 - rad) >> 1, (mid2 + rad) >> 1);
        total += (i128::from(a) * i128::from(xl)).min(i128::from(a) * i128::from(xu));
    }
    // The margin is an integer at least total / 2^F.
    let bound = -((-total) >> f);
    bound.clamp(i128::from(i32::MIN), i128::from(i32::MAX)) as i32
}

/// `i32` values kept in an `i16` scratch, two elements each (high, low).
struct Wide<'s>(&'s mut [i16]);

impl Wide<'_> {
    fn get(&self, i: usize) -> i32 {
        (i32::from(self.0[2 * i]) << 16) | i32::from(self.0[2 * i + 1] as u16)
    }

    fn set(&mut self, i: usize, v: i32) {
        self.0[2 * i] = (v >> 16) as i16;
        self.0[2 * i + 1] = v as i16;
    }
}

/// An interval pass's output stage that records each accumulator's bounds
/// (`al`, `au` of output `k` at `2 k`, `2 k + 1`).
struct Recorded<'s>(Wide<'s>);

impl Sink<Span> for Recorded<'_> {
    fn put(&mut self, index: usize, _: usize, acc: Span) {
        let (lo, hi) = acc.bounds();
        self.0.set(2 * index, lo);
        self.0.set(2 * index + 1, hi);
    }
}
