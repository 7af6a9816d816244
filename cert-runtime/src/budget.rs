//! Perturbation budgets: how far each input value may move, per input
//! channel, in that channel's real units.

use crate::Error;

/// The L-infinity radius of every input channel, in its real units: the
/// same eps for every channel (images, [`Budget::uniform`]), one per
/// channel (sensor features, [`Budget::per_channel`]), or the one a model
/// was certified for ([`crate::Model::budget`]); optionally scaled
/// ([`Budget::scaled`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Budget<'b> {
    per_channel: PerChannel<'b>,
    factor: f32,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum PerChannel<'b> {
    /// 1 in every channel.
    Uniform,
    /// One value per channel.
    Values(&'b [f32]),
    /// One little-endian `f32` per channel, as a model file stores it.
    Encoded(&'b [u8]),
}

impl<'b> Budget<'b> {
    /// The same `eps` in every channel.
    pub fn uniform(eps: f32) -> Self {
        Budget {
            per_channel: PerChannel::Uniform,
            factor: eps,
        }
    }

    /// One eps per input channel.
    pub fn per_channel(eps: &'b [f32]) -> Self {
        Budget {
            per_channel: PerChannel::Values(eps),
            factor: 1.0,
        }
    }

    /// The budget stored in a model file (`CertSpec::eps`).
    pub(crate) fn encoded(eps: &'b [u8]) -> Self {
        Budget {
            per_channel: PerChannel::Encoded(eps),
            factor: 1.0,
        }
    }

    /// Every eps multiplied by `t`.
    pub fn scaled(self, t: f32) -> Self {
        Budget {
            factor: self.factor * t,
            ..self
        }
    }

    /// The eps of `channel` (`None` past the channels a per-channel budget
    /// holds).
    pub fn eps(&self, channel: usize) -> Option<f32> {
        let base = match self.per_channel {
            PerChannel::Uniform => 1.0,
            PerChannel::Values(v) => *v.get(channel)?,
            PerChannel::Encoded(b) => {
                let b = b.get(4 * channel..4 * channel + 4)?;
                f32::from_le_bytes([b[0], b[1], b[2], b[3]])
            }
        };
        Some(self.factor * base)
    }

    /// Checks that the budget has one finite eps `>= 0` per channel.
    pub fn check(&self, channels: usize) -> Result<(), Error> {
        let got = match self.per_channel {
            PerChannel::Uniform => channels,
            PerChannel::Values(v) => v.len(),
            PerChannel::Encoded(b) => b.len() / 4,
        };
        if got != channels {
            return Err(Error::BudgetLength {
                expected: channels,
                got,
            });
        }
        for channel in 0..channels {
            match self.eps(channel) {
                Some(eps) if eps.is_finite() && eps >= 0.0 => {}
                _ => return Err(Error::InvalidEps { channel }),
            }
        }
        Ok(())
    }
}
