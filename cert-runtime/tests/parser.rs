//! The model-file parser and validator: a golden file checked byte for
//! byte against FORMAT.md, one crafted input per error variant, and
//! robustness against arbitrary and mutated bytes.
#![cfg(feature = "std")]

mod common;

use cert_runtime::builder::{LayerKind, LayerSpec, ModelSpec, OutputSpec};
use cert_runtime::format::{self, ModelDesc, Output};
use cert_runtime::{Error, InputSpec, Layer, Model};
use common::exercise::exercise;
use common::{crc32, encode, payload, proptest_config, random_model, seal};
use proptest::prelude::*;

/// The golden model of FORMAT.md: a 1x2x2 input, one Dense 4 -> 2 hidden
/// layer with a fused ReLU, and a Dense 2 -> 2 logits layer.
fn golden_spec() -> ModelSpec {
    ModelSpec {
        input: InputSpec {
            channels: 1,
            height: 2,
            width: 2,
            scale: 1.0 / 256.0,
            zero_point: -128,
            domain_min: 0.0,
            domain_max: 1.0,
        },
        classes: 2,
        class_names: "no,yes".into(),
        description: "golden".into(),
        layers: vec![
            LayerSpec {
                kind: LayerKind::Dense {
                    inputs: 4,
                    outputs: 2,
                },
                weights: vec![1, -2, 3, -4, 5, 6, -7, 8],
                bias: vec![100, -100],
                output: OutputSpec::Requantize {
                    multiplier: vec![1 << 30, 1 << 30],
                    shift: vec![36, 37],
                    zero_point: -128,
                    min: -128,
                    max: 127,
                    scale: 0.25,
                },
            },
            LayerSpec {
                kind: LayerKind::Dense {
                    inputs: 2,
                    outputs: 2,
                },
                weights: vec![10, -10, -10, 10],
                bias: vec![0, 1],
                output: OutputSpec::Logits { scale: 0.5 },
            },
        ],
    }
}

/// The golden model file, annotated field by field in FORMAT.md.
#[rustfmt::skip]
const GOLDEN: &[u8] = &[
    // container: magic "CERT", version 1 (u16 LE), payload length 95 (u32 LE)
    0x43, 0x45, 0x52, 0x54, 0x01, 0x00, 0x5f, 0x00, 0x00, 0x00,
    // header.input: channels 1, height 2, width 2 (varints), scale 1/256 (f32 LE),
    // zero_point -128 (i8), domain_min 0.0, domain_max 1.0 (f32 LE)
    0x01, 0x02, 0x02, 0x00, 0x00, 0x80, 0x3b, 0x80,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80, 0x3f,
    // header.classes 2; class_names "no,yes"; description "golden"
    0x02,
    0x06, 0x6e, 0x6f, 0x2c, 0x79, 0x65, 0x73,
    0x06, 0x67, 0x6f, 0x6c, 0x64, 0x65, 0x6e,
    // layers: 2 of them; layer 0 is Layer::Dense (0), inputs 4, outputs 2
    0x02, 0x00, 0x04, 0x02,
    // weights: 8 bytes of int8 [1, -2, 3, -4, 5, 6, -7, 8]
    0x08, 0x01, 0xfe, 0x03, 0xfc, 0x05, 0x06, 0xf9, 0x08,
    // bias: 8 bytes, i32 LE [100, -100]
    0x08, 0x64, 0x00, 0x00, 0x00, 0x9c, 0xff, 0xff, 0xff,
    // output: Output::Requantize (0); multiplier: 8 bytes, i32 LE [2^30, 2^30]
    0x00, 0x08, 0x00, 0x00, 0x00, 0x40, 0x00, 0x00, 0x00, 0x40,
    // shift: 2 bytes [36, 37]; zero_point -128, min -128, max 127; scale 0.25
    0x02, 0x24, 0x25, 0x80, 0x80, 0x7f, 0x00, 0x00, 0x80, 0x3e,
    // layer 1: Layer::Dense (0), inputs 2, outputs 2; weights [10, -10, -10, 10]
    0x00, 0x02, 0x02, 0x04, 0x0a, 0xf6, 0xf6, 0x0a,
    // bias: 8 bytes, i32 LE [0, 1]
    0x08, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
    // output: Output::Logits (1), scale 0.5
    0x01, 0x00, 0x00, 0x00, 0x3f,
    // CRC-32/ISO-HDLC of the payload, 0xced5befb (u32 LE)
    0xfb, 0xbe, 0xd5, 0xce,
];

