//! The five inline-assembly loops of the DSP kernels, each an `unsafe fn`
//! whose contract is written on it; the safe wrappers in the parent
//! module check every length and alignment before calling one.
//!
//! # Why every lane and accumulator is exact
//!
//! - Weights are int8: SXTB16 sign-extends bytes 0, 2 (or, rotated by 8,
//!   bytes 1, 3) into exact 16-bit lanes; `SSUB8` + `SEL` pick `-w` or `w`
//!   per byte, which is `|w|` in `0..=128` as an *unsigned* byte (`|-128|`
//!   is `0x80`), and UXTB16 zero-extends that exactly.
//! - Activations are `q - z` for two int8 values, in `[-255, 255]`; an
//!   interval's doubled centre `lo + hi - 2z` is in `[-510, 510]` and its
//!   radius `hi - lo` in `[0, 255]`. All fit 16-bit lanes.
//! - One SMLAD adds two products of at most `128 * 510` each to the
//!   accumulator, in 32-bit two's complement. Addition modulo 2^32 is
//!   associative and commutative, so the DSP order of the additions gives
//!   the same 32-bit result as [`Scalar`](crate::Scalar)'s (which wraps too), for every
//!   input. The model loader's headroom rule, `3 * (|bias| + 255 * sum |w|)
//!   <= i32::MAX` per output channel (FORMAT.md section 3), bounds every
//!   partial sum of a loaded model's rows by `510 * sum |w| < i32::MAX`, so
//!   there the result is also the exact integer sum: no wrap happens.
//!
//! # Memory access
//!
//! Weights are read with unaligned word loads (`LDR`, allowed on ARMv7-M
//! while `CCR.UNALIGN_TRP` is clear, its reset value), so rows can sit at
//! any offset of a model file in flash. Activations are read with `LDRD` /
//! `LDM`, which need word alignment: the wrappers check it and fall back to
//! Rust sums one group at a time otherwise (the runtime always aligns its
//! buffers), as they do for rows shorter than the loop's step. The point
//! and interval loops cover two groups of four weights per iteration (an
//! odd last group is added in Rust), the quad and interval pair loops one.
//! The only stores are those two loops': their four sums, with one `STRD`
//! pair, into the `&mut [i32; 4]` they are given (word-aligned, as `STRD`
//! needs); the interval pair loop also pushes and pops that address, its
//! only use of the stack.
#![allow(unsafe_code)]

use core::arch::asm;

