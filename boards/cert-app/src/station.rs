//! One input in, one certified decision out: the model, the budget it was
//! certified for, refinement, and the decision gate together.

use cert_runtime::gate::{self, CertifiedGate, Decision};
use cert_runtime::{Certificate, Model, REFINE_DEPTH, Trail, Verdict};
use embedded_hal::digital::OutputPin;

/// What the station decided for one input.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Outcome {
    /// The interval certificate at the model's budget.
    pub certificate: Certificate,
    /// Refinement's verdict and boxes, when the interval pass did not
    /// certify and the model refines.
    pub refinement: Option<(Verdict, u32)>,
    /// What the gate drove: the action output only when proven.
    pub decision: Decision,
}

impl Outcome {
    /// True when the decision is proven robust (by the interval pass or by
    /// refinement).
    pub fn proven(&self) -> bool {
        proven(&self.certificate, self.refinement)
    }

    /// Boxes bounded for the decision: 1 without refinement.
    pub fn boxes(&self) -> u32 {
        self.refinement.map_or(1, |(_, boxes)| boxes)
    }
}

/// True when the interval pass or refinement proved the class.
fn proven(certificate: &Certificate, refinement: Option<(Verdict, u32)>) -> bool {
    certificate.certified || matches!(refinement, Some((Verdict::Certified, _)))
}

/// Why an input got no decision (the gate then holds its last state).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum StationError<GE> {
    /// The runtime rejected the input or a buffer.
    Runtime(cert_runtime::Error),
    /// A gate output failed.
    Gate(GE),
}

/// The error of a station whose gate drives `A` and `F`.
pub type Error<A, F> = StationError<gate::Error<A, F>>;

/// The buffers a station lends the runtime, sized for its model.
pub struct Buffers<'b> {
    /// `Model::refine_scratch_len()` elements.
    pub scratch: &'b mut [i16],
    /// One value per model input: where a counterexample is written.
    pub counterexample: &'b mut [f32],
}

/// A model, the budget it certifies at (its own), refinement, and the gate
/// it drives.
pub struct Station<'m, A, F> {
    model: Model<'m>,
    gate: CertifiedGate<A, F>,
    trail: Trail<REFINE_DEPTH>,
}

impl<'m, A: OutputPin, F: OutputPin> Station<'m, A, F> {
    /// Takes the gate's two outputs and drives both low (no decision yet).
    pub fn new(model: Model<'m>, act: A, fallback: F) -> Result<Self, gate::Error<A, F>> {
        Ok(Station {
            model,
            gate: CertifiedGate::new(act, fallback)?,
            trail: Trail::new(),
        })
    }

    /// The model.
    pub fn model(&self) -> &Model<'m> {
        &self.model
    }

    /// Certifies `input` at the model's budget and, when that fails and the
    /// model refines, refines with its box budget; then drives the gate.
    /// A refining model runs `refine` alone: it starts with the same
    /// interval pass `certify` would, and stops there when that proves.
    pub fn decide(
        &mut self,
        input: &[f32],
        buffers: &mut Buffers<'_>,
    ) -> Result<Outcome, Error<A, F>> {
        let model = &self.model;
        let (certificate, refinement) = if model.refine_boxes() == 0 {
            let certificate = model
                .certify(input, model.budget(), buffers.scratch)
                .map_err(StationError::Runtime)?;
            (certificate, None)
        } else {
            let r = model
                .refine(
                    input,
                    model.budget(),
                    model.refine_boxes(),
                    buffers.scratch,
                    &mut self.trail,
                    buffers.counterexample,
                )
                .map_err(StationError::Runtime)?;
            let refined = (!r.certificate.certified).then_some((r.verdict, r.boxes));
            (r.certificate, refined)
        };
        let proven = proven(&certificate, refinement);
        let decision = self
            .gate
            .decide(certificate.class, proven)
            .map_err(StationError::Gate)?;
        Ok(Outcome {
            certificate,
            refinement,
            decision,
        })
    }

    /// Drives both gate outputs low.
    pub fn idle(&mut self) -> Result<(), gate::Error<A, F>> {
        self.gate.idle()
    }
}
