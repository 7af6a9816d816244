//! Refinement: when the interval pass cannot certify a box, bisect the
//! integer input box and bound each half with the same interval pass,
//! depth first, until every leaf is proven, a leaf's own midpoint is
//! classified differently (a counterexample), or a budget of boxes runs
//! out.
//!
//! Sound by construction: the two halves `[lo, m]` and `[m + 1, hi]` of an
//! integer interval cover it exactly, so proving every leaf proves the
//! whole box. Complete in the limit: a single-point box is bounded exactly,
//! so with enough boxes every input ends certified or refuted. The search
//! keeps one box and a trail of the splits it made (a fixed-capacity
//! `heapless` stack, one entry per level), and allocates nothing.

use cert_kernels::Kernels;

use crate::budget::Budget;
use crate::certify::{Certificate, margin_bounds, proves};
use crate::error::Error;
use crate::format::Layer;
use crate::model::{Model, Workspace};

/// What refinement concluded about a box. In JSON it is `"certified"`, `"refuted"` or `"unknown"`; in test-vector
/// files (postcard) its variant index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Verdict {
    /// Every input of the box gets the class.
    Certified,
    /// An input of the box gets another class; it is in the caller's
    /// counterexample buffer.
    Refuted,
    /// The box budget or the trail ran out first.
    Unknown,
}

/// The outcome of refining one input.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Refinement {
    /// The plain interval certificate of the whole box (what
    /// [`Model::certify`] returns); its class is the one refined.
    pub certificate: Certificate,
    /// What refinement concluded.
    pub verdict: Verdict,
    /// Boxes bounded by the interval pass, the whole box included.
    pub boxes: u32,
}

/// One level of the depth-first search: the input value split there, its
/// bounds before the split, and which half is being explored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Split {
    dim: u32,
    lo: i8,
    hi: i8,
    upper: bool,
}

/// The stack of a refinement: `N` levels of splits at most (a search that
/// would go deeper ends [`Verdict::Unknown`]).
pub type Trail<const N: usize> = heapless::Vec<Split, N>;

/// The lower half of `[lo, hi]` ends at `floor((lo + hi) / 2)`.
fn midpoint(lo: i16, hi: i16) -> i16 {
    (lo + hi).div_euclid(2)
}

impl<'a, K: Kernels> Model<'a, K> {
    /// Scratch `i16` elements [`Model::refine`] needs: the certification
    /// scratch plus, per input value, the box (2), a split score (1) and a
    /// candidate point (1).
    pub fn refine_scratch_len(&self) -> usize {
        self.certify_scratch_len() + 4 * self.input_len()
    }

    /// Certifies `input` within `budget` like [`Model::certify`], and when
    /// that fails, refines: bisects the integer box on the value with the
    /// largest width times first-layer weight mass, bounds each half, and
    /// goes on depth first. At most `max_boxes` boxes are bounded (the
    /// whole box counts as one) and `trail` bounds the depth. A refuted
    /// input leaves in `counterexample` a real input within the budget
    /// (and the domain) that the model classifies differently, checked by
    /// [`Model::predict`]'s own arithmetic.
    pub fn refine<const N: usize>(
        &self,
        input: &[f32],
        budget: Budget<'_>,
        max_boxes: u32,
        scratch: &mut [i16],
        trail: &mut Trail<N>,
        counterexample: &mut [f32],
    ) -> Result<Refinement, Error> {
        self.check_input(input)?;
        budget.check(self.input_channels())?;
        let n = self.input_len();
        if counterexample.len() != n {
            return Err(Error::OutputLength {
                expected: n,
                got: counterexample.len(),
            });
        }
        let scratch = self.take_scratch(scratch, self.refine_scratch_len())?;
        let (certify, extra) = scratch.split_at_mut(self.certify_scratch_len() - 1);
        let (bounds, extra) = extra.split_at_mut(2 * n);
        let (scores, point) = extra.split_at_mut(n);
        let mut ws = self.workspace(certify);
        self.for_each_channel(|c, q, values| {
            let eps = budget.eps(c).unwrap_or(0.0);
            for i in values {
                let (lo, hi) = q.quantize_box(input[i], eps).unwrap_or((0, 0));
                bounds[2 * i] = lo.into();
                bounds[2 * i + 1] = hi.into();
            }
        });
        self.bound(
            &mut ws,
            |cr| self.fill_integer_box(cr, |i| (bounds[2 * i], bounds[2 * i + 1])),
            &mut |_| {},
        );
        let certificate = self.decide(&mut ws, |x| self.fill_point(x, input), &mut |_| {});
        let mut search = Search {
            model: self,
            ws,
            class: certificate.class,
            bounds,
            point,
            boxes: 1,
        };
        let verdict = if certificate.certified {
            Verdict::Certified
        } else {
            self.first_layer_mass(scores);
            trail.clear();
            search.run(max_boxes, scores, trail, input, budget, counterexample)
        };
        Ok(Refinement {
            boxes: search.boxes,
            certificate,
            verdict,
        })
    }

