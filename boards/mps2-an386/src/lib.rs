//! # mps2-an386
//!
//! Board support for Arm's MPS2 AN386 (Cortex-M4F), as QEMU's `mps2-an386`
//! machine emulates it: the instruction counter (SysTick under `-icount`),
//! stack painting, the FPGAIO user LEDs as embedded-hal pins, and a
//! semihosting exit for every way out, panics and HardFaults included.
//!
//! Three programs use it: `serve` (`src/bin/serve.rs`), the application
//! every board ships, serving frames over UART0 ([`uart`]); `mps2-an386`
//! (`src/main.rs`), the self-check of the embedded model against the
//! host's test vectors; and `kernels` (`src/bin/kernels/`), the
//! DSP-versus-scalar kernel differential test.
#![no_std]

pub mod count;
pub mod exit;
pub mod leds;
pub mod stack;
pub mod uart;

use defmt_semihosting as _;

include!(concat!(env!("OUT_DIR"), "/sizes.rs"));

/// The model file, borrowed in place from flash.
pub static MODEL: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/model.cert"));
/// The host's test vectors for [`MODEL`].
pub static VECTORS: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/vectors.cvec"));

impl cert_app::Meter for count::Counter {
    fn measure<T>(&mut self, f: impl FnOnce() -> T) -> (T, u32) {
        self.count(f)
    }
}
