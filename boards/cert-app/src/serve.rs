//! The serve loop every board runs: one frame in, one decision on the
//! gate, one reply line out, until the session closes.

use cert_runtime::Buffers;
use embedded_hal::digital::OutputPin;
use embedded_io::{Read, Write};

use crate::frame::{self, FrameError, ReadError};
use crate::reply::Line;
use crate::station::{Outcome, Station, StationError};

/// How one frame went (every frame gets a reply line).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Round<GE> {
    /// Certified, refined or not, the gate drove the decision.
    Decided(Outcome),
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
    /// The session closed: the closing frame came in, or a finite stream
    /// ran out.
    Eof,
    /// Reading failed.
    Read(RE),
    /// Sending the reply failed.
    Write(WE),
}

/// Serves one frame: reads it from `rx` into `input` (one value per model
/// input), decides it and drives the gate, and writes the reply line to
/// `tx`. A rejected frame is a [`Round`], not an error: the next call
/// resynchronises on the next frame.
pub fn serve_one<R: Read, W: Write, A: OutputPin, F: OutputPin, const N: usize>(
    station: &mut Station<'_, A, F>,
    rx: &mut R,
    tx: &mut W,
    input: &mut [f32],
    buffers: &mut Buffers<'_, N>,
) -> Result<StationRound<A, F>, ServeError<R::Error, W::Error>> {
    let (round, line) = match frame::read_frame(rx, input) {
        Ok(()) => match station.decide(input, buffers) {
            Ok(outcome) => {
                let line = Line::outcome(&outcome);
                (Round::Decided(outcome), line)
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

/// Serves frames until the session closes or the stream fails, calling
/// `on_round(index, &round)` after each reply (a board logs it there), and
/// returns how it ended ([`ServeError::Eof`] for a closed session).
pub fn serve<R: Read, W: Write, A: OutputPin, F: OutputPin, const N: usize>(
    station: &mut Station<'_, A, F>,
    rx: &mut R,
    tx: &mut W,
    input: &mut [f32],
    buffers: &mut Buffers<'_, N>,
    mut on_round: impl FnMut(u32, &StationRound<A, F>),
) -> ServeError<R::Error, W::Error> {
    let mut index = 0u32;
    loop {
        match serve_one(station, rx, tx, input, buffers) {
            Ok(round) => on_round(index, &round),
            Err(end) => return end,
        }
        index = index.wrapping_add(1);
    }
}
