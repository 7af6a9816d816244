//! Certified-robust training with fast interval bound propagation (Shi et
//! al. 2021) on burn, and export to int8 models for `cert-runtime`.

pub mod data;
pub mod eval;
pub mod export;
pub mod fake_quant;
pub mod ibp;
pub mod model;
pub mod report;
pub mod train;
