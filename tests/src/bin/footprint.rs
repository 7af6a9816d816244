//! Prints the firmware footprint tables (Markdown) for model and vector
//! file pairs; with no arguments, for [`end_to_end::model_pairs`] (the demo
//! pair, made afresh, and every shipped `models/NAME.cert` with its
//! `NAME.cvec`), and each model with linear bounds once more with
//! interval bounds only (`NAME-intervals`). First the shipped app's runtime
//! code per feature set and, for the full build, per source file.
//!
//! `cargo run --release -p end-to-end --bin footprint [MODEL VECTORS]...`

use std::path::PathBuf;
use std::process::ExitCode;

use end_to_end::footprint::{
    Footprint, code_table, feature_sizes, feature_table, file_table, layer_table, table,
};
use end_to_end::{interval_variant, model_pairs};

fn main() -> ExitCode {
    let args: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    if !args.len().is_multiple_of(2) {
        eprintln!("usage: footprint [MODEL VECTORS]...");
        return ExitCode::FAILURE;
    }
    let pairs = if args.is_empty() {
        match model_pairs() {
            Ok(pairs) => pairs,
            Err(e) => {
                eprintln!("demo files: {e}");
                return ExitCode::FAILURE;
            }
        }
    } else {
        args.chunks_exact(2)
            .map(|p| (p[0].clone(), p[1].clone()))
            .collect()
    };
    // Each model with linear bounds also with intervals only, side by side.
    let mut variants = Vec::new();
    for (model, vectors) in &pairs {
        match interval_variant(model, vectors) {
            Ok(Some(pair)) => variants.push(pair),
            Ok(None) => {}
            Err(e) => {
                eprintln!("{}: {e}", model.display());
                return ExitCode::FAILURE;
            }
        }
    }
    let mut rows = Vec::new();
    for (model, vectors) in pairs.iter().chain(&variants) {
        match Footprint::measure(model, vectors) {
            Ok((footprint, _)) => rows.push(footprint),
            Err(e) => {
                eprintln!("{}: {e}", model.display());
                return ExitCode::FAILURE;
            }
        }
    }
    let (model, vectors) = &pairs[0];
    match feature_sizes(model, vectors) {
        Ok(sizes) => {
            println!("{}", feature_table(&sizes));
            println!("{}", file_table(&sizes[0]));
        }
        Err(e) => {
            eprintln!("feature sizes: {e}");
            return ExitCode::FAILURE;
        }
    }
    println!("{}", table(&rows));
    println!("{}", layer_table(&rows));
    print!("{}", code_table(&rows));
    ExitCode::SUCCESS
}
