//! `certnn` on feature vectors, through the real binary: the shipped wine
//! model certifies, refines, predicts and bounds radii from CSV rows, and
//! every kind of bad input ends in a readable error (a non-zero exit
//! status, no panic) that names what was wrong.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn certnn(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_certnn"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("certnn runs")
}

/// Runs `certnn` expecting success; returns stdout.
fn ok(args: &[&str]) -> String {
    let out = certnn(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "certnn {args:?} failed: {stderr}");
    String::from_utf8(out.stdout).unwrap()
}

/// Runs `certnn` expecting a clean failure (status 1, or 2 for a value
/// the command line parser refused); returns stderr.
fn fails(args: &[&str]) -> String {
    let out = certnn(args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let status = out.status.code();
    assert!(
        matches!(status, Some(1 | 2)),
        "certnn {args:?}: {status:?} {stderr}"
    );
    assert!(
        !stderr.contains("panicked"),
        "certnn {args:?} panicked: {stderr}"
    );
    stderr
}

const MODEL: &str = "models/wine-std0.25.cert";
const TEST: &str = "data/tabular/wine/test.csv";

#[test]
fn certify_reports_plain_and_refined_figures() {
    let json: serde_json::Value = serde_json::from_str(&ok(&[
        "certify",
        "--model",
        MODEL,
        "--csv",
        TEST,
        "--json",
        "--per-sample",
    ]))
    .unwrap();
    let plain = json["certified_accuracy"].as_f64().unwrap();
    let refined = json["refined_certified_accuracy"].as_f64().unwrap();
    let refuted = json["refuted_fraction"].as_f64().unwrap();
    let unknown = json["unknown_fraction"].as_f64().unwrap();
    assert!(refined >= plain, "refinement lost certificates: {json}");
    assert!(refined + refuted + unknown <= 1.0 + 1e-6, "{json}");
    let samples = json["per_sample"].as_array().unwrap();
    assert_eq!(samples.len(), 45);
    for s in samples {
        let verdict = s["refined"]["verdict"].as_str().unwrap();
        assert!(
            ["certified", "refuted", "unknown"].contains(&verdict),
            "{s}"
        );
        assert_eq!(
            verdict == "refuted",
            s["refined"]["counterexample"].is_array()
        );
    }
    // --refine 0 is plain interval certification.
    let plain_only: serde_json::Value = serde_json::from_str(&ok(&[
        "certify", "--model", MODEL, "--csv", TEST, "--refine", "0", "--json",
    ]))
    .unwrap();
    assert_eq!(plain_only["certified_accuracy"].as_f64(), Some(plain));
    assert!(plain_only.get("refined_certified_accuracy").is_none());
}

#[test]
fn predict_and_radius_read_rows_without_labels() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(root().join(TEST)).unwrap();
    let unlabelled: String = text
        .lines()
        .take(4)
        .map(|l| l.rsplit_once(',').unwrap().0.to_string() + "\n")
        .collect();
    let path = dir.path().join("rows.csv");
    std::fs::write(&path, unlabelled).unwrap();
    let path = path.to_str().unwrap();
    let predicted = ok(&["predict", "--model", MODEL, "--csv", path]);
    assert_eq!(predicted.lines().count(), 3);
    assert!(
        predicted.lines().all(|l| l.contains("class_")),
        "{predicted}"
    );
    let radii = ok(&["radius", "--model", MODEL, "--csv", path, "--json"]);
    let radii: serde_json::Value = serde_json::from_str(&radii).unwrap();
    assert_eq!(radii["radii"].as_array().unwrap().len(), 3);
}

#[test]
fn bad_input_gets_a_readable_error() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_string()
    };
    let header = std::fs::read_to_string(root().join(TEST)).unwrap();
    let header = header.lines().next().unwrap();
    let ragged = write("ragged.csv", &format!("{header}\n1,2,3\n"));
    let err = fails(&["certify", "--model", MODEL, "--csv", &ragged]);
    assert!(err.contains("ragged.csv:2"), "{err}");
    let columns = write("columns.csv", "alcohol,label\n1,class_0\n");
    let err = fails(&["predict", "--model", MODEL, "--csv", &columns]);
    assert!(err.contains("feature columns"), "{err}");
    let err = fails(&["certify", "--model", MODEL, "--csv", TEST, "--eps=-1"]);
    assert!(err.contains("eps"), "{err}");
    let err = fails(&[
        "certify", "--model", MODEL, "--csv", TEST, "--eps", "0.1,0.2",
    ]);
    assert!(err.contains("13"), "{err}");
    let err = fails(&["certify", "--model", "models/missing.cert", "--csv", TEST]);
    assert!(err.contains("missing.cert"), "{err}");
    let corrupt = write("corrupt.cert", "not a model");
    let err = fails(&["certify", "--model", &corrupt, "--csv", TEST]);
    assert!(err.contains("corrupt.cert"), "{err}");
    let out = dir.path().join("run");
    let err = fails(&[
        "train",
        "--csv-train",
        TEST,
        "--csv-test",
        TEST,
        "--label-column",
        "cultivar",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(err.contains("no label column `cultivar`"), "{err}");
}
