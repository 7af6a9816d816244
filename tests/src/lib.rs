//! End-to-end checks of the deployed arithmetic: the QEMU board
//! (`boards/mps2-an386`, a Cortex-M4F) certifies the host's test vectors
//! and must reproduce every certificate and refined verdict bit for bit;
//! its kernel program must find the DSP kernels identical to the scalar
//! ones.
//!
//! [`device::check_on_device`] is the whole loop for one model and its
//! vectors; [`footprint`] turns a build and a run into the numbers the
//! docs/device.md reports, [`snapshot`] guards them against growth, and [`golden`]
//! keeps the device's logs.

pub mod device;
pub mod elf;
pub mod footprint;
pub mod golden;
pub mod origin;
pub mod snapshot;
pub mod synthetic;

use std::path::{Path, PathBuf};

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests crate lives in the workspace")
        .to_path_buf()
}

/// The boards' workspace.
pub fn boards_dir() -> PathBuf {
    workspace_root().join("boards")
}

/// The model and test-vector pairs the device checks: the demo pair, made
/// afresh by [`synthetic::demo_files`] with today's runtime, then every
/// `models/NAME.cert` that has a `models/NAME.cvec` beside it (as `certnn
/// vectors` writes), in name order.
pub fn model_pairs() -> std::io::Result<Vec<(PathBuf, PathBuf)>> {
    let (model, vectors) = synthetic::demo_files();
    let dir = boards_dir().join("target/e2e");
    let mut pairs = vec![(
        write_new(&dir.join("demo.cert"), &model)?,
        write_new(&dir.join("demo.cvec"), &vectors)?,
    )];
    let mut shipped: Vec<PathBuf> = std::fs::read_dir(workspace_root().join("models"))
        .into_iter()
        .flatten()
        .filter_map(|entry| Some(entry.ok()?.path()))
        .filter(|path| path.extension().is_some_and(|e| e == "cert"))
        .filter(|path| path.with_extension("cvec").is_file())
        .collect();
    shipped.sort();
    pairs.extend(shipped.into_iter().map(|m| {
        let v = m.with_extension("cvec");
        (m, v)
    }));
    Ok(pairs)
}

/// Writes `bytes` to `path` through a rename, so that a concurrent reader
/// sees the old file or the new one, never half of one.
pub fn write_new(path: &Path, bytes: &[u8]) -> std::io::Result<PathBuf> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)?;
    Ok(path.to_path_buf())
}

/// For a model that bounds its margins linearly, the same model with
/// interval bounds only and its vectors made afresh, as `STEM-intervals`
/// beside the demo files: what the linear bounds cost and gain, measured
/// side by side. `None` for a model with interval bounds.
pub fn interval_variant(
    model: &Path,
    vectors: &Path,
) -> std::io::Result<Option<(PathBuf, PathBuf)>> {
    use cert_runtime::vectors::{self, Vectors};
    use cert_runtime::{Bounds, format};
    let invalid =
        |e: &dyn std::fmt::Display| std::io::Error::other(format!("{}: {e}", model.display()));
    let bytes = std::fs::read(model)?;
    let mut spec = format::decode(&bytes).map_err(|e| invalid(&e))?.owned();
    if spec.header.certification.bounds == Bounds::Interval {
        return Ok(None);
    }
    spec.header.certification = spec
        .header
        .certification
        .clone()
        .with_bounds(Bounds::Interval);
    let model_file = spec.to_bytes().map_err(|e| invalid(&e))?;
    let old = std::fs::read(vectors)?;
    let old = Vectors::from_bytes(&old).map_err(|e| invalid(&e))?;
    let inputs: Vec<Vec<f32>> = old.cases().map(|c| c.input_values().collect()).collect();
    let labels: Option<Vec<u16>> = old.cases().map(|c| c.label).collect();
    let vector_file =
        vectors::build(&model_file, &inputs, labels.as_deref()).map_err(|e| invalid(&e))?;
    let stem = model.file_stem().unwrap_or_default().to_string_lossy();
    let dir = boards_dir().join("target/e2e");
    Ok(Some((
        write_new(&dir.join(format!("{stem}-intervals.cert")), &model_file)?,
        write_new(&dir.join(format!("{stem}-intervals.cvec")), &vector_file)?,
    )))
}
