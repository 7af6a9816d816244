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

/// One neuron of the tail layer on its accumulator interval `[al, au]`,
/// values scaled by `2^s` (exact integers).
struct Neuron {
    al: i128,
    au: i128,
    /// The multiplier `M` (`m = M / 2^s`).
    multiplier: i128,
    shift: u8,
    /// Output bounds, zero-point shifted.
    lo: i128,
    hi: i128,
    fraction: u8,
}

/// A line `(slope * a + offset) / 2^F` of the accumulator `a`.
#[derive(Clone, Copy)]
struct Line {
    slope: i32,
    offset: i128,
}

impl Line {
    fn constant(value: i32, f: u8) -> Line {
        Line {
            slope: 0,
            offset: i128::from(value) << f,
        }
    }
}

impl Neuron {
    fn of(rq: &Requantize<'_>, k: usize, al: i32, au: i32, fraction: u8) -> Neuron {
        let zero = i128::from(rq.zero_point);
        Neuron {
            al: al.into(),
            au: au.into(),
            multiplier: rq.multiplier(k).into(),
            shift: rq.shift(k),
            lo: i128::from(rq.min) - zero,
            hi: i128::from(rq.max) - zero,
            fraction,
        }
    }

    /// `a m + d / 2` scaled by `2^s`, for `d` in `{-1, 1}`.
    fn scaled(&self, a: i128, d: i128) -> i128 {
        a * self.multiplier + d * (1i128 << (self.shift - 1))
    }

    /// The better lower line: the chord of `φ(a) = min(a m - 1/2, hi)` or
    /// the constant `gl = g(al)`.
    fn lower(&self, gl: i32) -> Line {
        let top = self.hi << self.shift;
        let y1 = self.scaled(self.al, -1).min(top);
        let y2 = self.scaled(self.au, -1).min(top);
        // Average of the chord over [al, au] against gl (both scaled by 2^s).
        if y1 + y2 > 2 * (i128::from(gl) << self.shift) {
            self.onto_grid(y1, y2, false)
        } else {
            Line::constant(gl, self.fraction)
        }
    }

    /// The better upper line: the chord of `ψ(a) = max(a m + 1/2, lo)` or
    /// the constant `gu = g(au)`.
    fn upper(&self, gu: i32) -> Line {
        let bottom = self.lo << self.shift;
        let y1 = self.scaled(self.al, 1).max(bottom);
        let y2 = self.scaled(self.au, 1).max(bottom);
        if y1 + y2 < 2 * (i128::from(gu) << self.shift) {
            self.onto_grid(y1, y2, true)
        } else {
            Line::constant(gu, self.fraction)
        }
    }

    /// The line through `(al, y1 / 2^s)` and `(au, y2 / 2^s)` on the grid
    /// `2^-F`: slope rounded toward zero, offset rounded down (a lower
    /// line) or up (`upper`) at both ends, so the grid line stays on its
    /// side of the exact one over `[al, au]` (`al < au`: the box is not one
    /// value).
    fn onto_grid(&self, y1: i128, y2: i128, upper: bool) -> Line {
        let (f, s) = (self.fraction, self.shift);
        // Any integer slope gives a valid line (the offset below is exact
        // for it), so the slope is only estimated, in f32: an i128 division
        // would cost kilobytes of code on the device. Chords rise by at
        // most `m`, so it is in `0..=2^22` (Tail::of).
        let rise = (y2 - y1) as f32 * pow2(f);
        let run = (self.au - self.al) as f32 * pow2(s);
        let slope = i128::from((rise / run) as i32);
        // offset at each end: (y 2^F - slope a 2^s) / 2^s.
        let end = |y: i128, a: i128| (y << f) - ((slope * a) << s);
        let (e1, e2) = (end(y1, self.al), end(y2, self.au));
        let offset = match upper {
            false => e1.min(e2) >> s,
            true => -((-e1.max(e2)) >> s),
        };
        Line {
            slope: slope as i32,
            offset,
        }
    }
}

/// `2^e` as an `f32` (exact: `e <= 62`).
fn pow2(e: u8) -> f32 {
    f32::from_bits((127 + u32::from(e)) << 23)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::requant::requantize;

    /// xorshift64: deterministic test data.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn range(&mut self, lo: i64, hi: i64) -> i64 {
            lo + (self.next() % (hi - lo + 1) as u64) as i64
        }
    }

    /// Every line a neuron offers is on its side of the device's own
    /// requantisation at EVERY integer accumulator of the interval, exactly
    /// (`slope a + offset` against `g(a) 2^F` in integers).
    #[test]
    fn lines_bound_the_requantisation_at_every_accumulator() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let mut chords = 0;
        for _ in 0..20_000 {
            let shift = rng.range(9, 44) as u8;
            let multiplier = rng.range(1 << 30, (1 << 31) - 1) as i32;
            let zero_point = rng.range(-128, 0) as i8;
            let min = if rng.next().is_multiple_of(2) {
                zero_point
            } else {
                -128
            };
            let max = if rng.next().is_multiple_of(4) {
                rng.range(i64::from(zero_point), 127) as i8
            } else {
                127
            };
            // Accumulators around where the output moves: a m ~ +-300.
            let reach = (300i128 << shift) / i128::from(multiplier);
            let reach = i64::try_from(reach.min(1 << 30)).unwrap().max(2);
            let al = rng.range(-reach, reach) as i32;
            let au = (i64::from(al) + rng.range(1, 400)).min(i64::from(i32::MAX)) as i32;
            let fraction = shift.saturating_sub(9);
            let g = |a: i32| {
                i32::from(requantize(a, multiplier, shift, zero_point, min, max).unwrap())
                    - i32::from(zero_point)
            };
            let (gl, gu) = (g(al), g(au));
            if gl == gu {
                continue;
            }
            let bytes_m = multiplier.to_le_bytes();
            let shifts = [shift];
            let rq = Requantize {
                multiplier: &bytes_m[..],
                shift: &shifts[..],
                zero_point,
                min,
                max,
                scale: 1.0,
            };
            let neuron = Neuron::of(&rq, 0, al, au, fraction);
            let (lower, upper) = (neuron.lower(gl), neuron.upper(gu));
            chords += usize::from(lower.slope != 0) + usize::from(upper.slope != 0);
            let step = ((au - al) / 200).max(1);
            let mut a = al;
            loop {
                let exact = i128::from(g(a)) << fraction;
                let at = |l: &Line| i128::from(l.slope) * i128::from(a) + l.offset;
                assert!(
                    at(&lower) <= exact,
                    "lower line above g at {a}: {} > {exact}",
                    at(&lower)
                );
                assert!(
                    at(&upper) >= exact,
                    "upper line below g at {a}: {} < {exact}",
                    at(&upper)
                );
                if a == au {
                    break;
                }
                a = a.saturating_add(step).min(au);
            }
        }
        assert!(chords > 5_000, "only {chords} chords were tried");
    }
}
