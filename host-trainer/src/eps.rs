//! Perturbation budgets on the host: an eps in real units for every input
//! channel, and how they are written on the command line.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

use crate::data::InputSpace;

/// A perturbation budget in real units: one eps for every channel, or one
/// per channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Eps {
    /// The same eps in every channel (images).
    Uniform(f32),
    /// One eps per channel (features, each in its own unit).
    PerChannel(Vec<f32>),
}

impl Eps {
    /// The eps of each of `channels` channels.
    pub fn values(&self, channels: usize) -> Vec<f32> {
        match self {
            Eps::Uniform(e) => vec![*e; channels],
            Eps::PerChannel(v) => v.clone(),
        }
    }

    /// True when every eps is 0.
    pub fn is_zero(&self) -> bool {
        match self {
            Eps::Uniform(e) => *e == 0.0,
            Eps::PerChannel(v) => v.iter().all(|&e| e == 0.0),
        }
    }

    /// Every eps multiplied by `t`.
    pub fn scaled(&self, t: f32) -> Eps {
        match self {
            Eps::Uniform(e) => Eps::Uniform(e * t),
            Eps::PerChannel(v) => Eps::PerChannel(v.iter().map(|e| e * t).collect()),
        }
    }

    /// Checks `channels` finite eps values `>= 0`.
    pub fn check(&self, channels: usize) -> Result<()> {
        let values = self.values(channels);
        if values.len() != channels {
            bail!(
                "the budget has {} eps values, the inputs have {channels} channels",
                values.len()
            );
        }
        if let Some(bad) = values.iter().find(|e| !(e.is_finite() && **e >= 0.0)) {
            bail!("eps must be finite and >= 0, not {bad}");
        }
        Ok(())
    }
}

impl fmt::Display for Eps {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Eps::Uniform(e) => write!(f, "{e}"),
            Eps::PerChannel(v) => {
                let items: Vec<String> = v.iter().map(|&e| significant(e, 4)).collect();
                write!(f, "[{}]", items.join(", "))
            }
        }
    }
}

/// `x` rounded to `digits` significant digits, for messages.
fn significant(x: f32, digits: i32) -> String {
    if x == 0.0 || !x.is_finite() {
        return format!("{x}");
    }
    let decimals = (digits - 1 - x.abs().log10().floor() as i32).max(0) as usize;
    format!("{x:.decimals$}")
}

/// A budget as the command line writes it.
#[derive(Debug, Clone, PartialEq)]
pub enum EpsSpec {
    /// `0.1`: the same eps in every channel.
    Uniform(f32),
    /// `0.5,0.02,...`: one eps per channel, in order.
    List(Vec<f32>),
    /// `std:0.05`: this fraction of every channel's training standard
    /// deviation.
    StdFraction(f32),
    /// `@FILE`: one eps per line (or comma-separated), per channel.
    File(PathBuf),
}

/// The forms `--eps` accepts, for `--help`.
pub const EPS_FORMS: &str = "E (every channel), E1,E2,... (one per channel), std:F (F times each feature's \
training standard deviation) or @FILE (one eps per line)";

impl FromStr for EpsSpec {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let number = |t: &str| {
            t.trim()
                .parse::<f32>()
                .ok()
                .filter(|e| e.is_finite() && *e >= 0.0)
                .ok_or_else(|| format!("`{t}` is not an eps (a finite number >= 0)"))
        };
        if let Some(path) = s.strip_prefix('@') {
            return Ok(EpsSpec::File(PathBuf::from(path)));
        }
        if let Some(fraction) = s.strip_prefix("std:") {
            return number(fraction).map(EpsSpec::StdFraction);
        }
        if s.contains(',') {
            return s
                .split(',')
                .map(number)
                .collect::<Result<_, _>>()
                .map(EpsSpec::List);
        }
        number(s).map(EpsSpec::Uniform)
    }
}

