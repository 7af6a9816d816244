//! # cert-build
//!
//! The one build script of every board, as a library its `build.rs`
//! calls: [`embed_model`] (and, for a board that checks itself against the
//! host, [`embed_vectors`]) copies the files into `OUT_DIR` after loading
//! them with the runtime, so a bad file fails the build, not the board;
//! [`write_sizes`] sizes the board's static buffers for that model; and
//! [`link`] puts `memory.x` and the cortex-m-rt and defmt linker scripts on
//! the link line.
//!
//! A board's `build.rs`:
//!
//! ```no_run
//! let model = cert_build::embed_model(&["../../models/mlp-eps0.1.cert", "../demo/demo.cert"]);
//! cert_build::write_sizes(&model);
//! cert_build::link();
//! ```

use std::path::{Path, PathBuf};
use std::{env, fs};

use cert_runtime::vectors::Vectors;
use cert_runtime::{Model, REFINE_DEPTH};

fn out_dir() -> PathBuf {
    PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"))
}

/// The file `var` names (absolute, or relative to the board's folder), or
/// the first of `defaults` that exists.
fn pick(var: &str, defaults: &[&str]) -> PathBuf {
    println!("cargo::rerun-if-env-changed={var}");
    for default in defaults {
        // A file that appears later changes the choice.
        println!("cargo::rerun-if-changed={default}");
    }
    env::var_os(var).map(PathBuf::from).unwrap_or_else(|| {
        defaults
            .iter()
            .map(PathBuf::from)
            .find(|p| p.is_file())
            .unwrap_or_else(|| PathBuf::from(defaults[defaults.len() - 1]))
    })
}

fn read(var: &str, path: &Path) -> Vec<u8> {
    println!("cargo::rerun-if-changed={}", path.display());
    fs::read(path).unwrap_or_else(|e| panic!("{var}: cannot read {}: {e}", path.display()))
}

/// Embeds the model `CERT_MODEL` names (or the first of `defaults` that
/// exists) as `OUT_DIR/model.cert`, after loading it with the runtime;
/// returns its bytes.
pub fn embed_model(defaults: &[&str]) -> Vec<u8> {
    let path = pick("CERT_MODEL", defaults);
    let bytes = read("CERT_MODEL", &path);
    let model =
        Model::from_bytes(&bytes).unwrap_or_else(|e| panic!("CERT_MODEL {}: {e}", path.display()));
    let depth = model.refine_depth(model.refine_boxes());
    let boxes = model.refine_boxes();
    let linear = model.bounds() == cert_runtime::Bounds::Linear;
    let convolves = model
        .layers()
        .iter()
        .any(|l| matches!(l, cert_runtime::Layer::Conv2d(_)));
    drop(model);
    // The board's own features (its build script sees them): a firmware
    // that leaves out a part this model needs refuses it at load.
    for (needed, feature) in [
        (convolves, "conv"),
        (boxes > 0, "refine"),
        (linear, "linear"),
    ] {
        let var = format!("CARGO_FEATURE_{}", feature.to_uppercase());
        if needed && env::var_os(var).is_none() {
            println!(
                "cargo::warning=CERT_MODEL {} needs the runtime's `{feature}` feature, which this firmware leaves out: it will refuse the model",
                path.display()
            );
        }
    }
    if depth > REFINE_DEPTH {
        panic!(
            "CERT_MODEL {}: refining with {} boxes may need {depth} trail levels, the boards hold {REFINE_DEPTH}",
            path.display(),
            boxes
        );
    }
    fs::write(out_dir().join("model.cert"), &bytes).expect("write OUT_DIR/model.cert");
    bytes
}

/// Embeds the test vectors `CERT_VECTORS` names (or `default`) as
/// `OUT_DIR/vectors.cvec`, after checking that they were made for `model`.
pub fn embed_vectors(model: &[u8], default: &str) {
    let path = pick("CERT_VECTORS", &[default]);
    let bytes = read("CERT_VECTORS", &path);
    if let Err(e) = Vectors::from_bytes(&bytes).and_then(|v| v.check_model(model)) {
        panic!("CERT_VECTORS {}: {e}", path.display());
    }
    fs::write(out_dir().join("vectors.cvec"), &bytes).expect("write OUT_DIR/vectors.cvec");
}

/// Writes `OUT_DIR/sizes.rs`: `INPUT_LEN` and `SCRATCH_LEN`, the sizes of
/// the static buffers the model needs (scratch for certify, and for refine
/// when the model refines).
pub fn write_sizes(model: &[u8]) {
    let model = Model::from_bytes(model).expect("an embedded model loads");
    let scratch = model.decide_scratch_len();
    let sizes = format!(
        "/// Values in one input of the embedded model.\n\
         pub const INPUT_LEN: usize = {};\n\
         /// `i16` scratch elements the embedded model's decision needs.\n\
         pub const SCRATCH_LEN: usize = {scratch};\n",
        model.input_len(),
    );
    fs::write(out_dir().join("sizes.rs"), sizes).expect("write OUT_DIR/sizes.rs");
}

/// Copies the board's `memory.x` into `OUT_DIR`, puts it on the link search
/// path, and links the binaries with cortex-m-rt's `link.x` and defmt's
/// `defmt.x`.
pub fn link() {
    let out = out_dir();
    fs::copy("memory.x", out.join("memory.x")).expect("copy memory.x");
    println!("cargo::rerun-if-changed=memory.x");
    println!("cargo::rustc-link-search={}", out.display());
    println!("cargo::rustc-link-arg-bins=-Tlink.x");
    println!("cargo::rustc-link-arg-bins=-Tdefmt.x");
}