/// Two rows against the same activations: `pairs` iterations of two groups.
///
/// # Safety
///
/// `pairs >= 1`; `w0` and `w1` point to `8 * pairs` readable bytes each;
/// `x` points to `8 * pairs` readable, word-aligned `i16`s.
#[inline(always)]
pub(super) unsafe fn pair_loop(
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
pub(super) unsafe fn row_loop(w: *const u8, x: *const i16, pairs: usize) -> i32 {
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

/// One row's centre and radius sums: `pairs` iterations of two groups.
///
/// # Safety
///
/// `pairs >= 1`; `w` points to `8 * pairs` readable bytes; `cr` points to
/// `16 * pairs` readable, word-aligned `i16`s.
#[inline(always)]
pub(super) unsafe fn interval_loop(w: *const u8, cr: *const i16, pairs: usize) -> (i32, i32) {
    let (mid, rad): (i32, i32);
    // SAFETY: the sums start at zero; the loop runs `pairs` times and
    // reads 8 bytes of `w` and 32 bytes (16 elements) of `cr` per
    // iteration, within what the caller guarantees. `cr` is word-aligned
    // for LDM, whose register list r2-r5 receives the group's words in
    // address order: (c0, c2), (c1, c3), (r0, r2), (r1, r3). Only the
    // named registers and the flags (including GE, set by SSUB8 for SEL)
    // are written; no stack, no stores.
    unsafe {
        asm!(
            "mov {mid}, #0",
            "mov {rad}, #0",
            "2:",
            "ldr {w}, [{pw}], #4",
            "ldm {p}!, {{r2, r3, r4, r5}}",
            "sxtb16 {t}, {w}",
            "smlad {mid}, {t}, r2, {mid}",
            "sxtb16 {t}, {w}, ror #8",
            "smlad {mid}, {t}, r3, {mid}",
            "ssub8 {t}, {zero}, {w}",
            "sel {t}, {t}, {w}",
            "uxtb16 {w}, {t}",
            "smlad {rad}, {w}, r4, {rad}",
            "uxtb16 {w}, {t}, ror #8",
            "smlad {rad}, {w}, r5, {rad}",
            "ldr {w}, [{pw}], #4",
            "ldm {p}!, {{r2, r3, r4, r5}}",
            "sxtb16 {t}, {w}",
            "smlad {mid}, {t}, r2, {mid}",
            "sxtb16 {t}, {w}, ror #8",
            "smlad {mid}, {t}, r3, {mid}",
            "ssub8 {t}, {zero}, {w}",
            "sel {t}, {t}, {w}",
            "uxtb16 {w}, {t}",
            "smlad {rad}, {w}, r4, {rad}",
            "uxtb16 {w}, {t}, ror #8",
            "smlad {rad}, {w}, r5, {rad}",
            "subs {n}, {n}, #1",
            "bne 2b",
            pw = inout(reg) w => _,
            p = inout(reg) cr => _,
            n = inout(reg) pairs => _,
            w = out(reg) _,
            t = out(reg) _,
            zero = in(reg) 0u32,
            mid = out(reg) mid,
            rad = out(reg) rad,
            out("r2") _,
            out("r3") _,
            out("r4") _,
            out("r5") _,
            options(nostack, readonly),
        );
    }
    (mid, rad)
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
pub(super) unsafe fn quad_loop(w: *const u8, q: *const i16, groups: usize, out: &mut [i32; 4]) {
    // SAFETY: the sums start at zero; the loop runs `groups` times and
    // reads 4 bytes of `w` and 32 bytes (16 elements) of `q` per iteration,
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

/// One row against an interval pair (two interval columns): `groups`
/// iterations of one group, each weight load, sign extension and absolute
/// value serving both pixels (two output pixels per weight pass); the sums
/// `[mid0, mid1, rad0, rad1]` go to `out`.
///
/// # Safety
///
/// `groups >= 1`; `w` points to `4 * groups` readable bytes; `q` points to
/// `16 * groups` readable, word-aligned `i16`s.
#[inline(always)]
pub(super) unsafe fn interval_pair_loop(
    w: *const u8,
    q: *const i16,
    groups: usize,
    out: &mut [i32; 4],
) {
    // SAFETY: the sums start at zero; the loop runs `groups` times and
    // reads 4 bytes of `w` and 32 bytes (16 elements) of `q` per iteration,
    // within what the caller guarantees. `q` is word-aligned for LDRD,
    // which reads, per group, pixel 0's centre lane words (c0, c2), (c1,
    // c3), then pixel 1's, then the two pixels' radii likewise. `|w|` is
    // `SEL` of `0 - w` and `w` per byte on the GE flags of that `SSUB8`
    // (as in `interval_loop`, with its zero made in `t0` once the centres
    // are done). Twelve registers are all the operands can have, so the
    // address of `out` comes in `a3`, is pushed before `a3` becomes a sum
    // (the only stack use) and is popped into `w` after the loop for the
    // two `STRD`s to `out`, four `i32`s at a word-aligned address (a `&mut
    // [i32; 4]`); otherwise only the named registers and the flags are
    // written.
    unsafe {
        asm!(
            "push {{{a3}}}",
            "mov {a0}, #0",
            "mov {a1}, #0",
            "mov {a2}, #0",
            "mov {a3}, #0",
            "2:",
            "ldr {w}, [{pw}], #4",
            "sxtb16 {t0}, {w}",
            "sxtb16 {t1}, {w}, ror #8",
            "ldrd {x}, {y}, [{p}], #8",
            "smlad {a0}, {t0}, {x}, {a0}",
            "smlad {a0}, {t1}, {y}, {a0}",
            "ldrd {x}, {y}, [{p}], #8",
            "smlad {a1}, {t0}, {x}, {a1}",
            "smlad {a1}, {t1}, {y}, {a1}",
            "mov {t0}, #0",
            "ssub8 {t0}, {t0}, {w}",
            "sel {w}, {t0}, {w}",
            "uxtb16 {t0}, {w}",
            "uxtb16 {t1}, {w}, ror #8",
            "ldrd {x}, {y}, [{p}], #8",
            "smlad {a2}, {t0}, {x}, {a2}",
            "smlad {a2}, {t1}, {y}, {a2}",
            "ldrd {x}, {y}, [{p}], #8",
            "smlad {a3}, {t0}, {x}, {a3}",
            "smlad {a3}, {t1}, {y}, {a3}",
            "subs {n}, {n}, #1",
            "bne 2b",
            "pop {{{w}}}",
            "strd {a0}, {a1}, [{w}]",
            "strd {a2}, {a3}, [{w}, #8]",
            pw = inout(reg) w => _,
            p = inout(reg) q => _,
            n = inout(reg) groups => _,
            w = out(reg) _,
            t0 = out(reg) _,
            t1 = out(reg) _,
            x = out(reg) _,
            y = out(reg) _,
            a0 = out(reg) _,
            a1 = out(reg) _,
            a2 = out(reg) _,
            a3 = inout(reg) out.as_mut_ptr() => _,
        );
    }
}
