//! Certification: exact integer interval propagation through the deployed
//! arithmetic, margins by last-layer elision, certified radius.

use crate::MAX_CLASSES;
use crate::error::Error;
use crate::format::{Dense, Output, le_i32};
use crate::layer::{Interval, Span};
use crate::model::{Model, argmax, run_layer};
use crate::requant::{quantize_box, quantize_input, requantize};

/// Lower bounds of the margins `f_class - f_j`, one per class
/// (`margins[class]` is 0).
pub type Margins = heapless::Vec<i32, MAX_CLASSES>;

/// The outcome of certifying one input.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Certificate {
    /// The class the deployed model predicts for the unperturbed input.
    pub class: usize,
    /// True when every input in the eps box provably gets `class`.
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

/// The largest certified eps found by [`Model::certified_radius`].
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Radius {
    /// The predicted class.
    pub class: usize,
    /// Largest certified eps on the grid `k * scale` (and `max_eps`), or
    /// `None` when even eps = 0 is not certified (a tie).
    pub eps: Option<f32>,
}

impl<'a> Model<'a> {
    /// Certifies a real-valued input: proves, or fails to prove, that every
    /// input within `eps` (L-infinity, real units, intersected with the input
    /// domain) gets the class the model predicts for `input`.
    pub fn certify(
        &self,
        input: &[f32],
        eps: f32,
        scratch: &mut [i16],
    ) -> Result<Certificate, Error> {
        self.check_input(input)?;
        if !(eps.is_finite() && eps >= 0.0) {
            return Err(Error::InvalidEps);
        }
        let scratch = self.take_scratch(scratch, self.certify_scratch_len())?;
        let spec = self.header().input;
        let zero = 2 * i16::from(spec.zero_point);
        self.certify_with(
            scratch,
            |c, r| {
                for ((c, r), &x) in c.iter_mut().zip(r.iter_mut()).zip(input) {
                    let (lo, hi) = quantize_box(x, eps, &spec);
                    *c = i16::from(lo) + i16::from(hi) - zero;
                    *r = i16::from(hi) - i16::from(lo);
                }
            },
            |x| {
                for (x, &v) in x.iter_mut().zip(input) {
                    *x = i16::from(quantize_input(v, &spec)) - i16::from(spec.zero_point);
                }
            },
        )
    }

    /// Certifies an integer box `[lo, hi]` around the quantised point
    /// `point` (`lo <= point <= hi` elementwise).
    pub fn certify_quantized(
        &self,
        point: &[i8],
        lo: &[i8],
        hi: &[i8],
        scratch: &mut [i16],
    ) -> Result<Certificate, Error> {
        let expected = self.input_len();
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
        let scratch = self.take_scratch(scratch, self.certify_scratch_len())?;
        let zero = i16::from(self.header().input.zero_point);
        self.certify_with(
            scratch,
            |c, r| {
                for (i, (c, r)) in c.iter_mut().zip(r.iter_mut()).enumerate() {
                    *c = i16::from(lo[i]) + i16::from(hi[i]) - 2 * zero;
                    *r = i16::from(hi[i]) - i16::from(lo[i]);
                }
            },
            |x| {
                for (x, &q) in x.iter_mut().zip(point) {
                    *x = i16::from(q) - zero;
                }
            },
        )
    }

    /// Largest eps, found by bisection over the input quantisation grid
    /// `k * scale` up to `max_eps`, at which `input` is certified.
    pub fn certified_radius(
        &self,
        input: &[f32],
        max_eps: f32,
        scratch: &mut [i16],
    ) -> Result<Radius, Error> {
        if !(max_eps.is_finite() && max_eps >= 0.0) {
            return Err(Error::InvalidEps);
        }
        let scale = self.header().input.scale;
        let eps_at = |k: u32| (k as f32 * scale).min(max_eps);
        // Certification is monotone in eps (nested boxes, monotone arithmetic).
        let at_zero = self.certify(input, 0.0, scratch)?;
        if !at_zero.certified {
            return Ok(Radius {
                class: at_zero.class,
                eps: None,
            });
        }
        // At most u32::MAX - 1 grid steps (a huge max_eps / scale saturates
        // the cast), so that `steps + 1` below cannot overflow.
        let steps = ((max_eps / scale) as u32)
            .saturating_add(1)
            .min(u32::MAX - 1);
        let (mut good, mut bad) = (0u32, steps + 1);
        if self.certify(input, eps_at(steps), scratch)?.certified {
            good = steps;
        }
        while bad - good > 1 && good != steps {
            let mid = good + (bad - good) / 2;
            if self.certify(input, eps_at(mid), scratch)?.certified {
                good = mid;
            } else {
                bad = mid;
            }
        }
        Ok(Radius {
            class: at_zero.class,
            eps: Some(eps_at(good)),
        })
    }

