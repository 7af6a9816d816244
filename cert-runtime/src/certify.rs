//! Certification: integer interval propagation through the deployed
//! arithmetic, margins by last-layer elision, certified radius.

use cert_kernels::{Kernels, centre_slot, radius_slot};

use crate::MAX_CLASSES;
use crate::budget::Budget;
use crate::error::Error;
use crate::format::{Dense, le_i32};
use crate::layer::{Interval, dense};
use crate::model::{Collected, Model, Workspace, argmax};

/// Lower bounds of the margins `f_class - f_j`, one per class
/// (`margins[class]` is 0).
pub type Margins = heapless::Vec<i32, MAX_CLASSES>;

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
/// [`Model::certified_radius`].
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Radius {
    /// The predicted class.
    pub class: usize,
    /// The largest `t <= max` (an `f32`) at which `direction.scaled(t)` is
    /// certified, or `None` when even `t = 0` is not (a tie).
    pub radius: Option<f32>,
}

/// True when margin lower bounds prove that `class` wins everywhere:
/// `f_class - f_j > 0` for every `j < class` and `>= 0` for every
/// `j > class` (ties go to the lowest index, as the prediction's argmax
/// breaks them). For a single-point box this is exact.
pub(crate) fn proves(class: usize, margins: &[i32]) -> bool {
    margins
        .iter()
        .enumerate()
        .all(|(j, &m)| match j.cmp(&class) {
            core::cmp::Ordering::Less => m > 0,
            core::cmp::Ordering::Equal => true,
            core::cmp::Ordering::Greater => m >= 0,
        })
}

impl<'a, K: Kernels> Model<'a, K> {
    /// Certifies a real-valued input: proves, or fails to prove, that every
    /// input within `budget` (L-infinity per channel, in real units,
    /// intersected with the input domain) gets the class the model
    /// predicts for `input`. [`Model::budget`] is the budget the model was
    /// certified for.
    pub fn certify(
        &self,
        input: &[f32],
        budget: Budget<'_>,
        scratch: &mut [i16],
    ) -> Result<Certificate, Error> {
        self.certify_marked(input, budget, scratch, &mut |_| {})
    }

    /// [`Model::certify`], calling `mark(i)` as the interval pass finishes
    /// each layer `i` (the last one is the margins of the logits layer; the
    /// inference an uncertified input also runs comes after it): what a
    /// profiler needs to time the layers on a device.
    pub fn certify_marked(
        &self,
        input: &[f32],
        budget: Budget<'_>,
        scratch: &mut [i16],
        mark: &mut dyn FnMut(usize),
    ) -> Result<Certificate, Error> {
        self.check_input(input)?;
        budget.check(self.input_channels())?;
        let scratch = self.take_scratch(scratch, self.certify_scratch_len())?;
        let mut ws = self.workspace(scratch);
        self.bound(&mut ws, |cr| self.fill_real_box(cr, input, budget), mark);
        Ok(self.decide(&mut ws, |x| self.fill_point(x, input), mark))
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
        self.check_integer_box(point, lo, hi)?;
        let scratch = self.take_scratch(scratch, self.certify_scratch_len())?;
        let mut ws = self.workspace(scratch);
        self.bound(
            &mut ws,
            |cr| self.fill_integer_box(cr, |i| (i16::from(lo[i]), i16::from(hi[i]))),
            &mut |_| {},
        );
        Ok(self.decide(&mut ws, |x| self.fill_quantized(x, point), &mut |_| {}))
    }

