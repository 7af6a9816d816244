//! The one-line ASCII reply a board sends back for every frame, written
//! without `core::fmt` (which would cost kilobytes of flash):
//!
//! ```text
//! ok class=7 certified=1 min_margin=412 boxes=1    proven by the interval pass: act
//! ok class=1 certified=1 min_margin=-19 boxes=3    proven by refinement (3 boxes): act
//! ok class=2 certified=0 min_margin=-35 boxes=64   not proven: the fall-back output is on
//! err length got=100 expected=3136                 frame rejected, nothing driven
//! err frame                                        bad magic, version or checksum
//! err runtime                                      the runtime refused the input
//! err gate                                         the LED pins could not be driven
//! ```

use crate::frame::FrameError;
use crate::station::{Outcome, StationError};

/// Longest reply, newline included.
pub const LINE_MAX: usize = 72;

/// One reply line.
#[derive(Clone)]
pub struct Line {
    buf: [u8; LINE_MAX],
    len: usize,
}

impl Line {
    /// The reply to a decided frame: `certified` is the decision (the
    /// interval pass or refinement proved it), `min_margin` the interval
    /// pass's, `boxes` those bounded.
    pub fn outcome(o: &Outcome) -> Line {
        let d = &o.decision;
        let mut line = Line::new("ok class=");
        line.unsigned(d.class());
        line.text(" certified=");
        line.unsigned(usize::from(d.proven()));
        line.text(" min_margin=");
        line.signed(d.certificate.min_margin());
        line.text(" boxes=");
        line.unsigned(d.boxes as usize);
        line.end()
    }

    /// The reply to a rejected frame.
    pub fn rejected(e: &FrameError) -> Line {
        match *e {
            FrameError::Length { got, expected } => {
                let mut line = Line::new("err length got=");
                line.unsigned(got);
                line.text(" expected=");
                line.unsigned(expected);
                line.end()
            }
            FrameError::Container(_) => Line::new("err frame").end(),
        }
    }

    /// The reply to a frame the station could not decide.
    pub fn failed<GE>(e: &StationError<GE>) -> Line {
        match e {
            StationError::Gate(_) => Line::new("err gate").end(),
            StationError::Runtime(_) => Line::new("err runtime").end(),
        }
    }

    /// The bytes to send.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    fn new(text: &str) -> Line {
        let mut line = Line {
            buf: [0; LINE_MAX],
            len: 0,
        };
        line.text(text);
        line
    }

    fn end(mut self) -> Line {
        self.text("\n");
        self
    }

    /// Appends `text`, cut short if the line is full (never with the
    /// replies above: the longest is well under [`LINE_MAX`]).
    fn text(&mut self, text: &str) {
        for &b in text.as_bytes() {
            self.byte(b);
        }
    }

    fn byte(&mut self, b: u8) {
        if let Some(slot) = self.buf.get_mut(self.len) {
            *slot = b;
            self.len += 1;
        }
    }

    /// Appends `n` in decimal.
    fn signed(&mut self, n: i32) {
        if n < 0 {
            self.byte(b'-');
        }
        self.digits(n.unsigned_abs());
    }

    /// Appends `n` in decimal (saturating at `u32::MAX`, far above any
    /// class or input length).
    fn unsigned(&mut self, n: usize) {
        self.digits(u32::try_from(n).unwrap_or(u32::MAX));
    }

    /// Appends `n` in decimal. `u32`, not `u64`: 64-bit division would
    /// link a software divider.
    fn digits(&mut self, n: u32) {
        let mut digits = [0u8; 10];
        let mut i = digits.len();
        let mut rest = n;
        loop {
            i -= 1;
            digits[i] = b'0' + (rest % 10) as u8;
            rest /= 10;
            if rest == 0 {
                break;
            }
        }
        for &d in &digits[i..] {
            self.byte(d);
        }
    }
}

#[cfg(test)]
mod tests {
    extern crate std;

    use cert_runtime::gate::Action;
    use cert_runtime::{Certificate, Decision, Margins, Verdict};

    use super::*;

    fn text(line: &Line) -> &str {
        core::str::from_utf8(line.as_bytes()).unwrap()
    }

    #[test]
    fn replies() {
        let margins = Margins::from_slice(&[-35, 0, i32::MIN]).unwrap();
        let mut o = Outcome {
            decision: Decision {
                certificate: Certificate {
                    class: 1,
                    certified: false,
                    margins,
                },
                verdict: Verdict::Unknown,
                boxes: 1,
            },
            action: Action::FallBack { class: 1 },
        };
        assert_eq!(
            text(&Line::outcome(&o)),
            "ok class=1 certified=0 min_margin=-2147483648 boxes=1\n"
        );
        (o.decision.verdict, o.decision.boxes) = (Verdict::Certified, 17);
        assert_eq!(
            text(&Line::outcome(&o)),
            "ok class=1 certified=1 min_margin=-2147483648 boxes=17\n"
        );
        let e = FrameError::Length {
            got: 100,
            expected: 3136,
        };
        assert_eq!(
            text(&Line::rejected(&e)),
            "err length got=100 expected=3136\n"
        );
        let bad_magic = FrameError::Container(cert_runtime::ContainerError::BadMagic);
        assert_eq!(text(&Line::rejected(&bad_magic)), "err frame\n");
        let e = StationError::<()>::Runtime(cert_runtime::Error::InvalidEps { channel: 0 });
        assert_eq!(text(&Line::failed(&e)), "err runtime\n");
    }

    #[test]
    fn numbers() {
        for n in [
            0,
            7,
            -7,
            10,
            412,
            i32::from(u16::MAX),
            -1_000_000,
            i32::MIN,
            i32::MAX,
        ] {
            let mut line = Line::new("");
            line.signed(n);
            assert_eq!(text(&line), std::format!("{n}"));
        }
        let mut line = Line::new("");
        line.unsigned(u32::MAX as usize);
        assert_eq!(text(&line), "4294967295");
    }
}
