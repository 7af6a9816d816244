//! The DSP kernels for ARMv7E-M (Cortex-M4/M7): two 16-bit multiplies per
//! SMLAD, four int8 weights per load. The only `unsafe` code of the
//! runtime (README, "Where `unsafe` lives", lists the boards' few blocks):
//! four `asm!` loops in `unsafe fn`s whose contracts are written on them,
//! called only from three safe functions (`dot_rows`,
//! `interval_rows` and `pair_rows`) that check every length, and the alignment of the
//! activations, once per call.
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
//! buffers), as they do for rows shorter than two groups. Each loop
//! covers two groups of four weights per iteration; an odd last group is
//! added in Rust.
#![allow(unsafe_code)]

use core::arch::asm;

use crate::{GROUP, Kernels, centre_slot, point_slot, radius_slot, whole_groups};

/// ARMv7E-M DSP kernels (SXTB16, SMLAD), bit-identical to [`Scalar`](crate::Scalar).
#[derive(Debug, Clone, Copy)]
pub struct Dsp;

/// True when `x` starts on a 4-byte boundary (what `LDRD` and `LDM` need).
fn word_aligned(x: &[i16]) -> bool {
    (x.as_ptr() as usize).is_multiple_of(4)
}

/// How a row of `fan_in` weights splits: pairs of groups for the asm
/// loops, and whether an odd last group is left (at `2 * GROUP * pairs`).
#[derive(Clone, Copy)]
struct Split {
    pairs: usize,
    odd: bool,
}

impl Split {
    fn of(fan_in: usize) -> Split {
        let groups = fan_in / GROUP;
        Split {
            pairs: groups / 2,
            odd: groups % 2 == 1,
        }
    }

    /// Weights the asm loops cover.
    fn done(self) -> usize {
        2 * GROUP * self.pairs
    }
}

/// The odd last group of a row: four weights against their packed
/// activations.
#[inline(always)]
fn group_dot(w: &[u8], x: &[i16]) -> i32 {
    let mut sum = 0i32;
    for (k, &w) in w.iter().enumerate().take(GROUP) {
        sum = sum.wrapping_add(i32::from(w as i8) * i32::from(x[point_slot(k)]));
    }
    sum
}

/// `(sum w x, sum w y)` over the odd last group of a row against a pair.
#[inline(always)]
fn group_pair(w: &[u8], xy: &[i16]) -> (i32, i32) {
    let (mut first, mut second) = (0i32, 0i32);
    for (k, &w) in w.iter().enumerate().take(GROUP) {
        let w = i32::from(w as i8);
        first = first.wrapping_add(w * i32::from(xy[centre_slot(k)]));
        second = second.wrapping_add(w * i32::from(xy[radius_slot(k)]));
    }
    (first, second)
}

/// `(sum w c, sum |w| r)` over the odd last group of a row.
#[inline(always)]
fn group_interval(w: &[u8], cr: &[i16]) -> (i32, i32) {
    let (mut mid, mut rad) = (0i32, 0i32);
    for (k, &w) in w.iter().enumerate().take(GROUP) {
        let w = i32::from(w as i8);
        mid = mid.wrapping_add(w * i32::from(cr[centre_slot(k)]));
        rad = rad.wrapping_add(w.abs() * i32::from(cr[radius_slot(k)]));
    }
    (mid, rad)
}

/// Two rows against the same activations: `pairs` iterations of two groups.
///
/// # Safety
///
/// `pairs >= 1`; `w0` and `w1` point to `8 * pairs` readable bytes each;
/// `x` points to `8 * pairs` readable, word-aligned `i16`s.
#[inline(always)]
unsafe fn pair_loop(w0: *const u8, w1: *const u8, x: *const i16, pairs: usize) -> (i32, i32) {
    let (mut a0, mut a1) = (0i32, 0i32);
    // SAFETY: the loop runs `pairs` times and reads 8 bytes of each weight
    // row and 16 bytes of `x` per iteration, within what the caller
    // guarantees. `x` is word-aligned for LDRD; the weight loads are
    // unaligned LDRs, architecturally defined on ARMv7-M. Only the named
    // registers and the flags are written; no stack, no stores.
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
            p0 = inout(reg) w0 => _,
            p1 = inout(reg) w1 => _,
            px = inout(reg) x => _,
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
    (a0, a1)
}

