//! The training loop: warm-up, eps ramp, robust loss, regularisers,
//! checkpoints, model selection on a validation split.

mod config;
mod regularizer;
mod run_dir;
mod schedule;
mod step;

pub use config::{DataFiles, TrainConfig};
pub use run_dir::{Progress, RunDir};
pub use schedule::{EpsSchedule, LrSchedule};

use step::{Sums, training_step};

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use anyhow::{Context, Result, anyhow};
use burn::module::Module;
use burn::optim::grad_clipping::GradientClippingConfig;
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer};
use burn::tensor::Device;
use indicatif::{ProgressBar, ProgressStyle};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

use crate::data::{Dataset, batch};
use crate::eval::{PgdConfig, evaluate};
use crate::export::{CALIBRATION_IMAGES, activation_max, int8_certified_accuracy};
use crate::model::Net;
use crate::report::{EpochMetrics, append_metrics, plot_curves, read_metrics};

/// Validation images attacked with PGD each epoch (the attack is the slow part).
const VAL_PGD_SAMPLES: usize = 500;

/// Splits the training indices into (train, validation), reproducibly.
pub fn split_indices(n: usize, val_fraction: f32, seed: u64) -> (Vec<usize>, Vec<usize>) {
    let mut idx: Vec<usize> = (0..n).collect();
    idx.shuffle(&mut StdRng::seed_from_u64(seed));
    let val = ((n as f32) * val_fraction.clamp(0.0, 0.5)).round() as usize;
    let (v, t) = idx.split_at(val);
    (t.to_vec(), v.to_vec())
}

/// Builds the network of a run, on `device`.
pub fn build_net(cfg: &TrainConfig, device: &Device) -> Result<Net> {
    Net::new(
        &cfg.arch().map_err(|e| anyhow!(e))?,
        cfg.init,
        cfg.input,
        cfg.classes,
        device,
    )
    .map_err(|e| anyhow!(e))
}

/// Loads a saved network of a run.
pub fn load_net(cfg: &TrainConfig, path: &std::path::Path, device: &Device) -> Result<Net> {
    build_net(cfg, device)?
        .try_load_file(path)
        .map_err(|e| anyhow!("loading {}: {e:?}", path.display()))
}

