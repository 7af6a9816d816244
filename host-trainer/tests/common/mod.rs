//! A small, fast training configuration on the vendored digits.

use std::path::Path;

use host_trainer::crown::Bound;
use host_trainer::data::{DataSource, Dataset, InputSpace, default_data_dir};
use host_trainer::eps::Eps;
use host_trainer::ibp::CleanInput;
use host_trainer::model::Init;
use host_trainer::train::TrainConfig;

/// The vendored MNIST digits: (train, test).
pub fn digits() -> (Dataset, Dataset) {
    let splits = DataSource::image_folder(&default_data_dir())
        .load()
        .expect("vendored data");
    (splits.train, splits.test)
}

/// An MLP trained briefly at eps 0.05 on `images` training digits.
#[allow(dead_code)] // not every test binary that shares this module trains
pub fn tiny_config(dir: &Path, images: usize, epochs: usize) -> (TrainConfig, Dataset) {
    let (train, _) = digits();
    let train = train.take(images);
    let cfg = TrainConfig {
        arch: "mlp:64".into(),
        eps_train: Eps::Uniform(0.05),
        eps: Eps::Uniform(0.05),
        init: Init::ShiBn,
        epochs,
        batch_size: 64,
        lr: 2e-3,
        lr_milestones: vec![epochs - 1],
        lr_factor: 0.2,
        ramp_start: 2,
        ramp_length: 1,
        reg_lambda: 0.5,
        reg_tau: 0.5,
        clean_weight: 0.0,
        clean_input: CleanInput::Batch,
        bound: Bound::Ibp,
        qa_epochs: 0,
        grad_clip: 10.0,
        val_fraction: 0.1,
        val_pgd_steps: 2,
        seed: 1,
        data: DataSource::image_folder(&default_data_dir()),
        command: "test".into(),
        imported_from: None,
        input: train.shape,
        space: InputSpace::unit(1),
        class_names: train.class_names.clone(),
        channel_names: Vec::new(),
    };
    std::fs::create_dir_all(dir).unwrap();
    (cfg, train)
}
