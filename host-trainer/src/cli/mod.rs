//! Command-line interface.

mod bench_cmd;
mod certify_cmd;
mod data_args;
mod device;
mod eval_cmd;
mod export_cmd;
mod import_cmd;
mod inspect_cmd;
mod model_file;
mod predict_cmd;
mod train_cmd;
mod upgrade_cmd;
mod vectors_cmd;

use anyhow::Result;
use clap::{Parser, Subcommand};

/// Train certifiably robust networks (fast IBP, Shi et al. 2021), export
/// them as int8 model files, and certify inputs with the exact integer
/// arithmetic the microcontroller runs.
#[derive(Parser, Debug)]
#[command(name = "certnn", version, propagate_version = true)]
#[command(after_help = "Typical session:
  certnn train --arch cnn-small --eps-train 0.2 --eps 0.1 --epochs 30 --out runs/small-0.1
  certnn eval --run runs/small-0.1
  certnn export --run runs/small-0.1 --out models/cnn-small-eps0.1.cert
  certnn certify --model models/cnn-small-eps0.1.cert

Sensor features instead of images:
  certnn train --csv-train data/tabular/wine/train.csv --csv-test data/tabular/wine/test.csv --out runs/wine
  certnn export --run runs/wine --out models/wine.cert
  certnn certify --model models/wine.cert --csv data/tabular/wine/test.csv --json

A network trained elsewhere (ONNX):
  certnn import --onnx net.onnx --eps 0.1 --out models/net.cert

Data defaults to the 10,000 real MNIST digits vendored in data/mnist-10k.")]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    Train(Box<train_cmd::TrainArgs>),
    Eval(eval_cmd::EvalArgs),
    Export(export_cmd::ExportArgs),
    Import(import_cmd::ImportArgs),
    Certify(certify_cmd::CertifyArgs),
    Predict(predict_cmd::PredictArgs),
    Radius(predict_cmd::RadiusArgs),
    Inspect(inspect_cmd::InspectArgs),
    Vectors(vectors_cmd::VectorsArgs),
    Upgrade(upgrade_cmd::UpgradeArgs),
    Bench(bench_cmd::BenchArgs),
}

/// Parses the command line and runs the subcommand.
pub fn run() -> Result<()> {
    match Cli::parse().command {
        Command::Train(args) => train_cmd::run(*args),
        Command::Eval(args) => eval_cmd::run(args),
        Command::Export(args) => export_cmd::run(args),
        Command::Import(args) => import_cmd::run(args),
        Command::Certify(args) => certify_cmd::run(args),
        Command::Predict(args) => predict_cmd::run_predict(args),
        Command::Radius(args) => predict_cmd::run_radius(args),
        Command::Inspect(args) => inspect_cmd::run(args),
        Command::Vectors(args) => vectors_cmd::run(args),
        Command::Upgrade(args) => upgrade_cmd::run(args),
        Command::Bench(args) => bench_cmd::run(args),
    }
}

/// The command line of this process, as a user would retype it.
pub fn command_line() -> String {
    let args: Vec<String> = std::env::args().skip(1).collect();
    format!("certnn {}", args.join(" "))
}

/// Prints `value` as pretty JSON, every number that came from an `f32`
/// written with the f32's own shortest digits (`0.4`, not the
/// `0.4000000059604645` of its widening to f64).
pub fn print_json(value: &impl serde::Serialize) -> Result<()> {
    let mut value = serde_json::to_value(value)?;
    shorten_f32s(&mut value);
    println!("{}", serde_json::to_string_pretty(&value)?);
    Ok(())
}

/// Rewrites every float of `value` that is exactly an `f32` with that
/// f32's shortest decimal form.
fn shorten_f32s(value: &mut serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::Number(n) if n.is_f64() => {
            let x = n.as_f64().unwrap_or_default();
            let single = x as f32;
            if f64::from(single) == x
                && let Ok(short) = format!("{single}").parse::<f64>()
                && let Some(n) = serde_json::Number::from_f64(short)
            {
                *value = Value::Number(n);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(shorten_f32s),
        Value::Object(fields) => fields.values_mut().for_each(shorten_f32s),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_from_f32_print_their_shortest_digits() {
        let mut v = serde_json::json!({ "a": 0.4f32, "b": [0.1f32, 3], "c": 0.1f64 });
        shorten_f32s(&mut v);
        assert_eq!(v.to_string(), r#"{"a":0.4,"b":[0.1,3],"c":0.1}"#);
    }
}
