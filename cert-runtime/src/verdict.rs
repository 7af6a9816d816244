//! What deciding one input concludes: the [`Verdict`] and the
//! [`Decision`], the one result shape of `Model::decide` and
//! `Model::refine`, which the boards, the host tools, the test vectors and
//! the model cards all use.

use crate::certify::Certificate;

/// Whether the class of an input is proven for every input within the
/// budget. In JSON it is `"certified"`, `"refuted"` or `"unknown"`; in
/// test-vector files (postcard) its variant index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Verdict {
    /// Every input within the budget gets the class (by the interval pass
    /// or by refinement).
    Certified,
    /// An input within the budget gets another class; it is in the
    /// caller's counterexample buffer.
    Refuted,
    /// Not proven: the box budget (0 for a decision that does not refine)
    /// or the trail ran out first.
    Unknown,
}

/// The decision about one input.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Decision {
    /// The plain interval certificate of the whole box (what
    /// `Model::certify` returns); its class is the one decided.
    pub certificate: Certificate,
    /// What was concluded about that class.
    pub verdict: Verdict,
    /// Boxes bounded by the interval pass, the whole box included (1
    /// without refinement).
    pub boxes: u32,
}

impl Decision {
    /// The decision of the interval pass alone.
    pub(crate) fn of_certificate(certificate: Certificate) -> Decision {
        let verdict = match certificate.certified {
            true => Verdict::Certified,
            false => Verdict::Unknown,
        };
        Decision {
            certificate,
            verdict,
            boxes: 1,
        }
    }

    /// The class decided: the prediction of the unperturbed input.
    pub fn class(&self) -> usize {
        self.certificate.class
    }

    /// True when the class is proven for every input within the budget
    /// (the only decision a gate acts on).
    pub fn proven(&self) -> bool {
        self.verdict == Verdict::Certified
    }
}
