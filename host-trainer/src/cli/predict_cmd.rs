//! `certnn predict` and `certnn radius`.

use anyhow::{Result, anyhow, bail};
use clap::Args;
use serde_json::json;

use super::model_file::{self, ImageArgs, ModelArg};

/// Predict the class of every image with an exported int8 model.
#[derive(Args, Debug)]
#[command(after_help = "Example:
  certnn predict --model models/cnn-small-eps0.1.cert --images digits.idx --json")]
pub struct PredictArgs {
    #[command(flatten)]
    model: ModelArg,
    #[command(flatten)]
    images: ImageArgs,
    /// Print `{\"predictions\": [...]}`.
    #[arg(long)]
    json: bool,
}

/// Runs `certnn predict`.
pub fn run_predict(args: PredictArgs) -> Result<()> {
    let bytes = args.model.read()?;
    let model = args.model.load(&bytes)?;
    let set = args.images.images()?;
    model_file::check_shape(&model, &set)?;
    let mut scratch = vec![0i16; model.predict_scratch_len()];
    let predictions = (0..set.len())
        .map(|i| model.predict(set.image(i), &mut scratch).map(|p| p.class))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| anyhow!("{e}"))?;
    if args.json {
        println!("{}", json!({ "predictions": predictions }));
    } else {
        for (i, p) in predictions.iter().enumerate() {
            println!("{i}\t{p}");
        }
    }
    Ok(())
}

/// Certified radius of every image: the largest eps, on the input's
/// quantisation grid (multiples of 1/255 for pixels), at which the int8
/// model's prediction is proven.
#[derive(Args, Debug)]
#[command(after_help = "Example:
  certnn radius --model models/cnn-small-eps0.1.cert --images digits.idx --max-eps 0.5 --json")]
pub struct RadiusArgs {
    #[command(flatten)]
    model: ModelArg,
    #[command(flatten)]
    images: ImageArgs,
    /// Largest radius searched.
    #[arg(long, default_value_t = 0.5)]
    max_eps: f32,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// Runs `certnn radius`.
pub fn run_radius(args: RadiusArgs) -> Result<()> {
    if !(args.max_eps.is_finite() && args.max_eps >= 0.0) {
        bail!("--max-eps must be a finite number >= 0");
    }
    let bytes = args.model.read()?;
    let model = args.model.load(&bytes)?;
    let set = args.images.images()?;
    model_file::check_shape(&model, &set)?;
    let mut scratch = vec![0i16; model.certify_scratch_len()];
    let mut rows = Vec::with_capacity(set.len());
    for i in 0..set.len() {
        let r = model
            .certified_radius(set.image(i), args.max_eps, &mut scratch)
            .map_err(|e| anyhow!("image {i}: {e}"))?;
        rows.push(json!({ "index": i, "predicted": r.class, "radius": r.eps }));
    }
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({ "max_eps": args.max_eps, "radii": rows }))?
        );
    } else {
        for row in rows {
            let radius = row["radius"]
                .as_f64()
                .map_or("none (tie)".to_string(), |r| format!("{r:.4}"));
            println!(
                "{}\tclass {}\tradius {radius}",
                row["index"], row["predicted"]
            );
        }
    }
    Ok(())
}
