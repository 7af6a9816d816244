//! `certnn eval`.

use std::path::PathBuf;

use anyhow::{Result, bail};
use burn::tensor::Device;
use clap::Args;
use host_trainer::data::Dataset;
use host_trainer::eval::{PgdConfig, evaluate};
use host_trainer::train::{RunDir, load_net};

/// Evaluate a trained (float) network on the test set: clean accuracy,
/// accuracy under a PGD attack, and IBP-verified accuracy.
#[derive(Args, Debug)]
#[command(after_help = "Examples:
  certnn eval --run runs/small-0.1
  certnn eval --run runs/small-0.1 --eps 0.2 --pgd-steps 50 --restarts 3 --json")]
pub struct EvalArgs {
    /// Run directory written by `certnn train`.
    #[arg(long, value_name = "DIR")]
    run: PathBuf,
    /// eps of the attack and the verification (default: the run's --eps).
    #[arg(long)]
    eps: Option<f32>,
    /// PGD steps (0 skips the attack).
    #[arg(long, default_value_t = 20)]
    pgd_steps: usize,
    /// PGD random restarts.
    #[arg(long, default_value_t = 1)]
    restarts: usize,
    /// Evaluate at most this many test images.
    #[arg(long)]
    limit: Option<usize>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
    /// Compute device: cpu or cuda.
    #[arg(long, default_value = "cpu")]
    device: String,
}

/// The burn device for `--device` (autodiff-enabled).
pub fn device(name: &str) -> Result<Device> {
    match name {
        "cpu" | "flex" => Ok(Device::flex().autodiff()),
        #[cfg(feature = "cuda")]
        "cuda" => Ok(Device::cuda(0).autodiff()),
        #[cfg(not(feature = "cuda"))]
        "cuda" => bail!("this certnn was built without CUDA: rebuild with `--features cuda`"),
        other => bail!("unknown device `{other}`: use cpu or cuda"),
    }
}

/// Runs `certnn eval`.
pub fn run(args: EvalArgs) -> Result<()> {
    let dir = RunDir::new(&args.run);
    let cfg = dir.read_config()?;
    let eps = args.eps.unwrap_or(cfg.eps);
    if !(eps.is_finite() && eps >= 0.0) {
        bail!("--eps must be finite and >= 0");
    }
    let device = device(&args.device)?;
    let net = load_net(&cfg, &dir.best_model(), &device)?;
    let mut test = Dataset::from_idx(&cfg.data.test_images, &cfg.data.test_labels)?;
    if let Some(n) = args.limit {
        test = test.take(n);
    }
    let pgd = PgdConfig {
        steps: args.pgd_steps,
        restarts: args.restarts,
        ..PgdConfig::default()
    };
    let acc = evaluate(
        &net,
        &test,
        eps,
        (args.pgd_steps > 0).then_some(&pgd),
        250,
        &device,
    );
    if args.json {
        println!("{}", serde_json::to_string_pretty(&acc)?);
    } else {
        println!("{} test images, eps {eps}:", acc.samples);
        println!("  clean accuracy       {:6.2}%", 100.0 * acc.clean);
        if let Some(p) = acc.pgd {
            println!(
                "  PGD-{} accuracy      {:6.2}%  ({} restart(s))",
                args.pgd_steps,
                100.0 * p,
                args.restarts
            );
        }
        println!("  IBP-verified         {:6.2}%", 100.0 * acc.verified);
    }
    Ok(())
}
