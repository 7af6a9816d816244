//! The footprint of the firmware for one model: flash for code and for
//! weights, static RAM, peak stack, and instructions per predict and per
//! certify (QEMU counts instructions; it has no cycles).

use std::collections::BTreeMap;
use std::io;
use std::path::Path;

use crate::device::{DeviceRun, SERVE, build_board_with, check_on_device, fields};
use crate::elf;
use crate::origin::{Origin, code_by_origin, runtime_code_by_file};

/// What one model costs on the device.
#[derive(Debug, Clone, PartialEq)]
pub struct Footprint {
    /// A name for the row (the model file's stem).
    pub name: String,
    /// Flash bytes less the embedded model and vectors: all code and constants.
    pub code_flash: u64,
    /// Bytes of `.text` from cert-runtime and its dependencies, inlined
    /// code included (by the DWARF line table).
    pub runtime_code: u64,
    /// Bytes of `.text` by origin.
    pub code: BTreeMap<Origin, u64>,
    /// Flash bytes of the model file (weights and header).
    pub weights: u64,
    /// Flash bytes of the embedded test vectors.
    pub vectors: u64,
    /// `.data` + `.bss` + `.uninit` bytes.
    pub static_ram: u64,
    /// Deepest stack use, by painting.
    pub stack_peak: u64,
    /// Mean instructions per `predict`.
    pub predict: u64,
    /// Mean instructions per `certify`.
    pub certify: u64,
    /// Mean instructions per `certify` that certified (0 if none did).
    pub certify_certified: u64,
    /// Mean instructions per `certify` that did not certify, which includes
    /// the fallback inference (0 if all certified).
    pub certify_uncertified: u64,
    /// Mean instructions per refinement of an uncertified input, the
    /// refinement's own interval passes included (0 if none refined).
    pub refine: u64,
    /// Mean boxes bounded per refinement.
    pub boxes: u64,
    /// Test vectors run.
    pub cases: u64,
    /// Of them, certified by the first certify (interval pass, and linear
    /// bounds where the model asks for them).
    pub certified: u64,
    /// Of them, proven by refinement after certify did not.
    pub refined: u64,
    /// What checking and quantising the input (predict) or its box
    /// (certify) costs, for the first case: `(predict, certify)`.
    pub input: (u64, u64),
    /// What every layer costs, for the first case.
    pub layers: Vec<LayerCost>,
}

/// What one layer costs on the device, for one input.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerCost {
    /// `dense` or `conv2d`.
    pub kind: String,
    /// Multiply-accumulates of one pass (a point; the interval pass does two
    /// per weight).
    pub macs: u64,
    /// Instructions of the layer in `predict`.
    pub predict: u64,
    /// Instructions of the layer in `certify` (the interval pass).
    pub certify: u64,
}

impl LayerCost {
    /// Reads one `layer i: KIND macs=.. predict=.. certify=..` message.
    fn parse(message: &str) -> Option<LayerCost> {
        let kind = message.split_whitespace().nth(2)?.to_string();
        let f = fields(message);
        let number = |key| f.get(key)?.parse().ok();
        Some(LayerCost {
            kind,
            macs: number("macs")?,
            predict: number("predict")?,
            certify: number("certify")?,
        })
    }
}

impl Footprint {
    /// Builds and runs the firmware for `model` and `vectors` and measures
    /// it; fails unless the run passed and counted instructions.
    pub fn measure(model: &Path, vectors: &Path) -> io::Result<(Footprint, DeviceRun)> {
        let (elf, run) = check_on_device(model, vectors)?;
        let failed = |what: &str| io::Error::other(format!("{what}:\n{}", run.log_text()));
        if run.status != Some(0) {
            return Err(failed("the device run failed"));
        }
        let image = std::fs::read(&elf)?;
        let sections = elf::sections(&image).map_err(io::Error::other)?;
        let code = code_by_origin(&image).map_err(io::Error::other)?;
        let of = |origin| code.get(&origin).copied().unwrap_or(0);
        let weights = std::fs::metadata(model)?.len();
        let vectors = std::fs::metadata(vectors)?.len();
        let number = |prefix, key| run.number(prefix, key).ok_or_else(|| failed(key));
        let footprint = Footprint {
            name: model
                .file_stem()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned(),
            code_flash: sections.flash - weights - vectors,
            runtime_code: of(Origin::Runtime) + of(Origin::RuntimeDeps),
            code,
            weights,
            vectors,
            static_ram: sections.static_ram,
            stack_peak: number("stack:", "peak")?,
            predict: number("instructions:", "predict")?,
            certify: number("instructions:", "certify")?,
            certify_certified: number("instructions:", "certified")?,
            certify_uncertified: number("instructions:", "uncertified")?,
            refine: number("instructions:", "refine")?,
            boxes: number("instructions:", "boxes")?,
            cases: number("summary:", "cases")?,
            certified: number("summary:", "certified")?,
            refined: number("summary:", "refined")?,
            input: (number("input:", "predict")?, number("input:", "certify")?),
            layers: run
                .messages("layer ")
                .map(LayerCost::parse)
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| failed("layer"))?,
        };
        Ok((footprint, run))
    }

    /// Mean certify instructions over mean predict instructions.
    pub fn ratio(&self) -> f64 {
        self.certify as f64 / self.predict as f64
    }
}

