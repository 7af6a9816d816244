//! # cert-app
//!
//! The certifying application every board runs, written once over
//! embedded-hal and embedded-io, on `cert-runtime`:
//!
//! - [`station`]: the model, its own certification spec (budget and box
//!   budget) and the decision gate: [`Station::decide`] certifies an
//!   input, refines it when the interval pass cannot, and drives the action
//!   output only for a proven decision;
//! - [`serve`]: the loop of a board that receives inputs: an input
//!   [`frame`] in over a byte stream (a UART), a decision, a one-line
//!   [`reply`] out;
//! - [`check`]: the self-check of a board that carries the host's test
//!   vectors: every certificate, refined verdict and counterexample
//!   compared with the host's, bit for bit, costs counted, and a [`Tally`].
//!
//! A board crate only adds its glue: clocks, pins, peripherals, counters,
//! logging.
//!
//! ```no_run
//! # fn board<R: embedded_io::Read, W: embedded_io::Write, A: embedded_hal::digital::OutputPin, F: embedded_hal::digital::OutputPin>(
//! #     mut rx: R, mut tx: W, act: A, fallback: F) -> Result<(), cert_app::ServeError<R::Error, W::Error>> {
//! use cert_app::{Buffers, Round, Station, serve_one};
//! use cert_runtime::Model;
//!
//! static MODEL: &[u8] = include_bytes!("../../demo/demo.cert");
//! let model = Model::from_bytes(MODEL).unwrap();
//! let (mut input, mut scratch, mut counterexample) = ([0f32; 784], [0i16; 4096], [0f32; 784]);
//! let mut buffers = Buffers { scratch: &mut scratch, counterexample: &mut counterexample };
//! let Ok(mut station) = Station::new(model, act, fallback) else { panic!() };
//! loop {
//!     match serve_one(&mut station, &mut rx, &mut tx, &mut input, &mut buffers)? {
//!         Round::Decided(outcome) => { /* log it */ }
//!         Round::Rejected(_) | Round::Failed(_) => { /* log it */ }
//!     }
//! }
//! # }
//! ```
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod check;
pub mod frame;
mod pins;
pub mod reply;
pub mod serve;
pub mod station;

pub use check::{CaseCheck, Meter, Tally, check_case};
pub use frame::{FrameError, ReadError};
pub use pins::ActiveLow;
pub use reply::Line;
pub use serve::{Round, ServeError, StationRound, serve_one};
pub use station::{Buffers, Outcome, Station, StationError};
