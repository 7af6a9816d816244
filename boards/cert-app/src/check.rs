//! The self-check a board runs on the host's test vectors: certify (and
//! refine) every input, and compare class, flag, every margin, the refined
//! verdict, its boxes and its counterexample with the host's, bit for bit.

use cert_runtime::vectors::{Case, VectorError};
use cert_runtime::{Certificate, Model, REFINE_DEPTH, Refinement, Trail, Verdict};

use crate::station::Buffers;

/// Counts what a closure costs (instructions under QEMU, cycles on a real
/// board), to within the counter's resolution.
pub trait Meter {
    /// Runs `f` and returns its result with what it cost.
    fn measure<T>(&mut self, f: impl FnOnce() -> T) -> (T, u32);
}

/// What the device computed for one case, and how it compares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseCheck {
    /// The class `predict` gave.
    pub predicted: usize,
    /// The interval certificate at the model's budget.
    pub certificate: Certificate,
    /// The refinement, when the interval pass did not certify and the model
    /// refines.
    pub refinement: Option<Refinement>,
    /// Cost of `predict`.
    pub predict: u32,
    /// Cost of `certify`.
    pub certify: u32,
    /// Cost of `refine` (0 when it did not run).
    pub refine: u32,
    /// True when the certificate (and refinement) equal the host's.
    pub host: bool,
}

impl CaseCheck {
    /// True when the decision is proven robust (by the interval pass or by
    /// refinement).
    pub fn proven(&self) -> bool {
        self.certificate.certified
            || self
                .refinement
                .as_ref()
                .is_some_and(|r| r.verdict == Verdict::Certified)
    }
}

/// Certifies one case like the host did (refining it when the model
/// refines), measuring predict, certify and refine with `meter`.
pub fn check_case<M: Meter>(
    model: &Model<'_>,
    case: &Case<'_>,
    input: &[f32],
    buffers: &mut Buffers<'_>,
    trail: &mut Trail<REFINE_DEPTH>,
    meter: &mut M,
) -> Result<CaseCheck, VectorError> {
    let (prediction, predict) = meter.measure(|| model.predict(input, buffers.scratch));
    let (certificate, certify) =
        meter.measure(|| model.certify(input, model.budget(), buffers.scratch));
    let (prediction, certificate) = (prediction?, certificate?);
    let (refinement, refine) = if !certificate.certified && model.refine_boxes() > 0 {
        let (r, cost) = meter.measure(|| {
            model.refine(
                input,
                model.budget(),
                model.refine_boxes(),
                buffers.scratch,
                trail,
                buffers.counterexample,
            )
        });
        (Some(r?), cost)
    } else {
        (None, 0)
    };
    let host = match &refinement {
        // The refinement's own certificate is the one `certify` gave (the
        // gate acts on it), and both must be the host's.
        Some(r) => {
            r.certificate == certificate
                && case.expected.matches_refinement(r, buffers.counterexample)
        }
        None => case.expected.matches(&certificate) && case.expected.refined.is_none(),
    };
    Ok(CaseCheck {
        predicted: prediction.class,
        certificate,
        refinement,
        predict,
        certify,
        refine,
        host,
    })
}

/// Running counts over the cases of a self-check.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    /// Cases seen.
    pub cases: u32,
    /// Cases whose every check passed.
    pub matched: u32,
    /// Cases the interval pass certified.
    pub certified: u32,
    /// Cases refinement certified.
    pub refined: u32,
    /// Cases refinement refuted.
    pub refuted: u32,
    /// Cases refined at all.
    pub refinements: u32,
    /// Cases the gate acted on.
    pub acted: u32,
    /// Cases with a label.
    pub labelled: u32,
    /// Labelled cases predicted correctly.
    pub correct: u32,
    /// Labelled cases predicted correctly and proven (interval or refined).
    pub proven_correct: u32,
    /// Sum of predict costs.
    pub predict: u64,
    /// Sum of certify costs.
    pub certify: u64,
    /// Sum of certify costs of the certified cases.
    pub certify_certified: u64,
    /// Sum of refine costs.
    pub refine: u64,
    /// Sum of boxes refinement bounded.
    pub boxes: u64,
}

impl Tally {
    /// Counts one case: `acted` is what the gate did, `ok` the case's own
    /// verdict (host match, predict agreeing with certify, the gate's
    /// outputs agreeing with the decision).
    pub fn record(&mut self, label: Option<u16>, check: &CaseCheck, acted: bool, ok: bool) {
        let cert = &check.certificate;
        self.cases += 1;
        self.matched += u32::from(ok);
        self.certified += u32::from(cert.certified);
        if let Some(r) = &check.refinement {
            self.refinements += 1;
            self.refined += u32::from(r.verdict == Verdict::Certified);
            self.refuted += u32::from(r.verdict == Verdict::Refuted);
            self.boxes += u64::from(r.boxes);
        }
        self.acted += u32::from(acted);
        if let Some(label) = label {
            let correct = usize::from(label) == cert.class;
            self.labelled += 1;
            self.correct += u32::from(correct);
            self.proven_correct += u32::from(correct && check.proven());
        }
        self.predict += u64::from(check.predict);
        self.certify += u64::from(check.certify);
        if cert.certified {
            self.certify_certified += u64::from(check.certify);
        }
        self.refine += u64::from(check.refine);
    }

    /// Counts a case the device could not run.
    pub fn fail(&mut self) {
        self.cases += 1;
    }

    /// True when there were cases and all matched.
    pub fn passed(&self) -> bool {
        self.cases > 0 && self.matched == self.cases
    }

    /// Mean of `sum` over `n` cases (0 for none).
    pub fn mean(sum: u64, n: u32) -> u64 {
        sum.checked_div(u64::from(n)).unwrap_or(0)
    }
}
