//! The reference kernels: plain Rust over the packed order, for every
//! target (one partial sum per lane of a group, which compilers vectorise). Sums wrap modulo 2^32 like the DSP
//! accumulators (never happens under the loader's headroom rule), so the
//! two agree on every input.
#![forbid(unsafe_code)]

use crate::kernels::{Kernels, row};
use crate::packed::{GROUP, centre_slot, point_slot};

/// Portable kernels, the reference the DSP ones are checked against.
#[derive(Debug, Clone, Copy)]
pub struct Scalar;

impl Scalar {
    /// `sum_k w[k] x[k]` over the whole groups `w` and `x` both hold.
    #[inline]
    pub(crate) fn dot(w: &[u8], x: &[i16]) -> i32 {
        // One lane per slot of a group: lane `j` holds the products of the
        // `x` values at slot `j` (element `point_slot(j)` of each group, as
        // `point_slot` is its own inverse), which the compiler vectorises.
        let mut lanes = [0i32; GROUP];
        for (w, x) in w.chunks_exact(GROUP).zip(x.chunks_exact(GROUP)) {
            for (j, lane) in lanes.iter_mut().enumerate() {
                let w = i32::from(w[point_slot(j)] as i8);
                *lane = lane.wrapping_add(w * i32::from(x[j]));
            }
        }
        lanes.iter().fold(0i32, |a, &l| a.wrapping_add(l))
    }

    /// `(sum_k w[k] c[k], sum_k |w[k]| r[k])` over the whole groups `w`
    /// and `cr` both hold.
    #[inline]
    pub(crate) fn interval(w: &[u8], cr: &[i16]) -> (i32, i32) {
        // Lanes as in `dot`: slot `j` of a group's centres (and of its
        // radii, `GROUP` further) holds value `centre_slot(j)`.
        // Two passes (centres, then radii) vectorise where one does not.
        (
            Scalar::lanes(w, cr, 0, |w| i32::from(w as i8)),
            Scalar::lanes(w, cr, GROUP, |w| i32::from((w as i8).unsigned_abs())),
        )
    }

    /// `(sum_k w[k] x[k], sum_k w[k] y[k])` over the whole groups `w` and
    /// the pair `xy` both hold (a pair is laid out as an interval).
    #[inline]
    pub(crate) fn pair(w: &[u8], xy: &[i16]) -> (i32, i32) {
        let signed = |w: u8| i32::from(w as i8);
        (
            Scalar::lanes(w, xy, 0, signed),
            Scalar::lanes(w, xy, GROUP, signed),
        )
    }

    /// `sum_k weight(w[k]) v[k]` where `v` is the half at `half` of every
    /// `2 * GROUP` interval (or pair) group, one partial sum per lane.
    #[inline(always)]
    fn lanes(w: &[u8], cr: &[i16], half: usize, weight: impl Fn(u8) -> i32) -> i32 {
        let mut lanes = [0i32; GROUP];
        for (w, cr) in w.chunks_exact(GROUP).zip(cr.chunks_exact(2 * GROUP)) {
            for (j, lane) in lanes.iter_mut().enumerate() {
                let v = i32::from(cr[half + j]);
                *lane = lane.wrapping_add(weight(w[centre_slot(j)]) * v);
            }
        }
        lanes.iter().fold(0i32, |a, &l| a.wrapping_add(l))
    }
}

impl Kernels for Scalar {
    #[inline]
    fn dot_rows(weights: &[u8], fan_in: usize, x: &[i16], out: &mut [i32]) {
        for (o, slot) in out.iter_mut().enumerate() {
            *slot = Scalar::dot(row(weights, fan_in, o), x);
        }
    }

    #[inline]
    fn interval_rows(weights: &[u8], fan_in: usize, cr: &[i16], out: &mut [(i32, i32)]) {
        for (o, slot) in out.iter_mut().enumerate() {
            *slot = Scalar::interval(row(weights, fan_in, o), cr);
        }
    }

    #[inline]
    fn pair_rows(weights: &[u8], fan_in: usize, xy: &[i16], out: &mut [(i32, i32)]) {
        for (o, slot) in out.iter_mut().enumerate() {
            *slot = Scalar::pair(row(weights, fan_in, o), xy);
        }
    }
}
