//! ONNX import against onnxruntime: the fixtures in tests/fixtures/onnx
//! (made by make_fixtures.py beside them, with onnxruntime's logits) are
//! reproduced within 1e-5, and every unsupported or damaged file gets its
//! error, naming the node.

use std::path::PathBuf;

use burn::tensor::{Device, Tensor, TensorData};
use host_trainer::data::{ChannelSpace, InputShape, InputSpace};
use host_trainer::ibp::{Mode, propagate};
use host_trainer::onnx::{ImportError, import, import_bytes};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/onnx")
        .join(name)
}

#[derive(serde::Deserialize)]
struct Reference {
    input_shape: Vec<usize>,
    inputs: Vec<f32>,
    logits: Vec<f32>,
}

/// Imports `NAME.onnx` and checks its logits against `NAME.json`.
fn reproduces(name: &str) {
    let reference: Reference =
        serde_json::from_slice(&std::fs::read(fixture(&format!("{name}.json"))).unwrap()).unwrap();
    let imported =
        import(&fixture(&format!("{name}.onnx")), None).unwrap_or_else(|e| panic!("{name}: {e}"));
    let shape = imported.input;
    let dims = match reference.input_shape[..] {
        [f] => [f, 1, 1],
        [c, h, w] => [c, h, w],
        _ => panic!("{name}: input shape"),
    };
    assert_eq!([shape.channels, shape.height, shape.width], dims, "{name}");
    let space = InputSpace {
        channels: imported
            .mean
            .iter()
            .zip(&imported.std)
            .map(|(&mean, &std)| ChannelSpace {
                min: -10.0,
                max: 10.0,
                mean,
                std,
            })
            .collect(),
    };
    let device = Device::flex();
    let net = imported.net(&space, &device).unwrap();
    let batch = reference.inputs.len() / shape.len();
    let x = Tensor::<4>::from_data(
        TensorData::new(reference.inputs.clone(), [batch, dims[0], dims[1], dims[2]]),
        &device,
    );
    let logits = propagate(&net, Some(x), None, None, Mode::Eval, false)
        .logits
        .unwrap();
    let logits = logits
        .into_data()
        .convert::<f32>()
        .try_to_vec::<f32>()
        .unwrap();
    assert_eq!(logits.len(), reference.logits.len(), "{name}");
    for (i, (a, b)) in logits.iter().zip(&reference.logits).enumerate() {
        assert!(
            (a - b).abs() <= 1e-5 * (1.0 + b.abs()),
            "{name}: logit {i}: {a}, onnxruntime {b}"
        );
    }
}

#[test]
fn features_with_normalisation_matmul_add_dropout_identity() {
    reproduces("mlp_features");
}

#[test]
fn convolutions_with_batchnorm_padding_and_a_shape_computed_flatten() {
    reproduces("cnn_batchnorm");
}

#[test]
fn per_channel_arithmetic_and_gemm_alpha_beta() {
    reproduces("cnn_affine");
}

#[test]
fn pytorch_exports_torchscript_and_torch_export() {
    for name in ["torch_cnn", "torch_mlp", "torch_cnn_dynamo"] {
        reproduces(name);
    }
}

/// The error importing `NAME.onnx`, as text.
fn refused(name: &str) -> String {
    match import(&fixture(&format!("{name}.onnx")), None) {
        Ok(_) => panic!("{name} was imported"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn unsupported_nodes_are_named() {
    for (file, words) in [
        (
            "bad_sigmoid",
            &["`squash`", "Sigmoid", "unsupported operator", "Gemm"][..],
        ),
        ("bad_dilation", &["`dilated`", "Conv", "dilation"]),
        ("bad_groups", &["`grouped`", "Conv", "groups = 2"]),
        ("bad_asymmetric_pads", &["`lopsided`", "pads [1, 1, 2, 2]"]),
        (
            "bad_dynamic_shape",
            &["input `x`", "dynamic", "--input-shape"],
        ),
        ("bad_two_inputs", &["2 inputs", "x, y"]),
        ("bad_external_data", &["initializer `w`", "external"]),
        ("bad_ends_in_relu", &["logits"]),
        ("bad_no_relu_between", &["without a ReLU"]),
    ] {
        let message = refused(file);
        for word in words {
            assert!(message.contains(word), "{file}: `{word}` not in: {message}");
        }
    }
}

#[test]
fn a_dynamic_shape_is_given_on_the_command_line() {
    let shape = InputShape {
        channels: 1,
        height: 8,
        width: 8,
    };
    let imported = import(&fixture("bad_dynamic_shape.onnx"), Some(shape)).unwrap();
    assert_eq!(imported.input, shape);
    assert_eq!(imported.arch().to_string(), "custom:conv4k3s1p1");
    let wrong = InputShape {
        channels: 3,
        height: 8,
        width: 8,
    };
    let e = import(&fixture("bad_dynamic_shape.onnx"), Some(wrong)).unwrap_err();
    assert!(e.to_string().contains("does not fit"), "{e}");
}

#[test]
fn damaged_files_are_errors() {
    let bytes = std::fs::read(fixture("cnn_batchnorm.onnx")).unwrap();
    for cut in [1, bytes.len() / 3, bytes.len() / 2, bytes.len() - 1] {
        assert!(import_bytes(&bytes[..cut], None).is_err(), "cut at {cut}");
    }
    for junk in [&b""[..], b"\x00", b"garbage\x01\x02", &[0xff; 64]] {
        let e = import_bytes(junk, None).unwrap_err();
        assert!(
            matches!(e, ImportError::Malformed(_) | ImportError::Graph(_)),
            "{e}"
        );
    }
    let e = import(&fixture("no_such_file.onnx"), None).unwrap_err();
    assert!(matches!(e, ImportError::Read { .. }), "{e}");
}
