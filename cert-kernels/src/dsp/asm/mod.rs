//! The five inline-assembly loops of the DSP kernels, each an `unsafe fn`
//! whose contract is written on it; the safe wrappers in the parent
//! module check every length and alignment before calling one. `point`
//! holds the inference loops (two rows, one row, a quad), `interval` the
//! certification loops (one interval column, an interval pair).
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

mod interval;
mod point;

pub(super) use interval::{interval_loop, interval_pair_loop};
pub(super) use point::{pair_loop, quad_loop, row_loop};
