//! Per-case checks against the host and the run's summary.

use cert_runtime::gate::Decision;
use cert_runtime::vectors::Case;
use cert_runtime::{Certificate, Prediction};

/// What the device computed for one case.
pub struct Outcome {
    /// `Model::predict` on the input.
    pub prediction: Prediction,
    /// `Model::certify` on the input.
    pub cert: Certificate,
    /// Instructions `predict` took.
    pub predict: u32,
    /// Instructions `certify` took.
    pub certify: u32,
}

/// Running counts over the cases.
#[derive(Default)]
pub struct Tally {
    cases: u32,
    matched: u32,
    certified: u32,
    labelled: u32,
    correct: u32,
    certified_correct: u32,
    acted: u32,
    predict_instructions: u64,
    certify_instructions: u64,
    /// Instructions of the certify calls that certified.
    certified_instructions: u64,
}

impl Tally {
    /// Checks one case (host certificate, predict agreeing with certify,
    /// LEDs agreeing with the gate), logs it and counts it.
    pub fn record(
        &mut self,
        index: usize,
        case: &Case<'_>,
        outcome: &Outcome,
        decision: Decision,
        leds: u32,
    ) {
        let cert = &outcome.cert;
        let host = case.expected.matches(cert);
        let consistent = outcome.prediction.class == cert.class;
        let acted = matches!(decision, Decision::Act { .. });
        let gate = acted == cert.certified && leds == if acted { 0b01 } else { 0b10 };
        let ok = host && consistent && gate;
        defmt::info!(
            "case {=usize}: label={=?} class={=usize} certified={=bool} min_margin={=i32} predict={=u32} certify={=u32} {=str}",
            index,
            case.label,
            cert.class,
            cert.certified,
            cert.min_margin(),
            outcome.predict,
            outcome.certify,
            if ok { "match" } else { "MISMATCH" }
        );
        if !host {
            defmt::error!(
                "case {=usize}: device {} host {}",
                index,
                cert,
                case.expected
            );
        }
        if !consistent {
            defmt::error!(
                "case {=usize}: predict gives class {=usize}, certify {=usize}",
                index,
                outcome.prediction.class,
                cert.class
            );
        }
        if !gate {
            defmt::error!(
                "case {=usize}: gate decided {}, LEDs read {=u32:#04b}",
                index,
                decision,
                leds
            );
        }
        self.cases += 1;
        self.matched += u32::from(ok);
        self.certified += u32::from(cert.certified);
        self.acted += u32::from(acted);
        if let Some(label) = case.label {
            let correct = usize::from(label) == cert.class;
            self.labelled += 1;
            self.correct += u32::from(correct);
            self.certified_correct += u32::from(correct && cert.certified);
        }
        self.predict_instructions += u64::from(outcome.predict);
        self.certify_instructions += u64::from(outcome.certify);
        if cert.certified {
            self.certified_instructions += u64::from(outcome.certify);
        }
    }

    /// Counts a case the device could not run.
    pub fn fail(&mut self) {
        self.cases += 1;
    }

    /// Logs the summary; true when there were cases and all matched.
    /// `counted` says whether the instruction counts are trustworthy.
    pub fn summarize(&self, counted: bool) -> bool {
        defmt::info!(
            "summary: cases={=u32} matched={=u32} certified={=u32} acted={=u32} labelled={=u32} correct={=u32} certified_correct={=u32}",
            self.cases,
            self.matched,
            self.certified,
            self.acted,
            self.labelled,
            self.correct,
            self.certified_correct
        );
        if counted && self.cases > 0 && self.predict_instructions > 0 {
            let mean = |sum: u64, n: u32| sum.checked_div(u64::from(n)).unwrap_or(0);
            let uncertified = self.cases - self.certified;
            defmt::info!(
                "instructions: predict={=u64} certify={=u64} certified={=u64} uncertified={=u64} ratio={=f32} (means per case)",
                mean(self.predict_instructions, self.cases),
                mean(self.certify_instructions, self.cases),
                mean(self.certified_instructions, self.certified),
                mean(
                    self.certify_instructions - self.certified_instructions,
                    uncertified
                ),
                self.certify_instructions as f32 / self.predict_instructions as f32
            );
        } else {
            defmt::warn!("instructions: not counted");
        }
        self.cases > 0 && self.matched == self.cases
    }
}
