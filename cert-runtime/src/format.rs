//! The model file: a small container around a postcard payload.
//!
//! ```text
//! offset  size  field
//! 0       4     magic  b"CERT"
//! 4       2     format version, u16 little-endian (= FORMAT_VERSION)
//! 6       4     payload length n, u32 little-endian
//! 10      n     payload: postcard encoding of `ModelDesc`
//! 10+n    4     CRC-32/ISO-HDLC of the payload, u32 little-endian
//! ```
//!
//! Multi-byte parameters inside the payload (`i32` biases and multipliers)
//! are raw little-endian byte strings, so that every parameter array is
//! borrowed straight from the file (flash on a device) with no copy and no
//! alignment requirement. FORMAT.md beside this crate is the full spec.

use serde::{Deserialize, Serialize};

use crate::{Error, MAX_LAYERS};

/// The four bytes every model file starts with.
pub const MAGIC: [u8; 4] = *b"CERT";
/// The format version this runtime reads and writes.
pub const FORMAT_VERSION: u16 = 1;
/// Bytes before the payload: magic, version and payload length.
pub const CONTAINER_HEADER_LEN: usize = 10;
/// Bytes after the payload: the CRC-32.
pub const CONTAINER_TRAILER_LEN: usize = 4;

const CRC32: crc::Crc<u32> = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC);

/// How real input values map to int8: `q = clamp(round(x / scale) + zero_point)`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct InputSpec {
    /// Channels of the input tensor (CHW layout).
    pub channels: u16,
    /// Height of the input tensor.
    pub height: u16,
    /// Width of the input tensor.
    pub width: u16,
    /// Real value of one quantisation step.
    pub scale: f32,
    /// Integer that represents real 0.
    pub zero_point: i8,
    /// Smallest valid real input value (e.g. 0.0 for pixels).
    pub domain_min: f32,
    /// Largest valid real input value (e.g. 1.0 for pixels).
    pub domain_max: f32,
}

impl InputSpec {
    /// Number of input values, `channels * height * width`.
    pub fn len(&self) -> usize {
        usize::from(self.channels) * usize::from(self.height) * usize::from(self.width)
    }

    /// True when the input has no values (never for a loaded model).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Everything in a model file but the layers.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Header<'a> {
    /// Shape and quantiser of the input.
    pub input: InputSpec,
    /// Number of classes (logits of the last layer).
    pub classes: u16,
    /// Class names separated by `,` (may be empty).
    pub class_names: &'a str,
    /// Free text: what the model is, how it was trained.
    pub description: &'a str,
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
    /// Input, classes and description.
    #[serde(borrow)]
    pub header: Header<'a>,
    /// Layers in order; the last produces logits.
    #[serde(borrow)]
    pub layers: heapless::Vec<Layer<'a>, MAX_LAYERS>,
}

/// Checks the container (magic, version, length, CRC) and decodes the payload.
pub fn decode(bytes: &[u8]) -> Result<ModelDesc<'_>, Error> {
    if bytes.len() < 4 || bytes[..4] != MAGIC {
        return Err(Error::BadMagic);
    }
    let header_end = CONTAINER_HEADER_LEN;
    if bytes.len() < header_end {
        return Err(Error::Truncated {
            needed: header_end,
            got: bytes.len(),
        });
    }
    let version = u16::from_le_bytes([bytes[4], bytes[5]]);
    if version != FORMAT_VERSION {
        return Err(Error::UnsupportedVersion {
            found: version,
            supported: FORMAT_VERSION,
        });
    }
    let payload_len = u32::from_le_bytes([bytes[6], bytes[7], bytes[8], bytes[9]]) as usize;
    let needed = header_end
        .saturating_add(payload_len)
        .saturating_add(CONTAINER_TRAILER_LEN);
    if bytes.len() < needed {
        return Err(Error::Truncated {
            needed,
            got: bytes.len(),
        });
    }
    if bytes.len() > needed {
        return Err(Error::TrailingBytes {
            extra: bytes.len() - needed,
        });
    }
    let payload = &bytes[header_end..header_end + payload_len];
    let trailer = &bytes[header_end + payload_len..];
    let stored = u32::from_le_bytes([trailer[0], trailer[1], trailer[2], trailer[3]]);
    let computed = CRC32.checksum(payload);
    if stored != computed {
        return Err(Error::ChecksumMismatch { stored, computed });
    }
    match postcard::take_from_bytes::<ModelDesc<'_>>(payload) {
        Ok((desc, [])) => Ok(desc),
        _ => Err(Error::Malformed),
    }
}

/// Encodes a model into `out` (container included); returns the bytes used.
pub fn encode_into(desc: &ModelDesc<'_>, out: &mut [u8]) -> Result<usize, Error> {
    if out.len() < CONTAINER_HEADER_LEN + CONTAINER_TRAILER_LEN {
        return Err(Error::BufferTooSmall);
    }
    let body_end = out.len() - CONTAINER_TRAILER_LEN;
    let payload_len = postcard::to_slice(desc, &mut out[CONTAINER_HEADER_LEN..body_end])
        .map_err(|_| Error::BufferTooSmall)?
        .len();
    let len_field = u32::try_from(payload_len).map_err(|_| Error::BufferTooSmall)?;
    out[..4].copy_from_slice(&MAGIC);
    out[4..6].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
    out[6..10].copy_from_slice(&len_field.to_le_bytes());
    let payload_end = CONTAINER_HEADER_LEN + payload_len;
    let crc = CRC32.checksum(&out[CONTAINER_HEADER_LEN..payload_end]);
    out[payload_end..payload_end + 4].copy_from_slice(&crc.to_le_bytes());
    Ok(payload_end + CONTAINER_TRAILER_LEN)
}

/// Encodes a model into a new `Vec` (container included).
#[cfg(feature = "std")]
pub fn encode(desc: &ModelDesc<'_>) -> Result<std::vec::Vec<u8>, Error> {
    let payload = postcard::to_allocvec(desc).map_err(|_| Error::BufferTooSmall)?;
    let len_field = u32::try_from(payload.len()).map_err(|_| Error::BufferTooSmall)?;
    let mut out = std::vec::Vec::with_capacity(payload.len() + 14);
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&len_field.to_le_bytes());
    out.extend_from_slice(&payload);
    out.extend_from_slice(&CRC32.checksum(&payload).to_le_bytes());
    Ok(out)
}

#[cfg(feature = "std")]
extern crate std;

/// Reads the `i`-th little-endian `i32` of a parameter byte string.
#[inline(always)]
pub(crate) fn le_i32(bytes: &[u8], i: usize) -> i32 {
    let b = &bytes[4 * i..4 * i + 4];
    i32::from_le_bytes([b[0], b[1], b[2], b[3]])
}
