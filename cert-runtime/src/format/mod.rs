//! The model file: a [`container`](crate::container) of kind [`MODEL`] around a postcard
//! encoding of [`ModelDesc`].
//!
//! Multi-byte parameters inside the payload (`i32` biases and multipliers,
//! the per-channel input quantisers and eps) are raw little-endian byte
//! strings, so that every array is borrowed straight from the file (flash
//! on a device) with no copy and no alignment requirement. One description
//! serves both storages ([`storage`]): borrowed from a file ([`Flash`], the
//! default) or owned while the host builds one ([`Owned`], `std`, see
//! [`owned`]). FORMAT.md beside this crate is the full spec, golden bytes
//! included.

mod codec;
#[cfg(feature = "std")]
pub mod owned;
pub mod storage;
#[cfg(feature = "std")]
pub mod v1;
#[cfg(feature = "std")]
pub mod v2;

use serde::{Deserialize, Serialize};

#[cfg(feature = "std")]
pub use codec::encode;
pub use codec::{decode, encode_into};

use crate::container::Kind;
use crate::le::{f32_at, i32_at};
use crate::limits::MAX_LAYERS;
use crate::quantizer::Quantizer;
#[cfg(feature = "std")]
pub use storage::Owned;
pub use storage::{Flash, Storage};

/// The format version this runtime reads and writes.
pub const FORMAT_VERSION: u16 = 3;
/// Model files: magic `CERT`, version [`FORMAT_VERSION`].
pub const MODEL: Kind = Kind {
    magic: *b"CERT",
    version: FORMAT_VERSION,
};

/// Shape and per-channel quantisers of the input (CHW layout).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound(
    serialize = "",
    deserialize = "St::Bytes<'a>: Deserialize<'de>, St::Text<'a>: Deserialize<'de>"
))]
pub struct InputSpec<'a, St: Storage = Flash> {
    /// Channels of the input tensor: colour planes of an image, or the
    /// features of a sensor vector (then height and width are 1).
    pub channels: u16,
    /// Height of the input tensor.
    pub height: u16,
    /// Width of the input tensor.
    pub width: u16,
    /// One encoded [`Quantizer`] per channel ([`Quantizer::ENCODED_LEN`]
    /// bytes each): how that channel's real values map to int8, and its
    /// domain.
    pub quantizers: St::Bytes<'a>,
    /// Channel names separated by `,` (the features of a sensor vector, in
    /// order): empty, or exactly one per channel.
    pub names: St::Text<'a>,
}

impl<St: Storage> InputSpec<'_, St> {
    /// The name of channel `c`, when the model names its channels.
    pub fn name(&self, c: usize) -> Option<&str> {
        names(self.names.as_ref()).and_then(|mut n| n.nth(c))
    }

    /// Number of input values, `channels * height * width`, computed in
    /// 32 bits on every target (a header not yet validated may hold any
    /// three `u16`); `None` when it overflows.
    pub fn checked_len(&self) -> Option<usize> {
        let len = u32::from(self.channels)
            .checked_mul(u32::from(self.height))?
            .checked_mul(u32::from(self.width))?;
        usize::try_from(len).ok()
    }

    /// Values per channel, `height * width` (at most `65535^2`, which fits
    /// 32 bits).
    pub fn channel_len(&self) -> usize {
        usize::from(self.height) * usize::from(self.width)
    }

    /// The quantiser of channel `c` (`None` past the last channel, or when
    /// the array is short: never for a loaded model).
    pub fn quantizer(&self, c: usize) -> Option<Quantizer> {
        let at = c.checked_mul(Quantizer::ENCODED_LEN)?;
        let bytes = self
            .quantizers
            .as_ref()
            .get(at..at + Quantizer::ENCODED_LEN)?;
        Some(Quantizer::decode(bytes.try_into().ok()?))
    }
}

/// What the model certifies: the perturbation budget it was certified
/// for, per input channel, and how many boxes refinement may use.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound(serialize = "", deserialize = "St::Bytes<'a>: Deserialize<'de>"))]
pub struct CertSpec<'a, St: Storage = Flash> {
    /// One `f32` little-endian per input channel: the L-infinity radius in
    /// that channel's real units.
    pub eps: St::Bytes<'a>,
    /// Boxes refinement may bound per input by default (0: plain interval
    /// certification only).
    pub refine_boxes: u32,
    /// How margins are bounded when the interval pass alone does not
    /// certify (format version 3).
    pub bounds: Bounds,
}