/// One row: `pairs` iterations of two groups.
///
/// # Safety
///
/// As [`pair_loop`], for the one row `w`.
#[inline(always)]
unsafe fn row_loop(w: *const u8, x: *const i16, pairs: usize) -> i32 {
    let mut a = 0i32;
    // SAFETY: as in `pair_loop`, for one row: `8 * pairs` bytes of `w`
    // and `8 * pairs` elements of the word-aligned `x`.
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
            pw = inout(reg) w => _,
            px = inout(reg) x => _,
            n = inout(reg) pairs => _,
            w = out(reg) _,
            x02 = out(reg) _,
            x13 = out(reg) _,
            t = out(reg) _,
            a = inout(reg) a,
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
unsafe fn interval_loop(w: *const u8, cr: *const i16, pairs: usize) -> (i32, i32) {
    let (mut mid, mut rad) = (0i32, 0i32);
    // SAFETY: the loop runs `pairs` times and reads 8 bytes of `w` and 32
    // bytes (16 elements) of `cr` per iteration, within what the caller
    // guarantees. `cr` is word-aligned for LDM, whose register list r2-r5
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
            pw = inout(reg) w => _,
            p = inout(reg) cr => _,
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
    (mid, rad)
}

/// One row against a pair of point columns: `pairs` iterations of two
/// groups, each weight load and sign extension serving both columns (the
/// two-pixel shape of CMSIS-NN's convolutions).
///
/// # Safety
///
/// `pairs >= 1`; `w` points to `8 * pairs` readable bytes; `xy` points to
/// `16 * pairs` readable, word-aligned `i16`s.
#[inline(always)]
unsafe fn columns_loop(w: *const u8, xy: *const i16, pairs: usize) -> (i32, i32) {
    let (mut a0, mut a1) = (0i32, 0i32);
    // SAFETY: the loop runs `pairs` times and reads 8 bytes of `w` and 32
    // bytes (16 elements) of `xy` per iteration, within what the caller
    // guarantees. `xy` is word-aligned for LDM, whose register list r2-r5
    // receives the group's words in address order: (x0, x2), (x1, x3) of
    // the first column, then of the second. Only the named registers and
    // the flags are written; no stack, no stores.
    unsafe {
        asm!(
            "2:",
            "ldr {w}, [{pw}], #4",
            "ldm {p}!, {{r2, r3, r4, r5}}",
            "sxtb16 {t}, {w}",
            "smlad {a0}, {t}, r2, {a0}",
            "smlad {a1}, {t}, r4, {a1}",
            "sxtb16 {t}, {w}, ror #8",
            "smlad {a0}, {t}, r3, {a0}",
            "smlad {a1}, {t}, r5, {a1}",
            "ldr {w}, [{pw}], #4",
            "ldm {p}!, {{r2, r3, r4, r5}}",
            "sxtb16 {t}, {w}",
            "smlad {a0}, {t}, r2, {a0}",
            "smlad {a1}, {t}, r4, {a1}",
            "sxtb16 {t}, {w}, ror #8",
            "smlad {a0}, {t}, r3, {a0}",
            "smlad {a1}, {t}, r5, {a1}",
            "subs {n}, {n}, #1",
            "bne 2b",
            pw = inout(reg) w => _,
            p = inout(reg) xy => _,
            n = inout(reg) pairs => _,
            w = out(reg) _,
            t = out(reg) _,
            a0 = inout(reg) a0,
            a1 = inout(reg) a1,
            out("r2") _,
            out("r3") _,
            out("r4") _,
            out("r5") _,
            options(nostack, readonly),
        );
    }
    (a0, a1)
}

/// The fallback for misaligned activations or rows shorter than a pair of
/// groups: the whole groups of row `o` (as far as `weights` and `acts` hold
/// them, as [`Scalar`](crate::Scalar) reads a row) one at a time with the Rust group sums,
/// `per_group` activations each. The same sums as [`Scalar`](crate::Scalar)'s (addition
/// modulo 2^32 in any order), in far less flash than its lane loops.
#[inline(never)]
fn row_by_groups<T: Copy>(
    (weights, fan_in, o): (&[u8], usize, usize),
    acts: &[i16],
    per_group: usize,
    group: fn(&[u8], &[i16]) -> T,
    add: fn(T, T) -> T,
    zero: T,
) -> T {
    let row = o
        .checked_mul(fan_in)
        .and_then(|at| weights.get(at..))
        .unwrap_or(&[]);
    let row = &row[..whole_groups(row.len().min(fan_in))];
    let groups = row.chunks_exact(GROUP).zip(acts.chunks_exact(per_group));
    groups.fold(zero, |sum, (w, a)| add(sum, group(w, a)))
}

/// Adds pairs of sums modulo 2^32.
fn add_pairs(a: (i32, i32), b: (i32, i32)) -> (i32, i32) {
    (a.0.wrapping_add(b.0), a.1.wrapping_add(b.1))
}

/// True when `weights` holds `rows` rows of `fan_in` and `activations`
/// holds `per_weight` elements per weight of the rows' whole groups.
fn fits(
    weights: &[u8],
    fan_in: usize,
    rows: usize,
    activations: &[i16],
    per_weight: usize,
) -> bool {
    rows.checked_mul(fan_in).is_some_and(|n| n <= weights.len())
        && activations.len() >= per_weight * GROUP * (fan_in / GROUP)
        && word_aligned(activations)
}

impl Kernels for Dsp {
    #[inline(never)]
    fn dot_rows(weights: &[u8], fan_in: usize, x: &[i16], out: &mut [i32]) {
        let split = Split::of(fan_in);
        if split.pairs == 0 || !fits(weights, fan_in, out.len(), x, 1) {
            for (o, slot) in out.iter_mut().enumerate() {
                let row = (weights, fan_in, o);
                *slot = row_by_groups(row, x, GROUP, group_dot, i32::wrapping_add, 0);
            }
            return;
        }
        let done = split.done();
        let odd = |row: &[u8]| match split.odd {
            true => group_dot(&row[done..done + GROUP], &x[done..done + GROUP]),
            false => 0,
        };
        let mut rows = weights.chunks_exact(fan_in);
        let mut outs = out.chunks_exact_mut(2);
        for pair in &mut outs {
            let (Some(r0), Some(r1)) = (rows.next(), rows.next()) else {
                break;
            };
            // SAFETY: `fits` checked that the rows are whole (`r0` and `r1`
            // hold `fan_in >= done = 8 * pairs` bytes each) and that `x` is
            // word-aligned with at least `done` elements; `pairs >= 1`.
            let (a0, a1) = unsafe { pair_loop(r0.as_ptr(), r1.as_ptr(), x.as_ptr(), split.pairs) };
            pair[0] = a0.wrapping_add(odd(r0));
            pair[1] = a1.wrapping_add(odd(r1));
        }
        if let (Some(last), Some(r0)) = (outs.into_remainder().first_mut(), rows.next()) {
            // SAFETY: as above, for the one row `r0`.
            let a = unsafe { row_loop(r0.as_ptr(), x.as_ptr(), split.pairs) };
            *last = a.wrapping_add(odd(r0));
        }
    }

    #[inline(never)]
    fn interval_rows(weights: &[u8], fan_in: usize, cr: &[i16], out: &mut [(i32, i32)]) {
        let split = Split::of(fan_in);
        if split.pairs == 0 || !fits(weights, fan_in, out.len(), cr, 2) {
            for (o, slot) in out.iter_mut().enumerate() {
                let row = (weights, fan_in, o);
                *slot = row_by_groups(row, cr, 2 * GROUP, group_interval, add_pairs, (0, 0));
            }
            return;
        }
        let done = split.done();
        for (slot, row) in out.iter_mut().zip(weights.chunks_exact(fan_in)) {
            // SAFETY: `fits` checked that the row holds `fan_in >= done = 8 *
            // pairs` bytes and that `cr` is word-aligned with at least `2 *
            // done = 16 * pairs` elements; `pairs >= 1`.
            let (mid, rad) = unsafe { interval_loop(row.as_ptr(), cr.as_ptr(), split.pairs) };
            *slot = match split.odd {
                true => {
                    let (c, d) = group_interval(&row[done..], &cr[2 * done..]);
                    (mid.wrapping_add(c), rad.wrapping_add(d))
                }
                false => (mid, rad),
            };
        }
    }

    /// Inlined with its epilogue `each`: the loop over rows, the asm of a
    /// row and the caller's output stage run without a call between them.
    #[inline(always)]
    fn pair_rows(
        weights: &[u8],
        fan_in: usize,
        xy: &[i16],
        mut each: impl FnMut(usize, (i32, i32)),
    ) {
        let split = Split::of(fan_in);
        let rows = weights.len().checked_div(fan_in).unwrap_or(0);
        if split.pairs == 0 || !fits(weights, fan_in, rows, xy, 2) {
            for o in 0..rows {
                let row = (weights, fan_in, o);
                each(
                    o,
                    row_by_groups(row, xy, 2 * GROUP, group_pair, add_pairs, (0, 0)),
                );
            }
            return;
        }
        let done = split.done();
        for (o, row) in weights.chunks_exact(fan_in).enumerate() {
            // SAFETY: `fits` checked that the row holds `fan_in >= done = 8 *
            // pairs` bytes and that `xy` is word-aligned with at least `2 *
            // done = 16 * pairs` elements; `pairs >= 1`.
            let (x, y) = unsafe { columns_loop(row.as_ptr(), xy.as_ptr(), split.pairs) };
            each(
                o,
                match split.odd {
                    true => {
                        let (c, d) = group_pair(&row[done..], &xy[2 * done..]);
                        (x.wrapping_add(c), y.wrapping_add(d))
                    }
                    false => (x, y),
                },
            );
        }
    }
}
