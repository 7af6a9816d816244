//! The DSP kernels against the scalar reference, on the Cortex-M4F (QEMU
//! mps2-an386): exits 0 only when every result is bit-identical.
//!
//! 1. Dot products: 100,000 random calls of `Dsp::dot_rows`,
//!    `Dsp::interval_rows`, `Dsp::quad_rows` and `Dsp::interval_pair_rows` (1 to 5
//!    rows each, odd counts included) against
//!    `Scalar`'s, with extreme values (-128 and 127 weights, activations of
//!    +-255, doubled centres of +-510, radii of 255), lengths that are not a
//!    multiple of 4 or 8, weights at odd addresses and activations at
//!    misaligned ones.
//! 2. Layers: random models (dense and convolutional, odd channel counts,
//!    padding, strides, per-channel quantisers) run by the runtime with the
//!    native (DSP) kernels and with `Scalar`: every prediction, certificate
//!    and refinement must be equal.
//!
//! Each result is checked as it is made; the first difference is logged
//! and ends the run with status 1.
#![no_std]
#![no_main]

mod models;

use cert_kernels::{Dsp, Kernels, QUAD, Scalar};
use cortex_m_rt::entry;
use models::one_model;
use mps2_an386::exit;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

/// Random rows per kernel.
const DOT_PRODUCTS: u32 = 100_000;
/// Random models run both ways.
const MODELS: u32 = 400;
/// Longest random row.
const MAX_ROW: usize = 300;
/// Most rows per kernel call.
const MAX_ROWS: usize = 5;

#[entry]
fn main() -> ! {
    static mut WEIGHTS: [u8; MAX_ROWS * MAX_ROW + 8] = [0; MAX_ROWS * MAX_ROW + 8];
    static mut ACTIVATIONS: [i16; QUAD * MAX_ROW + 18] = [0; QUAD * MAX_ROW + 18];
    static mut ARENA: [u8; 24 * 1024] = [0; 24 * 1024];
    static mut SCRATCH_A: [i16; 8192] = [0; 8192];
    static mut SCRATCH_B: [i16; 8192] = [0; 8192];

    let mut rng = SmallRng::seed_from_u64(0x005e_ed0f_c3a7);
    let dots = dot_products(&mut rng, WEIGHTS, ACTIVATIONS);
    defmt::info!("dot products: {=u32} of each kernel, identical", dots);
    let mut run = 0;
    for index in 0..MODELS {
        match one_model(&mut rng, ARENA, SCRATCH_A, SCRATCH_B) {
            Ok(checks) => run += checks,
            Err(what) => {
                defmt::error!(
                    "model {=u32}: the DSP kernels differ from the scalar ones in {=str}",
                    index,
                    what
                );
                exit::exit(false);
            }
        }
    }
    defmt::info!(
        "layers: {=u32} random models, {=u32} predictions, certificates and refinements, identical",
        MODELS,
        run
    );
    exit::exit(true)
}

/// A weight byte: often an extreme.
fn weight(rng: &mut SmallRng) -> u8 {
    match rng.random_range(0..8) {
        0 => 0x80, // -128
        1 => 0x7f, // 127
        2 => 0,
        _ => rng.random(),
    }
}

/// An activation in `[-limit, limit]`: often an extreme.
fn activation(rng: &mut SmallRng, low: i16, high: i16) -> i16 {
    match rng.random_range(0..6) {
        0 => low,
        1 => high,
        _ => rng.random_range(low..=high),
    }
}

/// Compares the kernels on random rows; exits on the first difference.
fn dot_products(rng: &mut SmallRng, weights: &mut [u8], activations: &mut [i16]) -> u32 {
    for i in 0..DOT_PRODUCTS {
        let fan_in = match rng.random_range(0..4) {
            0 => rng.random_range(0..=16),
            _ => rng.random_range(0..=MAX_ROW),
        };
        let rows = rng.random_range(1..=MAX_ROWS);
        // Weights at any byte offset; activations at an even or odd element.
        let (w_at, x_at) = (rng.random_range(0..4), rng.random_range(0..2));
        for w in weights.iter_mut() {
            *w = weight(rng);
        }
        let w = &weights[w_at..w_at + rows * fan_in];
        let point = &mut activations[x_at..x_at + fan_in + 4];
        for x in point.iter_mut() {
            *x = activation(rng, -255, 255);
        }
        let point = &*point;
        let (mut dsp, mut scalar) = ([0i32; MAX_ROWS], [0i32; MAX_ROWS]);
        Dsp::dot_rows(w, fan_in, point, &mut dsp[..rows]);
        Scalar::dot_rows(w, fan_in, point, &mut scalar[..rows]);
        if dsp != scalar {
            fail_dot(i, "dot_rows", fan_in);
        }
        let interval = &mut activations[x_at..x_at + 2 * fan_in + 8];
        for (k, v) in interval.iter_mut().enumerate() {
            // Slots 4..8 of every group of 8 hold radii.
            *v = if k % 8 >= 4 {
                activation(rng, 0, 255)
            } else {
                activation(rng, -510, 510)
            };
        }
        let interval = &*interval;
        let (mut dsp, mut scalar) = ([(0i32, 0i32); MAX_ROWS], [(0i32, 0i32); MAX_ROWS]);
        Dsp::interval_rows(w, fan_in, interval, &mut dsp[..rows]);
        Scalar::interval_rows(w, fan_in, interval, &mut scalar[..rows]);
        if dsp != scalar {
            fail_dot(i, "interval_rows", fan_in);
        }
        // A quad of four point columns, group by group.
        let quad = &mut activations[x_at..x_at + QUAD * fan_in + 16];
        for v in quad.iter_mut() {
            *v = activation(rng, -255, 255);
        }
        let quad = &*quad;
        let (mut dsp, mut scalar) = ([[0i32; QUAD]; MAX_ROWS], [[0i32; QUAD]; MAX_ROWS]);
        Dsp::quad_rows(w, fan_in, quad, &mut dsp[..rows]);
        Scalar::quad_rows(w, fan_in, quad, &mut scalar[..rows]);
        if dsp != scalar {
            fail_dot(i, "quad_rows", fan_in);
        }
        // An interval pair: two pixels' centres, then their radii.
        let pair = &mut activations[x_at..x_at + QUAD * fan_in + 16];
        for (k, v) in pair.iter_mut().enumerate() {
            // Slots 8..16 of every group of 16 hold radii.
            *v = if k % 16 >= 8 {
                activation(rng, 0, 255)
            } else {
                activation(rng, -510, 510)
            };
        }
        let pair = &*pair;
        let (mut dsp, mut scalar) = ([[0i32; QUAD]; MAX_ROWS], [[0i32; QUAD]; MAX_ROWS]);
        Dsp::interval_pair_rows(w, fan_in, pair, &mut dsp[..rows]);
        Scalar::interval_pair_rows(w, fan_in, pair, &mut scalar[..rows]);
        if dsp != scalar {
            fail_dot(i, "interval_pair_rows", fan_in);
        }
    }
    DOT_PRODUCTS
}

fn fail_dot(index: u32, kernel: &str, len: usize) -> ! {
    defmt::error!(
        "dot product {=u32}: {=str} differs from the scalar kernel (row of {=usize})",
        index,
        kernel,
        len
    );
    exit::exit(false)
}
