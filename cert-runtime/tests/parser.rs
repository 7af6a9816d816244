//! The model-file parser and validator: the golden file checked byte for
//! byte against FORMAT.md, the arithmetic it specifies, and one crafted
//! input for every error variant.
#![cfg(feature = "std")]

mod common;

use cert_runtime::format::{self, ModelDesc, Output};
use cert_runtime::{Error, InputSpec, Layer, Model};
use common::golden::{GOLDEN, golden};
use common::{crc32, payload, seal};

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

#[test]
fn oversized_and_empty_inputs_are_rejected() {
    // 65535^3 values would wrap a 32-bit usize; the loader must refuse it.
    let huge = golden_with(|d| {
        d.header.input.channels = u16::MAX;
        d.header.input.height = u16::MAX;
        d.header.input.width = u16::MAX;
    });
    assert_eq!(load_error(&huge), Error::UnsupportedSize);
    let empty = golden_with(|d| d.header.input.width = 0);
    assert_eq!(load_error(&empty), Error::UnsupportedSize);
}
