//! Certification: integer interval propagation through the deployed
//! arithmetic, margins by last-layer elision, certified radius.

use cert_kernels::{Kernels, centre_slot, radius_slot};

use crate::budget::Budget;
use crate::error::Error;
use crate::format::Dense;
#[cfg(feature = "linear")]
use crate::format::{Bounds, Layer};
#[cfg(feature = "linear")]
use crate::linear;
pub use crate::margin::Margins;
use crate::margin::proves;
use crate::net::{Net, Workspace, argmax};

/// The outcome of certifying one input.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Certificate {
    /// The class the deployed model predicts for the unperturbed input.
    pub class: usize,
    /// True when every input in the box provably gets `class`.
    pub certified: bool,
    /// Lower bound of `f_class - f_j` over the box, in logit units, for
    /// every class `j` (0 at `j == class`).
    pub margins: Margins,
}

impl Certificate {
    /// The smallest margin lower bound over `j != class`.
    pub fn min_margin(&self) -> i32 {
        self.margins
            .iter()
            .enumerate()
            .filter(|&(j, _)| j != self.class)
            .map(|(_, &m)| m)
            .min()
            .unwrap_or(0)
    }
}

/// The largest certified multiple of a budget, found by
/// `Model::certified_radius`.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Radius {
    /// The predicted class.
    pub class: usize,
    /// The largest `t <= max` (an `f32`) at which `direction.scaled(t)` is
    /// certified, or `None` when even `t = 0` is not (a tie).
    pub radius: Option<f32>,
}

/// Certifies a real-valued input (`Model::certify`), calling `mark(0)` as
/// the box is in and `mark(i + 1)` as the interval pass finishes layer `i`.
pub(crate) fn certify<K: Kernels>(
    net: &Net<'_, K>,
    input: &[f32],
    budget: Budget<'_>,
    scratch: &mut [i16],
    mark: &mut dyn FnMut(usize),
) -> Result<Certificate, Error> {
    net.check_input(input)?;
    budget.check(net.input_channels())?;
    let mut ws = net.plan.intervals(scratch)?;
    net.bound(&mut ws, |cr| net.fill_real_box(cr, input, budget), mark);
    Ok(certificate_of_box(
        net,
        &mut ws,
        |x| net.fill_point(x, input),
        mark,
    ))
}

/// Certifies an integer box `[lo, hi]` around the quantised point `point`
/// (`Model::certify_quantized`).
pub(crate) fn certify_quantized<K: Kernels>(
    net: &Net<'_, K>,
    point: &[i8],
    lo: &[i8],
    hi: &[i8],
    scratch: &mut [i16],
) -> Result<Certificate, Error> {
    check_integer_box(net, point, lo, hi)?;
    let mut ws = net.plan.intervals(scratch)?;
    net.bound(
        &mut ws,
        |cr| net.fill_integer_box(cr, |i| (i16::from(lo[i]), i16::from(hi[i]))),
        &mut |_| {},
    );
    Ok(certificate_of_box(
        net,
        &mut ws,
        |x| net.fill_quantized(x, point),
        &mut |_| {},
    ))
}

/// The largest `t` in `[0, max]` at which `input` is certified within
/// `direction.scaled(t)` (`Model::certified_radius`). Certification is
/// monotone in `t` (nested boxes, monotone arithmetic), so a bisection
/// over the `f32` values in `[0, max]` (at most 32 certifications) finds
/// it exactly.
pub(crate) fn certified_radius<K: Kernels>(
    net: &Net<'_, K>,
    input: &[f32],
    direction: Budget<'_>,
    max: f32,
    scratch: &mut [i16],
) -> Result<Radius, Error> {
    if max.is_nan() || max < 0.0 {
        return Err(Error::InvalidEps { channel: 0 });
    }
    direction.scaled(max).check(net.input_channels())?;
    let mut certified_at = |t: f32| certify(net, input, direction.scaled(t), scratch, &mut |_| {});
    let at_zero = certified_at(0.0)?;
    let class = at_zero.class;
    if !at_zero.certified {
        return Ok(Radius {
            class,
            radius: None,
        });
    }
    if certified_at(max)?.certified {
        return Ok(Radius {
            class,
            radius: Some(max),
        });
    }
    // Non-negative f32s are ordered like their bit patterns.
    let (mut good, mut bad) = (0u32, max.to_bits());
    while bad - good > 1 {
        let mid = good + (bad - good) / 2;
        if certified_at(f32::from_bits(mid))?.certified {
            good = mid;
        } else {
            bad = mid;
        }
    }
    Ok(Radius {
        class,
        radius: Some(f32::from_bits(good)),
    })
}