    /// The largest `t` in `[0, max]` at which `input` is certified within
    /// `direction.scaled(t)`: with `Budget::uniform(1.0)`, the largest
    /// certified eps; with [`Model::budget`], the largest certified
    /// multiple of the model's own budget. Certification is monotone in
    /// `t` (nested boxes, monotone arithmetic), so a bisection over the
    /// `f32` values in `[0, max]` (at most 32 certifications) finds it
    /// exactly.
    pub fn certified_radius(
        &self,
        input: &[f32],
        direction: Budget<'_>,
        max: f32,
        scratch: &mut [i16],
    ) -> Result<Radius, Error> {
        if max.is_nan() || max < 0.0 {
            return Err(Error::InvalidEps { channel: 0 });
        }
        direction.scaled(max).check(self.input_channels())?;
        let at_zero = self.certify(input, direction.scaled(0.0), scratch)?;
        let class = at_zero.class;
        if !at_zero.certified {
            return Ok(Radius {
                class,
                radius: None,
            });
        }
        let mut certified_at =
            |t: f32| Ok::<_, Error>(self.certify(input, direction.scaled(t), scratch)?.certified);
        if certified_at(max)? {
            return Ok(Radius {
                class,
                radius: Some(max),
            });
        }
        // Non-negative f32s are ordered like their bit patterns.
        let (mut good, mut bad) = (0u32, max.to_bits());
        while bad - good > 1 {
            let mid = good + (bad - good) / 2;
            if certified_at(f32::from_bits(mid))? {
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
    pub(crate) fn check_integer_box(
        &self,
        point: &[i8],
        lo: &[i8],
        hi: &[i8],
    ) -> Result<(), Error> {
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
        Ok(())
    }

    /// Writes the integer box of `input` within `budget` into the packed
    /// interval buffer `cr` (both checked by the caller).
    fn fill_real_box(&self, cr: &mut [i16], input: &[f32], budget: Budget<'_>) {
        let layout = self.layout(0);
        self.for_each_channel(|c, q, values| {
            let eps = budget.eps(c).unwrap_or(0.0);
            let zero = 2 * i16::from(q.zero_point);
            for i in values {
                let (lo, hi) = q.quantize_box(input[i], eps).unwrap_or((0, 0));
                let (lo, hi) = (i16::from(lo), i16::from(hi));
                cr[layout.centre(i)] = lo + hi - zero;
                cr[layout.radius(i)] = hi - lo;
            }
        });
    }

    /// Writes the integer box whose bounds `bounds(i)` gives into the
    /// packed interval buffer `cr`.
    pub(crate) fn fill_integer_box(&self, cr: &mut [i16], bounds: impl Fn(usize) -> (i16, i16)) {
        let layout = self.layout(0);
        self.for_each_channel(|_, q, values| {
            let zero = 2 * i16::from(q.zero_point);
            for i in values {
                let (lo, hi) = bounds(i);
                cr[layout.centre(i)] = lo + hi - zero;
                cr[layout.radius(i)] = hi - lo;
            }
        });
    }

    /// The certificate of the box [`Model::bound`] left in `ws.front`.
    /// Only the class with the largest centre logit can be certified (a
    /// margin lower bound `>= 0` implies a centre margin `>= 0`); when it is
    /// not, one inference of the point that `fill_point` writes names the
    /// class, in the buffers the interval pass left free.
    pub(crate) fn decide(
        &self,
        ws: &mut Workspace<'_>,
        fill_point: impl FnOnce(&mut [i16]),
        mark: &mut dyn FnMut(usize),
    ) -> Certificate {
        let (hidden, last) = self.split_last();
        let candidate = self.centre_argmax(ws.front);
        let margins = margin_bounds(last, ws.front, candidate);
        mark(hidden.len());
        if proves(candidate, &margins) {
            // Every point of the box, the unperturbed input included, gets `candidate`.
            return Certificate {
                class: candidate,
                certified: true,
                margins,
            };
        }
        let class = self.predict_in(ws.back, ws.col, fill_point).class;
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

    /// The class whose logit is largest at the centre of the box bounded
    /// by the packed interval features `cr`.
    pub(crate) fn centre_argmax(&self, cr: &[i16]) -> usize {
        let (_, last) = self.split_last();
        let mut centres = Collected(heapless::Vec::new());
        dense::run::<K, Interval, _>(last, cr, &mut centres);
        argmax(&centres.0)
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
    let bias_y = i64::from(le_i32(last.params.bias, class));
    let mut margins = Margins::new();
    for (j, row_j) in weights.chunks_exact(n).enumerate() {
        if j == class {
            let _ = margins.push(0);
            continue;
        }
        let (mut mid, mut rad) = (2 * (bias_y - i64::from(le_i32(last.params.bias, j))), 0i64);
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
