//! # cert-kernels
//!
//! The inner loops of `cert-runtime`: dot products of int8 weight rows
//! (borrowed from flash, any alignment) with activations held as `i16` in
//! a *packed* order, for inference (one value per input) and for interval
//! certification (a doubled centre and a radius per input).
//!
//! Two implementations with one contract:
//!
//! - [`Scalar`]: portable Rust, the reference. The host and every other
//!   target run it.
//! - `Dsp` (only on ARMv7E-M, `thumbv7em-*`): hand-written SXTB16 /
//!   SMLAD loops, the crate's only `unsafe` code (in `dsp/`; the README's
//!   "Where `unsafe` lives" lists the rest of the project's), behind safe
//!   wrappers that check every length and alignment first. [`Native`] is
//!   `Dsp` where it exists and `Scalar` elsewhere.
//!
//! Both compute exact integer sums; the loader's accumulator-headroom rule
//! (see `dsp/asm/`) keeps every partial sum inside `i32`, so the order of
//! the additions cannot change a result and the two are bit-identical. The
//! differential tests (host proptests here, and `boards/mps2-an386`'s
//! `kernels` program in QEMU) check it.
//!
//! The activations' *packed order* (the lane order of the DSP multiplies)
//! is written once, in [`point_slot`] and its siblings: every caller packs
//! and reads through them.
//!
//! Rooms, bottom up: `packed` (the order), `kernels` (the [`Kernels`]
//! contract), then the two implementations, `scalar` and `dsp`.
#![no_std]
#![deny(unsafe_code)]
#![warn(missing_docs)]

#[cfg(dsp_kernels)]
mod dsp;
mod kernels;
mod packed;
mod scalar;

#[cfg(dsp_kernels)]
pub use dsp::Dsp;
pub use kernels::Kernels;
pub use packed::{
    GROUP, QUAD, centre_slot, interval_len, interval_pair_tail, interval_tail,
    pack_interval_pair_column, pack_quad, pack_quad_column, pair_centre_slot, pair_radius_slot,
    point_len, point_slot, point_tail, quad_len, quad_slot, quad_tail, radius_slot, whole_groups,
};
pub use scalar::Scalar;

/// The fastest kernels of the target: `Dsp` on ARMv7E-M, else [`Scalar`].
#[cfg(dsp_kernels)]
pub type Native = Dsp;
/// The fastest kernels of the target: `Dsp` on ARMv7E-M, else [`Scalar`].
#[cfg(not(dsp_kernels))]
pub type Native = Scalar;
