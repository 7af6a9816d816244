//! The model-file parser and validator: the golden file checked byte for
//! byte against FORMAT.md, the arithmetic it specifies, and one crafted
//! input for every error variant.

mod common;

use cert_runtime::format::{self, ModelDesc, Output};
use cert_runtime::{Budget, ContainerError, Error, Layer, Model, Quantizer, Trail};
use common::golden::{GOLDEN, golden};
use common::{crc32, payload, seal};

#[test]
fn golden_file_matches_the_spec_byte_for_byte() {
    assert_eq!(golden(), GOLDEN);
    let body = payload(GOLDEN);
    assert_eq!(body.len(), 112);
    assert_eq!(crc32(body), 0x29ad_1803);
    assert_eq!(seal(body), GOLDEN);
    assert_eq!(crc32(b"123456789"), 0xcbf4_3926, "the CRC's check value");
}

/// Input quantisation as FORMAT.md section 4.1 states it.
#[test]
fn input_quantisation_follows_the_spec() {
    let spec = |scale, offset, zero_point| Quantizer {
        scale,
        offset,
        zero_point,
        domain_min: -1e30,
        domain_max: 1e30,
    };
    let unit = spec(1.0, 0.0, 0);
    // Half away from zero.
    for (x, q) in [(0.5, 1), (-0.5, -1), (1.49, 1), (-1.5, -2), (2.5, 3)] {
        assert_eq!(unit.quantize(x), q, "{x}");
    }
    // The f32 addition of 0.5 rounds up: 0.49999997 + 0.5 == 1.0.
    assert_eq!(unit.quantize(0.499_999_97), 1);
    // Saturation: huge quotients clamp to the int8 range.
    assert_eq!(unit.quantize(1e30), 127);
    assert_eq!(unit.quantize(-1e30), -128);
    // The zero point is added after rounding, then the sum is clamped.
    let pixels = Quantizer::spanning(0.0, 1.0);
    assert_eq!((pixels.scale, pixels.offset), (1.0 / 255.0, 0.0));
    assert_eq!(pixels.quantize(0.0), -128);
    assert_eq!(pixels.quantize(1.0), 127);
    assert_eq!(spec(0.25, 0.0, -128).quantize(0.625), -125); // 2.5 -> 3
    assert_eq!(spec(1.0 / 255.0, 0.0, 0).quantize(1.0), 127);
    // The offset is subtracted first: a feature in [280, 1700] uses every level.
    let proline = Quantizer::spanning(280.0, 1700.0);
    assert_eq!(proline.quantize(280.0), -128);
    assert_eq!(proline.quantize(1700.0), 127);
    assert_eq!(proline.quantize(990.0), 0); // (990 - 280) / (1420 / 255) = 127.5 -> 128
    assert_eq!(spec(2.0, 10.0, 0).quantize(15.0), 3); // (15 - 10) / 2 = 2.5 -> 3
}

