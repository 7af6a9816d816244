//! `certnn certify`.

use anyhow::{Context, Result};
use cert_runtime::{Budget, Model};
use clap::Args;
use host_trainer::export::{ModelCard, certify_set};
use serde_json::json;

use super::model_file::{BoundsArg, EpsArg, InputArgs, ModelArg};

/// Certify inputs with an exported int8 model, using the exact integer
/// arithmetic of the device (cert-runtime): clean and certified accuracy,
/// and with refinement what bisecting the input box adds.
///
/// An input counts as certified when its predicted class is proven for
/// every input within the budget (L-infinity per input channel, in its
/// real units: pixels are in [0, 1]); certified accuracy counts certified
/// AND correct inputs. The budget is the model's own unless --eps says
/// otherwise. Refinement (--refine N, default the model's own box budget)
/// bisects the integer box of every uncertified input into at most N
/// boxes: it certifies, finds a real counterexample (refuted), or runs out
/// (unknown).
#[derive(Args, Debug)]
#[command(after_help = "Examples:
  certnn certify --model models/cnn-small-eps0.1.cert
  certnn certify --model models/wine.cert --csv data/tabular/wine/test.csv --refine 512 --json --per-sample
  certnn certify --model m.cert --images imgs.idx --labels lbls.idx --eps 0.3 --limit 100
  certnn certify --model models/mlp-eps0.1.cert --update-card   (after a runtime change)")]
pub struct CertifyArgs {
    #[command(flatten)]
    model: ModelArg,
    #[command(flatten)]
    inputs: InputArgs,
    #[command(flatten)]
    eps: EpsArg,
    /// Boxes refinement may bound per uncertified input (0: plain interval
    /// certification). Default: the model's own.
    #[arg(long, value_name = "N")]
    refine: Option<u32>,
    /// How margins the interval pass leaves open are bounded: interval or
    /// linear (default: what the model file says).
    #[arg(long, value_enum)]
    bounds: Option<BoundsArg>,
    /// Print one JSON object on stdout.
    #[arg(long)]
    json: bool,
    /// With --json, add a `per_sample` list (with refinement: each input's
    /// verdict, boxes used and counterexample).
    #[arg(long, requires = "json")]
    per_sample: bool,
    /// Re-measure the int8 figures of the model's card (NAME.json beside
    /// the model) on the card's own test data, samples, budget and box
    /// budget, and rewrite NAME.json and NAME.md: what to run after a
    /// runtime change that moves certificates. The card's data paths are
    /// read relative to the current directory (the repository root for the
    /// shipped models); the float figures, measured on the run, are kept.
    #[arg(long, conflicts_with_all = ["json", "refine", "eps"])]
    update_card: bool,
}

/// Runs `certnn certify`.
pub fn run(args: CertifyArgs) -> Result<()> {
    let bytes = args.model.read()?;
    let mut model = args.model.load(&bytes)?;
    if let Some(bounds) = args.bounds {
        model = model.with_bounds(bounds.into());
    }
    if args.update_card {
        return update_card(&args.model.path, &model, bytes.len());
    }
    let eps = args.eps.values(&model)?;
    let set = args.inputs.read(&model, true)?;
    let refine = Some(args.refine.unwrap_or(model.refine_boxes())).filter(|&n| n > 0);
    let (summary, per_sample) = certify_set(&model, &set, Budget::per_channel(&eps), refine)?;
    if args.json {
        let mut out = json!({
            "model": args.model.path,
            "eps": summary.eps,
            "samples": summary.samples,
            "clean_accuracy": summary.clean_accuracy,
            "certified_accuracy": summary.certified_accuracy,
            "bounds": format!("{:?}", model.bounds()).to_lowercase(),
        });
        if let Some(r) = &summary.refinement {
            out["refine_boxes"] = json!(r.max_boxes);
            out["refined_certified_accuracy"] = json!(r.certified_accuracy);
            out["refuted_fraction"] = json!(r.refuted_fraction);
            out["unknown_fraction"] = json!(r.unknown_fraction);
            out["mean_boxes"] = json!(r.mean_boxes);
        }
        if args.per_sample {
            out["per_sample"] = serde_json::to_value(&per_sample)?;
        }
        super::print_json(&out)?;
    } else {
        println!(
            "{} inputs, eps {}, {:?} bounds:",
            summary.samples,
            summary.eps,
            model.bounds()
        );
        println!(
            "  clean accuracy      {:6.2}%",
            100.0 * summary.clean_accuracy
        );
        println!(
            "  certified accuracy  {:6.2}%  (before refinement)",
            100.0 * summary.certified_accuracy
        );
        if let Some(r) = &summary.refinement {
            println!(
                "  refined, {} boxes   {:6.2}%  (refuted {:.2}%, unknown {:.2}%, {:.1} boxes per input)",
                r.max_boxes,
                100.0 * r.certified_accuracy,
                100.0 * r.refuted_fraction,
                100.0 * r.unknown_fraction,
                r.mean_boxes
            );
        }
    }
    Ok(())
}

/// Re-measures the int8 part of the card beside `path` and rewrites it.
pub(crate) fn update_card(
    path: &std::path::Path,
    model: &Model<'_>,
    flash_bytes: usize,
) -> Result<()> {
    let json = path.with_extension("json");
    let mut card: ModelCard = serde_json::from_slice(
        &std::fs::read(&json).with_context(|| format!("reading the card {}", json.display()))?,
    )
    .with_context(|| format!("{} is not a model card", json.display()))?;
    let test = card
        .source
        .load()
        .with_context(|| format!("loading the data the card names ({})", card.data))?
        .test;
    let refine = card.int8.refinement.as_ref().map(|r| r.max_boxes);
    let (int8, _) = certify_set(model, &test.take(card.int8.samples), model.budget(), refine)?;
    let pct = |x: f32| format!("{:.2}%", 100.0 * x);
    println!(
        "{}: int8 clean {} -> {}, certified {} -> {}",
        card.model,
        pct(card.int8.clean_accuracy),
        pct(int8.clean_accuracy),
        pct(card.int8.certified_accuracy),
        pct(int8.certified_accuracy)
    );
    if let (Some(old), Some(new)) = (&card.int8.refinement, &int8.refinement) {
        println!(
            "  refined {} -> {} (refuted {} -> {}, unknown {} -> {})",
            pct(old.certified_accuracy),
            pct(new.certified_accuracy),
            pct(old.refuted_fraction),
            pct(new.refuted_fraction),
            pct(old.unknown_fraction),
            pct(new.unknown_fraction)
        );
    }
    card.int8 = int8;
    card.flash_bytes = flash_bytes;
    card.write(path)
}
