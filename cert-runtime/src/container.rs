//! The one framing layer of every byte stream the project writes: model
//! files, test-vector files and the input frames boards receive.
//!
//! ```text
//! offset  size  field
//! 0       4     magic, names the kind of payload (`Kind::magic`)
//! 4       2     version of that kind, u16 little-endian
//! 6       4     payload length n, u32 little-endian
//! 10      n     payload (a postcard encoding, or raw values for frames)
//! 10+n    4     CRC-32/ISO-HDLC of the payload, u32 little-endian
//! ```
//!
//! In the spirit of postcard's flavours, framing is one layer that knows
//! nothing of what it carries: [`open`] checks a whole buffer and returns
//! its payload, [`read_header`] and [`checksum`] let a stream reader (a
//! UART) check a frame as it arrives, and [`seal_into`] writes one.

use crate::error::ContainerError;

/// A kind of framed payload: its magic bytes and the version this runtime
/// reads and writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kind {
    /// The four bytes every framed buffer of this kind starts with.
    pub magic: [u8; 4],
    /// The version of the payload's encoding.
    pub version: u16,
}

/// Bytes before the payload: magic, version and payload length.
pub const HEADER_LEN: usize = 10;
/// Bytes after the payload: the CRC-32.
pub const TRAILER_LEN: usize = 4;

const CRC32: crc::Crc<u32> = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC);

/// CRC-32/ISO-HDLC (the zlib / Ethernet CRC) of `payload`.
pub fn checksum(payload: &[u8]) -> u32 {
    CRC32.checksum(payload)
}

/// A CRC-32 computed piece by piece, for a payload that arrives in parts
/// (a stream reader checks a frame without holding all of it).
pub struct Checksum(crc::Digest<'static, u32>);

impl Checksum {
    /// An empty checksum.
    pub fn new() -> Self {
        Checksum(CRC32.digest())
    }

    /// Adds the next bytes of the payload.
    pub fn update(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    /// The CRC-32 of everything added, as [`checksum`] computes it.
    pub fn finish(self) -> u32 {
        self.0.finalize()
    }
}

impl Default for Checksum {
    fn default() -> Self {
        Checksum::new()
    }
}

/// Checks the magic and version of a frame header and returns the payload
/// length it announces.
pub fn read_header(header: &[u8; HEADER_LEN], kind: Kind) -> Result<usize, ContainerError> {
    if header[..4] != kind.magic {
        return Err(ContainerError::BadMagic);
    }
    let found = u16::from_le_bytes([header[4], header[5]]);
    if found != kind.version {
        return Err(ContainerError::UnsupportedVersion {
            found,
            supported: kind.version,
        });
    }
    let len = u32::from_le_bytes([header[6], header[7], header[8], header[9]]);
    // usize has at least 32 bits on every target this crate builds for.
    Ok(len as usize)
}

/// Checks a whole framed buffer (magic, version, exact length, CRC) and
/// returns its payload, borrowed.
pub fn open(bytes: &[u8], kind: Kind) -> Result<&[u8], ContainerError> {
    if bytes.len() < kind.magic.len() || bytes[..4] != kind.magic {
        return Err(ContainerError::BadMagic);
    }
    let Some(header) = bytes.first_chunk::<HEADER_LEN>() else {
        return Err(ContainerError::Truncated {
            needed: HEADER_LEN,
            got: bytes.len(),
        });
    };
    let payload_len = read_header(header, kind)?;
    let needed = HEADER_LEN
        .saturating_add(payload_len)
        .saturating_add(TRAILER_LEN);
    if bytes.len() < needed {
        return Err(ContainerError::Truncated {
            needed,
            got: bytes.len(),
        });
    }
    if bytes.len() > needed {
        return Err(ContainerError::TrailingBytes {
            extra: bytes.len() - needed,
        });
    }
    let (payload, trailer) = bytes[HEADER_LEN..].split_at(payload_len);
    let stored = u32::from_le_bytes([trailer[0], trailer[1], trailer[2], trailer[3]]);
    let computed = checksum(payload);
    if stored != computed {
        return Err(ContainerError::ChecksumMismatch { stored, computed });
    }
    Ok(payload)
}

/// The CRC-32 stored in the trailer of a framed buffer (0 for a buffer too
/// short to have one): the identity of a model file.
pub fn stored_checksum(bytes: &[u8]) -> u32 {
    match bytes.last_chunk::<TRAILER_LEN>() {
        Some(&trailer) => u32::from_le_bytes(trailer),
        None => 0,
    }
}

/// Frames a payload of `payload_len` bytes already written at
/// `out[HEADER_LEN..]`: writes the header before it and the CRC after it,
/// and returns the length of the whole frame.
pub fn seal_into(kind: Kind, payload_len: usize, out: &mut [u8]) -> Result<usize, ContainerError> {
    let total = HEADER_LEN
        .checked_add(payload_len)
        .and_then(|n| n.checked_add(TRAILER_LEN))
        .filter(|&n| n <= out.len());
    let (Some(total), Ok(len_field)) = (total, u32::try_from(payload_len)) else {
        return Err(ContainerError::BufferTooSmall);
    };
    out[..4].copy_from_slice(&kind.magic);
    out[4..6].copy_from_slice(&kind.version.to_le_bytes());
    out[6..HEADER_LEN].copy_from_slice(&len_field.to_le_bytes());
    let payload_end = HEADER_LEN + payload_len;
    let crc = checksum(&out[HEADER_LEN..payload_end]);
    out[payload_end..total].copy_from_slice(&crc.to_le_bytes());
    Ok(total)
}

/// Frames `payload` into a new `Vec`; fails only for a payload of 4 GiB or
/// more, whose length the header cannot hold.
#[cfg(feature = "std")]
pub fn seal(kind: Kind, payload: &[u8]) -> Result<std::vec::Vec<u8>, ContainerError> {
    let mut out = std::vec![0; HEADER_LEN + payload.len() + TRAILER_LEN];
    out[HEADER_LEN..HEADER_LEN + payload.len()].copy_from_slice(payload);
    seal_into(kind, payload.len(), &mut out)?;
    Ok(out)
}

#[cfg(feature = "std")]
extern crate std;
