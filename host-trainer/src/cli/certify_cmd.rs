//! `certnn certify`.

use anyhow::Result;
use cert_runtime::Budget;
use clap::Args;
use host_trainer::export::certify_set;
use serde_json::json;

use super::model_file::{EpsArg, InputArgs, ModelArg};

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
  certnn certify --model m.cert --images imgs.idx --labels lbls.idx --eps 0.3 --limit 100")]
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
    /// Print one JSON object on stdout.
    #[arg(long)]
    json: bool,
    /// With --json, add a `per_sample` list (with refinement: each input's
    /// verdict, boxes used and counterexample).
    #[arg(long, requires = "json")]
    per_sample: bool,
}

/// Runs `certnn certify`.
pub fn run(args: CertifyArgs) -> Result<()> {
    let bytes = args.model.read()?;
    let model = args.model.load(&bytes)?;
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
        println!("{} inputs, eps {}:", summary.samples, summary.eps);
        println!(
            "  clean accuracy      {:6.2}%",
            100.0 * summary.clean_accuracy
        );
        println!(
            "  certified accuracy  {:6.2}%  (interval bounds)",
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
