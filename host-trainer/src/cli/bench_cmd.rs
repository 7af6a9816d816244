//! `certnn bench`.

use std::time::Instant;

use anyhow::Result;
use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::{Distribution, Int, Tensor, TensorData};
use clap::Args;
use host_trainer::ibp::{
    Bounds, CleanInput, Mode, Training, cross_entropy, propagate, robust_loss,
};
use host_trainer::model::{Arch, ImageShape, Init, Net};
use serde::Serialize;

/// Measure training throughput: samples per second of a clean step
/// (forward, backward, Adam) and of an IBP step (robust loss), and their
/// ratio, per architecture, on 1x28x28 inputs. The IBP step is timed twice:
/// with BatchNorm statistics from the clean batch (the paper: clean, centre
/// and radius pass) and from the box centres (centre and radius only).
#[derive(Args, Debug)]
#[command(after_help = "Example:
  certnn bench --arch cnn-small --arch mlp:256,256 --steps 20")]
pub struct BenchArgs {
    /// Architectures to measure (repeatable).
    #[arg(long, default_values = ["mlp:256,256", "cnn-small"])]
    arch: Vec<String>,
    /// Batch size (`certnn train`'s default).
    #[arg(long, default_value_t = 128)]
    batch_size: usize,
    /// Timed steps per measurement (after 3 warm-up steps).
    #[arg(long, default_value_t = 20)]
    steps: usize,
    /// Print JSON.
    #[arg(long)]
    json: bool,
    /// Compute device: cpu or cuda.
    #[arg(long, default_value = "cpu")]
    device: String,
}

#[derive(Serialize)]
struct Row {
    arch: String,
    batch_size: usize,
    clean_samples_per_s: f64,
    ibp_samples_per_s: f64,
    ratio: f64,
    ibp_centres_samples_per_s: f64,
    ratio_centres: f64,
}

/// The training step being timed.
#[derive(Clone, Copy)]
enum Measured {
    /// Clean forward, backward and Adam.
    Clean,
    /// IBP step (robust loss) with BatchNorm statistics from the given source.
    Ibp(CleanInput),
}

/// Runs `certnn bench`.
pub fn run(args: BenchArgs) -> Result<()> {
    let device = super::eval_cmd::device(&args.device)?;
    let shape = ImageShape {
        channels: 1,
        height: 28,
        width: 28,
    };
    let mut rows = Vec::new();
    for name in &args.arch {
        let arch: Arch = name.parse().map_err(anyhow::Error::msg)?;
        let mut net =
            Net::new(&arch, Init::default(), shape, 10, &device).map_err(anyhow::Error::msg)?;
        let mut optim = AdamConfig::new().init();
        let b = args.batch_size;
        let x: Tensor<4> = Tensor::random([b, 1, 28, 28], Distribution::Uniform(0.0, 1.0), &device);
        let y: Tensor<1, Int> = Tensor::from_data(
            TensorData::new((0..b as i64).map(|i| i % 10).collect(), [b]),
            &device,
        );
        let mut time = |step: Measured| {
            let mut run = |n: usize| {
                for _ in 0..n {
                    let loss = match step {
                        Measured::Clean => {
                            let pass = propagate(
                                &net,
                                Some(x.clone()),
                                None,
                                None,
                                Mode::Train(Training::default()),
                                false,
                            );
                            cross_entropy(pass.logits.expect("clean given"), y.clone())
                        }
                        Measured::Ibp(stats) => {
                            let bounds = Bounds::around(x.clone(), 0.1, 0.0, 1.0);
                            let clean = (stats == CleanInput::Batch).then(|| x.clone());
                            let pass = propagate(
                                &net,
                                clean,
                                Some(bounds),
                                Some(y.clone()),
                                Mode::Train(Training {
                                    clean_input: stats,
                                    activation_max: None,
                                }),
                                false,
                            );
                            robust_loss(pass.margins.expect("box given"), y.clone())
                        }
                    };
                    let grads = GradientsParams::from_grads(loss.backward(), &net);
                    net = optim.step(1e-4, net.clone(), grads);
                }
                let _ = net.head.weight.val().into_data();
            };
            run(3);
            let started = Instant::now();
            run(args.steps);
            (args.steps * b) as f64 / started.elapsed().as_secs_f64()
        };
        let clean = time(Measured::Clean);
        let ibp = time(Measured::Ibp(CleanInput::Batch));
        let ibp_centres = time(Measured::Ibp(CleanInput::Centres));
        let row = Row {
            arch: arch.to_string(),
            batch_size: b,
            clean_samples_per_s: clean,
            ibp_samples_per_s: ibp,
            ratio: clean / ibp,
            ibp_centres_samples_per_s: ibp_centres,
            ratio_centres: clean / ibp_centres,
        };
        if !args.json {
            println!(
                "{:<12} batch {b}: clean {:>6.0}/s | IBP, --clean-input batch {:>6.0}/s ({:.2}x) | IBP, --clean-input centres {:>6.0}/s ({:.2}x)",
                row.arch, clean, ibp, row.ratio, ibp_centres, row.ratio_centres
            );
        }
        rows.push(row);
        let _ = net.num_params();
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
    }
    Ok(())
}
