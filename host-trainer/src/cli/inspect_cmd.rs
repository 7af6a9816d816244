//! `certnn inspect`.

use anyhow::Result;
use cert_runtime::{Layer, Output};
use clap::Args;
use serde_json::json;

use super::model_file::ModelArg;

/// Show what a model file holds: its certification spec (the budget per
/// input channel, refinement boxes), input quantisers and domains, class
/// and channel names, layers and shapes, quantisation, parameter count,
/// flash and RAM needs.
#[derive(Args, Debug)]
#[command(after_help = "Example:
  certnn inspect --model models/cnn-small-eps0.1.cert --json")]
pub struct InspectArgs {
    #[command(flatten)]
    model: ModelArg,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// Input channels listed in the text output.
const MAX_CHANNELS_SHOWN: usize = 16;

/// Runs `certnn inspect`.
pub fn run(args: InspectArgs) -> Result<()> {
    let bytes = args.model.read()?;
    let model = args.model.load(&bytes)?;
    let header = model.header();
    let shapes = model.shapes();
    let layers: Vec<_> = model
        .layers()
        .iter()
        .enumerate()
        .map(|(i, layer)| {
            let (kind, geometry) = match layer {
                Layer::Dense(d) => ("dense", json!({ "inputs": d.inputs, "outputs": d.outputs })),
                Layer::Conv2d(c) => (
                    "conv2d",
                    json!({ "in_channels": c.in_channels, "out_channels": c.out_channels, "kernel": c.kernel, "stride": c.stride, "padding": c.padding }),
                ),
            };
            let output = match layer.params().output {
                Output::Requantize(rq) => json!({ "requantize": { "scale": rq.scale, "zero_point": rq.zero_point, "min": rq.min, "max": rq.max } }),
                Output::Logits { scale } => json!({ "logits": { "scale": scale } }),
            };
            let (i_shape, o_shape) = (shapes[i], shapes[i + 1]);
            json!({
                "kind": kind,
                "geometry": geometry,
                "input_shape": [i_shape.channels, i_shape.height, i_shape.width],
                "output_shape": [o_shape.channels, o_shape.height, o_shape.width],
                "weights": layer.params().weights.len(),
                "output": output,
            })
        })
        .collect();
    let channels: Vec<_> = (0..model.input_channels())
        .map(|c| {
            let q = model.quantizer(c).expect("a loaded model's channel");
            json!({
                "name": model.channel_name(c),
                "eps": model.budget().eps(c),
                "domain": [q.domain_min, q.domain_max],
                "scale": q.scale,
                "offset": q.offset,
                "zero_point": q.zero_point,
            })
        })
        .collect();
    let class_names: Vec<_> = (0..model.classes()).map(|c| model.class_name(c)).collect();
    let info = json!({
        "model": args.model.path,
        "format_version": cert_runtime::format::FORMAT_VERSION,
        "description": header.description,
        "input": {
            "shape": [header.input.channels, header.input.height, header.input.width],
            "channels": channels,
        },
        "refine_boxes": model.refine_boxes(),
        "classes": header.classes,
        "class_names": class_names,
        "parameters": model.parameter_count(),
        "flash_bytes": bytes.len(),
        "predict_scratch_bytes": 2 * model.predict_scratch_len(),
        "certify_scratch_bytes": model.certify_scratch_bytes(),
        "refine_scratch_bytes": 2 * model.refine_scratch_len(),
        "layers": layers,
    });
    if args.json {
        super::print_json(&info)?;
        return Ok(());
    }
    println!("{}: {}", args.model.path.display(), header.description);
    println!(
        "input {}x{}x{}; {} classes{}; refinement {} boxes",
        header.input.channels,
        header.input.height,
        header.input.width,
        header.classes,
        if header.class_names.is_empty() {
            String::new()
        } else {
            format!(" ({})", header.class_names)
        },
        model.refine_boxes()
    );
    for (c, ch) in channels.iter().enumerate().take(MAX_CHANNELS_SHOWN) {
        println!(
            "  channel {c}{}: eps {}, domain {}, q = round((x - {}) / {}) + {}",
            ch["name"]
                .as_str()
                .map_or(String::new(), |n| format!(" `{n}`")),
            ch["eps"],
            ch["domain"],
            ch["offset"],
            ch["scale"],
            ch["zero_point"]
        );
    }
    if channels.len() > MAX_CHANNELS_SHOWN {
        println!(
            "  ... {} channels in all (--json lists every one)",
            channels.len()
        );
    }
    for (i, l) in info["layers"].as_array().into_iter().flatten().enumerate() {
        println!(
            "  {i}: {:<6} {} -> {}  {} weights  {}",
            l["kind"].as_str().unwrap_or(""),
            l["input_shape"],
            l["output_shape"],
            l["weights"],
            l["output"]
        );
    }
    println!(
        "parameters {}, flash {} bytes, scratch RAM {} bytes (predict) / {} bytes (certify)",
        info["parameters"],
        info["flash_bytes"],
        info["predict_scratch_bytes"],
        info["certify_scratch_bytes"]
    );
    Ok(())
}
