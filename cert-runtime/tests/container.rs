//! The framing layer shared by model files, test-vector files and input
//! frames: golden bytes, the streaming header check, and every rejection.

use cert_runtime::ContainerError;
use cert_runtime::container::{self, HEADER_LEN, Kind};

const KIND: Kind = Kind {
    magic: *b"TEST",
    version: 7,
};

#[test]
fn a_frame_is_magic_version_length_payload_crc() {
    let frame = container::seal(KIND, b"abc").unwrap();
    #[rustfmt::skip]
    let golden = [
        b'T', b'E', b'S', b'T', 0x07, 0x00, 0x03, 0x00, 0x00, 0x00,
        b'a', b'b', b'c',
        // zlib.crc32(b"abc") == 0x352441c2
        0xc2, 0x41, 0x24, 0x35,
    ];
    assert_eq!(frame, golden);
    assert_eq!(container::open(&frame, KIND), Ok(&b"abc"[..]));
    assert_eq!(container::stored_checksum(&frame), 0x3524_41c2);
    let header: &[u8; HEADER_LEN] = frame[..HEADER_LEN].try_into().unwrap();
    assert_eq!(container::read_header(header, KIND), Ok(3));
    let mut out = [0u8; 17];
    out[HEADER_LEN..HEADER_LEN + 3].copy_from_slice(b"abc");
    assert_eq!(container::seal_into(KIND, 3, &mut out), Ok(17));
    assert_eq!(out, golden);
    let mut piecewise = container::Checksum::new();
    piecewise.update(b"a");
    piecewise.update(b"bc");
    assert_eq!(piecewise.finish(), container::checksum(b"abc"));
}

#[test]
fn every_defect_is_named() {
    let frame = container::seal(KIND, b"abc").unwrap();
    let other = Kind {
        magic: *b"ELSE",
        version: 7,
    };
    assert_eq!(
        container::open(&frame, other),
        Err(ContainerError::BadMagic)
    );
    let newer = Kind { version: 8, ..KIND };
    assert_eq!(
        container::open(&frame, newer),
        Err(ContainerError::UnsupportedVersion {
            found: 7,
            supported: 8
        })
    );
    assert_eq!(
        container::open(&frame[..9], KIND),
        Err(ContainerError::Truncated { needed: 10, got: 9 })
    );
    assert_eq!(
        container::open(&frame[..16], KIND),
        Err(ContainerError::Truncated {
            needed: 17,
            got: 16
        })
    );
    let longer = [&frame[..], b"!"].concat();
    assert_eq!(
        container::open(&longer, KIND),
        Err(ContainerError::TrailingBytes { extra: 1 })
    );
    for at in HEADER_LEN..frame.len() {
        let mut bad = frame.clone();
        bad[at] ^= 0x10;
        assert!(matches!(
            container::open(&bad, KIND),
            Err(ContainerError::ChecksumMismatch { .. })
        ));
    }
    assert_eq!(
        container::seal_into(KIND, 3, &mut [0u8; 16]),
        Err(ContainerError::BufferTooSmall)
    );
    assert_eq!(container::stored_checksum(b"abc"), 0);
}