/// The golden model computes what FORMAT.md works out by hand.
#[test]
fn golden_model_predicts_the_hand_computed_logits() {
    let model = Model::from_bytes(GOLDEN).unwrap();
    assert_eq!(model.header().class_names, "no,yes");
    assert_eq!(
        (model.class_name(0), model.class_name(1)),
        (Some("no"), Some("yes"))
    );
    assert_eq!(model.class_name(2), None);
    assert_eq!(model.header().description, "golden");
    assert_eq!(model.channel_name(0), Some("grey"));
    assert_eq!(model.parameter_count(), 8 + 2 + 4 + 2);
    assert_eq!(model.budget().eps(0), Some(0.0625));
    assert_eq!(model.refine_boxes(), 16);
    let mut scratch = vec![0; model.certify_scratch_len()];
    // Quantised input [0, -64, 127 (clamped from 128), -128].
    let input = [0.5, 0.25, 1.0, 0.0];
    let prediction = model.predict(&input, &mut scratch).unwrap();
    assert_eq!(prediction.class, 0);
    assert_eq!(prediction.logits.as_slice(), &[140, -139]);
    let quantized = model.predict_quantized(&[0, -64, 127, -128], &mut scratch);
    assert_eq!(quantized.unwrap(), prediction);
    let cert = model
        .certify(&input, Budget::uniform(0.0), &mut scratch)
        .unwrap();
    assert!(cert.certified);
    assert_eq!(cert.margins.as_slice(), &[0, 279]);
    // At the model's own eps 1/16: hidden channel 0 lies in [11, 14],
    // channel 1 at 0, so the margin is at least 20 * 11 - 1 = 219
    // (worked out in FORMAT.md section 4.7).
    let cert = model.certify(&input, model.budget(), &mut scratch).unwrap();
    assert_eq!(
        cert,
        model
            .certify(&input, Budget::uniform(0.0625), &mut scratch)
            .unwrap()
    );
    assert!(cert.certified);
    assert_eq!(cert.margins.as_slice(), &[0, 219]);
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
    let container = |e| Error::Container(e);
    let mut bad_magic = GOLDEN.to_vec();
    bad_magic[0] = b'X';
    assert_eq!(load_error(&bad_magic), container(ContainerError::BadMagic));
    assert_eq!(load_error(b"CER"), container(ContainerError::BadMagic));
    assert_eq!(load_error(&[]), container(ContainerError::BadMagic));

    let mut newer = GOLDEN.to_vec();
    newer[4] = 4;
    let unsupported = ContainerError::UnsupportedVersion {
        found: 4,
        supported: format::FORMAT_VERSION,
    };
    assert_eq!(load_error(&newer), container(unsupported));
    for version in [1, 2] {
        let mut older = GOLDEN.to_vec();
        older[4] = version;
        assert_eq!(
            load_error(&older),
            Error::FormatOutdated {
                found: u16::from(version),
                supported: 3
            }
        );
    }
    assert!(
        Error::FormatOutdated {
            found: 1,
            supported: 2
        }
        .to_string()
        .contains("certnn export --run")
    );

    let short_header = ContainerError::Truncated { needed: 10, got: 6 };
    assert_eq!(load_error(&GOLDEN[..6]), container(short_header));
    let short_body = ContainerError::Truncated {
        needed: GOLDEN.len(),
        got: GOLDEN.len() - 1,
    };
    assert_eq!(
        load_error(&GOLDEN[..GOLDEN.len() - 1]),
        container(short_body)
    );
    let mut huge_length = GOLDEN.to_vec();
    huge_length[6..10].copy_from_slice(&u32::MAX.to_le_bytes());
    assert!(matches!(
        load_error(&huge_length),
        Error::Container(ContainerError::Truncated { .. })
    ));

    let mut trailing = GOLDEN.to_vec();
    trailing.extend_from_slice(&[0, 0, 0]);
    assert_eq!(
        load_error(&trailing),
        container(ContainerError::TrailingBytes { extra: 3 })
    );

    let mut corrupt = GOLDEN.to_vec();
    corrupt[20] ^= 0x01;
    let computed = crc32(payload(&corrupt));
    let mismatch = ContainerError::ChecksumMismatch {
        stored: 0x29ad_1803,
        computed,
    };
    assert_eq!(load_error(&corrupt), container(mismatch));
}

#[test]
fn malformed_payloads() {
    assert_eq!(load_error(&seal(&[])), Error::Malformed);
    assert_eq!(load_error(&seal(&[0xff; 8])), Error::Malformed);
    // A valid payload followed by one extra byte (inside the CRC).
    let mut longer = payload(GOLDEN).to_vec();
    longer.push(0);
    assert_eq!(load_error(&seal(&longer)), Error::Malformed);
    // An unknown Layer variant (2) where layer 0 starts (file offset 59).
    let mut variant = payload(GOLDEN).to_vec();
    variant[49] = 2;
    assert_eq!(load_error(&seal(&variant)), Error::Malformed);
    // Invalid UTF-8 in the class names (file offset 45).
    let mut names = payload(GOLDEN).to_vec();
    names[35] = 0xff;
    assert_eq!(load_error(&seal(&names)), Error::Malformed);
    // More layers than MAX_LAYERS: the heapless vector refuses them.
    let mut many = payload(GOLDEN).to_vec();
    many[48] = cert_runtime::MAX_LAYERS as u8 + 1;
    // An unknown Bounds variant (2) after refine_boxes (file offset 42).
    let mut bounds = payload(GOLDEN).to_vec();
    bounds[32] = 2;
    assert_eq!(load_error(&seal(&bounds)), Error::Malformed);
    assert_eq!(load_error(&seal(&many)), Error::Malformed);
    // A quantiser array or an eps array of the wrong length.
    let short_quantizers = golden_with(|d| d.header.input.quantizers = &[0; 16]);
    assert_eq!(load_error(&short_quantizers), Error::Malformed);
    let long_eps = golden_with(|d| d.header.certification.eps = &[0; 8]);
    assert_eq!(load_error(&long_eps), Error::Malformed);
}

