//! Host versus device: the firmware, run in QEMU, must reproduce every
//! certificate of the host bit for bit, and must fail when it does not.

use std::path::{Path, PathBuf};

use cert_runtime::vectors::{self, Vectors};
use end_to_end::device::check_on_device;
use end_to_end::synthetic::{DEMO_CASES, demo_files};
use end_to_end::{firmware_dir, model_pairs, write_new};

fn demo_dir() -> PathBuf {
    firmware_dir().join("demo")
}

/// Writes `bytes` to a fresh file for this test.
fn scratch_file(name: &str, bytes: &[u8]) -> PathBuf {
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// The demo pair the firmware embeds by default (for `cargo run`) must be
/// what the generator makes with today's runtime; a change to the integer
/// semantics shows here first (`UPDATE_SNAPSHOTS=1` rewrites it).
#[test]
fn demo_files_are_current() {
    let (model, vectors) = demo_files();
    let dir = demo_dir();
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        write_new(&dir.join("demo.cert"), &model).unwrap();
        write_new(&dir.join("demo.cvec"), &vectors).unwrap();
    }
    let stale = "firmware/demo is stale: UPDATE_SNAPSHOTS=1 cargo test --release -p end-to-end";
    assert!(
        std::fs::read(dir.join("demo.cert")).unwrap() == model,
        "{stale}"
    );
    assert!(
        std::fs::read(dir.join("demo.cvec")).unwrap() == vectors,
        "{stale}"
    );
}

/// The demo vectors mix certified and uncertified cases, so both paths of
/// `certify` (with and without the fallback inference) are compared.
#[test]
fn demo_vectors_exercise_both_outcomes() {
    let (_, file) = demo_files();
    let vectors = Vectors::from_bytes(&file).unwrap();
    let certified = vectors.cases().filter(|c| c.expected.certified).count();
    assert_eq!(vectors.len(), DEMO_CASES);
    assert!(
        0 < certified && certified < DEMO_CASES,
        "{certified} certified"
    );
}

/// The demo pair and every shipped model with its `certnn vectors` file
/// must match on the device.
#[test]
fn model_pairs_match_host() {
    for (model, vectors) in model_pairs().unwrap() {
        let cases = Vectors::from_bytes(&std::fs::read(&vectors).unwrap())
            .unwrap()
            .len();
        let (_, run) = check_on_device(&model, &vectors).unwrap();
        run.assert_all_matched(cases);
    }
}

/// One margin off by one in the host's expectations must fail the run.
#[test]
fn device_reports_a_mismatch() {
    let (model, file) = demo_files();
    let original = Vectors::from_bytes(&file).unwrap();
    let mut cases: Vec<_> = original.cases().collect();
    cases[3].expected.margins[0] += 1;
    let tampered = vectors::encode(original.header(), &cases).unwrap();
    let model = scratch_file("mismatch.cert", &model);
    let vectors = scratch_file("mismatch.cvec", &tampered);
    let (_, run) = check_on_device(&model, &vectors).unwrap();
    let log = run.log_text();
    assert_eq!(run.status, Some(1), "{log}");
    assert_eq!(
        run.number("summary:", "matched"),
        Some(DEMO_CASES as u64 - 1),
        "{log}"
    );
    assert!(log.contains("ERROR case 3: device"), "{log}");
}
