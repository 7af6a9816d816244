//! One input in, one certified decision out: the model, its eps and the
//! decision gate together.

use cert_runtime::gate::{self, CertifiedGate, Decision};
use cert_runtime::{Certificate, InputSpec, Model};
use embedded_hal::digital::OutputPin;

/// What the station decided for one input.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Verdict {
    /// The certificate of the input at the station's eps.
    pub cert: Certificate,
    /// What the gate drove: the action output only when certified.
    pub decision: Decision,
}

/// Why an input got no decision (the gate then holds its last state).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum StationError<GE> {
    /// The pixels are not one per model input.
    PixelCount {
        /// Model inputs.
        expected: usize,
        /// Pixels given.
        got: usize,
    },
    /// The runtime rejected the input or the scratch buffer.
    Runtime(cert_runtime::Error),
    /// A gate output failed.
    Gate(GE),
}

/// The error of a station whose gate drives `A` and `F`.
pub type Error<A, F> = StationError<gate::Error<A, F>>;

/// A model, the eps it certifies at, and the gate it drives.
pub struct Station<'m, A, F> {
    model: Model<'m>,
    eps: f32,
    gate: CertifiedGate<A, F>,
}

impl<'m, A: OutputPin, F: OutputPin> Station<'m, A, F> {
    /// Takes the gate's two outputs and drives both low (no decision yet).
    pub fn new(model: Model<'m>, eps: f32, act: A, fallback: F) -> Result<Self, gate::Error<A, F>> {
        Ok(Station {
            model,
            eps,
            gate: CertifiedGate::new(act, fallback)?,
        })
    }

    /// The model.
    pub fn model(&self) -> &Model<'m> {
        &self.model
    }

    /// The L-infinity radius every input is certified at, in real units.
    pub fn eps(&self) -> f32 {
        self.eps
    }

    /// Certifies the image `pixels` (see [`pixels_to_input`]) and drives the
    /// gate: `input` and `scratch` are the caller's buffers, of the model's
    /// input length and certify scratch length.
    pub fn decide(
        &mut self,
        pixels: &[u8],
        input: &mut [f32],
        scratch: &mut [i16],
    ) -> Result<Verdict, Error<A, F>> {
        pixels_to_input(pixels, &self.model.header().input, input)?;
        let cert = self
            .model
            .certify(input, self.eps, scratch)
            .map_err(StationError::Runtime)?;
        let decision = self.gate.apply(&cert).map_err(StationError::Gate)?;
        Ok(Verdict { cert, decision })
    }

    /// Drives both gate outputs low.
    pub fn idle(&mut self) -> Result<(), gate::Error<A, F>> {
        self.gate.idle()
    }
}

/// Maps 8-bit pixels onto the model's input domain: pixel `p` becomes
/// `min + (max - min) * p / 255` (so 0 is `min`, 255 is `max`; `p / 255`
/// for a `[0, 1]` domain). `input` needs one value per pixel.
pub fn pixels_to_input<GE>(
    pixels: &[u8],
    spec: &InputSpec,
    input: &mut [f32],
) -> Result<(), StationError<GE>> {
    if pixels.len() != input.len() {
        return Err(StationError::PixelCount {
            expected: input.len(),
            got: pixels.len(),
        });
    }
    let (min, max) = (spec.domain_min, spec.domain_max);
    for (x, &p) in input.iter_mut().zip(pixels) {
        // Not `clamp`: its panic message would pull float formatting into flash.
        *x = (min + (max - min) * (f32::from(p) / 255.0))
            .max(min)
            .min(max);
    }
    Ok(())
}