/// One model, one file: the same payload with an overlong varint decodes
/// to the same model under postcard alone, but the loader refuses it, so a
/// model's CRC (its name for the vectors, the boards and the cards) is
/// unique.
#[test]
fn overlong_varints_are_refused() {
    let canonical = payload(GOLDEN);
    // The first varints of the payload (FORMAT.md 2.4), each written as two bytes.
    let varints = [0usize, 1, 2, 3]; // channels, height, width, quantiser bytes
    for at in varints {
        assert!(canonical[at] < 0x80, "byte {at} starts a one-byte varint");
        let mut overlong = canonical[..at].to_vec();
        overlong.extend([canonical[at] | 0x80, 0x00]);
        overlong.extend(&canonical[at + 1..]);
        let desc = postcard::from_bytes::<ModelDesc<'_>>(&overlong).expect("postcard reads it");
        assert_eq!(desc, format::decode(GOLDEN).unwrap(), "the same model");
        assert_eq!(load_error(&seal(&overlong)), Error::Malformed, "byte {at}");
    }
    assert!(Model::from_bytes(GOLDEN).is_ok());
}

/// An input spec's length is computed without overflow on every target: a
/// header that is not validated yet can hold any three u16.
#[test]
fn input_spec_length_is_checked() {
    let mut spec = format::decode(GOLDEN).unwrap().header.input;
    assert_eq!(spec.checked_len(), Some(4));
    (spec.channels, spec.height, spec.width) = (u16::MAX, u16::MAX, u16::MAX);
    assert_eq!(spec.checked_len(), None, "65535^3 does not fit 32 bits");
    (spec.channels, spec.height, spec.width) = (1, u16::MAX, u16::MAX);
    assert_eq!(spec.checked_len(), Some(65535 * 65535));
    let huge = golden_with(|d| {
        d.header.input.channels = u16::MAX;
        d.header.input.height = u16::MAX;
        d.header.input.width = u16::MAX;
    });
    assert!(Model::from_bytes(&huge).is_err());
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
    let logits_vs_classes = golden_with(|d| {
        d.header.classes = 3;
        d.header.class_names = "";
    });
    assert_eq!(
        load_error(&logits_vs_classes),
        Error::ShapeMismatch { layer: 1 }
    );
}

/// A `'static` encoding of one quantiser, for descriptions under test.
fn quantizer_bytes(q: Quantizer) -> &'static [u8] {
    Box::leak(Box::new(q.encode()))
}

#[test]
fn input_spec_and_class_name_errors() {
    let good = Model::from_bytes(GOLDEN).unwrap().quantizer(0).unwrap();
    let invalid = Error::InvalidInputSpec { channel: 0 };
    for bad in [
        Quantizer { scale: 0.0, ..good },
        Quantizer {
            scale: -1.0,
            ..good
        },
        Quantizer {
            scale: f32::INFINITY,
            ..good
        },
        Quantizer {
            offset: f32::NAN,
            ..good
        },
        Quantizer {
            domain_max: f32::NAN,
            ..good
        },
        Quantizer {
            domain_min: f32::NEG_INFINITY,
            ..good
        },
        Quantizer {
            domain_min: 2.0,
            ..good
        },
    ] {
        let file = golden_with(|d| d.header.input.quantizers = quantizer_bytes(bad));
        assert_eq!(load_error(&file), invalid, "{bad:?}");
    }
    for eps in [-0.5f32, f32::NAN, f32::INFINITY] {
        let bytes: &'static [u8] = Box::leak(Box::new(eps.to_le_bytes()));
        let file = golden_with(|d| d.header.certification.eps = bytes);
        assert_eq!(load_error(&file), invalid, "{eps}");
    }
    for names in ["no,yes,maybe", "no", "no,", ",yes"] {
        let file = golden_with(|d| d.header.class_names = names);
        assert_eq!(load_error(&file), Error::InvalidNames, "{names:?}");
    }
    for names in ["grey,", "a,b", ","] {
        let file = golden_with(|d| d.header.input.names = names);
        assert_eq!(load_error(&file), Error::InvalidNames, "{names:?}");
    }
    let unnamed = golden_with(|d| {
        d.header.class_names = "";
        d.header.input.names = "";
    });
    let model = Model::from_bytes(&unnamed).unwrap();
    assert_eq!((model.class_name(0), model.channel_name(0)), (None, None));
}