/// Trains (or resumes) the run in `dir` on `train`; returns the final
/// progress. `stop` is polled after every batch (Ctrl-C).
pub fn train(
    dir: &RunDir,
    cfg: &TrainConfig,
    train: &Dataset,
    device: &Device,
    stop: Arc<AtomicBool>,
) -> Result<Progress> {
    device.seed(cfg.seed);
    let (train_idx, val_idx) = split_indices(train.len(), cfg.val_fraction, cfg.seed);
    let val = train.subset(&val_idx);
    let val_pgd = val.take(VAL_PGD_SAMPLES);
    let calibration = (cfg.qa_epochs > 0).then(|| train.subset(&train_idx));
    let batches = train_idx.len().div_ceil(cfg.batch_size) as u64;
    let eps_schedule = EpsSchedule::new(cfg.eps_train, cfg.ramp_start, cfg.ramp_length, batches);
    let lr_schedule = LrSchedule {
        lr: cfg.lr,
        milestones: cfg.lr_milestones.clone(),
        factor: cfg.lr_factor,
    };
    let mut optimizer = AdamConfig::new()
        .with_grad_clipping(Some(GradientClippingConfig::Norm(cfg.grad_clip)))
        .init();

    let (mut net, mut progress) = match dir.read_progress()? {
        Some(p) => {
            let net = load_net(cfg, &dir.checkpoint_model(), device)?;
            optimizer = optimizer
                .load(dir.checkpoint_optimizer())
                .map_err(|e| anyhow!("loading the optimiser checkpoint: {e:?}"))?;
            (net, p)
        }
        None => (build_net(cfg, device)?, Progress::default()),
    };
    let mut history = if progress.epoch > 0 {
        read_metrics(&dir.metrics()).unwrap_or_default()
    } else {
        Vec::new()
    };
    history.truncate(progress.epoch);

    while progress.epoch < cfg.epochs {
        let epoch = progress.epoch;
        let lr = lr_schedule.lr(epoch);
        let mut order = train_idx.clone();
        order.shuffle(&mut StdRng::seed_from_u64(
            cfg.seed ^ (epoch as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15),
        ));
        let bar = ProgressBar::new(batches).with_style(
            ProgressStyle::with_template(
                "epoch {prefix:>3} {bar:30.cyan/blue} {pos:>3}/{len} {msg} [{elapsed}<{eta}]",
            )
            .expect("static template"),
        );
        bar.set_prefix(format!("{}/{}", epoch + 1, cfg.epochs));
        bar.set_position(progress.batch as u64);
        // QA-IBP: the last `qa_epochs` epochs see the int8 grids.
        let quant_aware = epoch + cfg.qa_epochs >= cfg.epochs;
        // Its activation grid is calibrated as `certnn export` does, once per
        // epoch (a resumed epoch keeps the one it started with).
        progress.activation_max = match (&calibration, quant_aware) {
            (Some(calibration), true) => progress.activation_max.take().or_else(|| {
                Some(activation_max(
                    &net,
                    &calibration.take(CALIBRATION_IMAGES),
                    cfg.eps,
                    device,
                ))
            }),
            _ => None,
        };
        let activation_max = progress.activation_max.clone();
        let started = Instant::now();
        let mut sums = Sums::default();
        for (b, chunk) in order
            .chunks(cfg.batch_size)
            .enumerate()
            .skip(progress.batch)
        {
            let t = epoch as u64 * batches + b as u64;
            let eps = eps_schedule.eps(t);
            let (x, y) = batch(train, chunk, device);
            let step = training_step(&net, cfg, x, y, eps, activation_max.as_deref());
            let grads = GradientsParams::from_grads(step.loss.backward(), &net);
            net = optimizer.step(lr, net, grads);
            sums.add(&step, chunk.len());
            bar.inc(1);
            bar.set_message(format!(
                "eps {eps:.4} loss {:.4} clean {} verified {:.3}",
                sums.loss(),
                sums.clean().map_or("-".into(), |c| format!("{c:.3}")),
                sums.verified()
            ));
            if stop.load(Ordering::SeqCst) {
                progress.batch = b + 1;
                save_checkpoint(dir, &net, &optimizer, &progress)?;
                bar.abandon_with_message(format!(
                    "interrupted: checkpoint saved at epoch {} batch {}",
                    epoch + 1,
                    b + 1
                ));
                return Ok(progress);
            }
        }
        let seconds = started.elapsed().as_secs_f32();
        bar.finish();
        let end_t = (epoch as u64 + 1) * batches;
        let pgd = PgdConfig {
            steps: cfg.val_pgd_steps,
            ..PgdConfig::default()
        };
        let acc = evaluate(&net, &val, cfg.eps, None, 512, device);
        let pgd_acc = (cfg.val_pgd_steps > 0)
            .then(|| evaluate(&net, &val_pgd, cfg.eps, Some(&pgd), 250, device).pgd)
            .flatten();
        let int8_certified = match (&calibration, quant_aware) {
            (Some(calibration), true) => Some(int8_certified_accuracy(
                &net,
                cfg,
                calibration,
                &val,
                device,
            )?),
            _ => None,
        };
        let metrics = EpochMetrics {
            epoch: epoch + 1,
            eps_train: eps_schedule.eps(end_t),
            lr,
            loss: sums.loss(),
            train_clean: sums.clean(),
            train_verified: sums.verified(),
            eps: cfg.eps,
            val_clean: acc.clean,
            val_pgd: pgd_acc,
            val_verified: acc.verified,
            val_int8_certified: int8_certified,
            seconds,
        };
        println!(
            "epoch {:>3}: {:.1}s loss {:.4} | val clean {:.2}% PGD {} verified {:.2}%{} at eps {}",
            epoch + 1,
            seconds,
            metrics.loss,
            100.0 * acc.clean,
            pgd_acc.map_or("-".into(), |p| format!("{:.2}%", 100.0 * p)),
            100.0 * acc.verified,
            int8_certified.map_or(String::new(), |c| format!(
                ", int8 certified {:.2}%",
                100.0 * c
            )),
            cfg.eps
        );
        append_metrics(&dir.metrics(), &metrics)?;
        history.push(metrics);
        plot_curves(
            &history,
            &dir.plot(),
            &format!(
                "{} eps_train {} (validation at eps {})",
                cfg.arch, cfg.eps_train, cfg.eps
            ),
        )?;
        // Select among epochs trained at full eps (the last epoch always
        // qualifies) on IBP-verified accuracy; with QA-IBP, among the
        // quantisation-aware epochs on the int8 model's certified accuracy.
        let (eligible, score) = match cfg.qa_epochs {
            0 => (eps_schedule.at_full(end_t), acc.verified),
            _ => (quant_aware, int8_certified.unwrap_or(0.0)),
        };
        let eligible = eligible || epoch + 1 == cfg.epochs;
        if eligible && progress.best_verified.is_none_or(|best| score >= best) {
            progress.best_verified = Some(score);
            progress.best_epoch = Some(epoch);
            saved_form(&net)
                .save_file(dir.best_model())
                .map_err(|e| anyhow!("saving the best model: {e:?}"))?;
        }
        progress.epoch += 1;
        progress.batch = 0;
        progress.activation_max = None;
        save_checkpoint(dir, &net, &optimizer, &progress)?;
    }
    Ok(progress)
}

/// `net` as it is saved. BatchNorm's running statistics are burn
/// `RunningState`s, which hold the latest update aside until they are next
/// read; saving `net` itself would write them one batch stale (and a resumed
/// run would lose that update). `valid` folds the update in first.
fn saved_form(net: &Net) -> impl Module {
    net.clone().valid()
}

fn save_checkpoint(
    dir: &RunDir,
    net: &Net,
    optimizer: &ModuleOptimizer,
    progress: &Progress,
) -> Result<()> {
    std::fs::create_dir_all(dir.root())
        .with_context(|| format!("creating {}", dir.root().display()))?;
    saved_form(net)
        .save_file(dir.checkpoint_model())
        .map_err(|e| anyhow!("saving the checkpoint model: {e:?}"))?;
    optimizer
        .save(dir.checkpoint_optimizer())
        .map_err(|e| anyhow!("saving the optimiser state: {e:?}"))?;
    dir.write_json(&dir.progress(), progress)
}
