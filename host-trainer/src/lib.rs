//! Certified-robust training with fast interval bound propagation (Shi et
//! al. 2021) on burn, and export to int8 models for `cert-runtime`.
//!
//! The modules depend on each other in one direction only:
//!
//! ```text
//! data -> model -> bounds -> fake_quant -> ibp -> crown -> calibrate -> {train, eval} -> export
//!                                                                   eps, report: leaves
//! ```
//!
//! Training selects quantisation-aware epochs on the int8 model's certified
//! accuracy without depending on export: the caller passes that measure in
//! ([`train::QuantizedValidation`]).

pub mod bounds;
pub mod calibrate;
pub mod crown;
pub mod data;
pub mod eps;
pub mod eval;
pub mod export;
pub mod fake_quant;
pub mod ibp;
pub mod model;
pub mod onnx;
pub mod report;
pub mod train;
