//! The DSP kernels for ARMv7E-M (Cortex-M4/M7): two 16-bit multiplies per
//! SMLAD, four int8 weights per load. The only `unsafe` code of the
//! project: three `asm!` loops, each behind a safe function that checks
//! every length and the alignment of the activations before it runs.
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
//!   the same 32-bit result as [`Scalar`]'s (which wraps too), for every
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
//! [`Scalar`] otherwise (the runtime always aligns its buffers). Each loop
//! processes two groups of four weights per iteration; an odd last group is
//! added by [`Scalar`].
#![allow(unsafe_code)]

use core::arch::asm;

use crate::{GROUP, Kernels, Scalar};

/// ARMv7E-M DSP kernels (SXTB16, SMLAD), bit-identical to [`Scalar`].
#[derive(Debug, Clone, Copy)]
pub struct Dsp;

/// True when `x` starts on a 4-byte boundary (what `LDRD` and `LDM` need).
fn word_aligned(x: &[i16]) -> bool {
    (x.as_ptr() as usize).is_multiple_of(4)
}

/// Splits `groups` into the pairs the asm loops take and an odd last group.
fn pairs_and_rest(groups: usize) -> (usize, usize) {
    (groups / 2, groups / 2 * 2 * GROUP)
}

/// [`Scalar`]'s kernels, out of line: the fallback and the odd last group
/// are rare, and inlining them into every DSP kernel would cost flash.
#[inline(never)]
fn scalar_dot2(w0: &[u8], w1: &[u8], x: &[i16]) -> (i32, i32) {
    Scalar::dot2(w0, w1, x)
}

#[inline(never)]
fn scalar_dot(w: &[u8], x: &[i16]) -> i32 {
    Scalar::dot(w, x)
}

#[inline(never)]
fn scalar_interval(w: &[u8], cr: &[i16]) -> (i32, i32) {
    Scalar::interval(w, cr)
}

impl Kernels for Dsp {
    #[inline(never)]
    fn dot2(w0: &[u8], w1: &[u8], x: &[i16]) -> (i32, i32) {
        let groups = (w0.len().min(w1.len()) / GROUP).min(x.len() / GROUP);
        let (pairs, done) = pairs_and_rest(groups);
        if pairs == 0 || !word_aligned(x) {
            return scalar_dot2(w0, w1, x);
        }
        let (mut a0, mut a1) = (0i32, 0i32);
        // SAFETY: the loop runs `pairs >= 1` times and reads 8 bytes of
        // each weight row and 16 bytes of `x` per iteration: `8 * pairs <=
        // 4 * groups` bytes of `w0` and `w1` and `8 * pairs` elements of
        // `x`, all within the slices by the definition of `groups`. `x` is
        // word-aligned (checked above) for LDRD; the weight loads are
        // unaligned LDRs, architecturally defined on ARMv7-M. Only the
        // named registers and the flags are written; no stack, no stores.
        unsafe {
            asm!(
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
                p0 = inout(reg) w0.as_ptr() => _,
                p1 = inout(reg) w1.as_ptr() => _,
                px = inout(reg) x.as_ptr() => _,
                n = inout(reg) pairs => _,
                wa = out(reg) _,
                wb = out(reg) _,
                x02 = out(reg) _,
                x13 = out(reg) _,
                t = out(reg) _,
                a0 = inout(reg) a0,
                a1 = inout(reg) a1,
                options(nostack, readonly),
            );
        }
        let (r0, r1) = scalar_dot2(&w0[done..], &w1[done..], &x[done..]);
        (a0.wrapping_add(r0), a1.wrapping_add(r1))
    }

    #[inline(never)]
    fn dot(w: &[u8], x: &[i16]) -> i32 {
        let groups = (w.len() / GROUP).min(x.len() / GROUP);
        let (pairs, done) = pairs_and_rest(groups);
        if pairs == 0 || !word_aligned(x) {
            return scalar_dot(w, x);
        }
        let mut a = 0i32;
        // SAFETY: as in `dot2`, for one row: `8 * pairs <= 4 * groups`
        // bytes of `w` and `8 * pairs` elements of the word-aligned `x`.
        unsafe {
            asm!(
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
                pw = inout(reg) w.as_ptr() => _,
                px = inout(reg) x.as_ptr() => _,
                n = inout(reg) pairs => _,
                w = out(reg) _,
                x02 = out(reg) _,
                x13 = out(reg) _,
                t = out(reg) _,
                a = inout(reg) a,
                options(nostack, readonly),
            );
        }
        a.wrapping_add(scalar_dot(&w[done..], &x[done..]))
    }

    #[inline(never)]
    fn interval(w: &[u8], cr: &[i16]) -> (i32, i32) {
        let groups = (w.len() / GROUP).min(cr.len() / (2 * GROUP));
        let (pairs, done) = pairs_and_rest(groups);
        if pairs == 0 || !word_aligned(cr) {
            return scalar_interval(w, cr);
        }
        let (mut mid, mut rad) = (0i32, 0i32);
        // SAFETY: the loop runs `pairs >= 1` times and reads 8 bytes of `w`
        // and 32 bytes (16 elements) of `cr` per iteration: `8 * pairs <=
        // 4 * groups` bytes of `w` and `16 * pairs <= 8 * groups` elements
        // of `cr`, within the slices by the definition of `groups`. `cr` is
        // word-aligned (checked above) for LDM, whose register list r2-r5
        // receives the group's words in address order: (c0, c2), (c1, c3),
        // (r0, r2), (r1, r3). Only the named registers and the flags
        // (including GE, set by SSUB8 for SEL) are written; no stack, no
        // stores.
        unsafe {
            asm!(
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
                pw = inout(reg) w.as_ptr() => _,
                p = inout(reg) cr.as_ptr() => _,
                n = inout(reg) pairs => _,
                w = out(reg) _,
                t = out(reg) _,
                zero = in(reg) 0u32,
                mid = inout(reg) mid,
                rad = inout(reg) rad,
                out("r2") _,
                out("r3") _,
                out("r4") _,
                out("r5") _,
                options(nostack, readonly),
            );
        }
        let (m, r) = scalar_interval(&w[done..], &cr[2 * done..]);
        (mid.wrapping_add(m), rad.wrapping_add(r))
    }
}
