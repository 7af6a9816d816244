//! The reference kernels: plain Rust over the packed order, one term at a
//! time, for every target. Sums wrap modulo 2^32 like the DSP
//! accumulators (never happens under the loader's headroom rule), so the
//! two agree on every input.
#![forbid(unsafe_code)]

use crate::{GROUP, Kernels, centre_slot, point_slot, radius_slot};

/// Portable kernels, the reference the DSP ones are checked against.
#[derive(Debug, Clone, Copy)]
pub struct Scalar;

impl Kernels for Scalar {
    #[inline]
    fn dot2(w0: &[u8], w1: &[u8], x: &[i16]) -> (i32, i32) {
        let n = w0.len().min(w1.len());
        (Scalar::dot(&w0[..n], x), Scalar::dot(&w1[..n], x))
    }

    #[inline]
    fn dot(w: &[u8], x: &[i16]) -> i32 {
        let mut sum = 0i32;
        for (w, x) in w.chunks_exact(GROUP).zip(x.chunks_exact(GROUP)) {
            for (k, &w) in w.iter().enumerate() {
                sum = sum.wrapping_add(i32::from(w as i8) * i32::from(x[point_slot(k)]));
            }
        }
        sum
    }

    #[inline]
    fn interval(w: &[u8], cr: &[i16]) -> (i32, i32) {
        let (mut mid, mut rad) = (0i32, 0i32);
        for (w, cr) in w.chunks_exact(GROUP).zip(cr.chunks_exact(2 * GROUP)) {
            for (k, &w) in w.iter().enumerate() {
                let w = i32::from(w as i8);
                mid = mid.wrapping_add(w * i32::from(cr[centre_slot(k)]));
                rad = rad.wrapping_add(w.abs() * i32::from(cr[radius_slot(k)]));
            }
        }
        (mid, rad)
    }
}