/// The rows as a Markdown table.
pub fn table(rows: &[Footprint]) -> String {
    let mut out = String::from(
        "| model | code flash | runtime code | weights flash | vectors flash | static RAM | peak stack | instructions/predict | instructions/certify: mean (certified, not) | certify/predict | instructions/refine (boxes) | certified (+ refined) / cases |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for f in rows {
        let refine = match f.boxes {
            0 => "-".to_string(),
            boxes => format!("{} ({boxes})", f.refine),
        };
        out += &format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} ({}, {}) | {:.2}x | {refine} | {} (+{}) / {} |\n",
            f.name,
            bytes(f.code_flash),
            bytes(f.runtime_code),
            bytes(f.weights),
            bytes(f.vectors),
            bytes(f.static_ram),
            bytes(f.stack_peak),
            f.predict,
            f.certify,
            f.certify_certified,
            f.certify_uncertified,
            f.ratio(),
            f.certified,
            f.refined,
            f.cases,
        );
    }
    out
}

/// Instructions of the input stage, and per multiply-accumulate of every
/// layer and of the whole model, in predict and in certify (the whole
/// model's figures include the input stage).
pub fn layer_table(rows: &[Footprint]) -> String {
    let mut out = String::from(
        "| model | layer | MACs | instructions/predict | per MAC | instructions/certify | per MAC |\n\
         |---|---|---:|---:|---:|---:|---:|\n",
    );
    let per = |n: u64, macs: u64| n as f64 / macs.max(1) as f64;
    for f in rows {
        let (predict, certify) = f.input;
        out += &format!(
            "| {} | input (check, quantise) | - | {predict} | - | {certify} | - |\n",
            f.name
        );
        for (i, l) in f.layers.iter().enumerate() {
            out += &format!(
                "| {} | {i}: {} | {} | {} | {:.2} | {} | {:.2} |\n",
                f.name,
                l.kind,
                l.macs,
                l.predict,
                per(l.predict, l.macs),
                l.certify,
                per(l.certify, l.macs)
            );
        }
        let macs = f.layers.iter().map(|l| l.macs).sum();
        out += &format!(
            "| {} | all (predict, certified certify) | {macs} | {} | {:.2} | {} | {:.2} |\n",
            f.name,
            f.predict,
            per(f.predict, macs),
            f.certify_certified,
            per(f.certify_certified, macs)
        );
    }
    out
}

/// Bytes with KiB beside them.
fn bytes(n: u64) -> String {
    format!("{n} B ({:.1} KiB)", n as f64 / 1024.0)
}

/// `.text` by origin, one table per row.
pub fn code_table(rows: &[Footprint]) -> String {
    let mut out = String::new();
    for f in rows {
        out += &format!("| {} `.text` by origin | bytes |\n|---|---:|\n", f.name);
        for (origin, n) in &f.code {
            out += &format!("| {} | {n} |\n", origin.name());
        }
    }
    out
}

/// The runtime parts a firmware can carry, as `CERT_FEATURES` names them,
/// with a name for tables: everything, no linear bounds, images without
/// refinement, and dense models only.
pub const FEATURE_SETS: [(&str, &str); 4] = [
    ("full (conv, refine, linear)", "conv refine linear"),
    ("no linear bounds (conv, refine)", "conv refine"),
    ("convolutions, no refinement (conv)", "conv"),
    ("dense only (none)", ""),
];

/// The code of the shipped application (`mps2-an386:serve`) built with one
/// set of the runtime's parts.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureSize {
    /// The set's name.
    pub name: &'static str,
    /// Its `CERT_FEATURES`.
    pub features: &'static str,
    /// Bytes of `.text` from cert-runtime and its dependencies.
    pub runtime_code: u64,
    /// Flash bytes less the embedded model: all code and constants.
    pub code_flash: u64,
    /// The runtime's own code (cert-runtime and cert-kernels) per source file.
    pub by_file: BTreeMap<String, u64>,
}

/// Builds the serve program for every [`FEATURE_SETS`] entry (with
/// `model` embedded, whose bytes are not counted) and measures its code.
pub fn feature_sizes(model: &Path, vectors: &Path) -> io::Result<Vec<FeatureSize>> {
    let weights = std::fs::metadata(model)?.len();
    let mut sizes = Vec::new();
    for (name, features) in FEATURE_SETS {
        let elves = build_board_with(model, vectors, Some(features))?;
        let elf = elves
            .get(SERVE)
            .ok_or_else(|| io::Error::other("boards/build.sh built no serve program"))?;
        let image = std::fs::read(elf)?;
        let code = code_by_origin(&image).map_err(io::Error::other)?;
        let of = |origin| code.get(&origin).copied().unwrap_or(0);
        let sections = elf::sections(&image).map_err(io::Error::other)?;
        sizes.push(FeatureSize {
            name,
            features,
            runtime_code: of(Origin::Runtime) + of(Origin::RuntimeDeps),
            code_flash: sections.flash - weights,
            by_file: runtime_code_by_file(&image).map_err(io::Error::other)?,
        });
    }
    Ok(sizes)
}

/// The feature sizes as a Markdown table.
pub fn feature_table(sizes: &[FeatureSize]) -> String {
    let mut out = String::from(
        "| the shipped app (`serve`) with the runtime's | runtime code | code flash |\n|---|---:|---:|\n",
    );
    for f in sizes {
        out += &format!(
            "| {} | {} | {} |\n",
            f.name,
            bytes(f.runtime_code),
            bytes(f.code_flash)
        );
    }
    out
}

/// The runtime's code in one feature set's firmware per source file, largest
/// first, as a Markdown table.
pub fn file_table(size: &FeatureSize) -> String {
    let mut files: Vec<_> = size.by_file.iter().collect();
    files.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let mut out = format!(
        "| runtime code by source file, {} | bytes |\n|---|---:|\n",
        size.name
    );
    for (file, n) in files {
        out += &format!("| `{file}` | {n} |\n");
    }
    out
}
