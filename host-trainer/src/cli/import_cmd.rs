//! `certnn import`.

use std::path::PathBuf;

use anyhow::{Context, Result, anyhow, bail};
use clap::Args;
use host_trainer::crown::Bound;
use host_trainer::data::{InputShape, InputSpace};
use host_trainer::eps::EpsSpec;
use host_trainer::ibp::CleanInput;
use host_trainer::model::Init;
use host_trainer::onnx::import;
use host_trainer::train::{RunDir, TrainConfig, save_net};

use super::data_args::DataArgs;
use super::export_cmd::{self, ExportArgs};
use super::model_file::BoundsArg;

/// Import a network trained elsewhere (ONNX, e.g. PyTorch's
/// torch.onnx.export) as an int8 model file certified at --eps, with its
/// model card.
///
/// The graph is folded into the network `certnn train` makes (BatchNorm and
/// biases into the layer before them, `(x - mean) / std` on the input kept
/// as the input normalisation) and written as a run directory (--run), so
/// `certnn eval --run` evaluates it; then it is exported exactly as
/// `certnn export` does: calibrated on the training split, quantised,
/// and measured on the test split (float and int8 clean and certified
/// accuracy). Supported: Conv (square kernel, equal strides, symmetric
/// padding, groups 1, dilation 1), Gemm, MatMul (+ Add),
/// BatchNormalization, Relu, Flatten/Reshape to 2-D, Sub/Div/Mul/Add by
/// constants, Identity, Dropout; every other node is an error that names
/// it, and nothing is written.
#[derive(Args, Debug)]
#[command(after_help = "Examples:
  certnn import --onnx mnist_ibp.onnx --eps 0.1 --out models/pytorch-mlp.cert
  certnn import --onnx wine.onnx --eps std:0.05 --out models/wine-torch.cert \\
      --csv-train data/tabular/wine/train.csv --csv-test data/tabular/wine/test.csv
  certnn import --onnx dynamic.onnx --input-shape 1,28,28 --eps 0.1 --out m.cert")]
pub struct ImportArgs {
    /// The ONNX model (weights inside the file).
    #[arg(long, value_name = "FILE")]
    onnx: PathBuf,
    /// The budget to certify at: E, E1,E2,... (one per channel), std:F
    /// (features: F training standard deviations) or @FILE.
    #[arg(long, value_name = "EPS")]
    eps: EpsSpec,
    /// Model file to write (conventionally models/NAME.cert).
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// Run directory to write the imported float network to (default:
    /// runs/NAME for --out models/NAME.cert).
    #[arg(long, value_name = "DIR")]
    run: Option<PathBuf>,
    /// Channels, height and width of one input (features: F,1,1), for a
    /// file whose input shape is dynamic.
    #[arg(long, value_name = "C,H,W", value_parser = parse_shape)]
    input_shape: Option<InputShape>,
    #[command(flatten)]
    data: DataArgs,
    /// Boxes refinement may bound per input (default: 256 for feature
    /// vectors, 0 for images).
    #[arg(long, value_name = "N")]
    refine_boxes: Option<u32>,
    /// How the device bounds margins the interval pass leaves open.
    #[arg(long, value_enum, default_value_t = BoundsArg::Interval)]
    bounds: BoundsArg,
    /// The budget whose IBP bounds calibrate the activation ranges
    /// (default: --eps; 0 calibrates on clean activations only).
    #[arg(long, value_name = "EPS")]
    calibration_eps: Option<EpsSpec>,
    /// PGD steps for the card's float attack numbers (0 skips).
    #[arg(long, default_value_t = 20)]
    pgd_steps: usize,
    /// Compute device for the float evaluation: cpu or cuda.
    #[arg(long, default_value = "cpu")]
    device: String,
}

