//! Instruction counts from SysTick. Under QEMU's `-icount shift=0` one
//! instruction takes one nanosecond of virtual time, and SysTick runs from
//! the 25 MHz core clock: one tick is 40 instructions.

use core::arch::asm;

use cortex_m::peripheral::SYST;
use cortex_m::peripheral::syst::SystClkSource;

/// Instructions per SysTick tick under `-icount shift=0` on mps2.
pub const INSTRUCTIONS_PER_TICK: u32 = 40;
/// The largest SysTick reload: 2^24 ticks, about 671 million instructions.
const RELOAD: u32 = 0x00FF_FFFF;

/// Counts the instructions a closure executes, to within one tick.
pub struct Counter {
    syst: SYST,
    /// Set when a measurement ran longer than one SysTick period.
    overflowed: bool,
}

impl Counter {
    /// Starts SysTick from the core clock, without its interrupt.
    pub fn new(mut syst: SYST) -> Self {
        syst.disable_interrupt();
        syst.set_clock_source(SystClkSource::Core);
        syst.set_reload(RELOAD);
        syst.clear_current();
        syst.enable_counter();
        Counter {
            syst,
            overflowed: false,
        }
    }

    /// Runs `f` and returns its result with the instructions it executed.
    pub fn count<T>(&mut self, f: impl FnOnce() -> T) -> (T, u32) {
        self.syst.clear_current();
        // The counter reloads on the tick after the clear; wait for it (boundedly).
        for _ in 0..INSTRUCTIONS_PER_TICK {
            if SYST::get_current() != 0 {
                break;
            }
        }
        let _ = self.syst.has_wrapped();
        let start = SYST::get_current();
        let out = f();
        let end = SYST::get_current();
        if self.syst.has_wrapped() {
            self.overflowed = true;
        }
        (out, start.wrapping_sub(end) * INSTRUCTIONS_PER_TICK)
    }

    /// Runs `f`, handing it a `mark` that records, for every index `i < N`
    /// it is called with, the instructions from the start of `f` to the
    /// call; returns `f`'s result and the marks.
    pub fn count_marks<T, const N: usize>(
        &mut self,
        f: impl FnOnce(&mut dyn FnMut(usize)) -> T,
    ) -> (T, [u32; N]) {
        let mut marks = [0u32; N];
        let (out, _) = self.count(|| {
            let start = SYST::get_current();
            let mut mark = |i: usize| {
                if let Some(slot) = marks.get_mut(i) {
                    let ticks = start.wrapping_sub(SYST::get_current()) & RELOAD;
                    *slot = ticks * INSTRUCTIONS_PER_TICK;
                }
            };
            f(&mut mark)
        });
        (out, marks)
    }

    /// Checks that ticks are instructions by timing a loop of known length;
    /// logs a warning when they are not (QEMU run without `-icount shift=0`).
    pub fn calibrate(&mut self) -> bool {
        const LOOPS: u32 = 50_000;
        // Two instructions per iteration, plus a few around the loop.
        let expected = 2 * LOOPS;
        let ((), counted) = self.count(|| spin(LOOPS));
        let calibrated = counted.abs_diff(expected) <= 2 * INSTRUCTIONS_PER_TICK;
        if !calibrated {
            defmt::warn!(
                "SysTick counted {=u32} for {=u32} instructions: run QEMU with -icount shift=0",
                counted,
                expected
            );
        }
        calibrated
    }

    /// True when no measurement ran past one SysTick period.
    pub fn in_range(&self) -> bool {
        !self.overflowed
    }
}

/// Executes exactly `2 * n` instructions (`n >= 1`).
fn spin(n: u32) {
    // SAFETY: only touches the one register it is given.
    unsafe {
        asm!(
            "0:",
            "subs {n}, #1",
            "bne 0b",
            n = inout(reg) n => _,
            options(nomem, nostack),
        );
    }
}
