//! The model file's bytes: the container of kind [`MODEL`] around the
//! postcard encoding of a [`ModelDesc`], read only from its canonical form.

use super::{Layer, MODEL, ModelDesc, Output, Storage};
use crate::container;
use crate::error::{ContainerError, Error};

impl<St: Storage> ModelDesc<'_, St> {
    /// Bytes of the canonical postcard encoding of this description
    /// (FORMAT.md 2.1): every varint in its shortest form. postcard also
    /// reads overlong varints (`80 00` for 0), which are the only other
    /// way to write the same value, and always longer; so a payload is
    /// canonical exactly when its length is this. (Counted rather than
    /// encoded again: serialising on the device would cost about 5.7 KB of
    /// code.)
    pub fn canonical_len(&self) -> usize {
        let h = &self.header;
        let input = &h.input;
        let header = varint_len(input.channels.into())
            + varint_len(input.height.into())
            + varint_len(input.width.into())
            + bytes_len(input.quantizers.as_ref())
            + bytes_len(input.names.as_ref().as_bytes())
            + bytes_len(h.certification.eps.as_ref())
            + varint_len(h.certification.refine_boxes)
            + 1 // the variant of `bounds`
            + varint_len(h.classes.into())
            + bytes_len(h.class_names.as_ref().as_bytes())
            + bytes_len(h.description.as_ref().as_bytes());
        let layers: usize = self.layers.iter().map(Layer::canonical_len).sum();
        header + varint_len(self.layers.len() as u32) + layers
    }
}

impl<St: Storage> Layer<'_, St> {
    /// Bytes of the canonical encoding of this layer (variant included).
    fn canonical_len(&self) -> usize {
        let (geometry, params) = match self {
            Layer::Dense(d) => (varint_len(d.inputs) + varint_len(d.outputs), &d.params),
            Layer::Conv2d(c) => (
                varint_len(c.in_channels.into()) + varint_len(c.out_channels.into()) + 6,
                &c.params,
            ),
        };
        let output = match &params.output {
            Output::Requantize(rq) => {
                bytes_len(rq.multiplier.as_ref()) + bytes_len(rq.shift.as_ref()) + 3 + 4
            }
            Output::Logits { .. } => 4,
        };
        // One byte for the layer's variant and one for its output's.
        2 + geometry + bytes_len(params.weights.as_ref()) + bytes_len(params.bias.as_ref()) + output
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
pub fn encode_into<St: Storage>(desc: &ModelDesc<'_, St>, out: &mut [u8]) -> Result<usize, Error> {
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

/// Encodes a model into a new `Vec` (container included). It is not
/// validated: [`crate::Model::from_bytes`] on the result says whether the
/// runtime takes it.
#[cfg(feature = "std")]
pub fn encode<St: Storage>(desc: &ModelDesc<'_, St>) -> Result<std::vec::Vec<u8>, Error> {
    let payload = postcard::to_allocvec(desc).map_err(|_| Error::Malformed)?;
    Ok(container::seal(MODEL, &payload)?)
}

#[cfg(feature = "std")]
extern crate std;
