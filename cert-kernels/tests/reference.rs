//! The scalar kernels against the plain definition: packed activations
//! hold the values of natural order at [`point_slot`] / [`centre_slot`] /
//! [`radius_slot`], and each kernel is the natural-order sum of products.
//! (The DSP kernels are checked against the scalar ones on the device:
//! `boards/mps2-an386`'s `kernels` program, run in QEMU by the tests.)

use cert_kernels::{
    Kernels, Native, Scalar, centre_slot, interval_len, interval_tail, point_len, point_slot,
    point_tail, radius_slot, whole_groups,
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

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]

    /// A whole row: kernel over the whole groups plus the tail.
    #[test]
    fn point_kernels_are_the_natural_dot_product(
        (w0, w1, x) in (0usize..70).prop_flat_map(|n| (weights(n), weights(n), prop::collection::vec(activation(), n)))
    ) {
        let n = x.len();
        let packed = pack_point(&x);
        let whole = whole_groups(n);
        let tail = |w: &[u8]| point_tail(&w[whole..], &packed[whole..]);
        let (a0, a1) = Scalar::dot2(&w0[..whole], &w1[..whole], &packed);
        prop_assert_eq!(a0 + tail(&w0), natural_dot(&w0, &x));
        prop_assert_eq!(a1 + tail(&w1), natural_dot(&w1, &x));
        prop_assert_eq!(Scalar::dot(&w0[..whole], &packed) + tail(&w0), natural_dot(&w0, &x));
        prop_assert_eq!(Native::dot2(&w0[..whole], &w1[..whole], &packed), (a0, a1));
    }

    #[test]
    fn the_interval_kernel_is_the_natural_centre_and_radius(
        (w, c, r) in (0usize..70).prop_flat_map(|n| (
            weights(n),
            prop::collection::vec(activation(), n),
            prop::collection::vec(0i16..=255, n),
        ))
    ) {
        let n = w.len();
        let packed = pack_interval(&c, &r);
        let whole = whole_groups(n);
        let (mid, rad) = Scalar::interval(&w[..whole], &packed);
        let (tail_mid, tail_rad) = interval_tail(&w[whole..], &packed[2 * whole..]);
        let abs: Vec<u8> = w.iter().map(|&w| (w as i8).unsigned_abs()).collect();
        let natural_rad: i32 = abs.iter().zip(&r).map(|(&w, &r)| i32::from(w) * i32::from(r)).sum();
        prop_assert_eq!(mid + tail_mid, natural_dot(&w, &c));
        prop_assert_eq!(rad + tail_rad, natural_rad);
        prop_assert_eq!(Native::interval(&w[..whole], &packed), (mid, rad));
    }
}

/// Kernels cover only the whole groups both arguments hold.
#[test]
fn kernels_stop_at_the_shorter_argument() {
    let w = [1u8; 12];
    let x = pack_point(&[1; 8]);
    assert_eq!(Scalar::dot(&w, &x), 8);
    assert_eq!(Scalar::dot2(&w[..4], &w, &x), (4, 4));
    let cr = pack_interval(&[1; 4], &[1; 4]);
    assert_eq!(Scalar::interval(&w, &cr), (4, 4));
}