/// Checks an integer box's lengths and `lo <= point <= hi`.
fn check_integer_box<K: Kernels>(
    net: &Net<'_, K>,
    point: &[i8],
    lo: &[i8],
    hi: &[i8],
) -> Result<(), Error> {
    let expected = net.input_len();
    for got in [point.len(), lo.len(), hi.len()] {
        if got != expected {
            return Err(Error::InputLength { expected, got });
        }
    }
    for (index, ((&p, &l), &h)) in point.iter().zip(lo).zip(hi).enumerate() {
        if !(l <= p && p <= h) {
            return Err(Error::InputOutOfDomain { index });
        }
    }
    Ok(())
}

/// The certificate of the box [`Net::bound`] left in `ws.front`. Only the
/// class with the largest centre logit can be certified (a margin lower
/// bound `>= 0` implies a centre margin `>= 0`); when it is not, one
/// inference of the point that `fill_point` writes names the class, in the
/// buffers the interval pass left free.
pub(crate) fn certificate_of_box<K: Kernels>(
    net: &Net<'_, K>,
    ws: &mut Workspace<'_>,
    fill_point: impl FnOnce(&mut [i16]),
    mark: &mut dyn FnMut(usize),
) -> Certificate {
    let (hidden, last) = net.split_last();
    let candidate = argmax(&net.centre_logits(ws.front));
    let mut margins = margin_bounds(last, ws.front, candidate);
    if !proves(candidate, &margins) {
        tighten(net, ws, candidate, &mut margins);
    }
    mark(hidden.len() + 1);
    if proves(candidate, &margins) {
        // Every point of the box, the unperturbed input included, gets `candidate`.
        return Certificate {
            class: candidate,
            certified: true,
            margins,
        };
    }
    let class = net
        .predict_in(ws.back, ws.col, fill_point, &mut |_| {})
        .class;
    let margins = if class == candidate {
        margins
    } else {
        margin_bounds(last, ws.front, class)
    };
    Certificate {
        class,
        certified: false,
        margins,
    }
}

/// Lower bounds of `f_class - f_j` for every `j`, from the packed interval
/// features `cr` of the last layer, by last-layer elision: the rows
/// `w_class - w_j` are propagated as one layer, which is tighter than
/// subtracting separate bounds. 64-bit sums: the row differences double
/// the per-channel headroom.
pub(crate) fn margin_bounds(last: &Dense<'_>, cr: &[i16], class: usize) -> Margins {
    let n = last.inputs as usize;
    let weights = last.params.weights;
    let row_y = &weights[class * n..(class + 1) * n];
    let bias_y = i64::from(last.params.bias(class));
    let mut margins = Margins::new();
    for (j, row_j) in weights.chunks_exact(n).enumerate() {
        if j == class {
            let _ = margins.push(0);
            continue;
        }
        let (mut mid, mut rad) = (2 * (bias_y - i64::from(last.params.bias(j))), 0i64);
        for (k, (&wy, &wj)) in row_y.iter().zip(row_j).enumerate() {
            let w = i64::from(wy as i8) - i64::from(wj as i8);
            mid += w * i64::from(cr[centre_slot(k)]);
            rad += w.abs() * i64::from(cr[radius_slot(k)]);
        }
        let lower = (mid - rad) >> 1;
        let _ = margins.push(lower.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32);
    }
    margins
}

/// Raises the margins of `class` with linear bounds when the model asks
/// for them and its last hidden layer allows (see `linear`).
#[cfg(feature = "linear")]
pub(crate) fn tighten<K: Kernels>(
    net: &Net<'_, K>,
    ws: &mut Workspace<'_>,
    class: usize,
    margins: &mut Margins,
) {
    let (Bounds::Linear, Some(tail)) = (net.desc.header.certification.bounds, net.tail) else {
        return;
    };
    let (_, logits) = net.split_last();
    if let Layer::Dense(hidden) = &net.desc.layers[tail.layer] {
        let front = &*ws.front;
        linear::tighten::<K>(
            hidden, logits, tail, front, ws.back, class, margins, ws.linear,
        );
    }
}

/// Without the `linear` feature a model cannot ask for linear bounds (it
/// does not load): margins stay the interval ones.
#[cfg(not(feature = "linear"))]
pub(crate) fn tighten<K: Kernels>(
    _: &Net<'_, K>,
    _: &mut Workspace<'_>,
    _: usize,
    _: &mut Margins,
) {
}
