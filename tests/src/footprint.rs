//! The footprint of the firmware for one model: flash for code and for
//! weights, static RAM, peak stack, and instructions per predict and per
//! certify (QEMU counts instructions; it has no cycles).

use std::collections::BTreeMap;
use std::io;
use std::path::Path;

use crate::device::{DeviceRun, check_on_device};
use crate::elf;
use crate::origin::{Origin, code_by_origin};

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
        "| model | code flash | runtime code | weights flash | vectors flash | static RAM | peak stack | instructions/predict | instructions/certify: mean (certified, not) | certify/predict |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for f in rows {
        out += &format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} ({}, {}) | {:.2}x |\n",
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
            f.ratio()
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
