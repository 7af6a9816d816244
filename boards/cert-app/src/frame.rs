//! Input frames: one image per frame, over any byte stream (a UART).
//!
//! ```text
//! offset  bytes  field    meaning
//! 0       4      magic    b"CIMG" (0x43 0x49 0x4D 0x47)
//! 4       2      len      number of pixels, u16 little-endian; must equal
//!                         the model's input length (C*H*W)
//! 6       len    pixels   u8 each, CHW order; pixel p is the real input
//!                         min + (max - min) * p / 255 over the model's input
//!                         domain (p / 255 for a [0, 1] domain)
//! 6+len   4      crc      CRC-32/ISO-HDLC (zlib's crc32) of all bytes
//!                         before it, u32 little-endian
//! ```
//!
//! The reader hunts for the magic, so it resynchronises after noise or a
//! rejected frame. A wrong `len` is rejected at once (its payload is then
//! skipped by the hunt); a wrong CRC after the whole frame is in.

use embedded_io::Read;

/// The four bytes every frame starts with.
pub const MAGIC: [u8; 4] = *b"CIMG";
/// Bytes before the pixels: magic and length.
pub const HEADER_LEN: usize = 6;
/// Bytes after the pixels: the CRC.
pub const TRAILER_LEN: usize = 4;

const CRC32: crc::Crc<u32> = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC);

/// Why a frame was rejected; the reader is ready for the next one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum FrameError {
    /// The length field is not the model's input length.
    Length {
        /// Pixels the frame announced.
        got: u16,
        /// Pixels the model takes.
        expected: usize,
    },
    /// The CRC does not match: the frame was damaged on the way.
    Checksum,
}

/// Why no frame could be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ReadError<E> {
    /// A whole frame arrived and was rejected.
    Frame(FrameError),
    /// The stream ended (only a finite stream, such as a slice, ends).
    Eof,
    /// The peripheral failed.
    Io(E),
}

/// Reads bytes until one whole, valid frame is in and leaves its pixels in
/// `pixels`, whose length is the expected pixel count.
pub fn read_frame<R: Read>(reader: &mut R, pixels: &mut [u8]) -> Result<(), ReadError<R::Error>> {
    hunt(reader)?;
    let mut len = [0; 2];
    read_all(reader, &mut len)?;
    let got = u16::from_le_bytes(len);
    if usize::from(got) != pixels.len() {
        return Err(ReadError::Frame(FrameError::Length {
            got,
            expected: pixels.len(),
        }));
    }
    read_all(reader, pixels)?;
    let mut crc = [0; TRAILER_LEN];
    read_all(reader, &mut crc)?;
    let mut digest = CRC32.digest();
    digest.update(&MAGIC);
    digest.update(&len);
    digest.update(pixels);
    if digest.finalize() != u32::from_le_bytes(crc) {
        return Err(ReadError::Frame(FrameError::Checksum));
    }
    Ok(())
}

/// Writes the frame of `pixels` into `out` and returns its length
/// (`HEADER_LEN + pixels.len() + TRAILER_LEN`); `None` when `out` is too
/// short or there are more than `u16::MAX` pixels.
pub fn encode(pixels: &[u8], out: &mut [u8]) -> Option<usize> {
    let len = u16::try_from(pixels.len()).ok()?;
    let total = HEADER_LEN + pixels.len() + TRAILER_LEN;
    let out = out.get_mut(..total)?;
    out[..4].copy_from_slice(&MAGIC);
    out[4..HEADER_LEN].copy_from_slice(&len.to_le_bytes());
    out[HEADER_LEN..total - TRAILER_LEN].copy_from_slice(pixels);
    let crc = CRC32.checksum(&out[..total - TRAILER_LEN]);
    out[total - TRAILER_LEN..].copy_from_slice(&crc.to_le_bytes());
    Some(total)
}

