//! Test-vector files: built with the host's runtime, read back zero-copy,
//! checked against the model they were made for; the golden file of
//! FORMAT.md section 6 byte for byte.

mod common;

use cert_runtime::vectors::{self, Case, Expected, VECTORS, VectorError, Vectors};
use cert_runtime::{Buffers, ContainerError, Error, Model, REFINE_DEPTH, Trail, Verdict};
use common::golden::GOLDEN;
use common::{crc32, payload};

/// The three inputs of the golden vector file: one the golden model
/// certifies at its eps, one only refinement certifies (3 boxes), and one
/// refinement refutes (5 boxes).
fn inputs() -> Vec<Vec<f32>> {
    vec![
        vec![0.5, 0.25, 1.0, 0.0],
        vec![0.75, 0.0, 0.0, 0.0],
        vec![0.25, 0.25, 0.75, 0.5],
    ]
}

/// The golden vector file, annotated field by field in FORMAT.md section 6.
#[rustfmt::skip]
const GOLDEN_VECTORS: &[u8] = &[
    // container: magic "CVEC", version 2, payload length 107
    0x43, 0x56, 0x45, 0x43, 0x02, 0x00, 0x6b, 0x00, 0x00, 0x00,
    // header: model_crc 0x29ad1803 (varint), input_len 4; 3 cases in 99 bytes
    0x83, 0xb0, 0xb4, 0xcd, 0x02, 0x04, 0x03, 0x63,
    // case 0: input (16 bytes) [0.5, 0.25, 1.0, 0.0], label Some(0)
    0x10, 0x00, 0x00, 0x00, 0x3f, 0x00, 0x00, 0x80, 0x3e,
    0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00,
    // class 0, certified, margins [0, 219] (zigzag varints), refined None
    0x00, 0x01, 0x02, 0x00, 0xb6, 0x03, 0x00,
    // case 1: input [0.75, 0.0, 0.0, 0.0], label Some(1)
    0x10, 0x00, 0x00, 0x40, 0x3f, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x01,
    // class 1, not certified, margins [-19, 0]; refined: Certified in 3 boxes
    0x01, 0x00, 0x02, 0x25, 0x00, 0x01, 0x00, 0x03, 0x00,
    // case 2: input [0.25, 0.25, 0.75, 0.5], label Some(1)
    0x10, 0x00, 0x00, 0x80, 0x3e, 0x00, 0x00, 0x80, 0x3e,
    0x00, 0x00, 0x40, 0x3f, 0x00, 0x00, 0x00, 0x3f, 0x01, 0x01,
    // class 1, not certified, margins [-79, 0]; refined: Refuted in 5 boxes,
    // counterexample [0.21875, 0.21875, 0.71875, 0.46875]
    0x01, 0x00, 0x02, 0x9d, 0x01, 0x00, 0x01, 0x01, 0x05,
    0x10, 0x00, 0x00, 0x60, 0x3e, 0x00, 0x00, 0x60, 0x3e,
    0x00, 0x00, 0x38, 0x3f, 0x00, 0x00, 0xf0, 0x3e,
    // CRC-32 of the payload, 0xdb93661c
    0x1c, 0x66, 0x93, 0xdb,
];

#[test]
fn golden_vectors_match_the_spec_byte_for_byte() {
    let file = vectors::build(GOLDEN, &inputs(), Some(&[0, 1, 1])).unwrap();
    assert_eq!(file, GOLDEN_VECTORS);
    assert_eq!(payload(&file).len(), 107);
    assert_eq!(crc32(payload(&file)), 0xdb93_661c);
}

#[test]
fn build_round_trips_and_matches_the_runtime() {
    let file = vectors::build(GOLDEN, &inputs(), Some(&[0, 1, 1])).unwrap();
    let vectors = Vectors::from_bytes(&file).unwrap();
    vectors.check_model(GOLDEN).unwrap();
    assert_eq!(vectors.len(), 3);
    assert_eq!(vectors.header().input_len, 4);
    let model = Model::from_bytes(GOLDEN).unwrap();
    let mut scratch = vec![0i16; model.refine_scratch_len()];
    let mut trail = Trail::<REFINE_DEPTH>::new();
    let mut counterexample = [0f32; 4];
    let mut buffer = [0f32; 8];
    for (case, input) in vectors.cases().zip(inputs()) {
        let x = case.input_into(&mut buffer).unwrap();
        assert_eq!(x, &input[..]);
        let cert = model.certify(x, model.budget(), &mut scratch).unwrap();
        assert!(case.expected.matches(&cert));
        let mut buffers = Buffers {
            scratch: &mut scratch,
            trail: &mut trail,
            counterexample: &mut counterexample,
        };
        let decision = model.decide(x, &mut buffers).unwrap();
        assert!(
            case.expected
                .matches_decision(&decision, buffers.counterexample, true)
        );
    }
    let cases: Vec<Case<'_>> = vectors.cases().collect();
    assert_eq!(cases[0].label, Some(0));
    assert!(cases[0].expected.certified && cases[0].expected.refined.is_none());
    let verdicts: Vec<_> = cases[1..]
        .iter()
        .map(|c| {
            assert!(!c.expected.certified);
            let r = c
                .expected
                .refined
                .as_ref()
                .expect("uncertified cases are refined");
            (r.verdict, r.boxes, r.counterexample.len())
        })
        .collect();
    assert_eq!(
        verdicts,
        [(Verdict::Certified, 3, 0), (Verdict::Refuted, 5, 16)]
    );
}

