//! # cert-runtime
//!
//! Load an int8 model straight from flash and, for every input, predict its
//! class **and prove** that no perturbation within the model's budget
//! (L-infinity, per input channel, in real units) changes it. `#![no_std]`,
//! no allocation: the caller lends a scratch buffer whose size the model
//! reports.
//!
//! The proof is interval bound propagation over the exact integer
//! arithmetic the device runs (int8 weights, int32 accumulators, one
//! monotone fixed-point requantisation rule), so "certified" is a statement
//! about the deployed model, not about a float approximation of it. When
//! the interval pass is too loose, [`Model::refine`] bisects the input box
//! until it proves the class, finds a counterexample, or runs out of boxes.
//!
//! ```no_run
//! use cert_runtime::Model;
//!
//! static MODEL: &[u8] = include_bytes!("../../models/cnn-small-eps0.1.cert");
//!
//! let model = Model::from_bytes(MODEL)?;
//! let mut scratch = [0i16; 23_000]; // model.certify_scratch_len()
//! let image = [0.0f32; 784];
//! let cert = model.certify(&image, model.budget(), &mut scratch)?;
//! if cert.certified {
//!     // No input within the model's eps of `image` changes the decision.
//!     let _ = cert.class;
//! }
//! # Ok::<(), cert_runtime::Error>(())
//! ```
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod budget;
#[cfg(feature = "std")]
pub mod builder;
mod certify;
pub mod container;
mod error;
pub mod format;
#[cfg(feature = "gate")]
pub mod gate;
pub mod grid;
mod layer;
mod model;
pub mod quantizer;
mod refine;
pub mod requant;
pub mod vectors;

pub use budget::Budget;
pub use cert_kernels::{Kernels, Native, Scalar};
pub use certify::{Certificate, Margins, Radius};
pub use error::{ContainerError, Error};
pub use format::{
    CertSpec, Conv2d, Dense, Header, InputSpec, Layer, ModelDesc, Output, Params, Requantize,
};
pub use layer::Shape;
pub use model::{Logits, Model, Prediction};
pub use quantizer::Quantizer;
pub use refine::{Refinement, Split, Trail, Verdict};

/// Most layers a model may have.
pub const MAX_LAYERS: usize = 12;
/// Most classes a model may have.
pub const MAX_CLASSES: usize = 32;
/// Most values one activation tensor (the input included) may hold.
pub const MAX_ACTIVATION: usize = 1 << 20;
/// Depth of the refinement trail that test vectors, the host tools and the
/// firmware use, so that their verdicts agree bit for bit.
pub const REFINE_DEPTH: usize = 256;