/// Consumes bytes up to and including the next magic.
fn hunt<R: Read>(reader: &mut R) -> Result<(), ReadError<R::Error>> {
    let mut matched = 0;
    while matched < MAGIC.len() {
        let mut byte = [0];
        read_all(reader, &mut byte)?;
        matched = if byte[0] == MAGIC[matched] {
            matched + 1
        } else {
            // No proper prefix of the magic is also a suffix of it, so a
            // mismatch can only restart the match at the first byte.
            usize::from(byte[0] == MAGIC[0])
        };
    }
    Ok(())
}

/// Fills `buf`, or fails with the stream's end or error.
fn read_all<R: Read>(reader: &mut R, mut buf: &mut [u8]) -> Result<(), ReadError<R::Error>> {
    while !buf.is_empty() {
        match reader.read(buf).map_err(ReadError::Io)? {
            0 => return Err(ReadError::Eof),
            n => buf = &mut buf[n..],
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    extern crate std;

    use std::vec;
    use std::vec::Vec;

    use super::*;

    fn frame(pixels: &[u8]) -> Vec<u8> {
        let mut out = vec![0; HEADER_LEN + pixels.len() + TRAILER_LEN];
        assert_eq!(encode(pixels, &mut out), Some(out.len()));
        out
    }

    #[test]
    fn golden_bytes() {
        // zlib.crc32(b"CIMG\x03\x00\x00\x80\xff") == 0x5164d1d1
        let expected = [
            0x43, 0x49, 0x4D, 0x47, 0x03, 0x00, 0x00, 0x80, 0xFF, 0xD1, 0xD1, 0x64, 0x51,
        ];
        assert_eq!(frame(&[0, 128, 255]), expected);
    }

    #[test]
    fn round_trips_after_noise() {
        let mut stream = vec![0xAA, b'C', b'I', b'C', 0x00];
        stream.extend(frame(&[1, 2, 3, 4]));
        stream.extend(frame(&[5, 6, 7, 8]));
        let mut reader = &stream[..];
        let mut pixels = [0; 4];
        read_frame(&mut reader, &mut pixels).unwrap();
        assert_eq!(pixels, [1, 2, 3, 4]);
        read_frame(&mut reader, &mut pixels).unwrap();
        assert_eq!(pixels, [5, 6, 7, 8]);
        assert_eq!(read_frame(&mut reader, &mut pixels), Err(ReadError::Eof));
    }

    #[test]
    fn rejects_a_wrong_length_and_resyncs() {
        let mut stream = frame(&[9; 3]);
        stream.extend(frame(&[1, 2, 3, 4]));
        let mut reader = &stream[..];
        let mut pixels = [0; 4];
        assert_eq!(
            read_frame(&mut reader, &mut pixels),
            Err(ReadError::Frame(FrameError::Length {
                got: 3,
                expected: 4
            }))
        );
        read_frame(&mut reader, &mut pixels).unwrap();
        assert_eq!(pixels, [1, 2, 3, 4]);
    }

    #[test]
    fn rejects_every_single_bit_flip_of_the_payload() {
        let good = frame(&[10, 20, 30, 40]);
        for byte in 4..good.len() {
            for bit in 0..8 {
                let mut bad = good.clone();
                bad[byte] ^= 1 << bit;
                let mut pixels = [0; 4];
                let result = read_frame(&mut &bad[..], &mut pixels);
                assert!(
                    matches!(result, Err(ReadError::Frame(_)) | Err(ReadError::Eof)),
                    "byte {byte} bit {bit}: {result:?}"
                );
            }
        }
    }

    #[test]
    fn a_truncated_frame_is_eof() {
        let good = frame(&[1, 2, 3, 4]);
        for cut in 0..good.len() {
            let mut pixels = [0; 4];
            assert_eq!(
                read_frame(&mut &good[..cut], &mut pixels),
                Err(ReadError::Eof),
                "cut at {cut}"
            );
        }
    }

    #[test]
    fn encode_needs_room() {
        assert_eq!(encode(&[1, 2], &mut [0; 11]), None);
        assert_eq!(encode(&[1, 2], &mut [0; 12]), Some(12));
    }
}
