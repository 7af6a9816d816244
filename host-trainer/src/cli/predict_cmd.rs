//! `certnn predict` and `certnn radius`.

use anyhow::{Result, anyhow, bail};
use clap::Args;
use serde_json::json;

use super::model_file::{InputArgs, ModelArg};

/// Predict the class of every input with an exported int8 model.
#[derive(Args, Debug)]
#[command(after_help = "Examples:
  certnn predict --model models/cnn-small-eps0.1.cert --images digits.idx --json
  certnn predict --model models/wine.cert --csv readings.csv")]
pub struct PredictArgs {
    #[command(flatten)]
    model: ModelArg,
    #[command(flatten)]
    inputs: InputArgs,
    /// Print `{\"predictions\": [...]}`.
    #[arg(long)]
    json: bool,
}

/// The name of class `c` of `model` (its index when unnamed).
fn class_name(model: &cert_runtime::Model<'_>, c: usize) -> String {
    model.class_name(c).map_or(c.to_string(), str::to_string)
}

/// Runs `certnn predict`.
pub fn run_predict(args: PredictArgs) -> Result<()> {
    let bytes = args.model.read()?;
    let model = args.model.load(&bytes)?;
    let set = args.inputs.read(&model, false)?;
    let mut scratch = vec![0i16; model.predict_scratch_len()];
    let predictions = (0..set.len())
        .map(|i| model.predict(set.image(i), &mut scratch).map(|p| p.class))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| anyhow!("{e}"))?;
    if args.json {
        let named: Vec<String> = predictions.iter().map(|&c| class_name(&model, c)).collect();
        println!(
            "{}",
            json!({ "predictions": predictions, "classes": named })
        );
    } else {
        for (i, &p) in predictions.iter().enumerate() {
            println!("{i}\t{}", class_name(&model, p));
        }
    }
    Ok(())
}

/// Certified radius of every input: the largest multiple of the model's
/// budget (an exact f32, found by bisection) at which the int8 model's
/// prediction is proven. For a model certified at one eps, that eps times
/// the radius is the largest certified eps.
#[derive(Args, Debug)]
#[command(after_help = "Examples:
  certnn radius --model models/cnn-small-eps0.1.cert --images digits.idx --max 5 --json
  certnn radius --model models/wine.cert --csv data/tabular/wine/test.csv")]
pub struct RadiusArgs {
    #[command(flatten)]
    model: ModelArg,
    #[command(flatten)]
    inputs: InputArgs,
    /// Largest multiple of the model's budget searched.
    #[arg(long, default_value_t = 5.0)]
    max: f32,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// Runs `certnn radius`.
pub fn run_radius(args: RadiusArgs) -> Result<()> {
    if !(args.max.is_finite() && args.max >= 0.0) {
        bail!("--max must be a finite number >= 0");
    }
    let bytes = args.model.read()?;
    let model = args.model.load(&bytes)?;
    let set = args.inputs.read(&model, false)?;
    let budget = model.budget();
    let uniform = (0..model.input_channels())
        .map(|c| budget.eps(c))
        .collect::<Option<Vec<f32>>>()
        .filter(|v| v.iter().all(|&e| e == v[0]))
        .map(|v| v[0]);
    let mut scratch = vec![0i16; model.certify_scratch_len()];
    let mut rows = Vec::with_capacity(set.len());
    for i in 0..set.len() {
        let r = model
            .certified_radius(set.image(i), budget, args.max, &mut scratch)
            .map_err(|e| anyhow!("input {i}: {e}"))?;
        let eps = r.radius.zip(uniform).map(|(t, e)| t * e);
        rows.push(json!({
            "index": i,
            "predicted": class_name(&model, r.class),
            "radius": r.radius,
            "eps": eps,
        }));
    }
    if args.json {
        let out = json!({ "max": args.max, "budget": uniform, "radii": rows });
        super::print_json(&out)?;
    } else {
        for row in rows {
            let radius = match row["radius"].as_f64() {
                None => "none (tie)".to_string(),
                Some(r) if r >= f64::from(args.max) => {
                    format!(">= {r:.4} x budget (--max, the largest searched)")
                }
                Some(r) => format!("{r:.4} x budget"),
            };
            let eps = row["eps"]
                .as_f64()
                .map_or(String::new(), |e| format!(" (eps {e:.4})"));
            println!(
                "{}\tclass {}\tradius {radius}{eps}",
                row["index"],
                row["predicted"].as_str().unwrap_or_default()
            );
        }
    }
    Ok(())
}
