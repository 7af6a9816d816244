//! Input frames: one input per frame, over any byte stream (a UART), in
//! the project's one framing layer ([`cert_runtime::container`]):
//!
//! ```text
//! offset  bytes  field
//! 0       4      magic b"CINP"
//! 4       2      version 1, u16 little-endian
//! 6       4      payload length n = 4 * (C*H*W of the model), u32 little-endian
//! 10      n      the input values, f32 little-endian each, CHW order, in the
//!                model's real units (pixels in [0, 1], features in their own)
//! 10+n    4      CRC-32/ISO-HDLC (zlib's crc32) of the payload, u32 little-endian
//! ```
//!
//! A frame with an empty payload (length 0, CRC 0) closes the session:
//! the reader reports the stream's end, as it does when a finite stream
//! (a file, a test's buffer) runs out.
//!
//! The reader hunts for the magic, so it resynchronises after noise or a
//! rejected frame. A wrong version or length is rejected at once (its
//! payload is then skipped by the hunt); a wrong CRC after the whole frame
//! is in.

use cert_runtime::ContainerError;
use cert_runtime::container::{self, Checksum, HEADER_LEN, Kind, TRAILER_LEN};
use embedded_io::Read;

/// Input frames: magic `CINP`, version 1.
pub const INPUT: Kind = Kind {
    magic: *b"CINP",
    version: 1,
};

/// Why a frame was rejected; the reader is ready for the next one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum FrameError {
    /// The frame's version is not one this application reads.
    Container(ContainerError),
    /// The length field is not four bytes per model input.
    Length {
        /// Payload bytes the frame announced.
        got: usize,
        /// Payload bytes the model takes.
        expected: usize,
    },
}

/// Why no frame could be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ReadError<E> {
    /// A whole frame arrived and was rejected.
    Frame(FrameError),
    /// The stream ended: a finite stream (a slice, a file) ran out, or the
    /// closing frame (an empty one) came in.
    Eof,
    /// The peripheral failed.
    Io(E),
}

/// Reads bytes until one whole, valid frame is in and leaves its values in
/// `input`, whose length is the expected number of values.
pub fn read_frame<R: Read>(reader: &mut R, input: &mut [f32]) -> Result<(), ReadError<R::Error>> {
    let mut header = [0; HEADER_LEN];
    hunt(reader)?;
    header[..4].copy_from_slice(&INPUT.magic);
    read_all(reader, &mut header[4..])?;
    let got = container::read_header(&header, INPUT)
        .map_err(|e| ReadError::Frame(FrameError::Container(e)))?;
    if got == 0 {
        let mut stored = [0; TRAILER_LEN];
        read_all(reader, &mut stored)?;
        let (stored, computed) = (u32::from_le_bytes(stored), Checksum::new().finish());
        return Err(match stored == computed {
            true => ReadError::Eof,
            false => ReadError::Frame(FrameError::Container(ContainerError::ChecksumMismatch {
                stored,
                computed,
            })),
        });
    }
    let expected = 4 * input.len();
    if got != expected {
        return Err(ReadError::Frame(FrameError::Length { got, expected }));
    }
    let mut crc = Checksum::new();
    for x in input.iter_mut() {
        let mut value = [0; 4];
        read_all(reader, &mut value)?;
        crc.update(&value);
        *x = f32::from_le_bytes(value);
    }
    let mut stored = [0; TRAILER_LEN];
    read_all(reader, &mut stored)?;
    let (stored, computed) = (u32::from_le_bytes(stored), crc.finish());
    if stored != computed {
        return Err(ReadError::Frame(FrameError::Container(
            ContainerError::ChecksumMismatch { stored, computed },
        )));
    }
    Ok(())
}

/// Writes the frame of `input` into `out` and returns its length
/// (`HEADER_LEN + 4 * input.len() + TRAILER_LEN`); an empty `input` gives
/// the closing frame.
pub fn encode(input: &[f32], out: &mut [u8]) -> Result<usize, ContainerError> {
    let payload = out
        .get_mut(HEADER_LEN..HEADER_LEN + 4 * input.len())
        .ok_or(ContainerError::BufferTooSmall)?;
    for (bytes, x) in payload.chunks_exact_mut(4).zip(input) {
        bytes.copy_from_slice(&x.to_le_bytes());
    }
    container::seal_into(INPUT, 4 * input.len(), out)
}

