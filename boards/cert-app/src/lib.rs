//! # cert-app
//!
//! The certifying application every board runs, written once over
//! embedded-hal and embedded-io: read an image [`frame`] from a byte
//! stream (a UART), certify it with `cert_runtime::Model::certify` at a
//! fixed eps, drive the certified decision gate
//! (`cert_runtime::gate::CertifiedGate`) on two output pins, and send a
//! one-line [`reply`]. A board crate only adds its glue: clocks, pins,
//! peripherals, logging.
//!
//! ```no_run
//! # fn board<R: embedded_io::Read, W: embedded_io::Write, A: embedded_hal::digital::OutputPin, F: embedded_hal::digital::OutputPin>(
//! #     mut rx: R, mut tx: W, act: A, fallback: F) -> Result<(), cert_app::ServeError<R::Error, W::Error>> {
//! use cert_app::{Round, Station, serve_one};
//! use cert_runtime::Model;
//!
//! static MODEL: &[u8] = include_bytes!("../../../firmware/demo/demo.cert");
//! let model = Model::from_bytes(MODEL).unwrap();
//! let (mut pixels, mut input, mut scratch) = ([0u8; 784], [0f32; 784], [0i16; 4096]);
//! let Ok(mut station) = Station::new(model, 0.1, act, fallback) else { panic!() };
//! loop {
//!     match serve_one(&mut station, &mut rx, &mut tx, &mut pixels, &mut input, &mut scratch)? {
//!         Round::Decided(verdict) => { /* log it */ }
//!         Round::Rejected(_) | Round::Failed(_) => { /* log it */ }
//!     }
//! }
//! # }
//! ```
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod frame;
pub mod reply;
pub mod station;

use embedded_hal::digital::{ErrorType, OutputPin};
use embedded_io::{Read, Write};

pub use frame::{FrameError, ReadError};
pub use reply::Line;
pub use station::{Station, StationError, Verdict, pixels_to_input};

/// How one frame went (every case sends a reply line).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Round<GE> {
    /// Certified or not, the gate drove the decision.
    Decided(Verdict),
    /// The frame was rejected; the gate is unchanged.
    Rejected(FrameError),
    /// The station could not decide; the gate is unchanged.
    Failed(StationError<GE>),
}

/// The round of a station whose gate drives `A` and `F`.
pub type StationRound<A, F> = Round<cert_runtime::gate::Error<A, F>>;

/// A stream error: the input ended or a peripheral failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ServeError<RE, WE> {
    /// The input stream ended.
    Eof,
    /// Reading failed.
    Read(RE),
    /// Sending the reply failed.
    Write(WE),
}

/// Serves one frame: reads it from `rx` into `pixels` (of the model's
/// input length), certifies it and drives the gate, and writes the reply
/// line to `tx`. A rejected frame is a [`Round`], not an error: the next
/// call resynchronises on the next frame.
pub fn serve_one<R: Read, W: Write, A: OutputPin, F: OutputPin>(
    station: &mut Station<'_, A, F>,
    rx: &mut R,
    tx: &mut W,
    pixels: &mut [u8],
    input: &mut [f32],
    scratch: &mut [i16],
) -> Result<StationRound<A, F>, ServeError<R::Error, W::Error>> {
    let (round, line) = match frame::read_frame(rx, pixels) {
        Ok(()) => match station.decide(pixels, input, scratch) {
            Ok(verdict) => {
                let line = Line::verdict(&verdict);
                (Round::Decided(verdict), line)
            }
            Err(e) => {
                let line = Line::failed(&e);
                (Round::Failed(e), line)
            }
        },
        Err(ReadError::Frame(e)) => (Round::Rejected(e), Line::rejected(&e)),
        Err(ReadError::Eof) => return Err(ServeError::Eof),
        Err(ReadError::Io(e)) => return Err(ServeError::Read(e)),
    };
    tx.write_all(line.as_bytes()).map_err(ServeError::Write)?;
    tx.flush().map_err(ServeError::Write)?;
    Ok(round)
}

/// An output pin wired active low (an LED between the pin and the supply,
/// as on most boards): `set_high` turns it on by driving the pin low.
pub struct ActiveLow<P>(pub P);

impl<P: ErrorType> ErrorType for ActiveLow<P> {
    type Error = P::Error;
}

impl<P: OutputPin> OutputPin for ActiveLow<P> {
    fn set_low(&mut self) -> Result<(), Self::Error> {
        self.0.set_high()
    }

    fn set_high(&mut self) -> Result<(), Self::Error> {
        self.0.set_low()
    }
}
