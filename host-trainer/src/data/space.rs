//! The input space of a model: per channel, the domain of valid values
//! (what the certificate's box is intersected with, and what the input
//! quantiser spans) and the normalisation the network applies first.

use cert_runtime::Quantizer;
use serde::{Deserialize, Serialize};

use super::Dataset;

/// One input channel.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ChannelSpace {
    /// Smallest valid value.
    pub min: f32,
    /// Largest valid value.
    pub max: f32,
    /// Subtracted first by the network.
    pub mean: f32,
    /// Divides the difference (positive).
    pub std: f32,
}

/// Every input channel of a model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputSpace {
    /// One per channel.
    pub channels: Vec<ChannelSpace>,
}

/// How far a tabular feature's domain reaches beyond the training values,
/// as a fraction of their range on each side (test inputs may lie outside
/// the training range; the domain must hold them).
pub const DOMAIN_MARGIN: f32 = 0.5;

impl InputSpace {
    /// Image channels: pixels in `[0, 1]`, not normalised.
    pub fn unit(channels: usize) -> Self {
        let unit = ChannelSpace {
            min: 0.0,
            max: 1.0,
            mean: 0.0,
            std: 1.0,
        };
        InputSpace {
            channels: vec![unit; channels],
        }
    }

    /// Feature channels fitted on the training split only: normalised to
    /// mean 0 and standard deviation 1; the domain is the training range
    /// widened by `DOMAIN_MARGIN` (half) of it on each side, but not below 0 for
    /// a feature that is never negative.
    pub fn fit(train: &Dataset) -> Self {
        let n = train.shape.len();
        let channels = (0..n)
            .map(|c| {
                let values: Vec<f64> = (0..train.len())
                    .map(|i| f64::from(train.image(i)[c]))
                    .collect();
                let count = values.len().max(1) as f64;
                let mean = values.iter().sum::<f64>() / count;
                let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / count;
                let (lo, hi) = values
                    .iter()
                    .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
                        (a.min(v), b.max(v))
                    });
                let pad = (DOMAIN_MARGIN as f64 * (hi - lo)).max(1e-3 * hi.abs().max(1.0));
                let min = if lo >= 0.0 {
                    (lo - pad).max(0.0)
                } else {
                    lo - pad
                };
                ChannelSpace {
                    min: min as f32,
                    max: (hi + pad) as f32,
                    mean: mean as f32,
                    std: var.sqrt().max(1e-6 * hi.abs().max(1.0)) as f32,
                }
            })
            .collect();
        InputSpace { channels }
    }

    /// True when some channel is normalised (a mean other than 0 or a
    /// standard deviation other than 1).
    pub fn normalizes(&self) -> bool {
        self.channels.iter().any(|c| c.mean != 0.0 || c.std != 1.0)
    }

    /// The int8 quantiser of every channel: all 256 levels over its
    /// domain, with the zero on the level nearest the channel's mean (so
    /// that a padded convolution on normalised inputs pads with the
    /// network's own zero).
    pub fn quantizers(&self) -> Vec<Quantizer> {
        self.channels
            .iter()
            .map(|c| Quantizer::spanning_about(c.min, c.max, c.mean))
            .collect()
    }

    /// The first value of `set` outside its channel's domain, as a message.
    pub fn outside(&self, set: &Dataset) -> Option<String> {
        let per_channel = set.shape.height * set.shape.width;
        for i in 0..set.len() {
            for (k, &x) in set.image(i).iter().enumerate() {
                let c = &self.channels[k / per_channel];
                if !(c.min..=c.max).contains(&x) {
                    let name = set
                        .channel_names
                        .get(k / per_channel)
                        .map_or(String::new(), |n| format!(" (`{n}`)"));
                    return Some(format!(
                        "input {i}, value {k}{name}: {x} lies outside the domain [{}, {}]",
                        c.min, c.max
                    ));
                }
            }
        }
        None
    }
}
