//! `certnn certify`.

use anyhow::{Result, bail};
use clap::Args;
use host_trainer::export::certify_set;
use serde_json::json;

use super::model_file::{self, ImageArgs, ModelArg};

/// Certify images with an exported int8 model, using the exact integer
/// arithmetic of the device (cert-runtime): clean and certified accuracy.
///
/// An image counts as certified when its predicted class is proven for
/// every input within eps (L-infinity, in pixel units: pixels are in
/// [0, 1]); certified accuracy counts certified AND correct images.
#[derive(Args, Debug)]
#[command(after_help = "Examples:
  certnn certify --model models/cnn-small-eps0.1.cert --eps 0.1
  certnn certify --model m.cert --images imgs.idx --labels lbls.idx --eps 0.3 --json --per-sample --limit 100")]
pub struct CertifyArgs {
    #[command(flatten)]
    model: ModelArg,
    #[command(flatten)]
    images: ImageArgs,
    /// Perturbation radius (L-infinity, pixel units).
    #[arg(long)]
    eps: f32,
    /// Print one JSON object on stdout.
    #[arg(long)]
    json: bool,
    /// With --json, add a `per_sample` list.
    #[arg(long, requires = "json")]
    per_sample: bool,
}

/// Runs `certnn certify`.
pub fn run(args: CertifyArgs) -> Result<()> {
    if !(args.eps.is_finite() && args.eps >= 0.0) {
        bail!("--eps must be a finite number >= 0, not {}", args.eps);
    }
    let bytes = args.model.read()?;
    let model = args.model.load(&bytes)?;
    let set = args.images.labelled()?;
    model_file::check_shape(&model, &set)?;
    let (summary, per_sample) = certify_set(&model, &set, args.eps)?;
    if args.json {
        let mut out = json!({
            "model": args.model.path,
            "eps": args.eps,
            "samples": summary.samples,
            "clean_accuracy": summary.clean_accuracy,
            "certified_accuracy": summary.certified_accuracy,
        });
        if args.per_sample {
            out["per_sample"] = serde_json::to_value(&per_sample)?;
        }
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        println!("{} images, eps {}:", summary.samples, args.eps);
        println!(
            "  clean accuracy      {:6.2}%",
            100.0 * summary.clean_accuracy
        );
        println!(
            "  certified accuracy  {:6.2}%",
            100.0 * summary.certified_accuracy
        );
    }
    Ok(())
}
