//! The inference loops: point activations against one row, two rows,
//! or (a quad) four columns.
#![allow(unsafe_code)]

use core::arch::asm;

/// Two rows against the same activations: `pairs` iterations of two groups.
///
/// # Safety
///
/// `pairs >= 1`; `w0` and `w1` point to `8 * pairs` readable bytes each;
/// `x` points to `8 * pairs` readable, word-aligned `i16`s.
#[inline(always)]
pub(in crate::dsp) unsafe fn pair_loop(
    w0: *const u8,
    w1: *const u8,
    x: *const i16,
    pairs: usize,
) -> (i32, i32) {
    let (a0, a1): (i32, i32);
    // SAFETY: the sums start at zero; the loop runs `pairs` times and
    // reads 8 bytes of each weight row and 16 bytes of `x` per iteration,
    // within what the caller guarantees. `x` is word-aligned for LDRD; the
    // weight loads are unaligned LDRs, architecturally defined on ARMv7-M.
    // Only the named registers and the flags are written; no stack, no
    // stores.
    unsafe {
        asm!(
            "mov {a0}, #0",
            "mov {a1}, #0",
            "2:",
            "ldr {wa}, [{p0}], #4",
            "ldr {wb}, [{p1}], #4",
            "ldrd {x02}, {x13}, [{px}], #8",
            "sxtb16 {t}, {wa}",
            "smlad {a0}, {t}, {x02}, {a0}",
            "sxtb16 {wa}, {wa}, ror #8",
            "smlad {a0}, {wa}, {x13}, {a0}",
            "sxtb16 {t}, {wb}",
            "smlad {a1}, {t}, {x02}, {a1}",
            "sxtb16 {wb}, {wb}, ror #8",
            "smlad {a1}, {wb}, {x13}, {a1}",
            "ldr {wa}, [{p0}], #4",
            "ldr {wb}, [{p1}], #4",
            "ldrd {x02}, {x13}, [{px}], #8",
            "sxtb16 {t}, {wa}",
            "smlad {a0}, {t}, {x02}, {a0}",
            "sxtb16 {wa}, {wa}, ror #8",
            "smlad {a0}, {wa}, {x13}, {a0}",
            "sxtb16 {t}, {wb}",
            "smlad {a1}, {t}, {x02}, {a1}",
            "sxtb16 {wb}, {wb}, ror #8",
            "smlad {a1}, {wb}, {x13}, {a1}",
            "subs {n}, {n}, #1",
            "bne 2b",
            p0 = inout(reg) w0 => _,
            p1 = inout(reg) w1 => _,
            px = inout(reg) x => _,
            n = inout(reg) pairs => _,
            wa = out(reg) _,
            wb = out(reg) _,
            x02 = out(reg) _,
            x13 = out(reg) _,
            t = out(reg) _,
            a0 = out(reg) a0,
            a1 = out(reg) a1,
            options(nostack, readonly),
        );
    }
    (a0, a1)
}

/// One row: `pairs` iterations of two groups.
///
/// # Safety
///
/// As [`pair_loop`], for the one row `w`.
#[inline(always)]
pub(in crate::dsp) unsafe fn row_loop(w: *const u8, x: *const i16, pairs: usize) -> i32 {
    let a: i32;
    // SAFETY: as in `pair_loop`, for one row: `8 * pairs` bytes of `w`
    // and `8 * pairs` elements of the word-aligned `x`.
    unsafe {
        asm!(
            "mov {a}, #0",
            "2:",
            "ldr {w}, [{pw}], #4",
            "ldrd {x02}, {x13}, [{px}], #8",
            "sxtb16 {t}, {w}",
            "smlad {a}, {t}, {x02}, {a}",
            "sxtb16 {w}, {w}, ror #8",
            "smlad {a}, {w}, {x13}, {a}",
            "ldr {w}, [{pw}], #4",
            "ldrd {x02}, {x13}, [{px}], #8",
            "sxtb16 {t}, {w}",
            "smlad {a}, {t}, {x02}, {a}",
            "sxtb16 {w}, {w}, ror #8",
            "smlad {a}, {w}, {x13}, {a}",
            "subs {n}, {n}, #1",
            "bne 2b",
            pw = inout(reg) w => _,
            px = inout(reg) x => _,
            n = inout(reg) pairs => _,
            w = out(reg) _,
            x02 = out(reg) _,
            x13 = out(reg) _,
            t = out(reg) _,
            a = out(reg) a,
            options(nostack, readonly),
        );
    }
    a
}

/// One row against a quad of point columns: `groups` iterations of one
/// group, each weight load and sign extension serving all four columns
/// (four output pixels per weight pass); the four sums go to `out`.
///
/// # Safety
///
/// `groups >= 1`; `w` points to `4 * groups` readable bytes; `q` points to
/// `16 * groups` readable, word-aligned `i16`s.
#[inline(always)]
pub(in crate::dsp) unsafe fn quad_loop(
    w: *const u8,
    q: *const i16,
    groups: usize,
    out: &mut [i32; 4],
) {
    // SAFETY: the sums start at zero; the loop covers `groups` groups (the
    // first half of its first iteration skipped when `groups` is odd:
    // `groups = 2 n + 1` runs one group, then `n` iterations of two) and
    // reads 4 bytes of `w` and 32 bytes (16 elements) of `q` per group,
    // within what the caller guarantees. `q` is word-aligned for LDRD,
    // which reads each column's two lane words of the group in turn: (x0,
    // x2), (x1, x3). The only memory written is `out`, four `i32`s at a
    // word-aligned address (a `&mut [i32; 4]`); otherwise only the named
    // registers and the flags are written, and no stack.
    unsafe {
        asm!(
            "mov {a0}, #0",
            "mov {a1}, #0",
            "mov {a2}, #0",
            "mov {a3}, #0",
            "2:",
            "ldr {w}, [{pw}], #4",
            "sxtb16 {t}, {w}",
            "sxtb16 {w}, {w}, ror #8",
            "ldrd {x02}, {x13}, [{p}], #8",
            "smlad {a0}, {t}, {x02}, {a0}",
            "smlad {a0}, {w}, {x13}, {a0}",
            "ldrd {x02}, {x13}, [{p}], #8",
            "smlad {a1}, {t}, {x02}, {a1}",
            "smlad {a1}, {w}, {x13}, {a1}",
            "ldrd {x02}, {x13}, [{p}], #8",
            "smlad {a2}, {t}, {x02}, {a2}",
            "smlad {a2}, {w}, {x13}, {a2}",
            "ldrd {x02}, {x13}, [{p}], #8",
            "smlad {a3}, {t}, {x02}, {a3}",
            "smlad {a3}, {w}, {x13}, {a3}",
            "subs {n}, {n}, #1",
            "bne 2b",
            "strd {a0}, {a1}, [{o}]",
            "strd {a2}, {a3}, [{o}, #8]",
            pw = inout(reg) w => _,
            p = inout(reg) q => _,
            n = inout(reg) groups => _,
            o = in(reg) out.as_mut_ptr(),
            w = out(reg) _,
            t = out(reg) _,
            x02 = out(reg) _,
            x13 = out(reg) _,
            a0 = out(reg) _,
            a1 = out(reg) _,
            a2 = out(reg) _,
            a3 = out(reg) _,
            options(nostack),
        );
    }
}