    /// Per input value, the first layer's weight mass on it, `sum_o
    /// |w[o][i]|` (for a convolution, per input channel), saturated to
    /// `u16` and stored as its bits: how much a unit of width there can
    /// move the first layer.
    fn first_layer_mass(&self, scores: &mut [i16]) {
        scores.fill(0);
        let add = |slot: &mut i16, w: u8| {
            let sum = (*slot as u16).saturating_add(u16::from((w as i8).unsigned_abs()));
            *slot = sum as i16;
        };
        match &self.layers()[0] {
            Layer::Dense(d) => {
                let n = d.inputs as usize;
                for row in d.params.weights.chunks_exact(n) {
                    for (slot, &w) in scores.iter_mut().zip(row) {
                        add(slot, w);
                    }
                }
            }
            Layer::Conv2d(c) => {
                let taps = usize::from(c.kernel[0]) * usize::from(c.kernel[1]);
                let plane = self.input_len() / usize::from(c.in_channels);
                for (channel, values) in scores.chunks_exact_mut(plane).enumerate() {
                    let mut mass = 0i16;
                    let kernels = c.params.weights.chunks_exact(taps);
                    for kernel in kernels.skip(channel).step_by(usize::from(c.in_channels)) {
                        for &w in kernel {
                            add(&mut mass, w);
                        }
                    }
                    values.fill(mass);
                }
            }
        }
    }
}

/// The state of one depth-first search.
struct Search<'m, 's, 'a, K> {
    model: &'m Model<'a, K>,
    ws: Workspace<'s>,
    /// The class being proven (the prediction of the unperturbed input).
    class: usize,
    /// The current box: `lo` of value `i` at `2 i`, `hi` at `2 i + 1`.
    bounds: &'s mut [i16],
    /// A candidate counterexample, quantised.
    point: &'s mut [i16],
    /// Boxes bounded so far.
    boxes: u32,
}