fn parse_shape(s: &str) -> Result<InputShape, String> {
    let dims: Vec<usize> = s
        .split([',', 'x'])
        .map(|d| d.trim().parse::<usize>().ok().filter(|&d| d > 0))
        .collect::<Option<_>>()
        .ok_or_else(|| format!("`{s}`: give three positive numbers C,H,W"))?;
    match dims[..] {
        [channels, height, width] => Ok(InputShape {
            channels,
            height,
            width,
        }),
        _ => Err(format!("`{s}`: give three positive numbers C,H,W")),
    }
}

/// Runs `certnn import`.
pub fn run(args: ImportArgs) -> Result<()> {
    let imported = import(&args.onnx, args.input_shape)
        .with_context(|| format!("importing {}", args.onnx.display()))?;
    let source = args.data.source()?;
    let tabular = source.is_tabular();
    let splits = source.load()?;
    let train = &splits.train;
    if train.shape != imported.input {
        bail!(
            "{} takes inputs of {}x{}x{}, the data's are {}x{}x{}",
            args.onnx.display(),
            imported.input.channels,
            imported.input.height,
            imported.input.width,
            train.shape.channels,
            train.shape.height,
            train.shape.width
        );
    }
    if train.class_names.len() != imported.classes() {
        bail!(
            "{} has {} outputs, the data {} classes",
            args.onnx.display(),
            imported.classes(),
            train.class_names.len()
        );
    }
    let fitted = if tabular {
        InputSpace::fit(train)
    } else {
        InputSpace::unit(train.shape.channels)
    };
    // std:F reads the training data's spread; the network's own
    // normalisation replaces the fitted one.
    let eps = args.eps.resolve(&fitted, tabular)?;
    let mut space = fitted;
    for ((channel, mean), std) in space
        .channels
        .iter_mut()
        .zip(&imported.mean)
        .zip(&imported.std)
    {
        (channel.mean, channel.std) = (*mean, *std);
    }
    let arch = imported.arch();
    let device = super::device::open(&args.device)?;
    let net = imported
        .net(&space, &device)
        .map_err(|e| anyhow!("building the network: {e}"))?;
    let cfg = TrainConfig {
        arch: arch.to_string(),
        // Unknown: the network was trained elsewhere.
        eps_train: eps.clone(),
        eps,
        init: Init::Shi,
        epochs: 0,
        batch_size: 0,
        lr: 0.0,
        lr_milestones: Vec::new(),
        lr_factor: 1.0,
        ramp_start: 0,
        ramp_length: 0,
        reg_lambda: 0.0,
        reg_tau: 0.0,
        clean_weight: 1.0,
        clean_input: CleanInput::Batch,
        bound: Bound::Ibp,
        qa_epochs: 0,
        grad_clip: 0.0,
        // Calibration uses the whole training split.
        val_fraction: 0.0,
        val_pgd_steps: 0,
        seed: 0,
        data: source,
        command: super::command_line(),
        imported_from: Some(
            args.onnx
                .file_name()
                .map_or(String::new(), |n| n.to_string_lossy().into_owned()),
        ),
        input: train.shape,
        space,
        class_names: train.class_names.clone(),
        channel_names: train.channel_names.clone(),
    };
    let run = args.run.clone().unwrap_or_else(|| {
        let stem = args.out.file_stem().unwrap_or_default();
        PathBuf::from("runs").join(stem)
    });
    let dir = RunDir::new(&run);
    std::fs::create_dir_all(dir.root()).with_context(|| format!("creating {}", run.display()))?;
    dir.write_json(&dir.config(), &cfg)?;
    save_net(&net, &dir.best_model())?;
    println!(
        "imported {} as {arch} ({} classes) into {}",
        args.onnx.display(),
        imported.classes(),
        run.display()
    );
    export_cmd::run(ExportArgs {
        run,
        out: args.out,
        onnx: None,
        calibration_eps: args.calibration_eps,
        refine_boxes: args.refine_boxes,
        bounds: args.bounds,
        pgd_steps: args.pgd_steps,
        device: args.device,
    })
}
