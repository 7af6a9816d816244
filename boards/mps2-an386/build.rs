//! Embeds the model and its test vectors (`CERT_MODEL`, `CERT_VECTORS`,
//! absolute or relative to this folder; by default the demo pair), sizes
//! the buffers, links (see `cert-build`).

fn main() {
    let model = cert_build::embed_model(&["../demo/demo.cert"]);
    cert_build::embed_vectors(&model, "../demo/demo.cvec");
    cert_build::write_sizes(&model);
    cert_build::link();
}
