//! Embeds the model, fixes the eps it certifies at, sizes the static
//! buffers for it, and puts the linker scripts on the search path.
//!
//! - `CERT_MODEL`: the model file (absolute, or relative to this crate);
//!   default the shipped `../../models/mlp-eps0.1.cert` when it is there,
//!   else the demo model `../../firmware/demo/demo.cert`.
//! - `CERT_EPS`: the L-infinity radius in real input units; default the eps
//!   of the model's test vectors (`NAME.cvec` beside `NAME.cert`, as `certnn
//!   vectors` writes), i.e. the eps the host certified that model at.
//!
//! The model is loaded with the runtime here, so a bad file fails the
//! build, not the board.

use std::path::PathBuf;
use std::{env, fs};

use cert_runtime::Model;
use cert_runtime::vectors::Vectors;

/// The default model when it is there: trained on MNIST, certified at 0.1.
const SHIPPED: &str = "../../models/mlp-eps0.1.cert";
/// The default model otherwise: a random dense 784-32-10 net.
const DEMO: &str = "../../firmware/demo/demo.cert";

fn main() {
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("OUT_DIR"));
    println!("cargo:rerun-if-env-changed=CERT_MODEL");
    println!("cargo:rerun-if-env-changed=CERT_EPS");
    // A model shipped later changes the default.
    println!("cargo:rerun-if-changed=../../models");
    let path = env::var_os("CERT_MODEL").map_or_else(
        || {
            [SHIPPED, DEMO]
                .into_iter()
                .map(PathBuf::from)
                .find(|p| p.is_file())
                .unwrap_or_else(|| PathBuf::from(DEMO))
        },
        PathBuf::from,
    );
    println!("cargo:rerun-if-changed={}", path.display());
    let bytes = fs::read(&path)
        .unwrap_or_else(|e| panic!("CERT_MODEL: cannot read {}: {e}", path.display()));
    let model = Model::from_bytes(&bytes).unwrap_or_else(|e| panic!("CERT_MODEL: {e}"));
    fs::write(out.join("model.cert"), &bytes).expect("write OUT_DIR");

    let eps = match env::var("CERT_EPS") {
        Ok(text) => text
            .parse::<f32>()
            .ok()
            .filter(|e| e.is_finite() && *e >= 0.0)
            .unwrap_or_else(|| panic!("CERT_EPS: {text:?} is not an eps >= 0")),
        Err(_) => {
            let vectors = path.with_extension("cvec");
            println!("cargo:rerun-if-changed={}", vectors.display());
            let file = fs::read(&vectors).unwrap_or_else(|e| {
                panic!(
                    "set CERT_EPS, or put the model's test vectors at {} ({e})",
                    vectors.display()
                )
            });
            let v = Vectors::from_bytes(&file)
                .and_then(|v| v.check_model(&bytes).map(|()| v))
                .unwrap_or_else(|e| panic!("{}: {e}", vectors.display()));
            v.header().eps
        }
    };

    let app = format!(
        "/// Values in one input of the embedded model (pixels per frame).\n\
         const INPUT_LEN: usize = {};\n\
         /// `i16` scratch elements the embedded model's certification needs.\n\
         const SCRATCH_LEN: usize = {};\n\
         /// The L-infinity radius every input is certified at ({eps:?}).\n\
         const EPS: f32 = f32::from_bits({:#010x});\n",
        model.input_len(),
        model.certify_scratch_len(),
        eps.to_bits()
    );
    fs::write(out.join("app.rs"), app).expect("write app.rs");

    fs::copy("memory.x", out.join("memory.x")).expect("copy memory.x");
    println!("cargo:rerun-if-changed=memory.x");
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rustc-link-arg-bins=-Tlink.x");
    println!("cargo:rustc-link-arg-bins=-Tdefmt.x");
}
