//! The scalar kernels against the plain definition: packed activations
//! hold the values of natural order at [`point_slot`] / [`centre_slot`] /
//! [`radius_slot`], and each kernel is the natural-order sum of products.
//! On the host `Native` is `Scalar`, so comparing the two here could not
//! fail: the DSP kernels are checked against the scalar ones on the device
//! (`boards/mps2-an386`'s `kernels` program, run in QEMU by the tests).

use cert_kernels::{
    Kernels, QUAD, Scalar, centre_slot, interval_len, interval_pair_tail, interval_tail,
    pair_centre_slot, pair_radius_slot, point_len, point_slot, point_tail, quad_len, quad_slot,
    quad_tail, radius_slot, whole_groups,
};
use proptest::prelude::*;

fn pack_point(x: &[i16]) -> Vec<i16> {
    let mut packed = vec![0; point_len(x.len())];
    for (i, &v) in x.iter().enumerate() {
        packed[point_slot(i)] = v;
    }
    packed
}

fn pack_interval(c: &[i16], r: &[i16]) -> Vec<i16> {
    let mut packed = vec![0; interval_len(c.len())];
    for (i, (&c, &r)) in c.iter().zip(r).enumerate() {
        packed[centre_slot(i)] = c;
        packed[radius_slot(i)] = r;
    }
    packed
}

fn pack_quad(columns: &[Vec<i16>; QUAD]) -> Vec<i16> {
    let mut packed = vec![0; quad_len(columns[0].len())];
    for (c, column) in columns.iter().enumerate() {
        for (i, &v) in column.iter().enumerate() {
            packed[quad_slot(c, i)] = v;
        }
    }
    packed
}

/// Two pixels' intervals, `(centres, radii)` each, as an interval pair.
fn pack_pair(pixels: [(&[i16], &[i16]); 2]) -> Vec<i16> {
    let mut packed = vec![0; quad_len(pixels[0].0.len())];
    for (pixel, (c, r)) in pixels.into_iter().enumerate() {
        for (i, (&c, &r)) in c.iter().zip(r).enumerate() {
            packed[pair_centre_slot(pixel, i)] = c;
            packed[pair_radius_slot(pixel, i)] = r;
        }
    }
    packed
}

fn natural_dot(w: &[u8], x: &[i16]) -> i32 {
    w.iter()
        .zip(x)
        .map(|(&w, &x)| i32::from(w as i8) * i32::from(x))
        .sum()
}

/// Activation values: anything a layer can hold, extremes included.
fn activation() -> impl Strategy<Value = i16> {
    prop_oneof![
        Just(-510i16),
        Just(510),
        Just(-255),
        Just(255),
        Just(0),
        -510i16..=510
    ]
}

fn weights(len: usize) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        prop_oneof![Just(0x80u8), Just(0x7f), Just(0), any::<u8>()],
        len,
    )
}

