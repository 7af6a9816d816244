//! The packed order of activations, the one place it is written: slots,
//! buffer lengths, packing, and the sums over one group in that order.
//!
//! The DSP extension multiplies two 16-bit lanes at once, and SXTB16 splits
//! four int8 weights `w0 w1 w2 w3` into the lane pairs `(w0, w2)` and
//! `(w1, w3)`. Activations are therefore stored in groups of four as
//! `x0 x2 x1 x3` ([`point_slot`]), and interval activations as eight values
//! per group, `c0 c2 c1 c3 r0 r2 r1 r3` ([`centre_slot`], [`radius_slot`]).
//! Four point columns that share their weights (four output pixels of a
//! convolution) are stored as a *quad*: per group, each column's four
//! values in the point order, column after column ([`quad_slot`]), so that
//! one weight load serves all four. Two interval columns (two output
//! pixels of a convolution under certification) are stored as an
//! *interval pair*: a quad whose columns are pixel 0's centres, pixel 1's
//! centres, pixel 0's radii and pixel 1's radii ([`pair_centre_slot`],
//! [`pair_radius_slot`]).
//!
//! A kernel covers the whole groups of a row (`4 * (len / 4)` weights); the
//! caller adds the last `len % 4` terms with [`point_tail`],
//! [`interval_tail`], [`quad_tail`] and [`interval_pair_tail`], which read the
//! partial last group in the same order.

/// Values per group of the packed order.
pub const GROUP: usize = 4;

/// Lane of value `i` in its group: `x0 x2 x1 x3`, the two low bits of `i`
/// swapped.
#[inline(always)]
const fn lane(i: usize) -> usize {
    ((i & 1) << 1) | ((i >> 1) & 1)
}

/// Slot of value `i` in a packed point buffer.
#[inline(always)]
pub const fn point_slot(i: usize) -> usize {
    (i & !(GROUP - 1)) | lane(i)
}

/// Slot of the doubled centre of value `i` in a packed interval buffer.
#[inline(always)]
pub const fn centre_slot(i: usize) -> usize {
    (2 * (i & !(GROUP - 1))) | lane(i)
}

/// Slot of the radius of value `i` in a packed interval buffer.
#[inline(always)]
pub const fn radius_slot(i: usize) -> usize {
    centre_slot(i) + GROUP
}

/// Point columns in a quad.
pub const QUAD: usize = 4;

/// Slot of value `i` of column `column` (`0..QUAD`) in a packed quad
/// buffer: group after group, in each the columns one after the other.
#[inline(always)]
pub const fn quad_slot(column: usize, i: usize) -> usize {
    QUAD * (i & !(GROUP - 1)) + GROUP * column + lane(i)
}

/// Slot of the doubled centre of value `i` of pixel `pixel` (0 or 1) in a
/// packed interval pair: column `pixel` of a quad.
#[inline(always)]
pub const fn pair_centre_slot(pixel: usize, i: usize) -> usize {
    quad_slot(pixel, i)
}

/// Slot of the radius of value `i` of pixel `pixel` (0 or 1) in a packed
/// interval pair: column `2 + pixel` of a quad.
#[inline(always)]
pub const fn pair_radius_slot(pixel: usize, i: usize) -> usize {
    quad_slot(2 + pixel, i)
}

/// `i16` elements of a packed point buffer of `n` values.
pub const fn point_len(n: usize) -> usize {
    n.div_ceil(GROUP) * GROUP
}

/// `i16` elements of a packed interval buffer of `n` values.
pub const fn interval_len(n: usize) -> usize {
    2 * point_len(n)
}

/// `i16` elements of a packed quad buffer of four columns of `n` values.
pub const fn quad_len(n: usize) -> usize {
    QUAD * point_len(n)
}

