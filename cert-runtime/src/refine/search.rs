//! The depth-first search over the integer input box.

use cert_kernels::Kernels;

use super::{Split, Trail, depth_needed};
use crate::budget::Budget;
use crate::certify::{certificate_of_box, margin_bounds, tighten};
use crate::error::Error;
use crate::format::Layer;
use crate::margin::proves;
use crate::net::{Net, SearchSpace, Workspace};
use crate::verdict::{Decision, Verdict};

/// The lower half of `[lo, hi]` ends at `floor((lo + hi) / 2)`.
fn midpoint(lo: i16, hi: i16) -> i16 {
    (lo + hi).div_euclid(2)
}

/// Certifies `input` within `budget`, and when that fails, refines
/// (`Model::refine`): bisects the integer box on the value with the
/// largest width times first-layer weight mass, bounds each half, and goes
/// on depth first, bounding at most `max_boxes` boxes (the whole box
/// counts as one). A refuted input leaves in `counterexample` an input
/// within the budget (exactly) and the domain that the model classifies
/// differently, checked by inference.
pub(crate) fn refine<K: Kernels, const N: usize>(
    net: &Net<'_, K>,
    input: &[f32],
    budget: Budget<'_>,
    max_boxes: u32,
    scratch: &mut [i16],
    trail: &mut Trail<N>,
    counterexample: &mut [f32],
) -> Result<Decision, Error> {
    net.check_input(input)?;
    budget.check(net.input_channels())?;
    let n = net.input_len();
    if counterexample.len() != n {
        return Err(Error::OutputLength {
            expected: n,
            got: counterexample.len(),
        });
    }
    let needed = depth_needed(max_boxes, n);
    if N < needed {
        return Err(Error::TrailTooShallow {
            needed,
            capacity: N,
        });
    }
    let (mut ws, space) = net.plan.refinement(scratch)?;
    net.for_each_channel(|c, q, values| {
        let eps = budget.eps(c).unwrap_or(0.0);
        for i in values {
            let (lo, hi) = q.quantize_box(input[i], eps).unwrap_or((0, 0));
            space.bounds[2 * i] = lo.into();
            space.bounds[2 * i + 1] = hi.into();
        }
    });
    let bounds = &*space.bounds;
    net.bound(
        &mut ws,
        |cr| net.fill_integer_box(cr, |i| (bounds[2 * i], bounds[2 * i + 1])),
        &mut |_| {},
    );
    let certificate = certificate_of_box(net, &mut ws, |x| net.fill_point(x, input), &mut |_| {});
    if certificate.certified {
        return Ok(Decision::of_certificate(certificate));
    }
    first_layer_mass(net, space.scores);
    trail.clear();
    let mut search = Search {
        net,
        ws,
        class: certificate.class,
        space,
        boxes: 1,
    };
    let verdict = search.run(max_boxes, trail, input, budget, counterexample);
    Ok(Decision {
        boxes: search.boxes,
        certificate,
        verdict,
    })
}

/// Per input value, the first layer's weight mass on it, `sum_o |w[o][i]|`
/// (for a convolution, per input channel), saturated at `i16::MAX`: how
/// much a unit of width there can move the first layer.
fn first_layer_mass<K: Kernels>(net: &Net<'_, K>, scores: &mut [i16]) {
    scores.fill(0);
    let add = |slot: &mut i16, w: u8| {
        *slot = slot.saturating_add(i16::from((w as i8).unsigned_abs()));
    };
    match &net.desc.layers[0] {
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
            let plane = net.input_len() / usize::from(c.in_channels);
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

/// The state of one depth-first search.
struct Search<'n, 's, 'a, K> {
    net: &'n Net<'a, K>,
    ws: Workspace<'s>,
    /// The class being proven (the prediction of the unperturbed input).
    class: usize,
    /// The current box, the split scores and a candidate point.
    space: SearchSpace<'s>,
    /// Boxes bounded so far.
    boxes: u32,
}

impl<K: Kernels> Search<'_, '_, '_, K> {
    /// Refines the current box, which the interval pass did not prove.
    fn run<const N: usize>(
        &mut self,
        max_boxes: u32,
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
            let Some(dim) = self.split_dim() else {
                // A single point is bounded exactly, so an unproven one is
                // refuted above; this is only reached if its counterexample
                // has no real representative in the box.
                return Verdict::Unknown;
            };
            let (lo, hi) = (self.space.bounds[2 * dim], self.space.bounds[2 * dim + 1]);
            let split = Split {
                dim: dim as u32,
                lo: lo as i8,
                hi: hi as i8,
                upper: false,
            };
            if trail.push(split).is_err() {
                return Verdict::Unknown;
            }
            self.space.bounds[2 * dim + 1] = midpoint(lo, hi);
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
        let (net, bounds) = (self.net, &*self.space.bounds);
        net.bound(
            &mut self.ws,
            |cr| net.fill_integer_box(cr, |i| (bounds[2 * i], bounds[2 * i + 1])),
            &mut |_| {},
        );
        let (_, last) = net.split_last();
        let mut margins = margin_bounds(last, self.ws.front, self.class);
        if !proves(self.class, &margins) {
            tighten(net, &mut self.ws, self.class, &mut margins);
        }
        proves(self.class, &margins)
    }

    /// Moves to the next unexplored box of the trail: the upper half of the
    /// deepest split whose lower half is done. False when none is left.
    fn next_sibling<const N: usize>(&mut self, trail: &mut Trail<N>) -> bool {
        while let Some(split) = trail.last_mut() {
            let dim = split.dim as usize;
            let (lo, hi) = (i16::from(split.lo), i16::from(split.hi));
            if !split.upper {
                split.upper = true;
                self.space.bounds[2 * dim] = midpoint(lo, hi) + 1;
                self.space.bounds[2 * dim + 1] = hi;
                return true;
            }
            self.space.bounds[2 * dim] = lo;
            self.space.bounds[2 * dim + 1] = hi;
            trail.pop();
        }
        false
    }

    /// The value to split: the largest width times first-layer mass, or the
    /// widest when no width has mass; `None` for a single point.
    fn split_dim(&self) -> Option<usize> {
        let mut best: Option<(u32, u32, usize)> = None;
        let (bounds, scores) = (&*self.space.bounds, &*self.space.scores);
        for (i, (b, &mass)) in bounds.chunks_exact(2).zip(scores).enumerate() {
            let width = (b[1] - b[0]) as u32;
            if width == 0 {
                continue;
            }
            let key = (width * mass as u32, width, i);
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
        let net = self.net;
        let SearchSpace { bounds, point, .. } = &mut self.space;
        for (p, b) in point.iter_mut().zip(bounds.chunks_exact(2)) {
            *p = midpoint(b[0], b[1]);
        }
        let point = &**point;
        let layout = net.layout(0);
        let fill = |x: &mut [i16]| {
            net.for_each_channel(|_, q, values| {
                for i in values {
                    x[layout.point(i)] = point[i] - i16::from(q.zero_point);
                }
            })
        };
        if net
            .predict_in(self.ws.back, self.ws.col, fill, &mut |_| {})
            .class
            == self.class
        {
            return false;
        }
        let mut real = true;
        net.for_each_channel(|c, q, values| {
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
            let fill = |x: &mut [i16]| net.fill_point(x, counterexample);
            net.predict_in(self.ws.back, self.ws.col, fill, &mut |_| {})
                .class
                != self.class
        }
    }
}
