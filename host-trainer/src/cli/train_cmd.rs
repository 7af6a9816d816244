//! `certnn train`.

use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Result, anyhow, bail};
use clap::Args;
use host_trainer::crown::Bound;
use host_trainer::data::InputSpace;
use host_trainer::eps::EpsSpec;
use host_trainer::export::int8_certified_accuracy;
use host_trainer::ibp::CleanInput;
use host_trainer::model::{Arch, Init};
use host_trainer::train::{RunDir, TrainConfig, train};

use super::data_args::DataArgs;

/// Train a certifiably robust network with fast IBP, on images (IDX,
/// CIFAR-10) or on vectors of sensor features (CSV).
///
/// A budget (--eps-train, --eps) is the L-infinity radius each input may
/// move, per input channel in its own unit: E for every channel, E1,E2,...
/// one per channel, std:F for F times each feature's training standard
/// deviation, or @FILE with one eps per line. Pixels are in [0, 1].
///
/// The eps ramp starts at epoch --ramp-start and lasts --ramp-length epochs
/// (smoothed: polynomial for the first quarter, then linear). While eps is
/// below its final value, the warm-up regularisers of Shi et al. keep the
/// bounds tight and the ReLUs balanced. The kept model (best.bpk) is the
/// one with the best IBP-verified accuracy at --eps on a validation split
/// of the training data, among epochs trained at full eps (with
/// --qa-epochs: among the quantisation-aware epochs, by the certified
/// accuracy of their int8 export). Every epoch writes a checkpoint,
/// metrics.jsonl and curves.svg into --out; Ctrl-C saves a checkpoint and
/// `--resume` continues from it.
#[derive(Args, Debug)]
#[command(after_help = "Examples:
  certnn train --arch cnn-small --eps-train 0.2 --eps 0.1 --epochs 30 --out runs/small-0.1
  certnn train --arch mlp:256,256 --eps-train 0.3 --eps 0.3 --ramp-length 20 --out runs/mlp-0.3
  certnn train --arch cnn-small --eps-train 0.2 --eps 0.1 --qa-epochs 5 --out runs/small-qa
  certnn train --csv-train data/tabular/wine/train.csv --csv-test data/tabular/wine/test.csv \\
      --eps-train std:0.1 --eps std:0.05 --out runs/wine
  certnn train --out runs/small-0.1 --resume")]
