//! The contract every kernel set meets: [`Kernels`], and how a kernel
//! reads a row.

use crate::packed::{QUAD, whole_groups};

/// Row `o` of `weights` as the kernels read it: its whole groups, as far as
/// `weights` holds them (a row it does not hold at all is empty).
pub(crate) fn row(weights: &[u8], fan_in: usize, o: usize) -> &[u8] {
    let row = o
        .checked_mul(fan_in)
        .and_then(|at| weights.get(at..))
        .unwrap_or(&[]);
    &row[..whole_groups(row.len().min(fan_in))]
}

/// Multiply-accumulate kernels over packed activations: a matrix of int8
/// weight rows (`fan_in` each, row after row) times one vector.
///
/// Each kernel covers the whole groups ([`whole_groups`]) of every row
/// that the weights and the activations both hold (a row `weights` does not
/// hold at all sums to 0), and returns each sum modulo 2^32: the exact sum
/// whenever it fits in `i32`, which the model loader's headroom rule
/// guarantees for every row of a loaded model.
pub trait Kernels {
    /// `out[o] = sum_k w[o][k] x[k]` for every `o < out.len()` (packed
    /// point order).
    fn dot_rows(weights: &[u8], fan_in: usize, x: &[i16], out: &mut [i32]);

    /// `out[o] = (sum_k w[o][k] c[k], sum_k |w[o][k]| r[k])` for every
    /// `o < out.len()`, over packed interval activations `cr`.
    fn interval_rows(weights: &[u8], fan_in: usize, cr: &[i16], out: &mut [(i32, i32)]);

    /// `out[o][c] = sum_k w[o][k] x_c[k]` for every `o < out.len()` and
    /// every column `x_c` of the packed quad `q`: one weight pass for four
    /// point columns (four output pixels of a convolution per weight pass).
    fn quad_rows(weights: &[u8], fan_in: usize, q: &[i16], out: &mut [[i32; QUAD]]);

    /// `out[o] = [sum_k w[o][k] c0[k], sum_k w[o][k] c1[k], sum_k |w[o][k]|
    /// r0[k], sum_k |w[o][k]| r1[k]]` for every `o < out.len()`, over the
    /// packed interval pair `q` of pixels 0 and 1: one weight pass for two
    /// interval columns (two output pixels of a convolution per weight
    /// pass).
    fn interval_pair_rows(weights: &[u8], fan_in: usize, q: &[i16], out: &mut [[i32; QUAD]]);
}
