//! Perturbation budgets: how far each input value may move, per input
//! channel, in that channel's real units.

use crate::error::Error;
use crate::le::f32_at;

/// The L-infinity radius of every input channel, in its real units: the
/// same eps for every channel (images, [`Budget::uniform`]), one per
/// channel (sensor features, [`Budget::per_channel`]), or the one a model
/// was certified for (`Model::budget`); optionally scaled
/// ([`Budget::scaled`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Budget<'b> {
    per_channel: PerChannel<'b>,
    factor: f32,
    /// False once a negative, NaN or infinite scale was applied: the
    /// budget is invalid whatever the product looks like (`-1 * -1`).
    scales_valid: bool,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum PerChannel<'b> {
    /// The same eps in every channel.
    Uniform(f32),
    /// One value per channel.
    Values(&'b [f32]),
    /// One little-endian `f32` per channel, as a model file stores it.
    Encoded(&'b [u8]),
}

impl<'b> Budget<'b> {
    /// The same `eps` in every channel.
    pub fn uniform(eps: f32) -> Self {
        Budget {
            per_channel: PerChannel::Uniform(eps),
            factor: 1.0,
            scales_valid: true,
        }
    }

    /// One eps per input channel.
    pub fn per_channel(eps: &'b [f32]) -> Self {
        Budget {
            per_channel: PerChannel::Values(eps),
            factor: 1.0,
            scales_valid: true,
        }
    }

    /// The budget stored in a model file (`CertSpec::eps`).
    pub(crate) fn encoded(eps: &'b [u8]) -> Self {
        Budget {
            per_channel: PerChannel::Encoded(eps),
            factor: 1.0,
            scales_valid: true,
        }
    }

    /// Every eps multiplied by `t`.
    pub fn scaled(self, t: f32) -> Self {
        Budget {
            factor: self.factor * t,
            scales_valid: self.scales_valid && t.is_finite() && t >= 0.0,
            ..self
        }
    }

    /// The eps of `channel` (`None` past the channels a per-channel budget
    /// holds).
    pub fn eps(&self, channel: usize) -> Option<f32> {
        Some(self.factor * self.base(channel)?)
    }

    /// The eps of `channel` before scaling.
    fn base(&self, channel: usize) -> Option<f32> {
        Some(match self.per_channel {
            PerChannel::Uniform(eps) => eps,
            PerChannel::Values(v) => *v.get(channel)?,
            PerChannel::Encoded(b) => f32_at(b, channel)?,
        })
    }

    /// Checks that the budget has one eps per channel and that every eps
    /// is finite and `>= 0`, before and after scaling: a negative eps is
    /// an error whatever its scale (`-1` scaled by 0 included), and so is
    /// a negative or non-finite scale ([`Budget::scaled`]).
    pub fn check(&self, channels: usize) -> Result<(), Error> {
        let got = match self.per_channel {
            PerChannel::Uniform(_) => channels,
            PerChannel::Values(v) => v.len(),
            PerChannel::Encoded(b) => b.len() / 4,
        };
        if got != channels {
            return Err(Error::BudgetLength {
                expected: channels,
                got,
            });
        }
        let valid = |e: f32| e.is_finite() && e >= 0.0;
        for channel in 0..channels {
            match (self.base(channel), self.eps(channel)) {
                (Some(base), Some(eps)) if self.scales_valid && valid(base) && valid(eps) => {}
                _ => return Err(Error::InvalidEps { channel }),
            }
        }
        Ok(())
    }
}
