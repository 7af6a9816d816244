//! Architecture presets, built only from layers the runtime supports.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A convolution of a preset: output channels, square kernel, stride, padding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConvSpec {
    /// Output channels.
    pub channels: usize,
    /// Square kernel size.
    pub kernel: usize,
    /// Stride.
    pub stride: usize,
    /// Zero padding.
    pub padding: usize,
}

/// A network architecture: convolutions, then fully connected hidden layers,
/// then the classifier. Every hidden layer is followed by BatchNorm and ReLU.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Arch {
    /// Convolutions, in order.
    pub convs: Vec<ConvSpec>,
    /// Widths of the hidden fully connected layers.
    pub dense: Vec<usize>,
}

const fn conv(channels: usize, kernel: usize, stride: usize, padding: usize) -> ConvSpec {
    ConvSpec {
        channels,
        kernel,
        stride,
        padding,
    }
}

impl Arch {
    /// `cnn-small` of Gowal et al.: Conv(16,4,2)-Conv(32,4,1)-FC100.
    pub fn cnn_small() -> Self {
        Arch {
            convs: vec![conv(16, 4, 2, 0), conv(32, 4, 1, 0)],
            dense: vec![100],
        }
    }

    /// `cnn-medium` of Gowal et al.: Conv(32,3,1)-Conv(32,4,2)-Conv(64,3,1)-Conv(64,4,2)-FC512-FC512.
    pub fn cnn_medium() -> Self {
        Arch {
            convs: vec![
                conv(32, 3, 1, 0),
                conv(32, 4, 2, 0),
                conv(64, 3, 1, 0),
                conv(64, 4, 2, 0),
            ],
            dense: vec![512, 512],
        }
    }

    /// CNN-7 of Shi et al. 2021.
    pub fn cnn7() -> Self {
        Arch {
            convs: vec![
                conv(64, 3, 1, 1),
                conv(64, 3, 1, 1),
                conv(128, 3, 2, 1),
                conv(128, 3, 1, 1),
                conv(128, 3, 1, 1),
            ],
            dense: vec![512],
        }
    }
}

impl FromStr for Arch {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "cnn-small" => Ok(Arch::cnn_small()),
            "cnn-medium" => Ok(Arch::cnn_medium()),
            "cnn7" => Ok(Arch::cnn7()),
            _ => {
                let widths = s.strip_prefix("mlp:").ok_or_else(|| {
                    format!("unknown architecture `{s}`: use mlp:W1,W2,..., cnn-small, cnn-medium or cnn7")
                })?;
                let dense = widths
                    .split(',')
                    .map(|w| match w.trim().parse::<usize>() {
                        Ok(n) if n > 0 => Ok(n),
                        _ => Err(format!("`{w}` in `{s}` is not a positive layer width")),
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(Arch {
                    convs: vec![],
                    dense,
                })
            }
        }
    }
}

impl fmt::Display for Arch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (name, arch) in [
            ("cnn-small", Arch::cnn_small()),
            ("cnn-medium", Arch::cnn_medium()),
            ("cnn7", Arch::cnn7()),
        ] {
            if *self == arch {
                return f.write_str(name);
            }
        }
        let widths: Vec<String> = self.dense.iter().map(|w| w.to_string()).collect();
        if self.convs.is_empty() {
            write!(f, "mlp:{}", widths.join(","))
        } else {
            write!(
                f,
                "custom({} convs; fc {})",
                self.convs.len(),
                widths.join(",")
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_presets_and_mlps() {
        assert_eq!("cnn-small".parse::<Arch>().unwrap(), Arch::cnn_small());
        assert_eq!("mlp:256,128".parse::<Arch>().unwrap().dense, vec![256, 128]);
        assert!("mlp:0".parse::<Arch>().is_err());
        assert!("resnet".parse::<Arch>().unwrap_err().contains("cnn-small"));
        for s in ["cnn-small", "cnn-medium", "cnn7", "mlp:64,32"] {
            assert_eq!(s.parse::<Arch>().unwrap().to_string(), s);
        }
    }
}
