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
//! the interval pass is too loose and the model asks for it,
//! [`Model::decide`] refines: it bisects the input box until it proves the
//! class, finds a counterexample, or runs out of boxes.
//!
//! ```no_run
//! use cert_runtime::{Buffers, Model, REFINE_DEPTH, Trail, Verdict};
//!
//! static MODEL: &[u8] = include_bytes!("../../models/wine-std0.25.cert");
//!
//! let model = Model::from_bytes(MODEL)?;
//! let mut scratch = [0i16; 700]; // >= model.decide_scratch_len() (693 for this model)
//! let (mut trail, mut counterexample) = (Trail::<REFINE_DEPTH>::new(), [0.0f32; 13]);
//! let mut buffers = Buffers { scratch: &mut scratch, trail: &mut trail, counterexample: &mut counterexample };
//! let reading = [13.0f32; 13]; // one value per feature, in its real unit
//! let decision = model.decide(&reading, &mut buffers)?;
//! match decision.verdict {
//!     // No input within the model's budget of `reading` changes the class.
//!     Verdict::Certified => { let _ = decision.class(); }
//!     // `counterexample` is an input within the budget classified otherwise.
//!     Verdict::Refuted => {}
//!     Verdict::Unknown => {}
//! }
//! # Ok::<(), cert_runtime::Error>(())
//! ```
//!
//! Features: `std` (host conveniences: `std::error::Error`, owned model
//! descriptions, the version-1 reader, test-vector building), `defmt`
//! (`defmt::Format` for the public types), `gate` (an embedded-hal
//! decision gate).
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod budget;
mod certify;
pub mod container;
mod decide;
mod error;
pub mod format;
#[cfg(feature = "gate")]
pub mod gate;
pub mod grid;
mod layer;
mod le;
mod limits;
#[cfg(feature = "linear")]
mod linear;
mod margin;
mod model;
mod net;
pub mod quantizer;
mod refine;
pub mod requant;
pub mod vectors;
mod verdict;

pub use budget::Budget;
pub use cert_kernels::{Kernels, Native, Scalar};
pub use certify::{Certificate, Margins, Radius};
pub use decide::Buffers;
pub use error::{ContainerError, Error};
pub use format::{
    Bounds, CertSpec, Conv2d, Dense, Header, InputSpec, Layer, ModelDesc, Output, Params,
    Requantize,
};
pub use layer::Shape;
pub use limits::{MAX_ACTIVATION, MAX_CLASSES, MAX_LAYERS, REFINE_DEPTH};
pub use model::Model;
pub use net::{Logits, Prediction};
pub use quantizer::Quantizer;
pub use refine::{Split, Trail};
pub use verdict::{Decision, Verdict};
