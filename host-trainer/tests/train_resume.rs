//! Real training on real digits: it learns, also with the clean terms on the
//! box centres and quantisation-aware epochs, and an interrupted run resumes
//! from its checkpoint to exactly where an uninterrupted run gets.

mod common;

use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

use burn::module::{Module, ModuleVisitor, Param};
use burn::tensor::{Device, Tensor};
use host_trainer::crown::Bound;
use host_trainer::data::Dataset;
use host_trainer::export::int8_certified_accuracy;
use host_trainer::ibp::CleanInput;
use host_trainer::report::{EpochMetrics, read_metrics};
use host_trainer::train::{RunDir, TrainConfig, load_net, train};

/// burn's random generator is one per backend, seeded by `train`: two runs
/// drawing from it at once would interleave their draws.
static ONE_RUN_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Every parameter value of a network, in visiting order.
struct Parameters(Vec<f32>);

impl ModuleVisitor for Parameters {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let data = param.val().into_data().convert::<f32>();
        self.0.extend(data.try_to_vec::<f32>().unwrap());
    }
}

/// Trains `cfg` straight through, and again interrupted after its first
/// batch (as Ctrl-C does) and resumed; checks that both runs learn and end
/// with identical weights and metrics, and returns the metrics.
fn learns_and_resumes(tmp: &Path, cfg: &TrainConfig, set: &Dataset) -> Vec<EpochMetrics> {
    let _one_at_a_time = ONE_RUN_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let device = Device::flex().autodiff();
    // `interrupt` raises the Ctrl-C flag before the first batch.
    let run = |dir: &RunDir, interrupt: bool| {
        std::fs::create_dir_all(dir.root()).unwrap();
        let int8 = |net: &_, calibration: &_, validation: &_| {
            int8_certified_accuracy(net, cfg, calibration, validation, &device)
        };
        let stop = Arc::new(AtomicBool::new(interrupt));
        train(dir, cfg, set, &device, stop, Some(&int8)).unwrap()
    };
    let straight = RunDir::new(tmp.join("straight"));
    let done = run(&straight, false);
    assert_eq!(done.epoch, cfg.epochs);
    let metrics = read_metrics(&straight.metrics()).unwrap();
    assert_eq!(metrics.len(), cfg.epochs);
    let last = metrics.last().unwrap();
    assert!(last.val_clean > 0.6, "clean {}", last.val_clean);
    assert!(last.val_verified > 0.1, "verified {}", last.val_verified);
    assert!(straight.plot().exists() && straight.best_model().exists());

    let resumed = RunDir::new(tmp.join("resumed"));
    let first = run(&resumed, true);
    assert_eq!((first.epoch, first.batch), (0, 1));
    let done = run(&resumed, false);
    assert_eq!(done.epoch, cfg.epochs);
    let again = read_metrics(&resumed.metrics()).unwrap();
    let weights = |dir: &RunDir| {
        let net = load_net(cfg, &dir.checkpoint_model(), &device).unwrap();
        let mut values = Parameters(Vec::new());
        net.visit(&mut values);
        values.0
    };
    assert!(
        weights(&straight) == weights(&resumed),
        "the resumed run ends with other weights"
    );
    for (a, b) in metrics.iter().zip(&again) {
        assert_eq!(
            (a.val_clean, a.val_verified, a.val_int8_certified),
            (b.val_clean, b.val_verified, b.val_int8_certified),
            "epoch {}",
            a.epoch
        );
    }
    metrics
}

#[test]
fn learns_and_resumes_bit_identically() {
    let tmp = tempfile::tempdir().unwrap();
    let (cfg, set) = common::tiny_config(tmp.path(), 1500, 3);
    let metrics = learns_and_resumes(tmp.path(), &cfg, &set);
    assert!(metrics.iter().all(|m| m.train_clean.is_some()));
}

#[test]
fn centre_statistics_and_quant_aware_epochs_learn_and_resume() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut cfg, set) = common::tiny_config(tmp.path(), 1500, 3);
    cfg.clean_input = CleanInput::Centres;
    // Every epoch quantisation-aware, so the interruption falls in one.
    cfg.qa_epochs = 3;
    let metrics = learns_and_resumes(tmp.path(), &cfg, &set);
    let last = metrics.last().unwrap();
    // Once eps > 0 the clean batch is not carried: no clean training accuracy.
    assert_eq!(last.train_clean, None);
    // Each QA epoch is validated on its int8 export, which certifies.
    let int8 = last
        .val_int8_certified
        .expect("QA epochs certify their export");
    assert!(int8 > 0.1, "int8 certified {int8}");
}

#[test]
fn crown_ibp_training_learns_and_resumes() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut cfg, set) = common::tiny_config(tmp.path(), 1500, 3);
    cfg.bound = Bound::CrownIbp;
    let metrics = learns_and_resumes(tmp.path(), &cfg, &set);
    for m in &metrics {
        let t = m
            .val_tightness
            .expect("every epoch measures IBP's tightness");
        assert!(t > 0.0 && t <= 1.0, "epoch {}: tightness {t}", m.epoch);
    }
}
