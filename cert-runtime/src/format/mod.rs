//! The model file: a [`container`] of kind [`MODEL`]
//! around a postcard encoding of [`ModelDesc`].
//!
//! Multi-byte parameters inside the payload (`i32` biases and multipliers,
//! the per-channel input quantisers and eps) are raw little-endian byte
//! strings, so that every array is borrowed straight from the file (flash
//! on a device) with no copy and no alignment requirement. FORMAT.md beside
//! this crate is the full spec, golden bytes included.

#[cfg(feature = "std")]
pub mod v1;

use serde::{Deserialize, Serialize};

use crate::container::{self, Kind};
use crate::error::ContainerError;
use crate::quantizer::Quantizer;
use crate::{Error, MAX_LAYERS};

/// The format version this runtime reads and writes.
pub const FORMAT_VERSION: u16 = 2;
/// Model files: magic `CERT`, version [`FORMAT_VERSION`].
pub const MODEL: Kind = Kind {
    magic: *b"CERT",
    version: FORMAT_VERSION,
};

/// Shape and per-channel quantisers of the input (CHW layout).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct InputSpec<'a> {
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
    pub quantizers: &'a [u8],
    /// Channel names separated by `,` (the features of a sensor vector, in
    /// order): empty, or exactly one per channel.
    pub names: &'a str,
}

impl<'a> InputSpec<'a> {
    /// The name of channel `c`, when the model names its channels.
    pub fn name(&self, c: usize) -> Option<&'a str> {
        names(self.names).and_then(|mut n| n.nth(c))
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
        let bytes = self.quantizers.get(at..at + Quantizer::ENCODED_LEN)?;
        Some(Quantizer::decode(bytes.try_into().ok()?))
    }
}

/// What the model certifies: the perturbation budget it was certified
/// for, per input channel, and how many boxes refinement may use.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct CertSpec<'a> {
    /// One `f32` little-endian per input channel: the L-infinity radius in
    /// that channel's real units.
    pub eps: &'a [u8],
    /// Boxes [`crate::Model::refine`] may bound per input by default (0:
    /// plain interval certification only).
    pub refine_boxes: u32,
}

impl CertSpec<'_> {
    /// The certified eps of channel `c` (`None` past the last channel).
    pub fn eps(&self, c: usize) -> Option<f32> {
        let at = c.checked_mul(4)?;
        let b = self.eps.get(at..at + 4)?;
        Some(f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
}

/// Everything in a model file but the layers.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Header<'a> {
    /// Shape and quantisers of the input.
    #[serde(borrow)]
    pub input: InputSpec<'a>,
    /// The certification spec.
    #[serde(borrow)]
    pub certification: CertSpec<'a>,
    /// Number of classes (logits of the last layer).
    pub classes: u16,
    /// Class names separated by `,`: empty, or exactly one per class.
    pub class_names: &'a str,
    /// Free text: what the model is, how it was trained.
    pub description: &'a str,
}

impl<'a> Header<'a> {
    /// The name of class `class`, when the model names its classes.
    pub fn class_name(&self, class: usize) -> Option<&'a str> {
        names(self.class_names).and_then(|mut n| n.nth(class))
    }
}

/// The names of a comma-separated list; `None` for an empty one.
pub(crate) fn names(list: &str) -> Option<core::str::Split<'_, char>> {
    (!list.is_empty()).then(|| list.split(','))
}

/// Output stage of a Dense or Conv2d layer.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Output<'a> {
    /// Requantise the accumulator to int8 (hidden layers).
    Requantize(#[serde(borrow)] Requantize<'a>),
    /// Keep the int32 accumulators as logits (the last layer only). All
    /// channels share one scale, so logits compare directly.
    Logits {
        /// Real value of one logit unit (for display only).
        scale: f32,
    },
}

/// Per-channel fixed-point requantisation to int8:
/// `q = clamp(zero_point + ((acc * multiplier + 2^(shift-1)) >> shift), min, max)`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Requantize<'a> {
    /// One `i32` per output channel, little-endian, in `0..2^31`.
    pub multiplier: &'a [u8],
    /// One right shift per output channel, in `1..=62`.
    pub shift: &'a [u8],
    /// Output zero point.
    pub zero_point: i8,
    /// Lower clamp (a fused ReLU sets it to `zero_point`).
    pub min: i8,
    /// Upper clamp.
    pub max: i8,
    /// Real value of one output step (used by the host, not the arithmetic).
    pub scale: f32,
}

/// Weights, bias and output stage shared by Dense and Conv2d.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Params<'a> {
    /// int8 weights, row-major: `[out][in]` (Dense) or `[out][in][kh][kw]` (Conv2d).
    pub weights: &'a [u8],
    /// One `i32` bias per output channel, little-endian, in accumulator units.
    pub bias: &'a [u8],
    /// What happens to the accumulator.
    #[serde(borrow)]
    pub output: Output<'a>,
}

/// A fully connected layer over the flattened (CHW) input.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Dense<'a> {
    /// Input features.
    pub inputs: u32,
    /// Output features.
    pub outputs: u32,
    /// Parameters.
    #[serde(borrow)]
    pub params: Params<'a>,
}

/// A 2-D convolution with zero padding (zero in real terms).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Conv2d<'a> {
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
    #[serde(borrow)]
    pub params: Params<'a>,
}

