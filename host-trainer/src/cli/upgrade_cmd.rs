//! `certnn upgrade`.

use std::path::PathBuf;

use anyhow::{Context, Result, anyhow, bail};
use cert_runtime::container;
use cert_runtime::format::{self, CertSpec, v1, v2};
use clap::Args;
use host_trainer::eps::EpsSpec;
use host_trainer::export::ModelCard;

use super::model_file::{self, BoundsArg};

/// Upgrade a model file of an older format version to today's, when its
/// run is no longer there to export again, or change the certification
/// spec of a model file of today's version (--eps, --refine-boxes,
/// --bounds). The layers are copied bit for
/// bit, so every prediction and interval certificate stays the same.
///
/// Version 1 (certnn before the model carried its certification spec)
/// gains the budget it is certified at (--eps, required), per input
/// channel, and a default box budget (--refine-boxes). Version 2 (before
/// the model said how margins are bounded) keeps its budget and box budget
/// unless given, and gains --bounds (default interval: the same
/// certificates). A model card beside the old file (NAME.json) is written
/// beside the new one with its new size and this command.
#[derive(Args, Debug)]
#[command(after_help = "Examples:
  certnn upgrade --model old/cnn-small-eps0.1.cert --eps 0.1 --out models/cnn-small-eps0.1.cert
  certnn upgrade --model v2/wine.cert --out models/wine.cert --bounds linear")]
pub struct UpgradeArgs {
    /// The model file of format version 1 or 2.
    #[arg(long, value_name = "FILE")]
    model: PathBuf,
    /// The budget the model is certified at (what its card says): E or
    /// E1,E2,... per input channel, or @FILE. Required for version 1.
    #[arg(long, value_name = "EPS")]
    eps: Option<EpsSpec>,
    /// Boxes refinement may bound per input by default (version 1: 0;
    /// version 2: the file's).
    #[arg(long, value_name = "N")]
    refine_boxes: Option<u32>,
    /// How margins the interval pass leaves open are bounded.
    #[arg(long, value_enum, default_value_t = BoundsArg::Interval)]
    bounds: BoundsArg,
    /// The file to write (today's format).
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
}

/// Runs `certnn upgrade`.
pub fn run(args: UpgradeArgs) -> Result<()> {
    let old = std::fs::read(&args.model)
        .with_context(|| format!("reading model file {}", args.model.display()))?;
    let version = old.get(4..6).map(|v| u16::from_le_bytes([v[0], v[1]]));
    let not = |e| {
        anyhow!(
            "{}: not a model file of format version 1 or 2: {e}",
            args.model.display()
        )
    };
    let current = cert_runtime::format::FORMAT_VERSION;
    let mut spec = match (container::stored_checksum(&old) != 0, version) {
        (true, Some(1)) => v1::upgrade(&old).map_err(not)?,
        (true, Some(2)) => v2::upgrade(&old).map_err(not)?,
        (true, Some(v)) if v == current => format::decode(&old)
            .map_err(|e| anyhow!("{}: {e}", args.model.display()))?
            .owned(),
        _ => bail!(
            "{}: not a model file of format version 1 to {current}",
            args.model.display()
        ),
    };
    let channels = usize::from(spec.header.input.channels);
    let eps = match (&args.eps, version) {
        (Some(eps), _) => eps.values(channels, None)?,
        (None, Some(v)) if v >= 2 => (0..channels)
            .map(|c| spec.header.certification.eps(c).unwrap_or(0.0))
            .collect(),
        (None, _) => {
            bail!("a version-1 file does not record its budget: give --eps (its card says it)")
        }
    };
    let boxes = args
        .refine_boxes
        .unwrap_or(spec.header.certification.refine_boxes);
    spec.header.certification = CertSpec::new(&eps, boxes).with_bounds(args.bounds.into());
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
        card.scratch_ram_bytes = 2 * model.decide_scratch_len();
        // Upgrades chain (version 1 to 2 to 3): keep every command.
        let command = super::command_line();
        card.upgrade_command = Some(match card.upgrade_command.take() {
            Some(earlier) => format!("{earlier}\n{command}"),
            None => command,
        });
        card.write(&args.out)?;
        println!("and its card {}", args.out.with_extension("md").display());
        // The spec may have changed what certifies: measure it again.
        super::certify_cmd::update_card(&args.out, &model, bytes.len())?;
    }
    Ok(())
}
