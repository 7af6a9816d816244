//! `certnn upgrade`.

use std::path::PathBuf;

use anyhow::{Context, Result, anyhow};
use cert_runtime::format::CertSpec;
use cert_runtime::format::v1;
use clap::Args;
use host_trainer::eps::EpsSpec;
use host_trainer::export::ModelCard;

use super::model_file;

/// Upgrade a model file of format version 1 (certnn before the model
/// carried its certification spec) to today's format, when its run is no
/// longer there to export again. The layers are copied bit for bit, so
/// every prediction and certificate stays the same; the file gains the
/// budget it is certified at (--eps), per input channel, and a default box
/// budget for refinement. A model card beside the old file (NAME.json) is
/// written beside the new one with its new size and this command.
#[derive(Args, Debug)]
#[command(after_help = "Example:
  certnn upgrade --model old/cnn-small-eps0.1.cert --eps 0.1 --out models/cnn-small-eps0.1.cert")]
pub struct UpgradeArgs {
    /// The version-1 model file.
    #[arg(long, value_name = "FILE")]
    model: PathBuf,
    /// The budget the model is certified at (what its card says): E or
    /// E1,E2,... per input channel, or @FILE.
    #[arg(long, value_name = "EPS")]
    eps: EpsSpec,
    /// Boxes refinement may bound per input by default.
    #[arg(long, value_name = "N", default_value_t = 0)]
    refine_boxes: u32,
    /// The version-2 file to write.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
}

/// Runs `certnn upgrade`.
pub fn run(args: UpgradeArgs) -> Result<()> {
    let old = std::fs::read(&args.model)
        .with_context(|| format!("reading model file {}", args.model.display()))?;
    let mut spec = v1::upgrade(&old)
        .map_err(|e| anyhow!("{}: not a version-1 model file: {e}", args.model.display()))?;
    let eps = args
        .eps
        .values(usize::from(spec.header.input.channels), None)?;
    spec.header.certification = CertSpec::new(&eps, args.refine_boxes);
    let bytes = spec
        .to_bytes()
        .map_err(|e| anyhow!("the upgraded model does not encode: {e}"))?;
    let model = model_file::parse(&args.out, &bytes)?;
    std::fs::write(&args.out, &bytes).with_context(|| format!("writing {}", args.out.display()))?;
    println!(
        "wrote {} ({} bytes, format version {}, certified at eps {:?} per channel)",
        args.out.display(),
        bytes.len(),
        cert_runtime::format::FORMAT_VERSION,
        eps,
    );
    let old_card = args.model.with_extension("json");
    if old_card.is_file() {
        let text =
            std::fs::read(&old_card).with_context(|| format!("reading {}", old_card.display()))?;
        let mut card: ModelCard = serde_json::from_slice(&text)
            .with_context(|| format!("parsing {}", old_card.display()))?;
        card.model = args
            .out
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        card.flash_bytes = bytes.len();
        card.scratch_ram_bytes = model.certify_scratch_bytes();
        card.upgrade_command = Some(super::command_line());
        card.write(&args.out)?;
        println!("and its card {}", args.out.with_extension("md").display());
    }
    Ok(())
}