/// One layer of the network.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Layer<'a> {
    /// Fully connected.
    Dense(#[serde(borrow)] Dense<'a>),
    /// Convolution.
    Conv2d(#[serde(borrow)] Conv2d<'a>),
}

impl<'a> Layer<'a> {
    /// The layer's parameters.
    pub fn params(&self) -> &Params<'a> {
        match self {
            Layer::Dense(d) => &d.params,
            Layer::Conv2d(c) => &c.params,
        }
    }
}

/// The payload of a model file: header and layers, weights borrowed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelDesc<'a> {
    /// Input, certification spec, classes and description.
    #[serde(borrow)]
    pub header: Header<'a>,
    /// Layers in order; the last produces logits.
    #[serde(borrow)]
    pub layers: heapless::Vec<Layer<'a>, MAX_LAYERS>,
}

impl ModelDesc<'_> {
    /// Bytes of the canonical postcard encoding of this description
    /// (FORMAT.md 2.1): every varint in its shortest form. postcard also
    /// reads overlong varints (`80 00` for 0), which are the only other
    /// way to write the same value, and always longer; so a payload is
    /// canonical exactly when its length is this. (Counted here rather
    /// than by encoding again: serialising on the device would cost about
    /// 5.7 KB of code.)
    pub(crate) fn canonical_len(&self) -> usize {
        let h = &self.header;
        let input = &h.input;
        let header = varint_len(input.channels.into())
            + varint_len(input.height.into())
            + varint_len(input.width.into())
            + bytes_len(input.quantizers)
            + bytes_len(input.names.as_bytes())
            + bytes_len(h.certification.eps)
            + varint_len(h.certification.refine_boxes)
            + varint_len(h.classes.into())
            + bytes_len(h.class_names.as_bytes())
            + bytes_len(h.description.as_bytes());
        let layers: usize = self.layers.iter().map(Layer::canonical_len).sum();
        header + varint_len(self.layers.len() as u32) + layers
    }
}

impl Layer<'_> {
    /// Bytes of the canonical encoding of this layer (variant included).
    fn canonical_len(&self) -> usize {
        let (geometry, params) = match self {
            Layer::Dense(d) => (varint_len(d.inputs) + varint_len(d.outputs), &d.params),
            Layer::Conv2d(c) => (
                varint_len(c.in_channels.into()) + varint_len(c.out_channels.into()) + 6,
                &c.params,
            ),
        };
        let output = match params.output {
            Output::Requantize(rq) => bytes_len(rq.multiplier) + bytes_len(rq.shift) + 3 + 4,
            Output::Logits { .. } => 4,
        };
        // One byte for the layer's variant and one for its output's.
        2 + geometry + bytes_len(params.weights) + bytes_len(params.bias) + output
    }
}

/// Bytes of postcard's shortest varint of `v`.
fn varint_len(v: u32) -> usize {
    match v {
        0..0x80 => 1,
        0x80..0x4000 => 2,
        0x4000..0x20_0000 => 3,
        0x20_0000..0x1000_0000 => 4,
        _ => 5,
    }
}

/// Bytes of a byte string: its length as a varint, then the bytes (a
/// payload is at most `u32::MAX` bytes, so every length fits).
fn bytes_len(bytes: &[u8]) -> usize {
    varint_len(bytes.len() as u32) + bytes.len()
}

/// Checks the container and decodes the payload. A file of an older
/// format version gives [`Error::FormatOutdated`]; a payload that is not
/// the canonical postcard encoding of what it decodes to (an overlong
/// varint) is [`Error::Malformed`], so that a model has exactly one file
/// and one CRC.
pub fn decode(bytes: &[u8]) -> Result<ModelDesc<'_>, Error> {
    let payload = container::open(bytes, MODEL).map_err(|e| match e {
        ContainerError::UnsupportedVersion { found, supported } if found < supported => {
            Error::FormatOutdated { found, supported }
        }
        e => Error::Container(e),
    })?;
    match postcard::take_from_bytes::<ModelDesc<'_>>(payload) {
        Ok((desc, [])) if desc.canonical_len() == payload.len() => Ok(desc),
        _ => Err(Error::Malformed),
    }
}

/// Encodes a model into `out` (container included); returns the bytes used.
pub fn encode_into(desc: &ModelDesc<'_>, out: &mut [u8]) -> Result<usize, Error> {
    let too_small = Error::Container(ContainerError::BufferTooSmall);
    let body_end = out
        .len()
        .checked_sub(container::TRAILER_LEN)
        .filter(|&end| end >= container::HEADER_LEN)
        .ok_or(too_small)?;
    let payload_len = postcard::to_slice(desc, &mut out[container::HEADER_LEN..body_end])
        .map_err(|_| too_small)?
        .len();
    Ok(container::seal_into(MODEL, payload_len, out)?)
}

/// Encodes a model into a new `Vec` (container included).
#[cfg(feature = "std")]
pub fn encode(desc: &ModelDesc<'_>) -> Result<std::vec::Vec<u8>, Error> {
    let payload = postcard::to_allocvec(desc).map_err(|_| Error::Malformed)?;
    Ok(container::seal(MODEL, &payload)?)
}

#[cfg(feature = "std")]
extern crate std;

/// Reads the `i`-th little-endian `i32` of a parameter byte string.
#[inline(always)]
pub(crate) fn le_i32(bytes: &[u8], i: usize) -> i32 {
    let b = &bytes[4 * i..4 * i + 4];
    i32::from_le_bytes([b[0], b[1], b[2], b[3]])
}
