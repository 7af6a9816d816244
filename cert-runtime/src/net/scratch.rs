//! The scratch plan: how much of the caller's `i16` scratch each
//! operation takes, and how it is carved, in one place.
//!
//! Every operation starts its buffers on a 4-byte boundary (what the DSP
//! kernels' wide loads need), skipping the first element of a scratch
//! that does not; each length below counts that one element of slack.

use crate::error::Error;
use crate::layer::{Domain, Interval, Point};

/// The sizes one model's operations need.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ScratchPlan {
    /// Largest activation (input included, logits excluded), in values.
    pub activation: usize,
    /// Largest receptive field of a convolution (0 without convolutions).
    pub column: usize,
    /// Input values.
    pub inputs: usize,
    /// Extra elements the linear bounds take (0 for a model without them).
    pub linear: usize,
}

/// The buffers of one inference: two packed activation buffers the layers
/// ping-pong between, and one packed quad of columns for the convolutions
/// (four output pixels at a time).
pub(crate) struct PointBuffers<'s> {
    pub buffers: &'s mut [i16],
    pub col: &'s mut [i16],
}

/// The buffers of one interval pass, packed: after a pass `front` holds
/// the last hidden layer's bounds and `back` is free (room for one point
/// inference, whose buffers are half the size; `col` fits either kind of
/// column).
pub(crate) struct Workspace<'s> {
    pub front: &'s mut [i16],
    pub back: &'s mut [i16],
    pub col: &'s mut [i16],
    /// The linear bounds' own elements (empty without them).
    #[cfg_attr(not(feature = "linear"), allow(dead_code))]
    pub linear: &'s mut [i16],
}

/// What refinement keeps per input value besides an interval workspace.
#[cfg(feature = "refine")]
pub(crate) struct SearchSpace<'s> {
    /// The current integer box: `lo` of value `i` at `2 i`, `hi` at `2 i + 1`.
    pub bounds: &'s mut [i16],
    /// Each value's split score weight (first-layer mass, `0..=i16::MAX`).
    pub scores: &'s mut [i16],
    /// A candidate counterexample, quantised.
    pub point: &'s mut [i16],
}

impl ScratchPlan {
    /// Elements an inference takes.
    pub fn predict_len(&self) -> usize {
        1 + 2 * Point::packed_len(self.activation) + self.column_len()
    }

    /// Elements an interval pass takes (with the linear bounds' elements
    /// for a model that uses them).
    pub fn certify_len(&self) -> usize {
        1 + 2 * Interval::packed_len(self.activation) + self.column_len() + self.linear
    }

    /// Elements a convolution's column takes: a quad of point columns,
    /// which also holds an interval column (half its size), so that an
    /// interval workspace can run a point inference.
    fn column_len(&self) -> usize {
        cert_kernels::quad_len(self.column)
    }

    /// Elements refinement takes: an interval pass, and per input value
    /// the box (2), a split score (1) and a candidate point (1).
    pub fn refine_len(&self) -> usize {
        self.certify_len() + 4 * self.inputs
    }

    /// The buffers of an inference.
    pub fn points<'s>(&self, scratch: &'s mut [i16]) -> Result<PointBuffers<'s>, Error> {
        let aligned = aligned(scratch, self.predict_len())?;
        let (buffers, col) = aligned.split_at_mut(2 * Point::packed_len(self.activation));
        Ok(PointBuffers { buffers, col })
    }

    /// The buffers of an interval pass.
    pub fn intervals<'s>(&self, scratch: &'s mut [i16]) -> Result<Workspace<'s>, Error> {
        Ok(self.carve_intervals(aligned(scratch, self.certify_len())?))
    }

    /// The buffers of a refinement.
    #[cfg(feature = "refine")]
    pub fn refinement<'s>(
        &self,
        scratch: &'s mut [i16],
    ) -> Result<(Workspace<'s>, SearchSpace<'s>), Error> {
        let aligned = aligned(scratch, self.refine_len())?;
        let (passes, rest) = aligned.split_at_mut(self.certify_len() - 1);
        let (bounds, rest) = rest.split_at_mut(2 * self.inputs);
        let (scores, point) = rest.split_at_mut(self.inputs);
        let space = SearchSpace {
            bounds,
            scores,
            point,
        };
        Ok((self.carve_intervals(passes), space))
    }

    fn carve_intervals<'s>(&self, aligned: &'s mut [i16]) -> Workspace<'s> {
        let buffer = Interval::packed_len(self.activation);
        let (front, rest) = aligned.split_at_mut(buffer);
        let (back, rest) = rest.split_at_mut(buffer);
        let (col, linear) = rest.split_at_mut(self.column_len());
        Workspace {
            front,
            back,
            col,
            linear,
        }
    }
}

/// The `needed - 1` elements of `scratch` after the one that starts it on
/// a 4-byte boundary.
fn aligned(scratch: &mut [i16], needed: usize) -> Result<&mut [i16], Error> {
    let got = scratch.len();
    let skip = usize::from(!(scratch.as_ptr() as usize).is_multiple_of(4));
    scratch
        .get_mut(skip..needed - 1 + skip)
        .ok_or(Error::ScratchTooSmall { needed, got })
}