#[test]
fn a_changed_margin_or_verdict_does_not_match() {
    let file = vectors::build(GOLDEN, &inputs(), None).unwrap();
    let vectors = Vectors::from_bytes(&file).unwrap();
    let model = Model::from_bytes(GOLDEN).unwrap();
    let mut scratch = vec![0i16; model.refine_scratch_len()];
    let case = vectors.cases().next().unwrap();
    let mut cert = model
        .certify(&inputs()[0], model.budget(), &mut scratch)
        .unwrap();
    cert.margins[1] += 1;
    assert!(!case.expected.matches(&cert));
    let case = vectors.cases().nth(2).unwrap();
    let mut trail = Trail::<REFINE_DEPTH>::new();
    let mut counterexample = [0f32; 4];
    let mut refined = model
        .refine(
            &inputs()[2],
            model.budget(),
            16,
            &mut scratch,
            &mut trail,
            &mut counterexample,
        )
        .unwrap();
    assert!(
        case.expected
            .matches_decision(&refined, &counterexample, true)
    );
    let mut moved = counterexample;
    moved[0] = f32::from_bits(moved[0].to_bits() ^ 1);
    assert!(!case.expected.matches_decision(&refined, &moved, true));
    assert!(
        !case
            .expected
            .matches_decision(&refined, &counterexample, false)
    );
    refined.boxes += 1;
    assert!(
        !case
            .expected
            .matches_decision(&refined, &counterexample, true)
    );
}

#[test]
fn corruption_is_detected() {
    let file = vectors::build(GOLDEN, &inputs(), None).unwrap();
    let mut flipped = file.clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 1;
    assert!(matches!(
        Vectors::from_bytes(&flipped).unwrap_err(),
        VectorError::Container(ContainerError::ChecksumMismatch { .. })
    ));
    assert!(matches!(
        Vectors::from_bytes(&file[..file.len() - 1]).unwrap_err(),
        VectorError::Container(ContainerError::Truncated { .. })
    ));
    assert_eq!(
        Vectors::from_bytes(GOLDEN).unwrap_err(),
        VectorError::Container(ContainerError::BadMagic)
    );
    let mut version = file.clone();
    version[4] = 1;
    assert_eq!(
        Vectors::from_bytes(&version).unwrap_err(),
        VectorError::Container(ContainerError::UnsupportedVersion {
            found: 1,
            supported: VECTORS.version
        })
    );
    // A payload whose case count does not add up, sealed correctly.
    let mut body = payload(&file).to_vec();
    body[6] += 1;
    let resealed = cert_runtime::container::seal(VECTORS, &body).unwrap();
    assert_eq!(
        Vectors::from_bytes(&resealed).unwrap_err(),
        VectorError::Malformed
    );
}

#[test]
fn vectors_know_their_model() {
    let file = vectors::build(GOLDEN, &inputs(), None).unwrap();
    let mut other = GOLDEN.to_vec();
    let last = other.len() - 1;
    other[last] ^= 0xff;
    assert!(matches!(
        Vectors::from_bytes(&file).unwrap().check_model(&other),
        Err(VectorError::WrongModel { .. })
    ));
}

#[test]
fn bad_arguments_are_rejected() {
    assert_eq!(
        vectors::build(GOLDEN, &inputs(), Some(&[0])).unwrap_err(),
        VectorError::LabelCount {
            inputs: 3,
            labels: 1
        }
    );
    assert_eq!(
        vectors::build(GOLDEN, &[vec![0.0; 3]], None).unwrap_err(),
        VectorError::Runtime(Error::InputLength {
            expected: 4,
            got: 3
        })
    );
    let header = vectors::Header {
        model_crc: 0,
        input_len: 4,
    };
    let short = Case {
        input: &[0; 12],
        label: None,
        expected: Expected {
            class: 0,
            certified: true,
            margins: Default::default(),
            refined: None,
        },
    };
    assert_eq!(
        vectors::encode(&header, &[short]).unwrap_err(),
        VectorError::InputLength {
            expected: 4,
            got: 3
        }
    );
    for error in [
        VectorError::Container(ContainerError::BadMagic),
        VectorError::Container(ContainerError::BufferTooSmall),
        VectorError::Malformed,
        VectorError::WrongModel {
            vectors: 1,
            model: 2,
        },
        VectorError::InputLength {
            expected: 1,
            got: 2,
        },
        VectorError::LabelCount {
            inputs: 1,
            labels: 2,
        },
        VectorError::Runtime(Error::InvalidEps { channel: 0 }),
    ] {
        assert!(error.to_string().len() > 10, "{error:?}");
    }
}