/// Packs whole groups of four natural-order point columns into a packed
/// quad: value `k` of column `c` to slot `quad_slot(c, k)` (checked by the
/// tests), over the whole groups all five hold.
#[inline(always)]
pub fn pack_quad([a, b, c, d]: [&[i16]; QUAD], quad: &mut [i16]) {
    let ((a, _), (b, _)) = (a.as_chunks::<GROUP>(), b.as_chunks::<GROUP>());
    let ((c, _), (d, _)) = (c.as_chunks::<GROUP>(), d.as_chunks::<GROUP>());
    let (quad, _) = quad.as_chunks_mut::<{ QUAD * GROUP }>();
    let groups = a.iter().zip(b).zip(c).zip(d).zip(quad);
    for ((((a, b), c), d), q) in groups {
        // Column by column: four values live at a time, not sixteen.
        let (q, _) = q.as_chunks_mut::<GROUP>();
        for (q, x) in q.iter_mut().zip([a, b, c, d]) {
            *q = [x[0], x[2], x[1], x[3]];
        }
    }
}

/// Packs whole groups of one natural-order point column `x` into column
/// `column` (`0..QUAD`) of a packed quad: value `k` to slot
/// `quad_slot(column, k)` (checked by the tests), over the whole groups
/// both hold.
#[inline(always)]
pub fn pack_quad_column(column: usize, x: &[i16], quad: &mut [i16]) {
    let (x, _) = x.as_chunks::<GROUP>();
    let (quad, _) = quad.as_chunks_mut::<{ QUAD * GROUP }>();
    for (x, q) in x.iter().zip(quad) {
        let (q, _) = q.as_chunks_mut::<GROUP>();
        q[column] = [x[0], x[2], x[1], x[3]];
    }
}

/// Packs whole groups of one pixel's natural-order intervals, `(centre,
/// radius)` pairs, into pixel `pixel` (0 or 1) of a packed interval pair:
/// centre `k` to `pair_centre_slot(pixel, k)`, radius `k` to
/// `pair_radius_slot(pixel, k)` (checked by the tests), over the whole
/// groups both hold.
#[inline(always)]
pub fn pack_interval_pair_column(pixel: usize, natural: &[i16], pair: &mut [i16]) {
    let (natural, _) = natural.as_chunks::<{ 2 * GROUP }>();
    let (pair, _) = pair.as_chunks_mut::<{ QUAD * GROUP }>();
    for (n, p) in natural.iter().zip(pair) {
        let (p, _) = p.as_chunks_mut::<GROUP>();
        p[pixel] = [n[0], n[4], n[2], n[6]];
        p[2 + pixel] = [n[1], n[5], n[3], n[7]];
    }
}

/// Weights a kernel covers in a row of `len`: the whole groups.
pub const fn whole_groups(len: usize) -> usize {
    len & !(GROUP - 1)
}

/// The terms of one group of a row, whole or the last, partial one:
/// weights `w` (at most four) against the group of packed point
/// activations `x` that holds them, modulo 2^32 like every kernel sum.
#[inline]
pub fn point_tail(w: &[u8], x: &[i16]) -> i32 {
    let mut sum = 0i32;
    for (k, &w) in w.iter().enumerate() {
        sum = sum.wrapping_add(i32::from(w as i8) * i32::from(x[point_slot(k)]));
    }
    sum
}

/// The terms of one group of a row (as [`point_tail`]) against packed
/// interval activations `cr` (the eight slots of that group):
/// `(sum w c, sum |w| r)`.
#[inline]
pub fn interval_tail(w: &[u8], cr: &[i16]) -> (i32, i32) {
    let (mut c, mut r) = (0i32, 0i32);
    for (k, &w) in w.iter().enumerate() {
        let w = i32::from(w as i8);
        c = c.wrapping_add(w * i32::from(cr[centre_slot(k)]));
        r = r.wrapping_add(w.abs() * i32::from(cr[radius_slot(k)]));
    }
    (c, r)
}

/// The terms of one group of a row (as [`point_tail`]) against the group
/// of a packed quad `q` that holds them: `sum w x` for each column `x`.
/// Out of line, as is [`interval_pair_tail`]: a convolution calls it at most once
/// per row and quad, and one copy for every caller measured smaller and
/// no slower on the device.
#[inline(never)]
pub fn quad_tail(w: &[u8], q: &[i16]) -> [i32; QUAD] {
    let mut sums = [0i32; QUAD];
    for (k, &w) in w.iter().enumerate() {
        let w = i32::from(w as i8);
        for (column, sum) in sums.iter_mut().enumerate() {
            *sum = sum.wrapping_add(w * i32::from(q[quad_slot(column, k)]));
        }
    }
    sums
}

