//! Version-1 model files: refused by the loader with a typed error that
//! says how to replace them, and upgraded to version 2 bit for bit.

mod common;

use cert_runtime::format::CertSpec;
use cert_runtime::format::v1;
use cert_runtime::{Budget, Error, Model};
use common::golden::GOLDEN;

/// The golden model as format version 1 wrote it (FORMAT.md of version 1).
#[rustfmt::skip]
const GOLDEN_V1: &[u8] = &[
    0x43, 0x45, 0x52, 0x54, 0x01, 0x00, 0x5f, 0x00, 0x00, 0x00,
    0x01, 0x02, 0x02, 0x00, 0x00, 0x80, 0x3b, 0x80,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80, 0x3f,
    0x02,
    0x06, 0x6e, 0x6f, 0x2c, 0x79, 0x65, 0x73,
    0x06, 0x67, 0x6f, 0x6c, 0x64, 0x65, 0x6e,
    0x02, 0x00, 0x04, 0x02,
    0x08, 0x01, 0xfe, 0x03, 0xfc, 0x05, 0x06, 0xf9, 0x08,
    0x08, 0x64, 0x00, 0x00, 0x00, 0x9c, 0xff, 0xff, 0xff,
    0x00, 0x08, 0x00, 0x00, 0x00, 0x40, 0x00, 0x00, 0x00, 0x40,
    0x02, 0x24, 0x25, 0x80, 0x80, 0x7f, 0x00, 0x00, 0x80, 0x3e,
    0x00, 0x02, 0x02, 0x04, 0x0a, 0xf6, 0xf6, 0x0a,
    0x08, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x00, 0x00, 0x3f,
    0xfb, 0xbe, 0xd5, 0xce,
];

#[test]
fn a_version_1_file_is_refused_with_directions() {
    let error = Model::from_bytes(GOLDEN_V1).unwrap_err();
    assert_eq!(
        error,
        Error::FormatOutdated {
            found: 1,
            supported: 2
        }
    );
    let message = error.to_string();
    assert!(message.contains("certnn export --run"), "{message}");
    assert!(message.contains("certnn upgrade"), "{message}");
}

#[test]
fn upgrading_the_version_1_golden_file_gives_the_version_2_golden_file() {
    let mut upgraded = v1::upgrade(GOLDEN_V1).unwrap();
    assert_eq!(upgraded.header.certification.eps(0), Some(0.0));
    upgraded.header.certification = CertSpec::new(&[0.0625], 16);
    assert!(
        upgraded.header.input.names.is_empty(),
        "version 1 names no channels"
    );
    upgraded.header.input.names = "grey".into();
    assert_eq!(upgraded.to_bytes().unwrap(), GOLDEN);
}

#[test]
fn upgrading_keeps_every_certificate() {
    let bytes = v1::upgrade(GOLDEN_V1).unwrap().to_bytes().unwrap();
    let model = Model::from_bytes(&bytes).unwrap();
    let mut scratch = vec![0; model.certify_scratch_len()];
    let cert = model.certify(&[0.5, 0.25, 1.0, 0.0], Budget::uniform(0.0), &mut scratch);
    // FORMAT.md version 1's worked example: margins [0, 279] at eps 0.
    assert_eq!(cert.unwrap().margins.as_slice(), &[0, 279]);
}

#[test]
fn upgrade_refuses_what_is_not_a_version_1_file() {
    assert!(matches!(v1::upgrade(GOLDEN), Err(Error::Container(_))));
    let mut corrupt = GOLDEN_V1.to_vec();
    corrupt[30] ^= 1;
    assert!(matches!(v1::upgrade(&corrupt), Err(Error::Container(_))));
    // A wrong number of eps values is caught when the upgraded model loads.
    let mut two = v1::upgrade(GOLDEN_V1).unwrap();
    two.header.certification = CertSpec::new(&[0.1, 0.1], 0);
    let bytes = two.to_bytes().unwrap();
    assert_eq!(Model::from_bytes(&bytes).err(), Some(Error::Malformed));
}
