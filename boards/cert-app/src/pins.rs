//! Pin adapters.

use embedded_hal::digital::{ErrorType, OutputPin};

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