    /// The certification pass. `scratch` holds four activation buffers:
    /// the interval pass ping-pongs between two (c, r) pairs; the fallback
    /// inference, needed only when the box is not certified, runs in the
    /// pair the last hidden layer did not write, so its bounds survive.
    fn certify_with(
        &self,
        scratch: &mut [i16],
        fill_box: impl FnOnce(&mut [i16], &mut [i16]),
        fill_point: impl FnOnce(&mut [i16]),
    ) -> Result<Certificate, Error> {
        let m = self.max_activation();
        let (front, back) = scratch.split_at_mut(2 * m);
        let (mut c_src, mut r_src) = front.split_at_mut(m);
        let (mut c_dst, mut r_dst) = back.split_at_mut(m);
        let n = self.input_len();
        fill_box(&mut c_src[..n], &mut r_src[..n]);
        let (hidden, last) = self.split_last();
        let shapes = self.shapes();
        for (i, layer) in hidden.iter().enumerate() {
            let (input, output) = (shapes[i], shapes[i + 1]);
            let len = output.len();
            let (c_out, r_out) = (&mut c_dst[..len], &mut r_dst[..len]);
            let interval = Interval {
                c: &c_src[..input.len()],
                r: &r_src[..input.len()],
            };
            if let Output::Requantize(rq) = layer.params().output {
                let zero = 2 * i16::from(rq.zero_point);
                run_layer(
                    layer,
                    input,
                    output,
                    &interval,
                    |index, channel, acc: Span| {
                        let (lo, hi) = acc.bounds();
                        let (mult, shift) = (le_i32(rq.multiplier, channel), rq.shift[channel]);
                        let lo =
                            i16::from(requantize(lo, mult, shift, rq.zero_point, rq.min, rq.max));
                        let hi =
                            i16::from(requantize(hi, mult, shift, rq.zero_point, rq.min, rq.max));
                        c_out[index] = lo + hi - zero;
                        r_out[index] = hi - lo;
                    },
                );
            }
            core::mem::swap(&mut c_src, &mut c_dst);
            core::mem::swap(&mut r_src, &mut r_dst);
        }
        let features = last.inputs as usize;
        let (c, r) = (&c_src[..features], &r_src[..features]);
        // Only the class with the largest centre logit can be certified:
        // a positive margin lower bound implies a positive centre margin.
        let mut centres = heapless::Vec::<i32, MAX_CLASSES>::new();
        crate::layer::dense::run(last, &Interval { c, r }, |_, _, acc: Span| {
            let _ = centres.push(acc.mid2);
        });
        let candidate = argmax(&centres);
        let margins = margin_bounds(last, c, r, candidate);
        let certified = margins
            .iter()
            .enumerate()
            .all(|(j, &b)| j == candidate || b > 0);
        if certified {
            // Every point of the box, the unperturbed input included, gets `candidate`.
            return Ok(Certificate {
                class: candidate,
                certified,
                margins,
            });
        }
        let prediction = self.predict_with(c_dst, r_dst, fill_point)?;
        let margins = if prediction.class == candidate {
            margins
        } else {
            margin_bounds(last, c, r, prediction.class)
        };
        Ok(Certificate {
            class: prediction.class,
            certified: false,
            margins,
        })
    }
}

/// Lower bounds of `f_class - f_j` for every `j`, by last-layer elision:
/// the rows `w_class - w_j` are propagated as one layer, which is tighter
/// than subtracting separate bounds. 64-bit sums: the row differences
/// double the per-channel headroom.
fn margin_bounds(last: &Dense<'_>, c: &[i16], r: &[i16], class: usize) -> Margins {
    let n = last.inputs as usize;
    let weights = last.params.weights;
    let row_y = &weights[class * n..(class + 1) * n];
    let bias_y = i64::from(le_i32(last.params.bias, class));
    let mut margins = Margins::new();
    for (j, row_j) in weights.chunks_exact(n).enumerate() {
        if j == class {
            let _ = margins.push(0);
            continue;
        }
        let bias = 2 * (bias_y - i64::from(le_i32(last.params.bias, j)));
        let (mut mid, mut rad) = (bias, 0i64);
        for (((&wy, &wj), &c), &r) in row_y.iter().zip(row_j).zip(c).zip(r) {
            let w = i64::from(wy as i8) - i64::from(wj as i8);
            mid += w * i64::from(c);
            rad += w.abs() * i64::from(r);
        }
        let lower = (mid - rad) >> 1;
        let _ = margins.push(lower.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32);
    }
    margins
}
