//! A certified decision gate over embedded-hal (`gate` feature): drive the
//! action output only for inputs whose decision is proven robust, and the
//! fall-back output for every other input.
//!
//! Switching is break-before-make: the output being released goes low
//! before the other goes high, and an error on the first stops the second,
//! so both outputs are never high together.
//!
//! ```
//! # use core::convert::Infallible;
//! # struct Pin(bool);
//! # impl embedded_hal::digital::ErrorType for Pin { type Error = Infallible; }
//! # impl embedded_hal::digital::OutputPin for Pin {
//! #     fn set_low(&mut self) -> Result<(), Infallible> { self.0 = false; Ok(()) }
//! #     fn set_high(&mut self) -> Result<(), Infallible> { self.0 = true; Ok(()) }
//! # }
//! use cert_runtime::gate::{CertifiedGate, Action};
//! use cert_runtime::{Certificate, Margins};
//!
//! let mut gate = CertifiedGate::new(Pin(false), Pin(false))?;
//! let cert = Certificate { class: 3, certified: true, margins: Margins::new() };
//! assert_eq!(gate.apply(&cert)?, Action::Act { class: 3 });
//! let (act, fallback) = gate.release();
//! assert!(act.0 && !fallback.0);
//! # Ok::<(), cert_runtime::gate::GateError<Infallible, Infallible>>(())
//! ```

use embedded_hal::digital::OutputPin;

use crate::certify::Certificate;
use crate::verdict::Decision;

/// What the gate did with one certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Action {
    /// Certified: the action output is high.
    Act {
        /// The certified class.
        class: usize,
    },
    /// Not certified: the fall-back output is high.
    FallBack {
        /// The predicted, uncertified class.
        class: usize,
    },
}

/// A pin error, tagged with the output it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum GateError<A, F> {
    /// The action output failed.
    Act(A),
    /// The fall-back output failed.
    FallBack(F),
}

/// Two outputs, at most one of them high: `act` for certified inputs,
/// `fallback` for the rest.
#[derive(Debug)]
pub struct CertifiedGate<A, F> {
    act: A,
    fallback: F,
}

/// The error type of a gate over `A` and `F`.
pub type Error<A, F> = GateError<
    <A as embedded_hal::digital::ErrorType>::Error,
    <F as embedded_hal::digital::ErrorType>::Error,
>;

impl<A: OutputPin, F: OutputPin> CertifiedGate<A, F> {
    /// Takes the two outputs and drives both low: no decision yet.
    pub fn new(act: A, fallback: F) -> Result<Self, Error<A, F>> {
        let mut gate = CertifiedGate { act, fallback };
        gate.idle()?;
        Ok(gate)
    }

    /// Drives the outputs for one certificate: the action if and only if
    /// it is certified, the fall-back otherwise.
    pub fn apply(&mut self, cert: &Certificate) -> Result<Action, Error<A, F>> {
        self.decide(cert.class, cert.certified)
    }

    /// Drives the outputs for a [`Decision`]: the action if and only if it
    /// is proven (by the interval pass or by refinement).
    pub fn apply_decision(&mut self, decision: &Decision) -> Result<Action, Error<A, F>> {
        self.decide(decision.class(), decision.proven())
    }

    /// Drives the outputs for a decision about `class`: the action if and
    /// only if it is `proven` (by a certificate, or by refinement).
    pub fn decide(&mut self, class: usize, proven: bool) -> Result<Action, Error<A, F>> {
        if proven {
            self.fallback.set_low().map_err(GateError::FallBack)?;
            self.act.set_high().map_err(GateError::Act)?;
            Ok(Action::Act { class })
        } else {
            self.act.set_low().map_err(GateError::Act)?;
            self.fallback.set_high().map_err(GateError::FallBack)?;
            Ok(Action::FallBack { class })
        }
    }

    /// Drives both outputs low.
    pub fn idle(&mut self) -> Result<(), Error<A, F>> {
        self.act.set_low().map_err(GateError::Act)?;
        self.fallback.set_low().map_err(GateError::FallBack)
    }

    /// Gives the outputs back, in their current state.
    pub fn release(self) -> (A, F) {
        (self.act, self.fallback)
    }
}

#[cfg(test)]
mod tests {
    extern crate std;

