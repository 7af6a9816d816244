//! The self-check a board runs on the host's test vectors: decide every
//! input with `Model::decide`, as the station does, and compare the
//! certificate, verdict, boxes and counterexample with the host's, bit
//! for bit; predict and the interval pass alone are measured besides.

use cert_runtime::vectors::{Case, VectorError};
use cert_runtime::{Buffers, Decision, Model, Verdict};

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
    /// The decision at the model's own spec.
    pub decision: Decision,
    /// Cost of `predict`.
    pub predict: u32,
    /// Cost of `certify` (the interval pass alone).
    pub certify: u32,
    /// Cost of `decide` (the interval pass, then refinement when it runs).
    pub decide: u32,
    /// True when the decision equals the host's, and `certify` gave the
    /// decision's certificate.
    pub host: bool,
}

impl CaseCheck {
    /// True when refinement ran: the interval pass did not certify and the
    /// model refines.
    pub fn refined(&self, model: &Model<'_>) -> bool {
        !self.decision.certificate.certified && model.refine_boxes() > 0
    }
}

/// Decides one case like the host did, measuring predict, certify and
/// decide with `meter`.
pub fn check_case<M: Meter, const N: usize>(
    model: &Model<'_>,
    case: &Case<'_>,
    input: &[f32],
    buffers: &mut Buffers<'_, N>,
    meter: &mut M,
) -> Result<CaseCheck, VectorError> {
    let (prediction, predict) = meter.measure(|| model.predict(input, buffers.scratch));
    let (certificate, certify) =
        meter.measure(|| model.certify(input, model.budget(), buffers.scratch));
    let (prediction, certificate) = (prediction?, certificate?);
    let (decision, decide) = meter.measure(|| model.decide(input, buffers));
    let decision = decision?;
    let refines = model.refine_boxes() > 0;
    let host = decision.certificate == certificate
        && case
            .expected
            .matches_decision(&decision, buffers.counterexample, refines);
    Ok(CaseCheck {
        predicted: prediction.class,
        decision,
        predict,
        certify,
        decide,
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
    /// Sum of decide costs of the refined cases.
    pub refine: u64,
    /// Sum of boxes refinement bounded.
    pub boxes: u64,
}

impl Tally {
    /// Counts one case: `refined` says whether refinement ran, `acted` is
    /// what the gate did, `ok` the case's own verdict (host match, predict
    /// agreeing with the decision, the gate's outputs agreeing with it).
    pub fn record(
        &mut self,
        label: Option<u16>,
        check: &CaseCheck,
        refined: bool,
        acted: bool,
        ok: bool,
    ) {
        let d = &check.decision;
        self.cases += 1;
        self.matched += u32::from(ok);
        self.certified += u32::from(d.certificate.certified);
        if refined {
            self.refinements += 1;
            self.refined += u32::from(d.verdict == Verdict::Certified);
            self.refuted += u32::from(d.verdict == Verdict::Refuted);
            self.boxes += u64::from(d.boxes);
            self.refine += u64::from(check.decide);
        }
        self.acted += u32::from(acted);
        if let Some(label) = label {
            let correct = usize::from(label) == d.class();
            self.labelled += 1;
            self.correct += u32::from(correct);
            self.proven_correct += u32::from(correct && d.proven());
        }
        self.predict += u64::from(check.predict);
        self.certify += u64::from(check.certify);
        if d.certificate.certified {
            self.certify_certified += u64::from(check.certify);
        }
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
