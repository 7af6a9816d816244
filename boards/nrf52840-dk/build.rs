//! Embeds the model (`CERT_MODEL`, absolute or relative to this folder; by
//! default the shipped `models/mlp-eps0.1.cert` when it is there, else the
//! demo model), sizes the buffers, links (see `cert-build`). The board
//! certifies at the model's own budget, which the model file carries.

fn main() {
    let model = cert_build::embed_model(&["../../models/mlp-eps0.1.cert", "../demo/demo.cert"]);
    cert_build::write_sizes(&model);
    cert_build::link();
}