/// Consumes bytes up to and including the next magic.
fn hunt<R: Read>(reader: &mut R) -> Result<(), ReadError<R::Error>> {
    let magic = INPUT.magic;
    let mut matched = 0;
    while matched < magic.len() {
        let mut byte = [0];
        read_all(reader, &mut byte)?;
        matched = if byte[0] == magic[matched] {
            matched + 1
        } else {
            // No proper prefix of the magic is also a suffix of it, so a
            // mismatch can only restart the match at the first byte.
            usize::from(byte[0] == magic[0])
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

    fn frame(input: &[f32]) -> Vec<u8> {
        let mut out = vec![0; HEADER_LEN + 4 * input.len() + TRAILER_LEN];
        assert_eq!(encode(input, &mut out), Ok(out.len()));
        out
    }

    #[test]
    fn golden_bytes() {
        // zlib.crc32(struct.pack("<3f", 0.0, 0.5, 1.0)) == 0xd5415c4e
        #[rustfmt::skip]
        let expected = [
            b'C', b'I', b'N', b'P', 0x01, 0x00, 0x0c, 0x00, 0x00, 0x00,
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x3f, 0x00, 0x00, 0x80, 0x3f,
            0x4e, 0x5c, 0x41, 0xd5,
        ];
        assert_eq!(frame(&[0.0, 0.5, 1.0]), expected);
    }

    #[test]
    fn round_trips_after_noise() {
        let mut stream = vec![0xAA, b'C', b'I', b'C', 0x00];
        stream.extend(frame(&[1.0, 2.0]));
        stream.extend(frame(&[-3.5, 4.25]));
        let mut reader = &stream[..];
        let mut input = [0.0; 2];
        read_frame(&mut reader, &mut input).unwrap();
        assert_eq!(input, [1.0, 2.0]);
        read_frame(&mut reader, &mut input).unwrap();
        assert_eq!(input, [-3.5, 4.25]);
        assert_eq!(read_frame(&mut reader, &mut input), Err(ReadError::Eof));
    }

    #[test]
    fn rejects_a_wrong_length_or_version_and_resyncs() {
        let mut stream = frame(&[9.0; 3]);
        let mut newer = frame(&[1.0, 2.0]);
        newer[4] = 2;
        stream.extend(newer);
        stream.extend(frame(&[1.0, 2.0]));
        let mut reader = &stream[..];
        let mut input = [0.0; 2];
        assert_eq!(
            read_frame(&mut reader, &mut input),
            Err(ReadError::Frame(FrameError::Length {
                got: 12,
                expected: 8
            }))
        );
        assert_eq!(
            read_frame(&mut reader, &mut input),
            Err(ReadError::Frame(FrameError::Container(
                ContainerError::UnsupportedVersion {
                    found: 2,
                    supported: 1
                }
            )))
        );
        read_frame(&mut reader, &mut input).unwrap();
        assert_eq!(input, [1.0, 2.0]);
    }

    #[test]
    fn rejects_every_single_bit_flip_of_the_frame() {
        let good = frame(&[10.0, 20.0]);
        for byte in 4..good.len() {
            for bit in 0..8 {
                let mut bad = good.clone();
                bad[byte] ^= 1 << bit;
                let mut input = [0.0; 2];
                let result = read_frame(&mut &bad[..], &mut input);
                assert!(
                    matches!(result, Err(ReadError::Frame(_)) | Err(ReadError::Eof)),
                    "byte {byte} bit {bit}: {result:?}"
                );
            }
        }
    }

    #[test]
    fn a_truncated_frame_is_eof() {
        let good = frame(&[1.0, 2.0]);
        for cut in 0..good.len() {
            let mut input = [0.0; 2];
            assert_eq!(
                read_frame(&mut &good[..cut], &mut input),
                Err(ReadError::Eof),
                "cut at {cut}"
            );
        }
    }

    #[test]
    fn the_empty_frame_closes_the_session() {
        let mut stream = frame(&[1.0, 2.0]);
        stream.extend(frame(&[]));
        stream.extend(frame(&[3.0, 4.0]));
        let mut reader = &stream[..];
        let mut input = [0.0; 2];
        read_frame(&mut reader, &mut input).unwrap();
        assert_eq!(read_frame(&mut reader, &mut input), Err(ReadError::Eof));
        read_frame(&mut reader, &mut input).unwrap();
        assert_eq!(input, [3.0, 4.0]);
        let mut bad = frame(&[]);
        bad[HEADER_LEN] ^= 1;
        assert!(matches!(
            read_frame(&mut &bad[..], &mut input),
            Err(ReadError::Frame(FrameError::Container(
                ContainerError::ChecksumMismatch { .. }
            )))
        ));
    }

    #[test]
    fn encode_needs_room() {
        assert_eq!(
            encode(&[1.0, 2.0], &mut [0; 21]),
            Err(ContainerError::BufferTooSmall)
        );
        assert_eq!(encode(&[1.0, 2.0], &mut [0; 22]), Ok(22));
    }
}
