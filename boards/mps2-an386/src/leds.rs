//! The board's two user LEDs (FPGAIO `LED0` register on mps2-an386) as
//! embedded-hal output pins, read back to check what the gate drove.

use core::convert::Infallible;
use core::ptr;

use embedded_hal::digital::{ErrorType, OutputPin};

/// FPGAIO `LED0`: bit 0 and bit 1 are the user LEDs.
const LED0: *mut u32 = 0x4002_8000 as *mut u32;

/// One user LED.
pub struct Led {
    mask: u32,
}

impl Led {
    /// LED 0, the gate's action output.
    pub const ACT: Led = Led { mask: 1 };
    /// LED 1, the gate's fall-back output.
    pub const FALL_BACK: Led = Led { mask: 2 };

    fn modify(&mut self, f: impl FnOnce(u32) -> u32) {
        // SAFETY: LED0 is a device register; the firmware is single-threaded
        // and no interrupt handler touches it.
        unsafe { ptr::write_volatile(LED0, f(ptr::read_volatile(LED0))) }
    }
}

impl ErrorType for Led {
    type Error = Infallible;
}

impl OutputPin for Led {
    fn set_low(&mut self) -> Result<(), Infallible> {
        let mask = self.mask;
        self.modify(|v| v & !mask);
        Ok(())
    }

    fn set_high(&mut self) -> Result<(), Infallible> {
        let mask = self.mask;
        self.modify(|v| v | mask);
        Ok(())
    }
}

/// The LED register as it reads now: bit 0 action, bit 1 fall-back.
pub fn levels() -> u32 {
    // SAFETY: reading a device register has no side effect.
    unsafe { ptr::read_volatile(LED0) }
}