impl EpsSpec {
    /// One eps per channel for `channels` channels; `std:F` needs `stds`,
    /// the features' training standard deviations.
    pub fn values(&self, channels: usize, stds: Option<&[f32]>) -> Result<Vec<f32>> {
        let values = match self {
            EpsSpec::Uniform(e) => vec![*e; channels],
            EpsSpec::List(v) => v.clone(),
            EpsSpec::StdFraction(f) => match stds {
                Some(stds) => stds.iter().map(|s| f * s).collect(),
                None => bail!(
                    "std:F is a budget for features, relative to the training data; give eps values here ({EPS_FORMS})"
                ),
            },
            EpsSpec::File(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("reading the eps file {}", path.display()))?;
                text.split(|c: char| c == ',' || c.is_whitespace())
                    .filter(|t| !t.is_empty())
                    .map(|t| {
                        t.parse::<f32>()
                            .with_context(|| format!("{}: `{t}` is not a number", path.display()))
                    })
                    .collect::<Result<Vec<f32>>>()?
            }
        };
        Eps::PerChannel(values.clone()).check(channels)?;
        Ok(values)
    }

    /// The budget of a run over `space`: one eps for `E`, one per channel
    /// otherwise. `std:F` is for features (`tabular`), whose training
    /// statistics `space` holds.
    pub fn resolve(&self, space: &InputSpace, tabular: bool) -> Result<Eps> {
        let channels = space.channels.len();
        match self {
            EpsSpec::Uniform(e) => Ok(Eps::Uniform(*e)),
            _ => {
                let stds: Vec<f32> = space.channels.iter().map(|c| c.std).collect();
                Ok(Eps::PerChannel(
                    self.values(channels, tabular.then_some(&stds[..]))?,
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::ChannelSpace;

    fn features(stds: &[f32]) -> InputSpace {
        InputSpace {
            channels: stds
                .iter()
                .map(|&std| ChannelSpace {
                    min: 0.0,
                    max: 10.0,
                    mean: 1.0,
                    std,
                })
                .collect(),
        }
    }

    #[test]
    fn every_form_resolves() {
        let space = features(&[2.0, 0.5]);
        let resolve = |s: &str| s.parse::<EpsSpec>().unwrap().resolve(&space, true);
        assert_eq!(resolve("0.1").unwrap(), Eps::Uniform(0.1));
        assert_eq!(
            resolve("0.5,0.02").unwrap(),
            Eps::PerChannel(vec![0.5, 0.02])
        );
        assert_eq!(
            resolve("std:0.1").unwrap(),
            Eps::PerChannel(vec![0.2, 0.05])
        );
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("eps.txt");
        std::fs::write(&file, "0.3\n0.4\n").unwrap();
        assert_eq!(
            resolve(&format!("@{}", file.display())).unwrap(),
            Eps::PerChannel(vec![0.3, 0.4])
        );
    }

    #[test]
    fn bad_budgets_are_refused_with_reasons() {
        assert!("-0.1".parse::<EpsSpec>().unwrap_err().contains("-0.1"));
        assert!("NaN".parse::<EpsSpec>().is_err());
        assert!("0.1,x".parse::<EpsSpec>().unwrap_err().contains("`x`"));
        let space = features(&[1.0, 1.0]);
        let three = "0.1,0.2,0.3"
            .parse::<EpsSpec>()
            .unwrap()
            .resolve(&space, true);
        assert!(three.unwrap_err().to_string().contains("3 eps values"));
        let images = InputSpace::unit(1);
        let relative = "std:0.1"
            .parse::<EpsSpec>()
            .unwrap()
            .resolve(&images, false);
        assert!(relative.unwrap_err().to_string().contains("features"));
        let missing = "@/no/such/file"
            .parse::<EpsSpec>()
            .unwrap()
            .resolve(&space, true);
        assert!(missing.unwrap_err().to_string().contains("/no/such/file"));
    }
}
