//! The certification loops: a doubled centre and a radius per
//! activation, against one interval column or an interval pair.
#![allow(unsafe_code)]

use core::arch::asm;

/// One row's centre and radius sums: `pairs` iterations of two groups.
///
/// # Safety
///
/// `pairs >= 1`; `w` points to `8 * pairs` readable bytes; `cr` points to
/// `16 * pairs` readable, word-aligned `i16`s.
#[inline(always)]
pub(in crate::dsp) unsafe fn interval_loop(
    w: *const u8,
    cr: *const i16,
    pairs: usize,
) -> (i32, i32) {
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

/// One group of [`interval_pair_loop`]: four weights against both
/// pixels' centres and radii.
macro_rules! interval_pair_group {
    () => {
        concat!(
            "ldr {w}, [{pw}], #4\n",
            "sxtb16 {t0}, {w}\n",
            "sxtb16 {t1}, {w}, ror #8\n",
            "ldrd {x}, {y}, [{p}], #8\n",
            "smlad {a0}, {t0}, {x}, {a0}\n",
            "smlad {a0}, {t1}, {y}, {a0}\n",
            "ldrd {x}, {y}, [{p}], #8\n",
            "smlad {a1}, {t0}, {x}, {a1}\n",
            "smlad {a1}, {t1}, {y}, {a1}\n",
            "mov {t0}, #0\n",
            "ssub8 {t0}, {t0}, {w}\n",
            "sel {w}, {t0}, {w}\n",
            "uxtb16 {t0}, {w}\n",
            "uxtb16 {t1}, {w}, ror #8\n",
            "ldrd {x}, {y}, [{p}], #8\n",
            "smlad {a2}, {t0}, {x}, {a2}\n",
            "smlad {a2}, {t1}, {y}, {a2}\n",
            "ldrd {x}, {y}, [{p}], #8\n",
            "smlad {a3}, {t0}, {x}, {a3}\n",
            "smlad {a3}, {t1}, {y}, {a3}",
        )
    };
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
pub(in crate::dsp) unsafe fn interval_pair_loop(
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
            // Two groups per iteration; an odd count enters at the second.
            "lsrs {n}, {n}, #1",
            "bcc 2f",
            "adds {n}, {n}, #1",
            "b 3f",
            "2:",
            interval_pair_group!(),
            "3:",
            interval_pair_group!(),
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
