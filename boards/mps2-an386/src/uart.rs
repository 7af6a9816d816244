//! UART0 of the MPS2 AN386 (Arm's CMSDK APB UART at `0x4000_4000`), as
//! embedded-io byte streams: what the serve program reads frames from and
//! writes replies to. Under QEMU it is the first `-serial` (run-qemu.sh
//! connects it to files when asked). Blocking, polled, no interrupts.
//!
//! The register accesses are this board's `unsafe` (with [`crate::leds`]):
//! volatile reads and writes of fixed device addresses.

use core::convert::Infallible;
use core::ptr;

use embedded_io::{ErrorType, Read, Write};

const BASE: usize = 0x4000_4000;
const DATA: *mut u32 = BASE as *mut u32;
const STATE: *mut u32 = (BASE + 0x04) as *mut u32;
const CTRL: *mut u32 = (BASE + 0x08) as *mut u32;
const BAUDDIV: *mut u32 = (BASE + 0x10) as *mut u32;
/// `STATE`: the transmit buffer is full.
const TX_FULL: u32 = 1;
/// `STATE`: the receive buffer holds a byte.
const RX_FULL: u32 = 2;
/// `CTRL`: transmit and receive enabled.
const TX_RX_ENABLE: u32 = 3;

fn read(register: *mut u32) -> u32 {
    // SAFETY: `register` is one of this UART's device registers above; the
    // firmware is single-threaded and no interrupt handler touches them.
    unsafe { ptr::read_volatile(register) }
}

fn write(register: *mut u32, value: u32) {
    // SAFETY: as in `read`.
    unsafe { ptr::write_volatile(register, value) }
}

/// The receiving half.
pub struct Rx(());

/// The sending half.
pub struct Tx(());

/// Enables UART0 (the smallest legal baud divider: QEMU ignores the rate)
/// and returns its two halves. Call once.
pub fn split() -> (Rx, Tx) {
    write(BAUDDIV, 16);
    write(CTRL, TX_RX_ENABLE);
    (Rx(()), Tx(()))
}

impl ErrorType for Rx {
    type Error = Infallible;
}

impl Read for Rx {
    /// Waits for a byte and returns it (one byte per call: the UART holds
    /// one).
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Infallible> {
        let Some(first) = buf.first_mut() else {
            return Ok(0);
        };
        while read(STATE) & RX_FULL == 0 {}
        *first = read(DATA) as u8;
        Ok(1)
    }
}

impl ErrorType for Tx {
    type Error = Infallible;
}

impl Write for Tx {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Infallible> {
        for &byte in buf {
            while read(STATE) & TX_FULL != 0 {}
            write(DATA, u32::from(byte));
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> Result<(), Infallible> {
        Ok(())
    }
}
