//! The one decision about one input: certify it at a budget and, when the
//! interval pass does not prove its class and a box budget allows,
//! refine. Boards, the host tools, the test vectors and the model cards
//! all decide through here.

use cert_kernels::Kernels;

use crate::budget::Budget;
use crate::certify::certify;
use crate::error::Error;
use crate::limits::REFINE_DEPTH;
use crate::net::Net;
use crate::refine::Trail;
#[cfg(feature = "refine")]
use crate::refine::refine;
use crate::verdict::Decision;

/// What a decision borrows: the scratch (`Model::decide_scratch_len`
/// elements), the refinement trail (`N` levels, at least
/// `Model::refine_depth`) and a buffer of one value per input, where a
/// refuted decision leaves its counterexample.
pub struct Buffers<'b, const N: usize = REFINE_DEPTH> {
    /// Scratch for the integer passes.
    pub scratch: &'b mut [i16],
    /// The refinement trail.
    pub trail: &'b mut Trail<N>,
    /// Where a counterexample is written.
    pub counterexample: &'b mut [f32],
}

/// Decides `input` within `budget` (`Model::decide_within`): with
/// `max_boxes == 0` the interval certificate alone, otherwise refinement
/// with at most `max_boxes` boxes.
pub(crate) fn decide<K: Kernels, const N: usize>(
    net: &Net<'_, K>,
    input: &[f32],
    budget: Budget<'_>,
    max_boxes: u32,
    buffers: &mut Buffers<'_, N>,
) -> Result<Decision, Error> {
    if max_boxes == 0 {
        let certificate = certify(net, input, budget, buffers.scratch, &mut |_| {})?;
        return Ok(Decision::of_certificate(certificate));
    }
    #[cfg(not(feature = "refine"))]
    return Err(Error::Unsupported { feature: "refine" });
    #[cfg(feature = "refine")]
    refine(
        net,
        input,
        budget,
        max_boxes,
        buffers.scratch,
        buffers.trail,
        buffers.counterexample,
    )
}