pub struct TrainArgs {
    /// Architecture: mlp:W1,W2,... | cnn-small | cnn-medium | cnn7 |
    /// custom:convCkKsSpP,...,fcW,... (e.g. custom:conv16k4s2p0,fc100).
    /// Default: cnn-small for images, mlp:64,64 for features.
    #[arg(long, value_parser = parse_arch)]
    arch: Option<Arch>,
    /// The budget the network is trained at (the end of the eps ramp).
    /// Default: 0.2 for images, std:0.1 for features.
    #[arg(long, value_name = "EPS")]
    eps_train: Option<EpsSpec>,
    /// The budget it is evaluated, selected and certified at (the model
    /// file carries it). Default: 0.1 for images, std:0.05 for features.
    /// Also spelled --eps-per-feature for a list (E1,E2,...) or @FILE.
    #[arg(long, value_name = "EPS", visible_alias = "eps-per-feature")]
    eps: Option<EpsSpec>,
    /// Hidden-layer initialisation: shi (the paper's scale) or shi-bn (the
    /// same Gaussian at Kaiming's scale; trains far faster under BatchNorm).
    #[arg(long, value_enum, default_value_t = Init::ShiBn)]
    init: Init,
    /// Epochs. Default: 30 for images, 300 for features (a few hundred
    /// rows make an epoch only a handful of steps).
    #[arg(long)]
    epochs: Option<usize>,
    /// Batch size. The paper's 256 gives only 28 steps per epoch on 7,200
    /// digits; 128 (the default for images) doubles the steps for the same
    /// work. Default for features: 16.
    #[arg(long)]
    batch_size: Option<usize>,
    /// Adam learning rate. The paper's 5e-4 is tuned for ~16,000 steps; a
    /// 30-epoch run here has ~1,700, and 2e-3 reaches far higher verified
    /// accuracy without collapse (see docs/training.md).
    #[arg(long, default_value_t = 2e-3)]
    lr: f64,
    /// Epochs (1-based) after which the learning rate is multiplied by
    /// --lr-factor; default: at 70% and 85% of the run.
    #[arg(long, value_delimiter = ',')]
    lr_milestones: Option<Vec<usize>>,
    /// Learning-rate decay factor.
    #[arg(long, default_value_t = 0.2)]
    lr_factor: f64,
    /// Epoch (1-based) at which the eps ramp starts.
    #[arg(long, default_value_t = 1)]
    ramp_start: u64,
    /// Length of the eps ramp in epochs; default: half of the run.
    #[arg(long)]
    ramp_length: Option<u64>,
    /// Weight of the warm-up regularisers (0 turns them off).
    #[arg(long, default_value_t = 0.5)]
    reg_lambda: f64,
    /// Threshold tau of the warm-up regularisers.
    #[arg(long, default_value_t = 0.5)]
    reg_tau: f64,
    /// Weight of the clean loss at full eps (0 = pure robust loss).
    #[arg(long, default_value_t = 0.0)]
    clean_weight: f32,
    /// What the clean terms of a step (BatchNorm's batch statistics, the
    /// natural loss during the ramp) are computed on: the centres of the
    /// input boxes (two tensors through every layer) or the clean images
    /// (`batch`, the paper's choice: three tensors, about 1.5x slower steps
    /// and no more accurate here; see docs/training.md).
    #[arg(long, value_enum, default_value_t = CleanInput::Centres)]
    clean_input: CleanInput,
    /// The bound of the robust loss: ibp, or crown-ibp (Zhang et al. 2020:
    /// during the eps ramp the margins mix CROWN-IBP's linear bounds,
    /// weight 1 - progress, with IBP's; about 2-3x slower steps during the
    /// ramp, plain IBP once eps is full). The tightness of IBP (Mao et al.
    /// 2024) is measured on the validation inputs every epoch either way
    /// (metrics.jsonl, curves.svg).
    #[arg(long, value_enum, default_value_t = Bound::Ibp)]
    bound: Bound,
    /// Train the last N epochs quantisation-aware (QA-IBP): weights,
    /// activations and input boxes fake-quantised to the int8 grids of the
    /// exported model, with straight-through gradients. Each of these epochs
    /// is validated by exporting the network and certifying the validation
    /// split with the runtime (the device's arithmetic), and the kept model
    /// is the best of them by that int8-certified accuracy. 0: float only.
    #[arg(long, default_value_t = 0)]
    qa_epochs: usize,
    /// Gradient-norm clipping threshold.
    #[arg(long, default_value_t = 10.0)]
    grad_clip: f32,
    /// Fraction of the training images held out for model selection.
    #[arg(long, default_value_t = 0.1)]
    val_fraction: f32,
    /// PGD steps of the per-epoch validation attack (0 skips it).
    #[arg(long, default_value_t = 10)]
    val_pgd_steps: usize,
    /// Seed of initialisation, split and shuffling.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Compute device: cpu (burn's flex backend) or cuda (needs the `cuda` feature).
    #[arg(long, default_value = "cpu")]
    device: String,
    #[command(flatten)]
    data: DataArgs,
    /// Run directory (config, checkpoints, metrics, plot, best model).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Continue the run in --out from its last checkpoint.
    #[arg(long)]
    resume: bool,
}

fn parse_arch(s: &str) -> Result<Arch, String> {
    s.parse()
}