impl<K: Kernels> Search<'_, '_, '_, K> {
    /// Refines the current box, which the interval pass did not prove.
    fn run<const N: usize>(
        &mut self,
        max_boxes: u32,
        scores: &[i16],
        trail: &mut Trail<N>,
        input: &[f32],
        budget: Budget<'_>,
        counterexample: &mut [f32],
    ) -> Verdict {
        loop {
            if self.refutes(input, budget, counterexample) {
                return Verdict::Refuted;
            }
            if self.boxes >= max_boxes {
                return Verdict::Unknown;
            }
            let Some(dim) = self.split_dim(scores) else {
                // A single point is bounded exactly, so an unproven one is
                // refuted above; this is only reached if its counterexample
                // has no real representative in the box.
                return Verdict::Unknown;
            };
            let (lo, hi) = (self.bounds[2 * dim], self.bounds[2 * dim + 1]);
            let split = Split {
                dim: dim as u32,
                lo: lo as i8,
                hi: hi as i8,
                upper: false,
            };
            if trail.push(split).is_err() {
                return Verdict::Unknown;
            }
            self.bounds[2 * dim + 1] = midpoint(lo, hi);
            // Bound boxes until one is not proven; backtrack over proven ones.
            loop {
                self.boxes += 1;
                if !self.proves_current() {
                    break;
                }
                if !self.next_sibling(trail) {
                    return Verdict::Certified;
                }
                if self.boxes >= max_boxes {
                    return Verdict::Unknown;
                }
            }
        }
    }

    /// Bounds the current box and checks that it proves the class.
    fn proves_current(&mut self) -> bool {
        let (model, bounds) = (self.model, &*self.bounds);
        model.bound(
            &mut self.ws,
            |cr| model.fill_integer_box(cr, |i| (bounds[2 * i], bounds[2 * i + 1])),
            &mut |_| {},
        );
        let (_, last) = model.split_last();
        proves(self.class, &margin_bounds(last, self.ws.front, self.class))
    }

    /// Moves to the next unexplored box of the trail: the upper half of the
    /// deepest split whose lower half is done. False when none is left.
    fn next_sibling<const N: usize>(&mut self, trail: &mut Trail<N>) -> bool {
        while let Some(split) = trail.last_mut() {
            let dim = split.dim as usize;
            let (lo, hi) = (i16::from(split.lo), i16::from(split.hi));
            if !split.upper {
                split.upper = true;
                self.bounds[2 * dim] = midpoint(lo, hi) + 1;
                self.bounds[2 * dim + 1] = hi;
                return true;
            }
            self.bounds[2 * dim] = lo;
            self.bounds[2 * dim + 1] = hi;
            trail.pop();
        }
        false
    }

    /// The value to split: the largest width times first-layer mass, or the
    /// widest when no width has mass; `None` for a single point.
    fn split_dim(&self, scores: &[i16]) -> Option<usize> {
        let mut best: Option<(u32, u32, usize)> = None;
        for (i, (b, &mass)) in self.bounds.chunks_exact(2).zip(scores).enumerate() {
            let width = (b[1] - b[0]) as u32;
            if width == 0 {
                continue;
            }
            let key = (width * u32::from(mass as u16), width, i);
            if best.is_none_or(|(s, w, _)| (key.0, key.1) > (s, w)) {
                best = Some(key);
            }
        }
        best.map(|(_, _, i)| i)
    }

    /// Checks the current box's midpoint: when the model classifies it
    /// differently, and a real input within the budget quantises to it,
    /// writes that input to `counterexample` and returns true.
    fn refutes(&mut self, input: &[f32], budget: Budget<'_>, counterexample: &mut [f32]) -> bool {
        let model = self.model;
        for (p, b) in self.point.iter_mut().zip(self.bounds.chunks_exact(2)) {
            *p = midpoint(b[0], b[1]);
        }
        let point = &*self.point;
        let layout = model.layout(0);
        let at_mid = model.predict_in(self.ws.back, self.ws.col, |x| {
            model.for_each_channel(|_, q, values| {
                for i in values {
                    x[layout.point(i)] = point[i] - i16::from(q.zero_point);
                }
            })
        });
        if at_mid.class == self.class {
            return false;
        }
        let mut real = true;
        model.for_each_channel(|c, q, values| {
            let eps = budget.eps(c).unwrap_or(0.0);
            for i in values {
                let (lo, hi) = q.real_box(input[i], eps);
                match q.representative(point[i] as i8, lo, hi) {
                    Some(x) => counterexample[i] = x,
                    None => real = false,
                }
            }
        });
        real && {
            let at = model.predict_in(self.ws.back, self.ws.col, |x| {
                model.fill_point(x, counterexample)
            });
            at.class != self.class
        }
    }
}
