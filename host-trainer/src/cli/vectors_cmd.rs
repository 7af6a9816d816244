//! `certnn vectors`.

use std::path::PathBuf;

use anyhow::{Context, Result, anyhow};
use clap::Args;

use super::model_file::{InputArgs, ModelArg};

/// Write a test-vector file for the firmware: inputs plus the host's
/// certificates at the model's own budget (class, certified flag, every
/// margin bound) and, when the model refines, the refined verdicts, boxes
/// and counterexamples, computed with cert-runtime. The device must
/// reproduce them bit for bit.
#[derive(Args, Debug)]
#[command(after_help = "Examples:
  certnn vectors --model models/cnn-small-eps0.1.cert --count 20 --out models/cnn-small-eps0.1.cvec
  certnn vectors --model models/wine.cert --csv data/tabular/wine/test.csv --count 45 --out models/wine.cvec")]
pub struct VectorsArgs {
    #[command(flatten)]
    model: ModelArg,
    #[command(flatten)]
    inputs: InputArgs,
    /// Number of inputs (the first N).
    #[arg(long, default_value_t = 20)]
    count: usize,
    /// Output file.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
}

/// Runs `certnn vectors`.
pub fn run(args: VectorsArgs) -> Result<()> {
    let bytes = args.model.read()?;
    let model = args.model.load(&bytes)?;
    let set = args.inputs.read(&model, true)?.take(args.count);
    let inputs: Vec<Vec<f32>> = (0..set.len()).map(|i| set.image(i).to_vec()).collect();
    let labels: Vec<u16> = set.labels.iter().map(|&l| u16::from(l)).collect();
    let file = cert_runtime::vectors::build(&bytes, &inputs, Some(&labels))
        .map_err(|e| anyhow!("building test vectors: {e}"))?;
    std::fs::write(&args.out, &file).with_context(|| format!("writing {}", args.out.display()))?;
    println!(
        "wrote {} test vectors at the model's budget to {} ({} bytes)",
        set.len(),
        args.out.display(),
        file.len()
    );
    Ok(())
}
