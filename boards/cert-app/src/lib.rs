//! # cert-app
//!
//! The certifying application every board runs, written once over
//! embedded-hal and embedded-io, on `cert-runtime`:
//!
//! - [`station`]: the model and the decision gate: [`Station::decide`]
//!   decides an input with `Model::decide` (certify, then refine when the
//!   model asks for it) and drives the action output only for a proven
//!   decision;
//! - [`serve`](mod@serve): the loop every board runs: an input [`frame`] in over a
//!   byte stream (a UART), a decision, a one-line [`reply`] out, until the
//!   session closes; `log` (with `defmt`) writes its log lines;
//! - [`check`]: the self-check of a board that carries the host's test
//!   vectors: every decision compared with the host's, bit for bit, costs
//!   counted, and a [`Tally`].
//!
//! A board crate only adds its glue: clocks, pins, peripherals, counters,
//! logging.
//!
//! ```no_run
//! # fn board<R: embedded_io::Read, W: embedded_io::Write, A: embedded_hal::digital::OutputPin, F: embedded_hal::digital::OutputPin>(
//! #     mut rx: R, mut tx: W, act: A, fallback: F) -> Result<(), cert_app::ServeError<R::Error, W::Error>> {
//! use cert_app::{Round, ServeError, Station, serve};
//! use cert_runtime::{Buffers, Model, REFINE_DEPTH, Trail};
//!
//! static MODEL: &[u8] = include_bytes!("../../demo/demo.cert");
//! let model = Model::from_bytes(MODEL).unwrap();
//! let (mut input, mut scratch, mut counterexample) = ([0f32; 784], [0i16; 4096], [0f32; 784]);
//! let mut trail = Trail::<REFINE_DEPTH>::new();
//! let mut buffers = Buffers { scratch: &mut scratch, trail: &mut trail, counterexample: &mut counterexample };
//! let Ok(mut station) = Station::new(model, act, fallback) else { panic!() };
//! let end = serve(&mut station, &mut rx, &mut tx, &mut input, &mut buffers, |_index, round| match round {
//!     Round::Decided(outcome) => { /* log it */ }
//!     Round::Rejected(_) | Round::Failed(_) => { /* log it */ }
//! });
//! match end {
//!     ServeError::Eof => Ok(()), // the closing frame came in
//!     e => Err(e),
//! }
//! # }
//! ```
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod check;
pub mod frame;
#[cfg(feature = "defmt")]
pub mod log;
mod pins;
pub mod reply;
pub mod serve;
pub mod station;

pub use check::{CaseCheck, Meter, Tally, check_case};
pub use frame::{FrameError, ReadError};
pub use pins::ActiveLow;
pub use reply::Line;
pub use serve::{Round, ServeError, StationRound, serve, serve_one};
pub use station::{Outcome, Station, StationError};
