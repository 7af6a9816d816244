//! The training loop: warm-up, eps ramp, robust loss, regularisers,
//! checkpoints, model selection on a validation split.
//!
//! A run is opened (fresh or from its checkpoint), then trained epoch by
//! epoch: `Run::train_epoch` steps through the shuffled batches,
//! `Run::validate` measures the epoch on the validation split, and
//! `Run::keep_if_best` and `Run::checkpoint` save what a later `eval`,
//! `export` or `--resume` needs.

mod config;
mod regularizer;
mod run_dir;
mod schedule;
mod step;
mod validate;

pub use config::TrainConfig;
pub use run_dir::{Progress, RunDir};
pub use schedule::{EpsRamp, EpsSchedule, LrSchedule, RampPoint};
pub use step::{Step, StepConfig, Sums, Totals, training_step};

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use anyhow::{Context, Result, anyhow, bail};
use burn::module::Module;
use burn::optim::grad_clipping::GradientClippingConfig;
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer};
use burn::tensor::Device;
use cert_runtime::Quantizer;
use indicatif::{ProgressBar, ProgressStyle};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

use crate::calibrate::activation_max;
use crate::data::{Dataset, Resident};
use crate::ibp::Grids;
use crate::model::Net;
use crate::report::{EpochMetrics, append_metrics, plot_curves, read_metrics};

/// The certified accuracy, at the run's budget, of the int8 model made of a
/// network: what a quantisation-aware epoch is selected on. Given the
/// network, the calibration split and the validation split. (The exporter
/// provides it; training does not depend on export.)
pub type QuantizedValidation<'a> = &'a dyn Fn(&Net, &Dataset, &Dataset) -> Result<f32>;

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
        &cfg.space,
        cfg.classes(),
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

/// Saves `net` where [`load_net`] reads it (a run's kept model).
pub fn save_net(net: &Net, path: &std::path::Path) -> Result<()> {
    saved_form(net)
        .save_file(path)
        .map_err(|e| anyhow!("saving {}: {e:?}", path.display()))
}

/// Trains (or resumes) the run in `dir` on `train`; returns the final
/// progress. `stop` is polled after every batch (Ctrl-C). A run with
/// quantisation-aware epochs needs `quantized` to select them.
pub fn train(
    dir: &RunDir,
    cfg: &TrainConfig,
    train: &Dataset,
    device: &Device,
    stop: Arc<AtomicBool>,
    quantized: Option<QuantizedValidation<'_>>,
) -> Result<Progress> {
    if cfg.qa_epochs > 0 && quantized.is_none() {
        bail!("quantisation-aware epochs need the int8 validation");
    }
    let mut run = Run::open(dir, cfg, train, device)?;
    while run.progress.epoch < cfg.epochs {
        let started = Instant::now();
        let Some(sums) = run.train_epoch(&stop)? else {
            return Ok(run.progress);
        };
        let seconds = started.elapsed().as_secs_f32();
        let (metrics, score) = run.validate(sums, seconds, quantized)?;
        run.report(metrics)?;
        run.keep_if_best(score)?;
        run.progress.epoch += 1;
        run.progress.batch = 0;
        run.progress.activation_max = None;
        run.checkpoint()?;
    }
    Ok(run.progress)
}

/// A run being trained: its data splits, schedules, network, optimiser and
/// progress.
struct Run<'a> {
    dir: &'a RunDir,
    cfg: &'a TrainConfig,
    /// The training data, on the device.
    resident: Resident,
    device: &'a Device,
    train_idx: Vec<usize>,
    val: Dataset,
    /// The training split, for the int8 export's calibration (QA-IBP only).
    calibration: Option<Dataset>,
    quantizers: Vec<Quantizer>,
    batches: u64,
    ramp: EpsRamp,
    lr: LrSchedule,
    optimizer: ModuleOptimizer,
    net: Net,
    progress: Progress,
    history: Vec<EpochMetrics>,
}

