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
                if let Some(layers) = s.strip_prefix("custom:") {
                    return Arch::parse_custom(s, layers);
                }
                let widths = s.strip_prefix("mlp:").ok_or_else(|| {
                    format!("unknown architecture `{s}`: use mlp:W1,W2,..., cnn-small, cnn-medium, cnn7 or custom:convCkKsSpP,...,fcW,...")
                })?;
                let dense = widths
                    .split(',')
                    .map(|w| positive(w, s))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(Arch {
                    convs: vec![],
                    dense,
                })
            }
        }
    }
}

/// A positive number of `whole`, or the error naming it.
fn positive(n: &str, whole: &str) -> Result<usize, String> {
    match n.trim().parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("`{n}` in `{whole}` is not a positive layer width")),
    }
}

impl Arch {
    /// `custom:conv16k4s2p0,conv32k4s1p0,fc100`: convolutions (channels,
    /// kernel, stride, padding), then fully connected widths.
    fn parse_custom(whole: &str, layers: &str) -> Result<Arch, String> {
        let mut arch = Arch {
            convs: vec![],
            dense: vec![],
        };
        for item in layers.split(',').map(str::trim) {
            if let Some(width) = item.strip_prefix("fc") {
                arch.dense.push(positive(width, whole)?);
            } else if let Some(conv) = item.strip_prefix("conv") {
                let bad = || {
                    format!(
                        "`{item}` in `{whole}`: a convolution is convCkKsSpP (channels, kernel, stride, padding), e.g. conv16k4s2p0"
                    )
                };
                if !arch.dense.is_empty() {
                    return Err(format!("`{whole}`: convolutions come before the fc layers"));
                }
                let (c, rest) = conv.split_once('k').ok_or_else(bad)?;
                let (k, rest) = rest.split_once('s').ok_or_else(bad)?;
                let (st, p) = rest.split_once('p').ok_or_else(bad)?;
                let number = |v: &str| v.parse::<usize>().map_err(|_| bad());
                let spec = ConvSpec {
                    channels: number(c)?,
                    kernel: number(k)?,
                    stride: number(st)?,
                    padding: number(p)?,
                };
                if spec.channels == 0
                    || spec.kernel == 0
                    || spec.stride == 0
                    || spec.padding >= spec.kernel
                {
                    return Err(bad());
                }
                arch.convs.push(spec);
            } else {
                return Err(format!("`{item}` in `{whole}`: use convCkKsSpP or fcW"));
            }
        }
        Ok(arch)
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
            return write!(f, "mlp:{}", widths.join(","));
        }
        let layers: Vec<String> = self
            .convs
            .iter()
            .map(|c| format!("conv{}k{}s{}p{}", c.channels, c.kernel, c.stride, c.padding))
            .chain(self.dense.iter().map(|w| format!("fc{w}")))
            .collect();
        write!(f, "custom:{}", layers.join(","))
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
        let custom = "custom:conv8k3s1p1,conv16k4s2p0,fc64";
        assert_eq!(custom.parse::<Arch>().unwrap().convs[0].padding, 1);
        assert!("custom:fc10,conv8k3s1p0".parse::<Arch>().is_err());
        assert!(
            "custom:conv8k3s1"
                .parse::<Arch>()
                .unwrap_err()
                .contains("convCkKsSpP")
        );
        assert!("custom:conv8k3s1p3".parse::<Arch>().is_err());
        for s in ["cnn-small", "cnn-medium", "cnn7", "mlp:64,32", custom] {
            assert_eq!(s.parse::<Arch>().unwrap().to_string(), s);
        }
    }
}
