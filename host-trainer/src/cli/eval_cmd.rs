//! `certnn eval`.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use host_trainer::eps::EpsSpec;
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
    /// The budget of the attack and the verification: E, E1,E2,...,
    /// std:F or @FILE (default: the run's --eps).
    #[arg(long, value_name = "EPS")]
    eps: Option<EpsSpec>,
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

/// Runs `certnn eval`.
pub fn run(args: EvalArgs) -> Result<()> {
    let dir = RunDir::new(&args.run);
    let cfg = dir.read_config()?;
    let eps = match &args.eps {
        Some(spec) => spec.resolve(&cfg.space, cfg.data.is_tabular())?,
        None => cfg.eps.clone(),
    };
    let device = super::device::open(&args.device)?;
    let net = load_net(&cfg, &dir.best_model(), &device)?;
    let mut test = cfg.data.load()?.test;
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
        &cfg.perturbation(&eps),
        (args.pgd_steps > 0).then_some(&pgd),
        true,
        250,
        &device,
    );
    if args.json {
        super::print_json(&acc)?;
    } else {
        println!("{} test inputs, eps {eps}:", acc.samples);
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
        if let Some(crown) = acc.crown_ibp_verified {
            println!("  CROWN-IBP-verified   {:6.2}%", 100.0 * crown);
        }
        if let Some(t) = acc.tightness {
            println!("  IBP tightness        {t:6.3}   (Mao et al. 2024; 1 = IBP exact)");
        }
    }
    Ok(())
}