fn golden() -> Vec<u8> {
    encode(&golden_spec())
}

#[test]
fn golden_file_matches_the_spec_byte_for_byte() {
    assert_eq!(golden(), GOLDEN);
    let body = payload(GOLDEN);
    assert_eq!(body.len(), 95);
    assert_eq!(crc32(body), 0xced5_befb);
    assert_eq!(seal(body), GOLDEN);
    assert_eq!(crc32(b"123456789"), 0xcbf4_3926, "the CRC's check value");
}

/// Input quantisation as FORMAT.md section 4.1 states it.
#[test]
fn input_quantisation_follows_the_spec() {
    use cert_runtime::requant::quantize_input;
    let spec = |scale, zero_point| InputSpec {
        channels: 1,
        height: 1,
        width: 1,
        scale,
        zero_point,
        domain_min: -1e30,
        domain_max: 1e30,
    };
    let unit = spec(1.0, 0);
    // Half away from zero.
    for (x, q) in [(0.5, 1), (-0.5, -1), (1.49, 1), (-1.5, -2), (2.5, 3)] {
        assert_eq!(quantize_input(x, &unit), q, "{x}");
    }
    // The f32 addition of 0.5 rounds up: 0.49999997 + 0.5 == 1.0.
    assert_eq!(quantize_input(0.499_999_97, &unit), 1);
    // Saturation: huge quotients clamp to the int8 range.
    assert_eq!(quantize_input(1e30, &unit), 127);
    assert_eq!(quantize_input(-1e30, &unit), -128);
    // The zero point is added after rounding, then the sum is clamped.
    let pixels = spec(1.0 / 255.0, -128);
    assert_eq!(quantize_input(0.0, &pixels), -128);
    assert_eq!(quantize_input(1.0, &pixels), 127);
    assert_eq!(quantize_input(0.625, &spec(0.25, -128)), -125); // 2.5 -> 3
    assert_eq!(quantize_input(1.0, &spec(1.0 / 255.0, 0)), 127);
}

/// The golden model computes what FORMAT.md works out by hand.
#[test]
fn golden_model_predicts_the_hand_computed_logits() {
    let model = Model::from_bytes(GOLDEN).unwrap();
    assert_eq!(model.header().class_names, "no,yes");
    assert_eq!(model.header().description, "golden");
    assert_eq!(model.parameter_count(), 8 + 2 + 4 + 2);
    let mut scratch = vec![0; model.certify_scratch_len()];
    // Quantised input [0, -64, 127 (clamped from 128), -128].
    let input = [0.5, 0.25, 1.0, 0.0];
    let prediction = model.predict(&input, &mut scratch).unwrap();
    assert_eq!(prediction.class, 0);
    assert_eq!(prediction.logits.as_slice(), &[140, -139]);
    let quantized = model.predict_quantized(&[0, -64, 127, -128], &mut scratch);
    assert_eq!(quantized.unwrap(), prediction);
    let cert = model.certify(&input, 0.0, &mut scratch).unwrap();
    assert!(cert.certified);
    assert_eq!(cert.margins.as_slice(), &[0, 279]);
}