/// How the device bounds the margins of a box.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Bounds {
    /// Integer intervals only (FORMAT.md 4.5).
    #[default]
    Interval,
    /// Intervals, then, for a box they do not certify, linear bounds of the
    /// margins back-substituted through the last hidden layer, in exact
    /// integer arithmetic (FORMAT.md 4.6); never weaker than intervals.
    Linear,
}

impl<St: Storage> CertSpec<'_, St> {
    /// The certified eps of channel `c` (`None` past the last channel).
    pub fn eps(&self, c: usize) -> Option<f32> {
        f32_at(self.eps.as_ref(), c)
    }
}

/// Everything in a model file but the layers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound(
    serialize = "",
    deserialize = "St::Bytes<'a>: Deserialize<'de>, St::Text<'a>: Deserialize<'de>"
))]
pub struct Header<'a, St: Storage = Flash> {
    /// Shape and quantisers of the input.
    pub input: InputSpec<'a, St>,
    /// The certification spec.
    pub certification: CertSpec<'a, St>,
    /// Number of classes (logits of the last layer).
    pub classes: u16,
    /// Class names separated by `,`: empty, or exactly one per class.
    pub class_names: St::Text<'a>,
    /// Free text: what the model is, how it was trained.
    pub description: St::Text<'a>,
}

impl<St: Storage> Header<'_, St> {
    /// The name of class `class`, when the model names its classes.
    pub fn class_name(&self, class: usize) -> Option<&str> {
        names(self.class_names.as_ref()).and_then(|mut n| n.nth(class))
    }
}

/// The names of a comma-separated list; `None` for an empty one.
pub(crate) fn names(list: &str) -> Option<core::str::Split<'_, char>> {
    (!list.is_empty()).then(|| list.split(','))
}

/// Output stage of a Dense or Conv2d layer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound(serialize = "", deserialize = "St::Bytes<'a>: Deserialize<'de>"))]
pub enum Output<'a, St: Storage = Flash> {
    /// Requantise the accumulator to int8 (hidden layers).
    Requantize(Requantize<'a, St>),
    /// Keep the int32 accumulators as logits (the last layer only). All
    /// channels share one scale, so logits compare directly.
    Logits {
        /// Real value of one logit unit (for display only).
        scale: f32,
    },
}

/// Per-channel fixed-point requantisation to int8:
/// `q = clamp(zero_point + ((acc * multiplier + 2^(shift-1)) >> shift), min, max)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound(serialize = "", deserialize = "St::Bytes<'a>: Deserialize<'de>"))]
pub struct Requantize<'a, St: Storage = Flash> {
    /// One `i32` per output channel, little-endian, in `0..2^31`.
    pub multiplier: St::Bytes<'a>,
    /// One right shift per output channel, in `1..=62`.
    pub shift: St::Bytes<'a>,
    /// Output zero point.
    pub zero_point: i8,
    /// Lower clamp (a fused ReLU sets it to `zero_point`).
    pub min: i8,
    /// Upper clamp.
    pub max: i8,
    /// Real value of one output step (used by the host, not the arithmetic).
    pub scale: f32,
}

impl<St: Storage> Requantize<'_, St> {
    /// The multiplier of output channel `o` (panics past the last one).
    #[inline(always)]
    pub fn multiplier(&self, o: usize) -> i32 {
        i32_at(self.multiplier.as_ref(), o)
    }

    /// The shift of output channel `o` (panics past the last one).
    #[inline(always)]
    pub fn shift(&self, o: usize) -> u8 {
        self.shift.as_ref()[o]
    }
}

/// Weights, bias and output stage shared by Dense and Conv2d.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound(serialize = "", deserialize = "St::Bytes<'a>: Deserialize<'de>"))]
pub struct Params<'a, St: Storage = Flash> {
    /// int8 weights, row-major: `[out][in]` (Dense) or `[out][in][kh][kw]` (Conv2d).
    pub weights: St::Bytes<'a>,
    /// One `i32` bias per output channel, little-endian, in accumulator units.
    pub bias: St::Bytes<'a>,
    /// What happens to the accumulator.
    pub output: Output<'a, St>,
}

