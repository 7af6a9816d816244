//! One input in, one decision on the gate: the model, its own
//! certification spec (budget and box budget), and the decision gate.

use cert_runtime::gate::{self, Action, CertifiedGate};
use cert_runtime::{Buffers, Decision, Model};
use embedded_hal::digital::OutputPin;

/// What the station did with one input.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Outcome {
    /// The model's decision at its own spec (`Model::decide`).
    pub decision: Decision,
    /// What the gate drove: the action output only when proven.
    pub action: Action,
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

/// A model and the gate it drives.
pub struct Station<'m, A, F> {
    model: Model<'m>,
    gate: CertifiedGate<A, F>,
}

impl<'m, A: OutputPin, F: OutputPin> Station<'m, A, F> {
    /// Takes the gate's two outputs and drives both low (no decision yet).
    pub fn new(model: Model<'m>, act: A, fallback: F) -> Result<Self, gate::Error<A, F>> {
        Ok(Station {
            model,
            gate: CertifiedGate::new(act, fallback)?,
        })
    }

    /// The model.
    pub fn model(&self) -> &Model<'m> {
        &self.model
    }

    /// Decides `input` at the model's own spec and drives the gate.
    pub fn decide<const N: usize>(
        &mut self,
        input: &[f32],
        buffers: &mut Buffers<'_, N>,
    ) -> Result<Outcome, Error<A, F>> {
        let decision = self
            .model
            .decide(input, buffers)
            .map_err(StationError::Runtime)?;
        let action = self
            .gate
            .apply_decision(&decision)
            .map_err(StationError::Gate)?;
        Ok(Outcome { decision, action })
    }

    /// Drives both gate outputs low.
    pub fn idle(&mut self) -> Result<(), gate::Error<A, F>> {
        self.gate.idle()
    }
}
