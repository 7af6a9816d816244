//! The reference kernels: plain Rust over the packed order, for every
//! target (one partial sum per lane of a group, which compilers vectorise). Sums wrap modulo 2^32 like the DSP
//! accumulators (never happens under the loader's headroom rule), so the
//! two agree on every input.
#![forbid(unsafe_code)]

use crate::kernels::{Kernels, row};
use crate::packed::{GROUP, QUAD, point_slot};

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
            Scalar::lanes(w, (cr, 2), 0, |w| i32::from(w as i8)),
            Scalar::lanes(w, (cr, 2), 1, |w| i32::from((w as i8).unsigned_abs())),
        )
    }

    /// `sum_k w[k] x[k]` for each column `x` of the quad `q`, over the
    /// whole groups `w` and `q` both hold.
    #[inline]
    pub(crate) fn quad(w: &[u8], q: &[i16]) -> [i32; QUAD] {
        core::array::from_fn(|column| Scalar::lanes(w, (q, QUAD), column, |w| i32::from(w as i8)))
    }

    /// `[sum_k w[k] c0[k], sum_k w[k] c1[k], sum_k |w[k]| r0[k], sum_k
    /// |w[k]| r1[k]]` for the two pixels of the interval pair `q`, over the
    /// whole groups `w` and `q` both hold.
    #[inline]
    pub(crate) fn interval_pair(w: &[u8], q: &[i16]) -> [i32; QUAD] {
        let signed = |w: u8| i32::from(w as i8);
        let abs = |w: u8| i32::from((w as i8).unsigned_abs());
        [
            Scalar::lanes(w, (q, QUAD), 0, signed),
            Scalar::lanes(w, (q, QUAD), 1, signed),
            Scalar::lanes(w, (q, QUAD), 2, abs),
            Scalar::lanes(w, (q, QUAD), 3, abs),
        ]
    }

    /// `sum_k weight(w[k]) v[k]` where `v` is column `column` of `columns`
    /// columns packed group by group (an interval's centres or radii, or a
    /// column of a quad or an interval pair), one partial sum per lane.
    #[inline(always)]
    fn lanes(
        w: &[u8],
        (packed, columns): (&[i16], usize),
        column: usize,
        weight: impl Fn(u8) -> i32,
    ) -> i32 {
        let mut lanes = [0i32; GROUP];
        let groups = packed.chunks_exact(columns * GROUP);
        for (w, group) in w.chunks_exact(GROUP).zip(groups) {
            for (j, lane) in lanes.iter_mut().enumerate() {
                let v = i32::from(group[GROUP * column + j]);
                *lane = lane.wrapping_add(weight(w[point_slot(j)]) * v);
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
    fn quad_rows(weights: &[u8], fan_in: usize, q: &[i16], out: &mut [[i32; QUAD]]) {
        for (o, slot) in out.iter_mut().enumerate() {
            *slot = Scalar::quad(row(weights, fan_in, o), q);
        }
    }

    #[inline]
    fn interval_pair_rows(weights: &[u8], fan_in: usize, q: &[i16], out: &mut [[i32; QUAD]]) {
        for (o, slot) in out.iter_mut().enumerate() {
            *slot = Scalar::interval_pair(row(weights, fan_in, o), q);
        }
    }
}