#[test]
fn quantization_errors() {
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
    let mut scratch = vec![0; model.refine_scratch_len()];
    let input = [0.5; 4];
    let eps = Budget::uniform(0.1);

    let needed = model.predict_scratch_len();
    let mut short = vec![0; needed - 2];
    let expected = Error::ScratchTooSmall {
        needed,
        got: needed - 2,
    };
    assert_eq!(model.predict(&input, &mut short), Err(expected));
    let mut for_predict = vec![0; needed];
    let needed = model.certify_scratch_len();
    let expected = Error::ScratchTooSmall {
        needed,
        got: for_predict.len(),
    };
    assert_eq!(model.certify(&input, eps, &mut for_predict), Err(expected));
    assert_eq!(
        model.certified_radius(&input, eps, 1.0, &mut for_predict),
        Err(expected)
    );
    let mut trail = Trail::<7>::new();
    let mut counterexample = [0.0; 4];
    // A trail shallower than 8 boxes may need is refused, never a
    // different verdict.
    assert_eq!(model.refine_depth(8), 7);
    assert_eq!(
        model.refine_depth(1000),
        32,
        "at most 8 splits per input value"
    );
    let mut shallow = Trail::<6>::new();
    let refined = model.refine(
        &input,
        eps,
        8,
        &mut scratch,
        &mut shallow,
        &mut counterexample,
    );
    assert_eq!(
        refined,
        Err(Error::TrailTooShallow {
            needed: 7,
            capacity: 6
        })
    );
    let needed = model.refine_scratch_len();
    let mut for_certify = vec![0; model.certify_scratch_len()];
    let refined = model.refine(
        &input,
        eps,
        8,
        &mut for_certify,
        &mut trail,
        &mut counterexample,
    );
    assert_eq!(
        refined,
        Err(Error::ScratchTooSmall {
            needed,
            got: for_certify.len()
        })
    );
    let refined = model.refine(&input, eps, 8, &mut scratch, &mut trail, &mut [0.0; 3]);
    assert_eq!(
        refined,
        Err(Error::OutputLength {
            expected: 4,
            got: 3
        })
    );

    let length = Error::InputLength {
        expected: 4,
        got: 3,
    };
    assert_eq!(model.predict(&input[..3], &mut scratch), Err(length));
    assert_eq!(model.certify(&input[..3], eps, &mut scratch), Err(length));
    assert_eq!(model.predict_quantized(&[0; 3], &mut scratch), Err(length));
    let quantized = model.certify_quantized(&[0; 4], &[0; 3], &[0; 4], &mut scratch);
    assert_eq!(quantized, Err(length));

    let nan = [0.5, f32::NAN, 0.5, 0.5];
    let nan_error = Error::NonFiniteInput { index: 1 };
    assert_eq!(model.predict(&nan, &mut scratch), Err(nan_error));
    assert_eq!(model.certify(&nan, eps, &mut scratch), Err(nan_error));
    let infinite = [0.5, 0.5, 0.5, f32::INFINITY];
    let infinite_error = Error::NonFiniteInput { index: 3 };
    assert_eq!(model.predict(&infinite, &mut scratch), Err(infinite_error));

    let outside = [0.5, 0.5, 1.5, 0.5];
    let outside_error = Error::InputOutOfDomain { index: 2 };
    assert_eq!(model.predict(&outside, &mut scratch), Err(outside_error));
    let negative = [-0.1, 0.5, 0.5, 0.5];
    let negative_error = Error::InputOutOfDomain { index: 0 };
    assert_eq!(
        model.certify(&negative, eps, &mut scratch),
        Err(negative_error)
    );
    let outside_box = model.certify_quantized(&[0; 4], &[0, 0, 1, 0], &[0; 4], &mut scratch);
    assert_eq!(outside_box, Err(Error::InputOutOfDomain { index: 2 }));

    let invalid = Error::InvalidEps { channel: 0 };
    for bad in [-0.1, -f32::MIN_POSITIVE, f32::NAN, f32::INFINITY] {
        let cert = model.certify(&input, Budget::uniform(bad), &mut scratch);
        assert_eq!(cert, Err(invalid));
        let cert = model.certify(&input, Budget::per_channel(&[bad]), &mut scratch);
        assert_eq!(cert, Err(invalid));
        let radius = model.certified_radius(&input, Budget::uniform(1.0), bad, &mut scratch);
        assert_eq!(radius, Err(invalid));
    }
    // A negative eps is an error whatever it is scaled by: by 0 its product
    // is -0.0, which compares >= 0 (the audit's finding), and a negative
    // scale of a positive budget is an error too.
    for negative in [Budget::uniform(-0.1), Budget::per_channel(&[-0.1])] {
        let cert = model.certify(&input, negative.scaled(0.0), &mut scratch);
        assert_eq!(cert, Err(invalid));
        let radius = model.certified_radius(&input, negative, 0.0, &mut scratch);
        assert_eq!(radius, Err(invalid));
        let radius = model.certified_radius(&input, negative, 1.0, &mut scratch);
        assert_eq!(radius, Err(invalid));
    }
    let negative_scale = Budget::uniform(0.1).scaled(-1.0);
    assert_eq!(
        model.certify(&input, negative_scale, &mut scratch),
        Err(invalid)
    );
    let zero = model.certify(&input, Budget::uniform(0.1).scaled(0.0), &mut scratch);
    assert!(zero.is_ok(), "a zero budget is valid");

    let two = Budget::per_channel(&[0.1, 0.1]);
    let length = Error::BudgetLength {
        expected: 1,
        got: 2,
    };
    assert_eq!(model.certify(&input, two, &mut scratch), Err(length));
    let refined = model.refine(
        &input,
        two,
        8,
        &mut scratch,
        &mut trail,
        &mut counterexample,
    );
    assert_eq!(refined, Err(length));

    let mut too_small = [0u8; 20];
    let encoded = format::encode_into(model.desc(), &mut too_small);
    assert_eq!(
        encoded,
        Err(Error::Container(ContainerError::BufferTooSmall))
    );
    let mut exact = vec![0u8; GOLDEN.len()];
    assert_eq!(
        format::encode_into(model.desc(), &mut exact),
        Ok(GOLDEN.len())
    );
    assert_eq!(exact, GOLDEN);
}

