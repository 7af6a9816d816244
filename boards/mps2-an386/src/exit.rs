//! Every way out of the firmware ends QEMU through semihosting: status 0
//! only for a passing run, 1 after a failure, a panic or a HardFault.

use core::panic::PanicInfo;

use cortex_m_rt::{ExceptionFrame, exception};
use cortex_m_semihosting::debug::{EXIT_FAILURE, EXIT_SUCCESS, exit as semihosting_exit};

/// Ends the run with status 0 when `passed`, 1 otherwise.
pub fn exit(passed: bool) -> ! {
    semihosting_exit(if passed { EXIT_SUCCESS } else { EXIT_FAILURE });
    // Only reached without a semihosting host: stop here rather than run on.
    loop {
        cortex_m::asm::wfi();
    }
}

#[panic_handler]
fn panic(info: &PanicInfo) -> ! {
    let (file, line) = info.location().map_or(("?", 0), |l| (l.file(), l.line()));
    // `as_str` avoids pulling core::fmt into the image.
    let message = info.message().as_str().unwrap_or("(formatted message)");
    defmt::error!("panic at {=str}:{=u32}: {=str}", file, line, message);
    exit(false)
}

// SAFETY: cortex-m-rt requires a HardFault handler to be an `unsafe fn`;
// this one only reads the stacked frame it is given, logs and exits.
#[exception]
unsafe fn HardFault(frame: &ExceptionFrame) -> ! {
    defmt::error!("HardFault at pc={=u32:#010x}", frame.pc());
    exit(false)
}