/// Rows of weights, and the activations, of one random case.
fn rows_case() -> impl Strategy<Value = (usize, usize, Vec<u8>, Vec<i16>, Vec<i16>)> {
    (0usize..70, 1usize..6).prop_flat_map(|(fan_in, rows)| {
        (
            Just(fan_in),
            Just(rows),
            weights(fan_in * rows),
            prop::collection::vec(activation(), fan_in),
            prop::collection::vec(0i16..=255, fan_in),
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]

    /// Whole rows: the kernel over the whole groups plus the tail is the
    /// natural dot product.
    #[test]
    fn point_kernels_are_the_natural_dot_product((fan_in, rows, w, x, _) in rows_case()) {
        let packed = pack_point(&x);
        let whole = whole_groups(fan_in);
        let mut out = vec![0; rows];
        Scalar::dot_rows(&w, fan_in, &packed, &mut out);
        for (o, row) in w.chunks_exact(fan_in.max(1)).enumerate().take(rows) {
            let tail = point_tail(&row[whole..], &packed[whole..]);
            prop_assert_eq!(out[o] + tail, natural_dot(row, &x));
        }
    }

    #[test]
    fn the_interval_kernel_is_the_natural_centre_and_radius((fan_in, rows, w, c, r) in rows_case()) {
        let packed = pack_interval(&c, &r);
        let whole = whole_groups(fan_in);
        let mut out = vec![(0, 0); rows];
        Scalar::interval_rows(&w, fan_in, &packed, &mut out);
        for (o, row) in w.chunks_exact(fan_in.max(1)).enumerate().take(rows) {
            let (tail_mid, tail_rad) = interval_tail(&row[whole..], &packed[2 * whole..]);
            let natural_rad: i32 = row
                .iter()
                .zip(&r)
                .map(|(&w, &r)| i32::from((w as i8).unsigned_abs()) * i32::from(r))
                .sum();
            prop_assert_eq!(out[o].0 + tail_mid, natural_dot(row, &c));
            prop_assert_eq!(out[o].1 + tail_rad, natural_rad);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]

    /// Four columns at once: each is its natural dot product, and each
    /// equals the point kernel on that column alone.
    #[test]
    fn the_quad_kernel_is_four_natural_dot_products(
        (fan_in, rows, w, x, _) in rows_case(),
        shuffle in prop::collection::vec(activation(), 70),
    ) {
        // Four different columns: `x`, and three drawn from `shuffle`.
        let columns: [Vec<i16>; QUAD] = core::array::from_fn(|c| match c {
            0 => x.clone(),
            _ => shuffle.iter().cycle().skip(7 * c).take(fan_in).copied().collect(),
        });
        let packed = pack_quad(&columns);
        let whole = whole_groups(fan_in);
        let mut out = vec![[0; QUAD]; rows];
        Scalar::quad_rows(&w, fan_in, &packed, &mut out);
        for (c, column) in columns.iter().enumerate() {
            let mut alone = vec![0; rows];
            Scalar::dot_rows(&w, fan_in, &pack_point(column), &mut alone);
            for (o, row) in w.chunks_exact(fan_in.max(1)).enumerate().take(rows) {
                prop_assert_eq!(out[o][c], alone[o]);
                let tail = quad_tail(&row[whole..], &packed[QUAD * whole..]);
                prop_assert_eq!(out[o][c] + tail[c], natural_dot(row, column));
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]

    /// Two interval columns at once: each pixel's centre and radius sums
    /// are those of the interval kernel on that pixel alone, and with the
    /// tail the natural sums.
    #[test]
    fn the_pair_kernel_is_two_interval_kernels(
        (fan_in, rows, w, c, r) in rows_case(),
        shuffle in prop::collection::vec(activation(), 70),
    ) {
        // The second pixel's centres from `shuffle`, its radii `c`'s magnitudes.
        let c1: Vec<i16> = shuffle.iter().cycle().skip(3).take(fan_in).copied().collect();
        let r1: Vec<i16> = c.iter().map(|v| v.abs() / 2).collect();
        let pixels = [(&c[..], &r[..]), (&c1[..], &r1[..])];
        let packed = pack_pair(pixels);
        let whole = whole_groups(fan_in);
        let mut out = vec![[0; QUAD]; rows];
        Scalar::interval_pair_rows(&w, fan_in, &packed, &mut out);
        for (pixel, (c, r)) in pixels.into_iter().enumerate() {
            let mut alone = vec![(0, 0); rows];
            Scalar::interval_rows(&w, fan_in, &pack_interval(c, r), &mut alone);
            for (o, row) in w.chunks_exact(fan_in.max(1)).enumerate().take(rows) {
                prop_assert_eq!((out[o][pixel], out[o][2 + pixel]), alone[o]);
                let tail = interval_pair_tail(&row[whole..], &packed[QUAD * whole..]);
                let natural_rad: i32 = row
                    .iter()
                    .zip(r)
                    .map(|(&w, &r)| i32::from((w as i8).unsigned_abs()) * i32::from(r))
                    .sum();
                prop_assert_eq!(out[o][pixel] + tail[pixel], natural_dot(row, c));
                prop_assert_eq!(out[o][2 + pixel] + tail[2 + pixel], natural_rad);
            }
        }
    }
}

/// Kernels cover only the whole groups the weights and activations hold,
/// and rows the weights do not hold sum to 0.
#[test]
fn kernels_stop_at_what_the_arguments_hold() {
    let w = [1u8; 12];
    let x = pack_point(&[1; 8]);
    let mut out = [7; 3];
    Scalar::dot_rows(&w, 6, &x, &mut out);
    assert_eq!(out, [4, 4, 0]);
    Scalar::dot_rows(&w, 12, &x, &mut out[..1]);
    assert_eq!(out[0], 8);
    let cr = pack_interval(&[1; 4], &[1; 4]);
    let mut out = [(7, 7); 2];
    Scalar::interval_rows(&w, 12, &cr, &mut out);
    assert_eq!(out, [(4, 4), (0, 0)]);
    let q = pack_quad(&[vec![1; 4], vec![-1; 4], vec![2; 4], vec![0; 4]]);
    let mut out = [[7; QUAD]; 2];
    Scalar::quad_rows(&w, 12, &q, &mut out);
    assert_eq!(out, [[4, -4, 8, 0], [0; QUAD]]);
    Scalar::quad_rows(&w, 0, &q, &mut out);
    assert_eq!(out, [[0; QUAD]; 2]);
    let pair = pack_pair([(&[1; 4], &[2; 4]), (&[-1; 4], &[3; 4])]);
    let w = [0xffu8; 12]; // -1 each
    Scalar::interval_pair_rows(&w, 12, &pair, &mut out);
    assert_eq!(out, [[-4, 4, 8, 12], [0; QUAD]]);
}