#[test]
fn every_error_displays_a_message() {
    let container = [
        ContainerError::BadMagic,
        ContainerError::UnsupportedVersion {
            found: 3,
            supported: 2,
        },
        ContainerError::Truncated { needed: 9, got: 3 },
        ContainerError::TrailingBytes { extra: 1 },
        ContainerError::ChecksumMismatch {
            stored: 1,
            computed: 2,
        },
        ContainerError::BufferTooSmall,
    ];
    let errors = container.map(Error::Container).into_iter().chain([
        Error::FormatOutdated {
            found: 1,
            supported: 2,
        },
        Error::Malformed,
        Error::UnsupportedSize,
        Error::InvalidInputSpec { channel: 0 },
        Error::InvalidNames,
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
        Error::InvalidEps { channel: 0 },
        Error::Unsupported { feature: "conv" },
        Error::TrailTooShallow {
            needed: 7,
            capacity: 6,
        },
        Error::BudgetLength {
            expected: 1,
            got: 2,
        },
        Error::OutputLength {
            expected: 1,
            got: 2,
        },
    ]);
    for error in errors {
        let message = error.to_string();
        assert!(message.len() > 10, "{error:?} displays {message:?}");
        let boxed: Box<dyn std::error::Error> = Box::new(error);
        assert_eq!(boxed.to_string(), message);
    }
    for error in container {
        assert!(error.to_string().len() > 10, "{error:?}");
    }
}

#[test]
fn oversized_and_empty_inputs_are_rejected() {
    // 65535^3 values would wrap a 32-bit usize; the loader must refuse it.
    let good = Model::from_bytes(GOLDEN).unwrap().quantizer(0).unwrap();
    let channels = usize::from(u16::MAX);
    let quantizers: &'static [u8] = Box::leak(good.encode().repeat(channels).into_boxed_slice());
    let eps: &'static [u8] = Box::leak(0.1f32.to_le_bytes().repeat(channels).into_boxed_slice());
    let huge = golden_with(|d| {
        d.header.input.channels = u16::MAX;
        d.header.input.height = u16::MAX;
        d.header.input.width = u16::MAX;
        d.header.input.quantizers = quantizers;
        d.header.input.names = "";
        d.header.certification.eps = eps;
    });
    assert_eq!(load_error(&huge), Error::UnsupportedSize);
    let empty = golden_with(|d| d.header.input.width = 0);
    assert_eq!(load_error(&empty), Error::UnsupportedSize);
}