/// The terms of one group of a row (as [`point_tail`]) against the group
/// of a packed interval pair `q` that holds them: `[sum w c0, sum w c1,
/// sum |w| r0, sum |w| r1]` for pixels 0 and 1.
#[inline(never)]
pub fn interval_pair_tail(w: &[u8], q: &[i16]) -> [i32; QUAD] {
    let mut sums = [0i32; QUAD];
    for (k, &w) in w.iter().enumerate() {
        let w = i32::from(w as i8);
        for (column, sum) in sums.iter_mut().enumerate() {
            let w = if column < 2 { w } else { w.abs() };
            *sum = sum.wrapping_add(w * i32::from(q[quad_slot(column, k)]));
        }
    }
    sums
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_a_permutation_within_each_group() {
        for n in 0..64 {
            let mut seen = [false; 128];
            for i in 0..n {
                for slot in [centre_slot(i), radius_slot(i)] {
                    assert!(slot < interval_len(n));
                    assert!(!seen[slot]);
                    seen[slot] = true;
                }
                assert!(point_slot(i) < point_len(n));
                assert_eq!(point_slot(i) / GROUP, i / GROUP);
                assert_eq!(centre_slot(i) / (2 * GROUP), i / GROUP);
            }
            let mut seen = [false; 256];
            for i in 0..n {
                for column in 0..QUAD {
                    let slot = quad_slot(column, i);
                    assert!(slot < quad_len(n));
                    assert_eq!(slot / (QUAD * GROUP), i / GROUP);
                    assert!(!seen[slot]);
                    seen[slot] = true;
                }
            }
        }
        assert_eq!([0, 1, 2, 3].map(point_slot), [0, 2, 1, 3]);
        assert_eq!([4, 5, 6, 7].map(centre_slot), [8, 10, 9, 11]);
        assert_eq!([4, 5, 6, 7].map(radius_slot), [12, 14, 13, 15]);
        assert_eq!([4, 5, 6, 7].map(|i| quad_slot(2, i)), [24, 26, 25, 27]);
        assert_eq!(
            [4, 5, 6, 7].map(|i| pair_centre_slot(1, i)),
            [20, 22, 21, 23]
        );
        assert_eq!(
            [4, 5, 6, 7].map(|i| pair_radius_slot(0, i)),
            [24, 26, 25, 27]
        );
    }

    #[test]
    fn packing_puts_every_value_at_its_slot() {
        let natural: [i16; 8] = [10, 11, 12, 13, 14, 15, 16, 17];
        let pairs: [i16; 16] = core::array::from_fn(|k| k as i16);
        let columns: [[i16; 8]; QUAD] =
            core::array::from_fn(|c| natural.map(|v| v + 100 * c as i16));
        let mut packed = [0; QUAD * 8];
        pack_quad(columns.each_ref().map(|c| &c[..]), &mut packed);
        for (c, column) in columns.iter().enumerate() {
            for (i, &v) in column.iter().enumerate() {
                assert_eq!(packed[quad_slot(c, i)], v);
            }
        }
        let mut one_by_one = [0; QUAD * 8];
        for (c, column) in columns.iter().enumerate() {
            pack_quad_column(c, column, &mut one_by_one);
        }
        assert_eq!(one_by_one, packed);
        let mut pair = [0; QUAD * 8];
        for pixel in 0..2 {
            let shifted = pairs.map(|v| v + 100 * pixel as i16);
            pack_interval_pair_column(pixel, &shifted, &mut pair);
            for i in 0..8 {
                assert_eq!(pair[pair_centre_slot(pixel, i)], shifted[2 * i]);
                assert_eq!(pair[pair_radius_slot(pixel, i)], shifted[2 * i + 1]);
            }
        }
    }
}