impl<St: Storage> Params<'_, St> {
    /// The weights as int8 values, row-major.
    pub fn weight_values(&self) -> impl Iterator<Item = i8> + '_ {
        self.weights.as_ref().iter().map(|&w| w as i8)
    }

    /// The bias of output channel `o` (panics past the last one).
    #[inline(always)]
    pub fn bias(&self, o: usize) -> i32 {
        i32_at(self.bias.as_ref(), o)
    }

    /// Number of output channels the biases cover.
    pub fn channels(&self) -> usize {
        self.bias.as_ref().len() / 4
    }
}

/// A fully connected layer over the flattened (CHW) input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound(serialize = "", deserialize = "St::Bytes<'a>: Deserialize<'de>"))]
pub struct Dense<'a, St: Storage = Flash> {
    /// Input features.
    pub inputs: u32,
    /// Output features.
    pub outputs: u32,
    /// Parameters.
    pub params: Params<'a, St>,
}

/// A 2-D convolution with zero padding (zero in real terms).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound(serialize = "", deserialize = "St::Bytes<'a>: Deserialize<'de>"))]
pub struct Conv2d<'a, St: Storage = Flash> {
    /// Input channels.
    pub in_channels: u16,
    /// Output channels.
    pub out_channels: u16,
    /// Kernel height and width.
    pub kernel: [u8; 2],
    /// Stride (vertical, horizontal).
    pub stride: [u8; 2],
    /// Zero padding (vertical, horizontal).
    pub padding: [u8; 2],
    /// Parameters.
    pub params: Params<'a, St>,
}

impl<St: Storage> Conv2d<'_, St> {
    /// Weights per output channel: `in_channels * kh * kw`.
    pub fn fan_in(&self) -> usize {
        usize::from(self.in_channels) * usize::from(self.kernel[0]) * usize::from(self.kernel[1])
    }
}

/// One layer of the network.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound(serialize = "", deserialize = "St::Bytes<'a>: Deserialize<'de>"))]
pub enum Layer<'a, St: Storage = Flash> {
    /// Fully connected.
    Dense(Dense<'a, St>),
    /// Convolution.
    Conv2d(Conv2d<'a, St>),
}

impl<'a, St: Storage> Layer<'a, St> {
    /// The layer's parameters.
    pub fn params(&self) -> &Params<'a, St> {
        match self {
            Layer::Dense(d) => &d.params,
            Layer::Conv2d(c) => &c.params,
        }
    }

    /// The layer's parameters, to change them.
    pub fn params_mut(&mut self) -> &mut Params<'a, St> {
        match self {
            Layer::Dense(d) => &mut d.params,
            Layer::Conv2d(c) => &mut c.params,
        }
    }

    /// Weights per output channel.
    pub fn fan_in(&self) -> usize {
        match self {
            Layer::Dense(d) => d.inputs as usize,
            Layer::Conv2d(c) => c.fan_in(),
        }
    }

    /// Output channels.
    pub fn out_channels(&self) -> usize {
        match self {
            Layer::Dense(d) => d.outputs as usize,
            Layer::Conv2d(c) => usize::from(c.out_channels),
        }
    }
}

impl Copy for InputSpec<'_, Flash> {}
impl Copy for CertSpec<'_, Flash> {}
impl Copy for Header<'_, Flash> {}
impl Copy for Output<'_, Flash> {}
impl Copy for Requantize<'_, Flash> {}
impl Copy for Params<'_, Flash> {}
impl Copy for Dense<'_, Flash> {}
impl Copy for Conv2d<'_, Flash> {}
impl Copy for Layer<'_, Flash> {}

/// The payload of a model file: header and layers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound(
    serialize = "",
    deserialize = "St::Bytes<'a>: Deserialize<'de>, St::Text<'a>: Deserialize<'de>"
))]
pub struct ModelDesc<'a, St: Storage = Flash> {
    /// Input, certification spec, classes and description.
    pub header: Header<'a, St>,
    /// Layers in order; the last produces logits.
    pub layers: heapless::Vec<Layer<'a, St>, MAX_LAYERS>,
}
