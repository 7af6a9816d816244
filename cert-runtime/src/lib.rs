//! # cert-runtime
//!
//! Load an int8 model straight from flash and, for every input, predict its
//! class **and prove** that no perturbation within eps (L-infinity) changes
//! it. `#![no_std]`, no allocation: the caller lends a scratch buffer whose
//! size the model reports.
//!
//! The proof is interval bound propagation over the exact integer
//! arithmetic the device runs (int8 weights, int32 accumulators, one
//! monotone fixed-point requantisation rule), so "certified" is a statement
//! about the deployed model, not about a float approximation of it.
//!
//! ```no_run
//! use cert_runtime::Model;
//!
//! static MODEL: &[u8] = include_bytes!("../../models/cnn-small-eps0.1.cert");
//!
//! let model = Model::from_bytes(MODEL)?;
//! let mut scratch = [0i16; 12_800]; // model.certify_scratch_len()
//! let image = [0.0f32; 784];
//! let cert = model.certify(&image, 0.1, &mut scratch)?;
//! if cert.certified {
//!     // No input within 0.1 of `image` changes the decision.
//!     let _ = cert.class;
//! }
//! # Ok::<(), cert_runtime::Error>(())
//! ```
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

#[cfg(feature = "std")]
pub mod builder;
mod certify;
mod error;
pub mod format;
#[cfg(feature = "gate")]
pub mod gate;
mod layer;
mod model;
pub mod requant;
pub mod vectors;

pub use certify::{Certificate, Margins, Radius};
pub use error::Error;
pub use format::{Conv2d, Dense, Header, InputSpec, Layer, ModelDesc, Output, Params, Requantize};
pub use layer::Shape;
pub use model::{Logits, Model, Prediction};

/// Most layers a model may have.
pub const MAX_LAYERS: usize = 12;
/// Most classes a model may have.
pub const MAX_CLASSES: usize = 32;
/// Most values one activation tensor (the input included) may hold.
pub const MAX_ACTIVATION: usize = 1 << 20;
