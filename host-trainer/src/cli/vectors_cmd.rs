//! `certnn vectors`.

use std::path::PathBuf;

use anyhow::{Context, Result, anyhow};
use clap::Args;

use super::model_file::{self, ImageArgs, ModelArg};

/// Write a test-vector file for the firmware: inputs plus the host's
/// certificates (class, certified flag, every margin bound), computed with
/// cert-runtime. The device must reproduce them bit for bit.
#[derive(Args, Debug)]
#[command(after_help = "Example:
  certnn vectors --model models/cnn-small-eps0.1.cert --eps 0.1 --count 20 --out firmware/vectors.bin")]
pub struct VectorsArgs {
    #[command(flatten)]
    model: ModelArg,
    #[command(flatten)]
    images: ImageArgs,
    /// Perturbation radius of the certificates.
    #[arg(long)]
    eps: f32,
    /// Number of images (the first N).
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
    let set = args.images.labelled()?.take(args.count);
    model_file::check_shape(&model, &set)?;
    let inputs: Vec<Vec<f32>> = (0..set.len()).map(|i| set.image(i).to_vec()).collect();
    let labels: Vec<u16> = set.labels.iter().map(|&l| u16::from(l)).collect();
    let file = cert_runtime::vectors::build(&bytes, args.eps, &inputs, Some(&labels))
        .map_err(|e| anyhow!("building test vectors: {e}"))?;
    std::fs::write(&args.out, &file).with_context(|| format!("writing {}", args.out.display()))?;
    println!(
        "wrote {} test vectors at eps {} to {} ({} bytes)",
        set.len(),
        args.eps,
        args.out.display(),
        file.len()
    );
    Ok(())
}
