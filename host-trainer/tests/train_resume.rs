//! Real training on real digits: it learns, and an interrupted run resumes
//! from its checkpoint to exactly where an uninterrupted run gets.

mod common;

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use burn::tensor::Device;
use host_trainer::report::read_metrics;
use host_trainer::train::{RunDir, train};

#[test]
fn learns_and_resumes_bit_identically() {
    let tmp = tempfile::tempdir().unwrap();
    let device = Device::flex().autodiff();

    let straight = RunDir::new(tmp.path().join("straight"));
    let (cfg, set) = common::tiny_config(straight.root(), 1500, 3);
    // `interrupt` raises the Ctrl-C flag before the first batch.
    let run = |dir: &RunDir, interrupt: bool| {
        train(
            dir,
            &cfg,
            &set,
            &device,
            Arc::new(AtomicBool::new(interrupt)),
        )
        .unwrap()
    };
    let done = run(&straight, false);
    assert_eq!(done.epoch, 3);
    let metrics = read_metrics(&straight.metrics()).unwrap();
    assert_eq!(metrics.len(), 3);
    let last = metrics.last().unwrap();
    assert!(
        last.val_clean > 0.6,
        "clean validation accuracy {}",
        last.val_clean
    );
    assert!(
        last.val_verified > 0.1,
        "verified validation accuracy {}",
        last.val_verified
    );
    assert!(straight.plot().exists() && straight.best_model().exists());

    // Interrupt after the first batch (as Ctrl-C does), then resume.
    let resumed = RunDir::new(tmp.path().join("resumed"));
    let first = run(&resumed, true);
    assert_eq!((first.epoch, first.batch), (0, 1));
    let done = run(&resumed, false);
    assert_eq!(done.epoch, 3);
    let again = read_metrics(&resumed.metrics()).unwrap();
    for (a, b) in metrics.iter().zip(&again) {
        assert_eq!(
            (a.val_clean, a.val_verified),
            (b.val_clean, b.val_verified),
            "epoch {}",
            a.epoch
        );
    }
}
