//! Peak stack by painting: fill the free stack with a pattern once, and
//! later find the lowest word that no longer holds it.

use core::arch::asm;
use core::ptr;

/// The paint: an unlikely value for a stack word.
const PAINT: u32 = 0xDEC0_ADDE;

// SAFETY: the linker script of cortex-m-rt defines both symbols with these
// types; only their addresses are taken (`&raw const`), never a reference.
unsafe extern "C" {
    /// Lowest address the stack may reach (end of static RAM), from cortex-m-rt.
    static mut _stack_end: u32;
    /// Initial stack pointer (top of RAM), from cortex-m-rt.
    static _stack_start: u32;
}

/// Paints from the stack's limit up to the current stack pointer.
#[inline(always)]
pub fn paint() {
    // SAFETY: the words below the stack pointer are unused, no interrupt is
    // enabled yet, and the loop itself keeps everything in registers.
    unsafe {
        asm!(
            "0:",
            "cmp {p}, sp",
            "bhs 1f",
            "str {v}, [{p}], #4",
            "b 0b",
            "1:",
            p = inout(reg) &raw mut _stack_end => _,
            v = in(reg) PAINT,
            options(nostack),
        );
    }
}

/// Bytes of stack used at the deepest point since [`paint`].
pub fn peak() -> u32 {
    let top = &raw const _stack_start as usize;
    let mut word = &raw const _stack_end;
    // SAFETY: every address from `_stack_end` to the top is RAM.
    while (word as usize) < top && unsafe { ptr::read_volatile(word) } == PAINT {
        word = word.wrapping_add(1);
    }
    (top - word as usize) as u32
}
