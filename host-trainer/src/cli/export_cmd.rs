//! `certnn export`.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use host_trainer::data::Dataset;
use host_trainer::eval::{PgdConfig, evaluate};
use host_trainer::export::{ModelCard, certify_set, export};
use host_trainer::train::{RunDir, load_net, split_indices};

use super::model_file;

/// Export a trained run as an int8 model file for cert-runtime, with its
/// model card (NAME.json and NAME.md beside it).
///
/// BatchNorm is folded into the preceding layer; weights become int8
/// (symmetric, per output channel), biases int32, activations int8 with
/// ranges calibrated on training images AND their IBP bounds at the run's
/// eps. The card reports the float model's accuracies (clean, PGD,
/// IBP-verified) and the int8 model's clean and certified accuracy,
/// measured with the runtime's own integer arithmetic.
#[derive(Args, Debug)]
#[command(after_help = "Example:
  certnn export --run runs/small-0.1 --out models/cnn-small-eps0.1.cert")]
pub struct ExportArgs {
    /// Run directory written by `certnn train`.
    #[arg(long, value_name = "DIR")]
    run: PathBuf,
    /// Model file to write (conventionally models/NAME.cert).
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// eps of the IBP bounds that calibrate the activation ranges (default:
    /// the run's eps; 0 calibrates on clean activations only). Larger
    /// ranges keep intervals from saturating but coarsen every step.
    #[arg(long)]
    calibration_eps: Option<f32>,
    /// PGD steps for the card's float attack numbers (0 skips).
    #[arg(long, default_value_t = 20)]
    pgd_steps: usize,
    /// Compute device for the float evaluation: cpu or cuda.
    #[arg(long, default_value = "cpu")]
    device: String,
}

/// Runs `certnn export`.
pub fn run(args: ExportArgs) -> Result<()> {
    let dir = RunDir::new(&args.run);
    let cfg = dir.read_config()?;
    let device = super::eval_cmd::device(&args.device)?;
    let net = load_net(&cfg, &dir.best_model(), &device)?;
    let train = Dataset::from_idx(&cfg.data.train_images, &cfg.data.train_labels)?;
    let (train_idx, _) = split_indices(train.len(), cfg.val_fraction, cfg.seed);
    let test = Dataset::from_idx(&cfg.data.test_images, &cfg.data.test_labels)?;

    let calibration_eps = args.calibration_eps.unwrap_or(cfg.eps);
    let spec = export(
        &net,
        &cfg,
        &train.subset(&train_idx),
        calibration_eps,
        &device,
    )?;
    let bytes = spec
        .to_bytes()
        .map_err(|e| anyhow::anyhow!("the exported model does not load: {e}"))?;
    if let Some(parent) = args.out.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    std::fs::write(&args.out, &bytes).with_context(|| format!("writing {}", args.out.display()))?;
    let model = model_file::parse(&args.out, &bytes)?;
    let (int8, _) = certify_set(&model, &test, cfg.eps)?;
    let pgd = PgdConfig {
        steps: args.pgd_steps,
        ..PgdConfig::default()
    };
    let float = evaluate(
        &net,
        &test,
        cfg.eps,
        (args.pgd_steps > 0).then_some(&pgd),
        250,
        &device,
    );
    let card = ModelCard {
        model: args
            .out
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        arch: cfg.arch.clone(),
        parameters: model.parameter_count(),
        flash_bytes: bytes.len(),
        scratch_ram_bytes: model.certify_scratch_bytes(),
        eps_train: cfg.eps_train,
        eps: cfg.eps,
        float_clean_accuracy: float.clean,
        float_pgd_accuracy: float.pgd,
        float_verified_accuracy: float.verified,
        int8,
        data: format!(
            "{} ({} training images, {} test images)",
            cfg.data
                .test_images
                .parent()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
            train.len(),
            test.len()
        ),
        seed: cfg.seed,
        train_command: cfg.command.clone(),
        export_command: format!(
            "certnn export --run {} --out {}",
            args.run.display(),
            args.out.display()
        ),
    };
    card.write(&args.out)?;
    println!(
        "wrote {} ({} bytes) and its card {}",
        args.out.display(),
        bytes.len(),
        args.out.with_extension("md").display()
    );
    println!(
        "float: clean {:.2}%  verified {:.2}%   int8: clean {:.2}%  certified {:.2}%   (eps {}, {} test images)",
        100.0 * float.clean,
        100.0 * float.verified,
        100.0 * int8.clean_accuracy,
        100.0 * int8.certified_accuracy,
        cfg.eps,
        test.len()
    );
    Ok(())
}
