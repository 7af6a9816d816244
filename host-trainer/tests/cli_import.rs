//! `certnn import` through the real binary: an ONNX network and its data
//! become a model file with its card and a run directory that `certnn
//! eval` reads; the int8 model certifies; a refused file writes nothing.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/onnx")
        .join(name)
        .display()
        .to_string()
}

fn certnn(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_certnn"))
        .args(args)
        .output()
        .expect("certnn runs")
}

fn import_args<'a>(
    onnx: &'a str,
    out: &'a str,
    run: &'a str,
    train: &'a str,
    test: &'a str,
) -> Vec<&'a str> {
    vec![
        "import",
        "--onnx",
        onnx,
        "--eps",
        "0.02",
        "--out",
        out,
        "--run",
        run,
        "--csv-train",
        train,
        "--csv-test",
        test,
        "--pgd-steps",
        "0",
    ]
}

#[test]
fn an_onnx_network_becomes_a_certified_model() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("imported.cert");
    let run = tmp.path().join("run");
    let (onnx, train, test) = (
        fixture("mlp_features.onnx"),
        fixture("mlp_features_train.csv"),
        fixture("mlp_features_test.csv"),
    );
    let (o, r) = (out.display().to_string(), run.display().to_string());
    let done = certnn(&import_args(&onnx, &o, &r, &train, &test));
    let stdout = String::from_utf8_lossy(&done.stdout);
    assert!(
        done.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&done.stderr)
    );
    // The rows are labelled by the network itself: the float network and
    // its int8 model agree with it on (nearly) every one.
    assert!(stdout.contains("float: clean 100.00%"), "{stdout}");
    assert!(stdout.contains("mlp:10,7"), "{stdout}");
    assert!(out.with_extension("json").is_file() && out.with_extension("md").is_file());
    let card: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.with_extension("json")).unwrap()).unwrap();
    let int8_clean = card["int8"]["clean_accuracy"].as_f64().unwrap();
    assert!(int8_clean >= 0.9, "int8 clean {int8_clean}");
    let certify = certnn(&["certify", "--model", &o, "--csv", &test, "--json"]);
    assert!(
        certify.status.success(),
        "{}",
        String::from_utf8_lossy(&certify.stderr)
    );
    let eval = certnn(&["eval", "--run", &r, "--pgd-steps", "0"]);
    assert!(
        eval.status.success(),
        "{}",
        String::from_utf8_lossy(&eval.stderr)
    );
    assert!(String::from_utf8_lossy(&eval.stdout).contains("IBP-verified"));
}

#[test]
fn a_refused_network_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let out: PathBuf = tmp.path().join("never.cert");
    let run = tmp.path().join("run");
    let (train, test) = (
        fixture("mlp_features_train.csv"),
        fixture("mlp_features_test.csv"),
    );
    let (o, r) = (out.display().to_string(), run.display().to_string());
    for (file, words) in [
        ("bad_sigmoid.onnx", &["`squash`", "Sigmoid"][..]),
        // A network of 12x12 images for rows of six features.
        ("torch_mlp.onnx", &["inputs of 1x12x12", "6x1x1"]),
    ] {
        let failed = certnn(&import_args(&fixture(file), &o, &r, &train, &test));
        let stderr = String::from_utf8_lossy(&failed.stderr);
        assert_eq!(failed.status.code(), Some(1), "{file}: {stderr}");
        assert!(!stderr.contains("panicked"), "{file}: {stderr}");
        for word in words {
            assert!(stderr.contains(word), "{file}: `{word}` not in {stderr}");
        }
        assert!(
            !out.exists() && !run.exists(),
            "{file}: something was written"
        );
    }
}