/// Decodes `file`, lets `change` edit the description and re-encodes it
/// (container and CRC correct), to reach the validator with one defect.
fn with_desc(file: &[u8], change: impl FnOnce(&mut ModelDesc<'_>)) -> Vec<u8> {
    let mut desc = format::decode(file).expect("valid file decodes");
    change(&mut desc);
    format::encode(&desc).expect("encodes")
}

/// The golden file with one defect made by `change`.
fn golden_with(change: impl FnOnce(&mut ModelDesc<'_>)) -> Vec<u8> {
    with_desc(GOLDEN, change)
}

/// Layer `index` of a dense-only description.
fn dense<'d, 'a>(desc: &'d mut ModelDesc<'a>, index: usize) -> &'d mut cert_runtime::Dense<'a> {
    match &mut desc.layers[index] {
        Layer::Dense(dense) => dense,
        Layer::Conv2d(_) => unreachable!("the golden model is dense only"),
    }
}

/// The requantisation stage of hidden layer 0 of the golden model.
fn requantize<'d, 'a>(desc: &'d mut ModelDesc<'a>) -> &'d mut cert_runtime::Requantize<'a> {
    match &mut dense(desc, 0).params.output {
        Output::Requantize(requantize) => requantize,
        Output::Logits { .. } => unreachable!("layer 0 requantises"),
    }
}

/// The error loading `file` fails with.
fn load_error(file: &[u8]) -> Error {
    Model::from_bytes(file).expect_err("the file must be rejected")
}

#[test]
fn container_errors() {
    let mut bad_magic = GOLDEN.to_vec();
    bad_magic[0] = b'X';
    assert_eq!(load_error(&bad_magic), Error::BadMagic);
    assert_eq!(load_error(b"CER"), Error::BadMagic);
    assert_eq!(load_error(&[]), Error::BadMagic);

    let mut version = GOLDEN.to_vec();
    version[4] = 2;
    let unsupported = Error::UnsupportedVersion {
        found: 2,
        supported: format::FORMAT_VERSION,
    };
    assert_eq!(load_error(&version), unsupported);

    let short_header = Error::Truncated { needed: 10, got: 6 };
    assert_eq!(load_error(&GOLDEN[..6]), short_header);
    let short_body = Error::Truncated {
        needed: GOLDEN.len(),
        got: GOLDEN.len() - 1,
    };
    assert_eq!(load_error(&GOLDEN[..GOLDEN.len() - 1]), short_body);
    let mut huge_length = GOLDEN.to_vec();
    huge_length[6..10].copy_from_slice(&u32::MAX.to_le_bytes());
    assert!(matches!(load_error(&huge_length), Error::Truncated { .. }));

    let mut trailing = GOLDEN.to_vec();
    trailing.extend_from_slice(&[0, 0, 0]);
    assert_eq!(load_error(&trailing), Error::TrailingBytes { extra: 3 });

    let mut corrupt = GOLDEN.to_vec();
    corrupt[20] ^= 0x01;
    let computed = crc32(payload(&corrupt));
    let mismatch = Error::ChecksumMismatch {
        stored: 0xced5_befb,
        computed,
    };
    assert_eq!(load_error(&corrupt), mismatch);
}

#[test]
fn malformed_payloads() {
    assert_eq!(load_error(&seal(&[])), Error::Malformed);
    assert_eq!(load_error(&seal(&[0xff; 8])), Error::Malformed);
    // A valid payload followed by one extra byte (inside the CRC).
    let mut longer = payload(GOLDEN).to_vec();
    longer.push(0);
    assert_eq!(load_error(&seal(&longer)), Error::Malformed);
    // An unknown Layer variant (2) where layer 0 starts.
    let mut variant = payload(GOLDEN).to_vec();
    variant[32] = 2;
    assert_eq!(load_error(&seal(&variant)), Error::Malformed);
    // Invalid UTF-8 in the class names.
    let mut names = payload(GOLDEN).to_vec();
    names[18] = 0xff;
    assert_eq!(load_error(&seal(&names)), Error::Malformed);
    // More layers than MAX_LAYERS: the heapless vector refuses them.
    let mut many = payload(GOLDEN).to_vec();
    many[31] = cert_runtime::MAX_LAYERS as u8 + 1;
    assert_eq!(load_error(&seal(&many)), Error::Malformed);
}

#[test]
fn size_and_shape_errors() {
    let one_class = golden_with(|d| d.header.classes = 1);
    assert_eq!(load_error(&one_class), Error::UnsupportedSize);
    let too_many_classes = golden_with(|d| d.header.classes = 33);
    assert_eq!(load_error(&too_many_classes), Error::UnsupportedSize);
    let no_layers = golden_with(|d| d.layers.clear());
    assert_eq!(load_error(&no_layers), Error::UnsupportedSize);

    let wrong_inputs = golden_with(|d| dense(d, 0).inputs = 5);
    assert_eq!(load_error(&wrong_inputs), Error::ShapeMismatch { layer: 0 });
    let short_weights = golden_with(|d| dense(d, 1).params.weights = &[1, 2, 3]);
    assert_eq!(
        load_error(&short_weights),
        Error::ShapeMismatch { layer: 1 }
    );
    let short_bias = golden_with(|d| dense(d, 0).params.bias = &[0; 7]);
    assert_eq!(load_error(&short_bias), Error::ShapeMismatch { layer: 0 });
    let short_shifts = golden_with(|d| requantize(d).shift = &[36]);
    assert_eq!(load_error(&short_shifts), Error::ShapeMismatch { layer: 0 });
    let logits_vs_classes = golden_with(|d| d.header.classes = 3);
    assert_eq!(
        load_error(&logits_vs_classes),
        Error::ShapeMismatch { layer: 1 }
    );
}

#[test]
fn quantization_errors() {
    let zero_scale = golden_with(|d| d.header.input.scale = 0.0);
    assert_eq!(
        load_error(&zero_scale),
        Error::InvalidQuantization { layer: 0 }
    );
    let nan_domain = golden_with(|d| d.header.input.domain_max = f32::NAN);
    assert_eq!(
        load_error(&nan_domain),
        Error::InvalidQuantization { layer: 0 }
    );
    let zero_shift = golden_with(|d| requantize(d).shift = &[0, 37]);
    assert_eq!(
        load_error(&zero_shift),
        Error::InvalidQuantization { layer: 0 }
    );
    let big_shift = golden_with(|d| requantize(d).shift = &[36, 63]);
    assert_eq!(
        load_error(&big_shift),
        Error::InvalidQuantization { layer: 0 }
    );
    let negative_multiplier =
        golden_with(|d| requantize(d).multiplier = &[0, 0, 0, 0x40, 0, 0, 0, 0x80]);
    assert_eq!(
        load_error(&negative_multiplier),
        Error::InvalidQuantization { layer: 0 }
    );
    let empty_clamp = golden_with(|d| {
        let stage = requantize(d);
        (stage.min, stage.max) = (10, 9);
    });
    assert_eq!(
        load_error(&empty_clamp),
        Error::InvalidQuantization { layer: 0 }
    );
    let zero_above_clamp = golden_with(|d| {
        let stage = requantize(d);
        (stage.zero_point, stage.max) = (0, -5);
    });
    assert_eq!(
        load_error(&zero_above_clamp),
        Error::InvalidQuantization { layer: 0 }
    );
    let zero_below_clamp = golden_with(|d| requantize(d).min = -127);
    assert_eq!(
        load_error(&zero_below_clamp),
        Error::InvalidQuantization { layer: 0 }
    );
}

#[test]
fn layer_order_and_headroom_errors() {
    let early_logits = golden_with(|d| dense(d, 0).params.output = Output::Logits { scale: 1.0 });
    assert_eq!(load_error(&early_logits), Error::LogitsNotLast { layer: 0 });
    let no_logits = golden_with(|d| {
        let stage = dense(d, 0).params.output;
        dense(d, 1).params.output = stage;
    });
    assert_eq!(load_error(&no_logits), Error::LogitsNotLast { layer: 1 });

    // Channel 1's bias alone nearly fills i32: 3 * headroom cannot fit.
    let overflow = golden_with(|d| {
        dense(d, 0).params.bias = &[100, 0, 0, 0, 0xff, 0xff, 0xff, 0x3f];
    });
    let expected = Error::AccumulatorOverflow {
        layer: 0,
        channel: 1,
    };
    assert_eq!(load_error(&overflow), expected);
}

#[test]
fn input_and_buffer_errors() {
    let model = Model::from_bytes(GOLDEN).unwrap();
    let mut scratch = vec![0; model.certify_scratch_len()];
    let input = [0.5; 4];

    let short = vec![0; model.predict_scratch_len() - 1];
    let needed = model.predict_scratch_len();
    let expected = Error::ScratchTooSmall {
        needed,
        got: needed - 1,
    };
    assert_eq!(model.predict(&input, &mut short.clone()), Err(expected));
    let mut for_predict = vec![0; needed];
    let needed = model.certify_scratch_len();
    let expected = Error::ScratchTooSmall {
        needed,
        got: for_predict.len(),
    };
    assert_eq!(model.certify(&input, 0.1, &mut for_predict), Err(expected));
    assert_eq!(
        model.certified_radius(&input, 0.1, &mut for_predict),
        Err(expected)
    );

    let length = Error::InputLength {
        expected: 4,
        got: 3,
    };
    assert_eq!(model.predict(&input[..3], &mut scratch), Err(length));
    assert_eq!(model.certify(&input[..3], 0.1, &mut scratch), Err(length));
    assert_eq!(model.predict_quantized(&[0; 3], &mut scratch), Err(length));
    let quantized = model.certify_quantized(&[0; 4], &[0; 3], &[0; 4], &mut scratch);
    assert_eq!(quantized, Err(length));

    let nan = [0.5, f32::NAN, 0.5, 0.5];
    let nan_error = Error::NonFiniteInput { index: 1 };
    assert_eq!(model.predict(&nan, &mut scratch), Err(nan_error));
    assert_eq!(model.certify(&nan, 0.1, &mut scratch), Err(nan_error));
    let infinite = [0.5, 0.5, 0.5, f32::INFINITY];
    let infinite_error = Error::NonFiniteInput { index: 3 };
    assert_eq!(model.predict(&infinite, &mut scratch), Err(infinite_error));

    let outside = [0.5, 0.5, 1.5, 0.5];
    let outside_error = Error::InputOutOfDomain { index: 2 };
    assert_eq!(model.predict(&outside, &mut scratch), Err(outside_error));
    let negative = [-0.1, 0.5, 0.5, 0.5];
    let negative_error = Error::InputOutOfDomain { index: 0 };
    assert_eq!(
        model.certify(&negative, 0.1, &mut scratch),
        Err(negative_error)
    );
    let outside_box = model.certify_quantized(&[0; 4], &[0, 0, 1, 0], &[0; 4], &mut scratch);
    assert_eq!(outside_box, Err(Error::InputOutOfDomain { index: 2 }));

    for eps in [-0.1, -0.0 - f32::MIN_POSITIVE, f32::NAN, f32::INFINITY] {
        assert_eq!(
            model.certify(&input, eps, &mut scratch),
            Err(Error::InvalidEps)
        );
        let radius = model.certified_radius(&input, eps, &mut scratch);
        assert_eq!(radius, Err(Error::InvalidEps));
    }

    let mut too_small = [0u8; 20];
    let encoded = format::encode_into(model.desc(), &mut too_small);
    assert_eq!(encoded, Err(Error::BufferTooSmall));
    let mut exact = vec![0u8; GOLDEN.len()];
    assert_eq!(
        format::encode_into(model.desc(), &mut exact),
        Ok(GOLDEN.len())
    );
    assert_eq!(exact, GOLDEN);
}

#[test]
fn every_error_displays_a_message() {
    let errors = [
        Error::BadMagic,
        Error::UnsupportedVersion {
            found: 2,
            supported: 1,
        },
        Error::Truncated { needed: 9, got: 3 },
        Error::TrailingBytes { extra: 1 },
        Error::ChecksumMismatch {
            stored: 1,
            computed: 2,
        },
        Error::Malformed,
        Error::UnsupportedSize,
        Error::ShapeMismatch { layer: 0 },
        Error::InvalidQuantization { layer: 0 },
        Error::LogitsNotLast { layer: 0 },
        Error::AccumulatorOverflow {
            layer: 0,
            channel: 0,
        },
        Error::ScratchTooSmall { needed: 2, got: 1 },
        Error::InputLength {
            expected: 2,
            got: 1,
        },
        Error::NonFiniteInput { index: 0 },
        Error::InputOutOfDomain { index: 0 },
        Error::InvalidEps,
        Error::BufferTooSmall,
    ];
    for error in errors {
        let message = error.to_string();
        assert!(message.len() > 10, "{error:?} displays {message:?}");
        let boxed: Box<dyn std::error::Error> = Box::new(error);
        assert_eq!(boxed.to_string(), message);
    }
}

/// One way of damaging a valid model file.
#[derive(Debug, Clone)]
enum Mutation {
    /// XOR one byte (anywhere, container included) with a non-zero mask.
    Flip { at: usize, mask: u8 },
    /// Keep only the first `len` bytes.
    Truncate { len: usize },
    /// Append bytes.
    Extend { tail: Vec<u8> },
    /// Overwrite a payload byte and recompute the CRC.
    Overwrite { at: usize, value: u8 },
    /// Insert bytes into the payload and recompute the CRC.
    Insert { at: usize, bytes: Vec<u8> },
    /// Remove payload bytes and recompute the CRC.
    Remove { at: usize, len: usize },
}

impl Mutation {
    /// Applies the mutation; positions wrap around the relevant length. A
    /// payload mutation of a file too short to have a payload seals an
    /// empty one.
    fn apply(&self, file: &[u8]) -> Vec<u8> {
        let mut body = payload(file).to_vec();
        let wrap = |at: usize, len: usize| at % len.max(1);
        match self {
            Mutation::Flip { at, mask } => {
                let mut out = file.to_vec();
                let at = wrap(*at, file.len());
                if let Some(byte) = out.get_mut(at) {
                    *byte ^= mask.max(&1);
                }
                return out;
            }
            Mutation::Truncate { len } => return file[..wrap(*len, file.len())].to_vec(),
            Mutation::Extend { tail } => return [file, tail].concat(),
            Mutation::Overwrite { at, value } => {
                let at = wrap(*at, body.len());
                if let Some(byte) = body.get_mut(at) {
                    *byte = *value;
                }
            }
            Mutation::Insert { at, bytes } => {
                let at = wrap(*at, body.len() + 1);
                body.splice(at..at, bytes.iter().copied());
            }
            Mutation::Remove { at, len } => {
                let at = wrap(*at, body.len());
                body.drain(at..(at + len).min(body.len()));
            }
        }
        seal(&body)
    }
}

fn arb_mutation() -> impl Strategy<Value = Mutation> {
    let bytes = || prop::collection::vec(any::<u8>(), 1..8);
    prop_oneof![
        1 => (any::<usize>(), any::<u8>()).prop_map(|(at, mask)| Mutation::Flip { at, mask }),
        1 => any::<usize>().prop_map(|len| Mutation::Truncate { len }),
        1 => bytes().prop_map(|tail| Mutation::Extend { tail }),
        4 => (any::<usize>(), any::<u8>()).prop_map(|(at, value)| Mutation::Overwrite { at, value }),
        1 => (any::<usize>(), bytes()).prop_map(|(at, bytes)| Mutation::Insert { at, bytes }),
        1 => (any::<usize>(), 1..4usize).prop_map(|(at, len)| Mutation::Remove { at, len }),
    ]
}

/// Loads `file` and, when it loads, runs every entry point on it.
fn load_and_exercise(file: &[u8], seed_byte: u8) {
    if let Ok(model) = Model::from_bytes(file) {
        exercise(&model, seed_byte);
    }
}

proptest! {
    #![proptest_config(proptest_config(512))]

    /// Arbitrary bytes, bare or sealed in a correct container, never panic.
    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        load_and_exercise(&bytes, 0);
        load_and_exercise(&seal(&bytes), 1);
    }

    /// Valid files (the golden one and random ones), damaged one to three
    /// times, are loaded or refused, and run when loaded, without panicking.
    #[test]
    fn mutated_files_never_panic(
        model_seed: u64,
        use_golden: bool,
        mutations in prop::collection::vec(arb_mutation(), 1..=3),
    ) {
        let mut file = if use_golden { GOLDEN.to_vec() } else { encode(&random_model(model_seed)) };
        for mutation in &mutations {
            file = mutation.apply(&file);
        }
        load_and_exercise(&file, model_seed as u8);
    }

    /// Every random model survives a round trip through its encoding, and
    /// running it succeeds on every in-domain input.
    #[test]
    fn random_models_round_trip_and_run(model_seed: u64) {
        let file = encode(&random_model(model_seed));
        let model = Model::from_bytes(&file).unwrap();
        let mut again = vec![0u8; file.len()];
        prop_assert_eq!(format::encode_into(model.desc(), &mut again), Ok(file.len()));
        prop_assert_eq!(&again, &file);
        // Three domain points x (predict + 4 certify + 4 radius) + 2 quantised
        // calls; the box given to certify_quantized may not contain its point.
        prop_assert!(exercise(&model, model_seed as u8) >= 3 * 9 + 1);
    }
}
