//! The DSP kernels for ARMv7E-M (Cortex-M4/M7): two 16-bit multiplies per
//! SMLAD, four int8 weights per load. The crate's only `unsafe` code
//! (README, "Where `unsafe` lives", lists the boards' few blocks): the five
//! `asm!` loops of [`asm`], called only from the four safe kernels here
//! (`dot_rows`, `interval_rows`, `quad_rows` and `interval_pair_rows`),
//! which check every length and the alignment of the activations once per
//! call, and fall back to Rust sums one group at a time where a loop
//! cannot run. Why the loops' sums are exact, and equal
//! [`Scalar`](crate::Scalar)'s, is argued in [`asm`].
#![allow(unsafe_code)]

mod asm;

use asm::{interval_loop, interval_pair_loop, pair_loop, quad_loop, row_loop};

use crate::kernels::{Kernels, row};
use crate::packed::{GROUP, QUAD, interval_pair_tail, interval_tail, point_tail, quad_tail};

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

/// The fallback for misaligned activations or rows shorter than a pair of
/// groups: the whole groups of row `o` (as far as `weights` and `acts` hold
/// them, read as [`Scalar`](crate::Scalar) reads a row) one at a time with
/// the Rust group sums, `per_group` activations each. The same sums as
/// `Scalar`'s (addition modulo 2^32 in any order), in far less flash than
/// its lane loops.
#[inline(never)]
fn row_by_groups<T: Copy>(
    (weights, fan_in, o): (&[u8], usize, usize),
    acts: &[i16],
    per_group: usize,
    group: fn(&[u8], &[i16]) -> T,
    add: fn(T, T) -> T,
    zero: T,
) -> T {
    let groups = row(weights, fan_in, o)
        .chunks_exact(GROUP)
        .zip(acts.chunks_exact(per_group));
    groups.fold(zero, |sum, (w, a)| add(sum, group(w, a)))
}

/// Adds pairs of sums modulo 2^32.
fn add_pairs(a: (i32, i32), b: (i32, i32)) -> (i32, i32) {
    (a.0.wrapping_add(b.0), a.1.wrapping_add(b.1))
}

/// Adds quads of sums modulo 2^32.
fn add_quads(a: [i32; QUAD], b: [i32; QUAD]) -> [i32; QUAD] {
    core::array::from_fn(|c| a[c].wrapping_add(b[c]))
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
                *slot = row_by_groups(row, x, GROUP, point_tail, i32::wrapping_add, 0);
            }
            return;
        }
        let mut rows = weights.chunks_exact(fan_in);
        let mut outs = out.chunks_exact_mut(2);
        for pair in &mut outs {
            let (Some(r0), Some(r1)) = (rows.next(), rows.next()) else {
                break;
            };
            // SAFETY: `fits` checked that the rows are whole (`r0` and `r1`
            // hold `fan_in >= 8 * pairs` bytes each) and that `x` is
            // word-aligned with at least `8 * pairs` elements; `pairs >= 1`.
            let (a0, a1) = unsafe { pair_loop(r0.as_ptr(), r1.as_ptr(), x.as_ptr(), split.pairs) };
            (pair[0], pair[1]) = (a0, a1);
        }
        if let (Some(last), Some(r0)) = (outs.into_remainder().first_mut(), rows.next()) {
            // SAFETY: as above, for the one row `r0`.
            *last = unsafe { row_loop(r0.as_ptr(), x.as_ptr(), split.pairs) };
        }
        // The odd last group in a pass of its own, as in `interval_rows`.
        if split.odd {
            let done = split.done();
            for (slot, row) in out.iter_mut().zip(weights.chunks_exact(fan_in)) {
                let odd = point_tail(&row[done..done + GROUP], &x[done..done + GROUP]);
                *slot = slot.wrapping_add(odd);
            }
        }
    }

    #[inline(never)]
    fn interval_rows(weights: &[u8], fan_in: usize, cr: &[i16], out: &mut [(i32, i32)]) {
        let split = Split::of(fan_in);
        if split.pairs == 0 || !fits(weights, fan_in, out.len(), cr, 2) {
            for (o, slot) in out.iter_mut().enumerate() {
                let row = (weights, fan_in, o);
                *slot = row_by_groups(row, cr, 2 * GROUP, interval_tail, add_pairs, (0, 0));
            }
            return;
        }
        for (slot, row) in out.iter_mut().zip(weights.chunks_exact(fan_in)) {
            // SAFETY: `fits` checked that the row holds `fan_in >= 8 *
            // pairs` bytes and that `cr` is word-aligned with at least `16 *
            // pairs` elements; `pairs >= 1`.
            *slot = unsafe { interval_loop(row.as_ptr(), cr.as_ptr(), split.pairs) };
        }
        // The odd last group in a pass of its own: the loop above then keeps
        // its values in registers.
        if split.odd {
            let done = split.done();
            for (slot, row) in out.iter_mut().zip(weights.chunks_exact(fan_in)) {
                *slot = add_pairs(
                    *slot,
                    interval_tail(&row[done..done + GROUP], &cr[2 * done..]),
                );
            }
        }
    }

    #[inline(never)]
    fn quad_rows(weights: &[u8], fan_in: usize, q: &[i16], out: &mut [[i32; QUAD]]) {
        let groups = fan_in / GROUP;
        if groups == 0 || !fits(weights, fan_in, out.len(), q, QUAD) {
            for (o, slot) in out.iter_mut().enumerate() {
                let row = (weights, fan_in, o);
                *slot = row_by_groups(row, q, QUAD * GROUP, quad_tail, add_quads, [0; QUAD]);
            }
            return;
        }
        for (slot, row) in out.iter_mut().zip(weights.chunks_exact(fan_in)) {
            // SAFETY: `fits` checked that the row holds `fan_in >= 4 *
            // groups` bytes and that `q` is word-aligned with at least `16 *
            // groups` elements; `groups >= 1`; `slot` is a `&mut [i32; 4]`,
            // the four word-aligned `i32`s the loop stores.
            unsafe { quad_loop(row.as_ptr(), q.as_ptr(), groups, slot) };
        }
    }

    #[inline(never)]
    fn interval_pair_rows(weights: &[u8], fan_in: usize, q: &[i16], out: &mut [[i32; QUAD]]) {
        let groups = fan_in / GROUP;
        if groups == 0 || !fits(weights, fan_in, out.len(), q, QUAD) {
            for (o, slot) in out.iter_mut().enumerate() {
                let row = (weights, fan_in, o);
                *slot = row_by_groups(
                    row,
                    q,
                    QUAD * GROUP,
                    interval_pair_tail,
                    add_quads,
                    [0; QUAD],
                );
            }
            return;
        }
        for (slot, row) in out.iter_mut().zip(weights.chunks_exact(fan_in)) {
            // SAFETY: as in `quad_rows`: the row holds `fan_in >= 4 *
            // groups` bytes, `q` is word-aligned with at least `16 * groups`
            // elements, `groups >= 1`, and `slot` is four word-aligned
            // `i32`s.
            unsafe { interval_pair_loop(row.as_ptr(), q.as_ptr(), groups, slot) };
        }
    }
}
