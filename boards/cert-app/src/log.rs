//! The log lines every board writes (defmt), so that a board's log reads
//! the same on every chip: one line per round of the serve loop.

use crate::serve::{Round, ServeError};

/// Logs one round of the serve loop.
pub fn round<GE: defmt::Format>(index: u32, round: &Round<GE>) {
    match round {
        Round::Decided(o) => {
            let d = &o.decision;
            defmt::info!(
                "frame {=u32}: class={=usize} verdict={} boxes={=u32} min_margin={=i32} -> {=str}",
                index,
                d.class(),
                d.verdict,
                d.boxes,
                d.certificate.min_margin(),
                if d.proven() { "act" } else { "fall back" }
            );
        }
        Round::Rejected(e) => defmt::warn!("frame {=u32}: rejected: {}", index, e),
        Round::Failed(e) => defmt::error!("frame {=u32}: not decided: {}", index, e),
    }
}

/// Logs how a session ended.
pub fn end<RE: embedded_io::Error, WE: embedded_io::Error>(end: &ServeError<RE, WE>) {
    match end {
        ServeError::Eof => defmt::info!("session closed"),
        ServeError::Read(e) => defmt::warn!("read failed: {}", e.kind()),
        ServeError::Write(e) => defmt::warn!("write failed: {}", e.kind()),
    }
}
