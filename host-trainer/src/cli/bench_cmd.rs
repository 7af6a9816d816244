//! `certnn bench`.

use std::time::Instant;

use anyhow::Result;
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::{Distribution, Int, Tensor, TensorData};
use clap::Args;
use host_trainer::bounds::Perturbation;
use host_trainer::crown::Bound;
use host_trainer::data::{InputShape, InputSpace};
use host_trainer::ibp::CleanInput;
use host_trainer::model::{Arch, Init, Net};
use host_trainer::train::{RampPoint, StepConfig, training_step};
use serde::Serialize;

/// Measure training throughput: samples per second of a clean step and of
/// an IBP step (robust loss at eps 0.1), each forward, backward and Adam,
/// through the very training step `certnn train` runs, per architecture
/// and batch size, on 1x28x28 inputs. The IBP step is timed twice: with
/// BatchNorm statistics from the clean batch (the paper: clean, centre and
/// radius pass) and from the box centres (centre and radius only, the
/// default).
#[derive(Args, Debug)]
#[command(after_help = "Examples:
  certnn bench --arch cnn-small --arch mlp:256,256 --steps 20
  certnn bench --device cuda --arch cnn7 --batch-size 128 --batch-size 512 --json")]
pub struct BenchArgs {
    /// Architectures to measure (repeatable).
    #[arg(long, default_values = ["mlp:256,256", "cnn-small"])]
    arch: Vec<String>,
    /// Batch sizes to measure (repeatable; `certnn train`'s default is 128).
    #[arg(long, default_values_t = [128])]
    batch_size: Vec<usize>,
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

/// eps of the timed IBP steps (pixels in [0, 1]).
const BENCH_EPS: f32 = 0.1;

/// Runs `certnn bench`.
pub fn run(args: BenchArgs) -> Result<()> {
    let device = super::device::open(&args.device)?;
    let shape = InputShape {
        channels: 1,
        height: 28,
        width: 28,
    };
    let space = InputSpace::unit(1);
    let mut rows = Vec::new();
    for name in &args.arch {
        let arch: Arch = name.parse().map_err(anyhow::Error::msg)?;
        for &b in &args.batch_size {
            let mut net = Net::new(&arch, Init::default(), shape, &space, 10, &device)
                .map_err(anyhow::Error::msg)?;
            let mut optim = AdamConfig::new().init();
            let x: Tensor<4> =
                Tensor::random([b, 1, 28, 28], Distribution::Uniform(0.0, 1.0), &device);
            let y: Tensor<1, Int> = Tensor::from_data(
                TensorData::new((0..b as i64).map(|i| i % 10).collect(), [b]),
                &device,
            );
            let at = |eps: f32| RampPoint {
                perturbation: Perturbation::new(&[eps], &space),
                progress: 1.0,
                active: eps > 0.0,
                full: true,
                shown: eps,
            };
            let (clean, ibp) = (at(0.0), at(BENCH_EPS));
            let mut time = |point: &RampPoint, clean_input: CleanInput| {
                let step = StepConfig {
                    clean_weight: 0.0,
                    reg_lambda: 0.0,
                    reg_tau: 0.5,
                    clean_input,
                    bound: Bound::Ibp,
                };
                let mut run = |n: usize| {
                    for _ in 0..n {
                        let s = training_step(
                            &net,
                            &step,
                            x.clone(),
                            y.clone(),
                            point,
                            &point.perturbation,
                            None,
                        );
                        let grads = GradientsParams::from_grads(s.loss.backward(), &net);
                        net = optim.step(1e-4, net.clone(), grads);
                    }
                    // Waits for the device to finish the queued work.
                    let _ = net.head.weight.val().into_data();
                };
                run(3);
                let started = Instant::now();
                run(args.steps);
                (args.steps * b) as f64 / started.elapsed().as_secs_f64()
            };
            let clean_rate = time(&clean, CleanInput::Batch);
            let ibp_rate = time(&ibp, CleanInput::Batch);
            let centres_rate = time(&ibp, CleanInput::Centres);
            let row = Row {
                arch: arch.to_string(),
                batch_size: b,
                clean_samples_per_s: clean_rate,
                ibp_samples_per_s: ibp_rate,
                ratio: clean_rate / ibp_rate,
                ibp_centres_samples_per_s: centres_rate,
                ratio_centres: clean_rate / centres_rate,
            };
            if !args.json {
                println!(
                    "{:<12} batch {b}: clean {:>7.0}/s | IBP, --clean-input batch {:>7.0}/s ({:.2}x) | IBP, --clean-input centres {:>7.0}/s ({:.2}x)",
                    row.arch, clean_rate, ibp_rate, row.ratio, centres_rate, row.ratio_centres
                );
            }
            rows.push(row);
        }
    }
    if args.json {
        super::print_json(&rows)?;
    }
    Ok(())
}
