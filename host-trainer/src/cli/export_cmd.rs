//! `certnn export`.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use host_trainer::eps::EpsSpec;
use host_trainer::eval::{PgdConfig, evaluate};
use host_trainer::export::{ModelCard, certify_set, export};
use host_trainer::onnx::to_onnx;
use host_trainer::train::{RunDir, load_net, split_indices};

use super::model_file::{self, BoundsArg};

/// Default boxes of refinement for feature vectors (images get none: a
/// box of hundreds of pixels is not worth bisecting).
const FEATURE_REFINE_BOXES: u32 = 256;

/// Export a trained run as an int8 model file for cert-runtime, with its
/// model card (NAME.json and NAME.md beside it).
///
/// BatchNorm (and a feature input's normalisation) is folded into the
/// layer before (after) it; weights become int8 (symmetric, per output
/// channel), biases int32, activations int8 with ranges calibrated on
/// training inputs AND their IBP bounds at the run's budget. The file
/// carries its certification spec: the run's budget (--eps) per input
/// channel, the input quantisers and domains, class and feature names, and
/// the boxes of refinement the device may use by default. The card reports
/// the float model's accuracies (clean, PGD, IBP-verified) and the int8
/// model's clean, certified (and refined) accuracy, measured with the
/// runtime's own integer arithmetic.
#[derive(Args, Debug)]
#[command(after_help = "Examples:
  certnn export --run runs/small-0.1 --out models/cnn-small-eps0.1.cert
  certnn export --run runs/wine --out models/wine.cert --refine-boxes 512
  certnn export --run runs/small-0.1 --out models/small.cert --onnx small.onnx")]
pub struct ExportArgs {
    /// Run directory written by `certnn train`.
    #[arg(long, value_name = "DIR")]
    pub(super) run: PathBuf,
    /// Model file to write (conventionally models/NAME.cert).
    #[arg(long, value_name = "FILE")]
    pub(super) out: PathBuf,
    /// Also write the float network as ONNX (opset 17; BatchNorm folded,
    /// the input normalisation as Sub and Div), for onnxruntime or another
    /// verifier. `certnn import` reads it back.
    #[arg(long, value_name = "FILE")]
    pub(super) onnx: Option<PathBuf>,
    /// The budget whose IBP bounds calibrate the activation ranges
    /// (default: the run's budget; 0 calibrates on clean activations only).
    /// Larger ranges keep intervals from saturating but coarsen every step.
    #[arg(long, value_name = "EPS")]
    pub(super) calibration_eps: Option<EpsSpec>,
    /// Boxes refinement may bound per input, the model's default on the
    /// device and in `certnn certify` (default: 256 for feature vectors, 0
    /// for images).
    #[arg(long, value_name = "N")]
    pub(super) refine_boxes: Option<u32>,
    /// How the device bounds margins the interval pass leaves open: the
    /// model file carries it (`certnn certify --bounds` compares).
    #[arg(long, value_enum, default_value_t = BoundsArg::Interval)]
    pub(super) bounds: BoundsArg,
    /// PGD steps for the card's float attack numbers (0 skips).
    #[arg(long, default_value_t = 20)]
    pub(super) pgd_steps: usize,
    /// Compute device for the float evaluation: cpu or cuda.
    #[arg(long, default_value = "cpu")]
    pub(super) device: String,
}

/// Runs `certnn export`.
pub fn run(args: ExportArgs) -> Result<()> {
    let dir = RunDir::new(&args.run);
    let cfg = dir.read_config()?;
    let device = super::device::open(&args.device)?;
    let net = load_net(&cfg, &dir.best_model(), &device)?;
    let splits = cfg.data.load()?;
    let (train_idx, _) = split_indices(splits.train.len(), cfg.val_fraction, cfg.seed);
    let tabular = cfg.data.is_tabular();
    let calibration_eps = match &args.calibration_eps {
        Some(spec) => spec.resolve(&cfg.space, tabular)?,
        None => cfg.eps.clone(),
    };
    let refine_boxes = args
        .refine_boxes
        .unwrap_or(if tabular { FEATURE_REFINE_BOXES } else { 0 });
    let spec = export(
        &net,
        &cfg,
        &splits.train.subset(&train_idx),
        &calibration_eps,
        refine_boxes,
        args.bounds.into(),
        &device,
    )?;
    let bytes = spec
        .to_bytes()
        .map_err(|e| anyhow::anyhow!("the exported model does not encode: {e}"))?;
    // Checked by the runtime before anything is written.
    let model = model_file::parse(&args.out, &bytes)?;
    if let Some(parent) = args.out.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    std::fs::write(&args.out, &bytes).with_context(|| format!("writing {}", args.out.display()))?;
    if let Some(path) = &args.onnx {
        let s = cfg.input;
        let bytes = to_onnx(&net, s.channels, s.height, s.width)
            .map_err(|e| anyhow::anyhow!("the ONNX model does not encode: {e}"))?;
        std::fs::write(path, bytes).with_context(|| format!("writing {}", path.display()))?;
        println!("wrote {} (ONNX, float)", path.display());
    }
    let test = &splits.test;
    model_file::check_shape(&model, test)?;
    let refine = (refine_boxes > 0).then_some(refine_boxes);
    let (int8, _) = certify_set(&model, test, model.budget(), refine)?;
    let pgd = PgdConfig {
        steps: args.pgd_steps,
        ..PgdConfig::default()
    };
    let float = evaluate(
        &net,
        test,
        &cfg.perturbation(&cfg.eps),
        (args.pgd_steps > 0).then_some(&pgd),
        false,
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
        scratch_ram_bytes: 2 * model.decide_scratch_len(),
        eps_train: cfg.eps_train.clone(),
        eps: cfg.eps.clone(),
        float_clean_accuracy: float.clean,
        float_pgd_accuracy: float.pgd,
        float_verified_accuracy: float.verified,
        int8: int8.clone(),
        data: format!(
            "{} ({} training inputs, {} test inputs)",
            cfg.data.describe(),
            splits.train.len(),
            test.len()
        ),
        source: cfg.data.clone(),
        feature_names: if tabular {
            test.channel_names.clone()
        } else {
            Vec::new()
        },
        seed: cfg.seed,
        train_command: cfg.command.clone(),
        export_command: super::command_line(),
        upgrade_command: None,
    };
    card.write(&args.out)?;
    println!(
        "wrote {} ({} bytes) and its card {}",
        args.out.display(),
        bytes.len(),
        args.out.with_extension("md").display()
    );
    let refined = int8.refinement.as_ref().map_or(String::new(), |r| {
        format!(
            "  refined ({} boxes) {:.2}%",
            r.max_boxes,
            100.0 * r.certified_accuracy
        )
    });
    println!(
        "float: clean {:.2}%  verified {:.2}%   int8: clean {:.2}%  certified {:.2}%{refined}   (eps {}, {} test inputs)",
        100.0 * float.clean,
        100.0 * float.verified,
        100.0 * int8.clean_accuracy,
        100.0 * int8.certified_accuracy,
        cfg.eps,
        test.len()
    );
    Ok(())
}
