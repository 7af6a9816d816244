//! Embeds the model and test-vector files and sizes the static buffers for
//! that model; puts the linker scripts on the search path.
//!
//! `CERT_MODEL` and `CERT_VECTORS` name the files (absolute, or relative to
//! this crate); without them the demo pair in `demo/` is used. Both are
//! checked with the runtime here, so a wrong pair fails the build, not the
//! device run.

use std::path::{Path, PathBuf};
use std::{env, fs};

use cert_runtime::Model;
use cert_runtime::vectors::Vectors;

/// Reads the file named by `var`, or `default`, and copies it to `out/name`.
fn embed(var: &str, default: &str, out: &Path, name: &str) -> Vec<u8> {
    println!("cargo:rerun-if-env-changed={var}");
    let path = env::var_os(var).map_or_else(|| PathBuf::from(default), PathBuf::from);
    println!("cargo:rerun-if-changed={}", path.display());
    let bytes =
        fs::read(&path).unwrap_or_else(|e| panic!("{var}: cannot read {}: {e}", path.display()));
    fs::write(out.join(name), &bytes).expect("write OUT_DIR");
    bytes
}

fn main() {
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("OUT_DIR"));
    let model_file = embed("CERT_MODEL", "demo/demo.cert", &out, "model.cert");
    let vectors_file = embed("CERT_VECTORS", "demo/demo.cvec", &out, "vectors.cvec");
    let model = Model::from_bytes(&model_file).unwrap_or_else(|e| panic!("CERT_MODEL: {e}"));
    Vectors::from_bytes(&vectors_file)
        .and_then(|v| v.check_model(&model_file))
        .unwrap_or_else(|e| panic!("CERT_VECTORS: {e}"));
    let sizes = format!(
        "/// Values in one input of the embedded model.\n\
         const INPUT_LEN: usize = {};\n\
         /// `i16` scratch elements the embedded model's certification needs.\n\
         const SCRATCH_LEN: usize = {};\n",
        model.input_len(),
        model.certify_scratch_len()
    );
    fs::write(out.join("sizes.rs"), sizes).expect("write sizes.rs");

    fs::copy("memory.x", out.join("memory.x")).expect("copy memory.x");
    println!("cargo:rerun-if-changed=memory.x");
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rustc-link-arg-bins=-Tlink.x");
    println!("cargo:rustc-link-arg-bins=-Tdefmt.x");
}
