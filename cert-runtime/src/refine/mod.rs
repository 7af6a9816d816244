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

#[cfg(feature = "refine")]
mod search;

#[cfg(feature = "refine")]
pub(crate) use search::refine;

/// One level of the depth-first search: the input value split there, its
/// bounds before the split, and which half is being explored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Split {
    dim: u32,
    lo: i8,
    hi: i8,
    upper: bool,
}

/// The stack of a refinement: `N` levels of splits at most. A trail
/// shallower than the search may go (`Model::refine_depth`) is refused with
/// `Error::TrailTooShallow`, so verdicts never depend on `N`.
pub type Trail<const N: usize> = heapless::Vec<Split, N>;

/// Levels a refinement with `max_boxes` boxes can reach on `inputs`
/// values: each level is a split followed by a bounded box, so at most
/// `max_boxes - 1`, and each split at least halves an integer width of at
/// most 255, so at most 8 per value. A trail this deep never fills, and
/// the verdict does not depend on its depth.
pub(crate) fn depth_needed(max_boxes: u32, inputs: usize) -> usize {
    (max_boxes.saturating_sub(1) as usize).min(8 * inputs)
}