    use std::cell::RefCell;
    use std::rc::Rc;
    use std::vec;
    use std::vec::Vec;

    use embedded_hal::digital::{ErrorKind, ErrorType};

    use super::*;
    use crate::certify::Margins;

    /// Every level change of both pins, in order: (pin name, level).
    type Log = Rc<RefCell<Vec<(&'static str, bool)>>>;

    /// A pin that records its changes and can be told to fail.
    #[derive(Debug)]
    struct Pin {
        name: &'static str,
        log: Log,
        broken: bool,
    }

    impl ErrorType for Pin {
        type Error = ErrorKind;
    }

    impl OutputPin for Pin {
        fn set_low(&mut self) -> Result<(), ErrorKind> {
            self.set(false)
        }

        fn set_high(&mut self) -> Result<(), ErrorKind> {
            self.set(true)
        }
    }

    impl Pin {
        fn set(&mut self, level: bool) -> Result<(), ErrorKind> {
            if self.broken {
                return Err(ErrorKind::Other);
            }
            self.log.borrow_mut().push((self.name, level));
            Ok(())
        }
    }

    fn pins(log: &Log) -> (Pin, Pin) {
        let pin = |name| Pin {
            name,
            log: log.clone(),
            broken: false,
        };
        (pin("act"), pin("fallback"))
    }

    fn cert(class: usize, certified: bool) -> Certificate {
        Certificate {
            class,
            certified,
            margins: Margins::new(),
        }
    }

    /// Replays the log and checks that both pins are never high together.
    fn never_both_high(log: &Log) {
        let (mut act, mut fallback) = (false, false);
        for &(name, level) in log.borrow().iter() {
            match name {
                "act" => act = level,
                _ => fallback = level,
            }
            assert!(!(act && fallback), "both high in {:?}", log.borrow());
        }
    }

    #[test]
    fn new_drives_both_low() {
        let log = Log::default();
        let (act, fallback) = pins(&log);
        CertifiedGate::new(act, fallback).unwrap();
        assert_eq!(*log.borrow(), vec![("act", false), ("fallback", false)]);
    }

    #[test]
    fn acts_only_on_certified_inputs() {
        let log = Log::default();
        let (act, fallback) = pins(&log);
        let mut gate = CertifiedGate::new(act, fallback).unwrap();
        log.borrow_mut().clear();
        assert_eq!(
            gate.apply(&cert(7, true)).unwrap(),
            Action::Act { class: 7 }
        );
        assert_eq!(*log.borrow(), vec![("fallback", false), ("act", true)]);
        log.borrow_mut().clear();
        assert_eq!(
            gate.apply(&cert(2, false)).unwrap(),
            Action::FallBack { class: 2 }
        );
        assert_eq!(*log.borrow(), vec![("act", false), ("fallback", true)]);
    }

    #[test]
    fn outputs_are_never_high_together() {
        let log = Log::default();
        let (act, fallback) = pins(&log);
        let mut gate = CertifiedGate::new(act, fallback).unwrap();
        for certified in [true, false, false, true, true, false] {
            gate.apply(&cert(1, certified)).unwrap();
        }
        gate.idle().unwrap();
        never_both_high(&log);
        assert_eq!(log.borrow().last(), Some(&("fallback", false)));
    }

    #[test]
    fn a_failed_release_stops_the_switch() {
        let log = Log::default();
        let (act, fallback) = pins(&log);
        let mut gate = CertifiedGate::new(act, fallback).unwrap();
        gate.apply(&cert(0, false)).unwrap();
        let (act, mut fallback) = gate.release();
        fallback.broken = true;
        let mut gate = CertifiedGate { act, fallback };
        assert_eq!(
            gate.apply(&cert(0, true)),
            Err(GateError::FallBack(ErrorKind::Other))
        );
        never_both_high(&log);
        assert_eq!(log.borrow().last(), Some(&("fallback", true)));
    }

    #[test]
    fn act_errors_are_tagged() {
        let log = Log::default();
        let (mut act, fallback) = pins(&log);
        act.broken = true;
        assert_eq!(
            CertifiedGate::new(act, fallback).unwrap_err(),
            GateError::Act(ErrorKind::Other)
        );
    }
}