/// Runs `certnn train`.
pub fn run(args: TrainArgs) -> Result<()> {
    let dir = RunDir::new(&args.out);
    let cfg = if args.resume {
        dir.read_config().map_err(|e| anyhow!("--resume: {e:#}"))?
    } else {
        if dir.progress().exists() {
            bail!(
                "{} already holds a run; pass --resume to continue it or choose another --out",
                args.out.display()
            );
        }
        config_from_args(&args)?
    };
    let train_set = cfg.data.load()?.train;
    if train_set.shape != cfg.input {
        bail!(
            "the training inputs are {:?}, the run was configured for {:?}",
            train_set.shape,
            cfg.input
        );
    }
    dir.write_json(&dir.config(), &cfg)?;
    let device = super::device::open(&args.device)?;
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst))
        .map_err(|e| anyhow!("installing the Ctrl-C handler: {e}"))?;
    println!(
        "training {} on {} inputs ({} held out), eps_train {} eps {}, {} epochs -> {}",
        cfg.arch,
        train_set.len(),
        (train_set.len() as f32 * cfg.val_fraction).round(),
        cfg.eps_train,
        cfg.eps,
        cfg.epochs,
        args.out.display()
    );
    let started = std::time::Instant::now();
    let int8 = |net: &_, calibration: &_, validation: &_| {
        int8_certified_accuracy(net, &cfg, calibration, validation, &device)
    };
    let progress = train(&dir, &cfg, &train_set, &device, stop, Some(&int8))?;
    if progress.epoch < cfg.epochs {
        println!(
            "stopped; resume with: certnn train --out {} --resume",
            args.out.display()
        );
        return Ok(());
    }
    println!(
        "done in {:.1}s; kept epoch {} (validation verified {:.2}% at eps {}); evaluate with: certnn eval --run {}",
        started.elapsed().as_secs_f32(),
        progress.best_epoch.map_or(0, |e| e + 1),
        100.0 * progress.best_verified.unwrap_or(0.0),
        cfg.eps,
        args.out.display()
    );
    Ok(())
}

fn config_from_args(args: &TrainArgs) -> Result<TrainConfig> {
    let source = args.data.source()?;
    let tabular = source.is_tabular();
    let epochs = args.epochs.unwrap_or(if tabular { 300 } else { 30 });
    let batch_size = args.batch_size.unwrap_or(if tabular { 16 } else { 128 });
    if epochs == 0 || batch_size == 0 {
        bail!("--epochs and --batch-size must be positive");
    }
    if args.bound == Bound::CrownIbp && args.qa_epochs > 0 {
        bail!("--bound crown-ibp and --qa-epochs do not combine: quantisation-aware steps use IBP");
    }
    if args.qa_epochs > epochs {
        bail!(
            "--qa-epochs ({}) cannot exceed --epochs ({epochs})",
            args.qa_epochs
        );
    }
    let splits = source.load()?;
    let train = &splits.train;
    let space = if tabular {
        InputSpace::fit(train)
    } else {
        InputSpace::unit(train.shape.channels)
    };
    if let Some(outside) = space.outside(&splits.test) {
        eprintln!(
            "warning: a test input lies outside the fitted domain, which certify will refuse: {outside}"
        );
    }
    let default = |image: &str, features: &str| {
        (if tabular { features } else { image })
            .parse::<EpsSpec>()
            .expect("a valid default budget")
    };
    let eps_train = args
        .eps_train
        .clone()
        .unwrap_or_else(|| default("0.2", "std:0.1"))
        .resolve(&space, tabular)?;
    let eps = args
        .eps
        .clone()
        .unwrap_or_else(|| default("0.1", "std:0.05"))
        .resolve(&space, tabular)?;
    let arch = match &args.arch {
        Some(arch) => arch.clone(),
        None if tabular => Arch::from_str("mlp:64,64").map_err(|e| anyhow!(e))?,
        None => Arch::cnn_small(),
    };
    let milestones = match &args.lr_milestones {
        Some(m) => m.clone(),
        None => vec![(epochs * 7).div_ceil(10), (epochs * 17).div_ceil(20)],
    };
    Ok(TrainConfig {
        arch: arch.to_string(),
        eps_train,
        eps,
        init: args.init,
        epochs,
        batch_size,
        lr: args.lr,
        lr_milestones: milestones,
        lr_factor: args.lr_factor,
        ramp_start: args.ramp_start,
        ramp_length: args.ramp_length.unwrap_or((epochs as u64).div_ceil(2)),
        reg_lambda: args.reg_lambda,
        reg_tau: args.reg_tau,
        clean_weight: args.clean_weight,
        clean_input: args.clean_input,
        bound: args.bound,
        qa_epochs: args.qa_epochs,
        grad_clip: args.grad_clip,
        val_fraction: args.val_fraction,
        val_pgd_steps: args.val_pgd_steps,
        seed: args.seed,
        command: super::command_line(),
        imported_from: None,
        input: train.shape,
        space,
        class_names: train.class_names.clone(),
        channel_names: train.channel_names.clone(),
        data: source,
    })
}
