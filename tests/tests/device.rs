//! Host versus device: the QEMU board must reproduce every certificate and
//! refined verdict of the host bit for bit, must fail when it does not, and
//! must log what its golden files say; its kernel program must find the
//! DSP kernels identical to the scalar ones.

use std::path::{Path, PathBuf};

use cert_runtime::vectors::{self, Vectors};
use end_to_end::device::{KERNELS, build_board, check_on_device, run_qemu};
use end_to_end::synthetic::{DEMO_CASES, demo_files};
use end_to_end::{boards_dir, golden, model_pairs, write_new};

fn demo_dir() -> PathBuf {
    boards_dir().join("demo")
}

/// Writes `bytes` to a fresh file for this test.
fn scratch_file(name: &str, bytes: &[u8]) -> PathBuf {
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// The demo pair the boards embed by default (for `cargo run`) must be
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
    let stale = "boards/demo is stale: UPDATE_SNAPSHOTS=1 cargo test --release -p end-to-end";
    assert!(
        std::fs::read(dir.join("demo.cert")).unwrap() == model,
        "{stale}"
    );
    assert!(
        std::fs::read(dir.join("demo.cvec")).unwrap() == vectors,
        "{stale}"
    );
}

/// The demo vectors mix certified and uncertified cases, every uncertified
/// one refined (to `unknown`: the demo's budget of boxes is tiny), so both
/// paths of certify and the refinement's budget cut-off are compared on
/// the device.
#[test]
fn demo_vectors_exercise_every_outcome() {
    let (_, file) = demo_files();
    let vectors = Vectors::from_bytes(&file).unwrap();
    let certified = vectors.cases().filter(|c| c.expected.certified).count();
    let refined = vectors
        .cases()
        .filter(|c| c.expected.refined.is_some())
        .count();
    assert_eq!(vectors.len(), DEMO_CASES);
    assert!(
        0 < certified && certified < DEMO_CASES,
        "{certified} certified"
    );
    assert_eq!(
        refined,
        DEMO_CASES - certified,
        "every uncertified case is refined"
    );
}

/// Together the vectors the device is checked on hold every refinement
/// verdict, so certified, refuted (with a counterexample) and unknown are
/// all compared bit for bit with the host.
#[test]
fn model_pairs_cover_every_refinement_verdict() {
    let mut seen = std::collections::BTreeSet::new();
    for (_, path) in model_pairs().unwrap() {
        let file = std::fs::read(&path).unwrap();
        for case in Vectors::from_bytes(&file).unwrap().cases() {
            if let Some(refined) = &case.expected.refined {
                seen.insert(format!("{:?}", refined.verdict));
            }
        }
    }
    assert_eq!(
        seen.into_iter().collect::<Vec<_>>(),
        ["Certified", "Refuted", "Unknown"]
    );
}

/// The demo pair and every shipped model with its `certnn vectors` file
/// must match on the device, and log what its golden file says.
#[test]
fn model_pairs_match_host_and_golden_logs() {
    for (model, vectors) in model_pairs().unwrap() {
        let cases = Vectors::from_bytes(&std::fs::read(&vectors).unwrap())
            .unwrap()
            .len();
        let (_, run) = check_on_device(&model, &vectors).unwrap();
        run.assert_all_matched(cases);
        let name = model.file_stem().unwrap().to_string_lossy().into_owned();
        let golden = golden::path(&name);
        let masked = golden::mask(&run.log);
        if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
            write_new(&golden, masked.as_bytes()).unwrap();
        }
        let want = std::fs::read_to_string(&golden).unwrap_or_default();
        assert!(
            masked == want,
            "{name}: the device log differs from {} (UPDATE_SNAPSHOTS=1 cargo test --release -p end-to-end after an explained change):\n{masked}",
            golden.display()
        );
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

/// The DSP kernels equal the scalar ones on 10^5 random dot products of
/// each kernel and on random whole models, on the Cortex-M4F.
#[test]
fn dsp_kernels_are_bit_identical_on_the_device() {
    let (model, vectors) = demo_files();
    let model = scratch_file("kernels.cert", &model);
    let vectors = scratch_file("kernels.cvec", &vectors);
    let elves = build_board(&model, &vectors).unwrap();
    let run = run_qemu(&elves[KERNELS]).unwrap();
    let log = run.log_text();
    assert_eq!(run.status, Some(0), "{log}");
    assert!(
        log.contains("dot products: 100000 of each kernel, identical"),
        "{log}"
    );
    assert!(log.contains("layers: 400 random models"), "{log}");
}