impl<'a> Run<'a> {
    /// A fresh run, or the one in `dir`'s checkpoint.
    fn open(
        dir: &'a RunDir,
        cfg: &'a TrainConfig,
        data: &'a Dataset,
        device: &'a Device,
    ) -> Result<Self> {
        device.seed(cfg.seed);
        let (train_idx, val_idx) = split_indices(data.len(), cfg.val_fraction, cfg.seed);
        let batches = train_idx.len().div_ceil(cfg.batch_size) as u64;
        let mut optimizer = AdamConfig::new()
            .with_grad_clipping(Some(GradientClippingConfig::Norm(cfg.grad_clip)))
            .init();
        let (net, progress) = match dir.read_progress()? {
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
        Ok(Run {
            dir,
            cfg,
            resident: Resident::new(data, device),
            device,
            val: data.subset(&val_idx),
            calibration: (cfg.qa_epochs > 0).then(|| data.subset(&train_idx)),
            quantizers: cfg.space.quantizers(),
            train_idx,
            batches,
            ramp: EpsRamp::new(cfg, batches),
            lr: LrSchedule {
                lr: cfg.lr,
                milestones: cfg.lr_milestones.clone(),
                factor: cfg.lr_factor,
            },
            optimizer,
            net,
            progress,
            history,
        })
    }

    /// True when the current epoch is one of the last `qa_epochs`.
    fn quant_aware(&self) -> bool {
        self.progress.epoch + self.cfg.qa_epochs >= self.cfg.epochs
    }

    /// Trains the current epoch from its saved batch on; `None` when `stop`
    /// interrupted it (a checkpoint is saved then).
    fn train_epoch(&mut self, stop: &AtomicBool) -> Result<Option<Totals>> {
        let (cfg, epoch) = (self.cfg, self.progress.epoch);
        let lr = self.lr.lr(epoch);
        let mut order = self.train_idx.clone();
        order.shuffle(&mut StdRng::seed_from_u64(
            cfg.seed ^ (epoch as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15),
        ));
        let bar = self.progress_bar();
        // QA-IBP: the last `qa_epochs` epochs see the int8 grids, calibrated
        // as `certnn export` does, once per epoch (a resumed epoch keeps the
        // grid it started with).
        self.progress.activation_max = match (&self.calibration, self.quant_aware()) {
            (Some(calibration), true) => self.progress.activation_max.take().or_else(|| {
                let eps = cfg.perturbation(&cfg.eps);
                Some(activation_max(&self.net, calibration, &eps, self.device))
            }),
            _ => None,
        };
        let activation_max = self.progress.activation_max.clone();
        let grids = activation_max.as_deref().map(|activation_max| Grids {
            activation_max,
            input: &self.quantizers,
        });
        let warmup = self.ramp.warmup();
        let step_config = cfg.step();
        let mut sums = Sums::default();
        // Nothing is read back inside the epoch: the bar shows the budget,
        // the sums come back once at its end.
        bar.set_message(format!(
            "eps {:.4}",
            self.ramp.at(epoch as u64 * self.batches).shown
        ));
        for (b, chunk) in order
            .chunks(cfg.batch_size)
            .enumerate()
            .skip(self.progress.batch)
        {
            let at = self.ramp.at(epoch as u64 * self.batches + b as u64);
            let (x, y) = self.resident.gather(chunk, self.device);
            let step = training_step(&self.net, &step_config, x, y, &at, &warmup, grids);
            let grads = GradientsParams::from_grads(step.loss.backward(), &self.net);
            self.net = self.optimizer.step(lr, self.net.clone(), grads);
            sums.add(&step, chunk.len());
            bar.inc(1);
            if b % 16 == 0 {
                bar.set_message(format!("eps {:.4}", at.shown));
            }
            if stop.load(Ordering::SeqCst) {
                self.progress.batch = b + 1;
                self.checkpoint()?;
                bar.abandon_with_message(format!(
                    "interrupted: checkpoint saved at epoch {} batch {}",
                    epoch + 1,
                    b + 1
                ));
                return Ok(None);
            }
        }
        let totals = sums.totals();
        bar.set_message(format!(
            "loss {:.4} clean {} verified {:.3}",
            totals.loss,
            totals.clean.map_or("-".into(), |c| format!("{c:.3}")),
            totals.verified
        ));
        bar.finish();
        Ok(Some(totals))
    }

    fn progress_bar(&self) -> ProgressBar {
        let bar = ProgressBar::new(self.batches).with_style(
            ProgressStyle::with_template(
                "epoch {prefix:>3} {bar:30.cyan/blue} {pos:>3}/{len} {msg} [{elapsed}<{eta}]",
            )
            .expect("static template"),
        );
        bar.set_prefix(format!("{}/{}", self.progress.epoch + 1, self.cfg.epochs));
        bar.set_position(self.progress.batch as u64);
        bar
    }

    /// Prints the epoch, appends it to `metrics.jsonl` and redraws the plot.
    fn report(&mut self, metrics: EpochMetrics) -> Result<()> {
        let percent = |x: f32| format!("{:.2}%", 100.0 * x);
        println!(
            "epoch {:>3}: {:.1}s loss {:.4} | val clean {} PGD {} verified {}{}",
            metrics.epoch,
            metrics.seconds,
            metrics.loss,
            percent(metrics.val_clean),
            metrics.val_pgd.map_or("-".into(), percent),
            percent(metrics.val_verified),
            metrics
                .val_int8_certified
                .map_or(String::new(), |c| format!(
                    ", int8 certified {}",
                    percent(c)
                )),
        );
        append_metrics(&self.dir.metrics(), &metrics)?;
        self.history.push(metrics);
        let cfg = self.cfg;
        plot_curves(
            &self.history,
            &self.dir.plot(),
            &format!(
                "{} eps_train {} (validation at eps {})",
                cfg.arch, cfg.eps_train, cfg.eps
            ),
        )
    }

    /// Saves the network as the kept model when `score` is the best so far.
    fn keep_if_best(&mut self, score: f32) -> Result<()> {
        if score.is_finite() && self.progress.best_verified.is_none_or(|best| score >= best) {
            self.progress.best_verified = Some(score);
            self.progress.best_epoch = Some(self.progress.epoch);
            save_net(&self.net, &self.dir.best_model())?;
        }
        Ok(())
    }

    /// Writes the checkpoint: network, optimiser state and progress.
    fn checkpoint(&self) -> Result<()> {
        let dir = self.dir;
        std::fs::create_dir_all(dir.root())
            .with_context(|| format!("creating {}", dir.root().display()))?;
        saved_form(&self.net)
            .save_file(dir.checkpoint_model())
            .map_err(|e| anyhow!("saving the checkpoint model: {e:?}"))?;
        self.optimizer
            .save(dir.checkpoint_optimizer())
            .map_err(|e| anyhow!("saving the optimiser state: {e:?}"))?;
        dir.write_json(&dir.progress(), &self.progress)
    }
}

/// `net` as it is saved. BatchNorm's running statistics are burn
/// `RunningState`s, which hold the latest update aside until they are next
/// read; saving `net` itself would write them one batch stale (and a resumed
/// run would lose that update). `valid` folds the update in first.
fn saved_form(net: &Net) -> impl Module {
    net.clone().valid()
}
