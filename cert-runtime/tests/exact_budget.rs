//! The budget is exact: the input box is the set of `f32` values `v` with
//! `|v - x| <= eps` in real arithmetic (not `x - eps` and `x + eps`
//! rounded to nearest, which can land half an ulp outside), so that
//!
//! - a refuted verdict is true: its counterexample is within the budget,
//!   exactly, and classified differently;
//! - no level that no input within the budget reaches is certified against
//!   or refuted with.
//!
//! The oracle is independent of the runtime: `f64` arithmetic that is
//! exact for these magnitudes (`common::exact` asserts it), and every `f32`
//! of the box enumerated where the box is small enough.

mod common;

use cert_runtime::format::{CertSpec, InputSpec, Layer, ModelDesc, Output, Params};
use cert_runtime::{Budget, Model, Quantizer, REFINE_DEPTH, Trail, Verdict};
use common::exact::{exact_box, within};
use common::{encode, proptest_config, rng};
use proptest::prelude::*;
use rand::Rng;

/// A one-value model whose two logits are `[w0 * a + b0, w1 * a + b1]`
/// over the zero-point-shifted input level `a = q - zero_point`.
fn one_value_model(quantizer: Quantizer, weights: [i8; 2], bias: [i32; 2]) -> Vec<u8> {
    let logits = Params::new(&weights, &bias, Output::Logits { scale: 1.0 });
    let desc = ModelDesc::new(
        InputSpec::features(&[quantizer], &["x".into()]),
        CertSpec::new(&[0.0], 64),
        &[],
        "one value",
        vec![Layer::dense(1, 2, logits)],
    );
    encode(&desc.unwrap())
}

/// Class 1 exactly for the levels `a >= t` (class 0 below).
fn at_least(quantizer: Quantizer, t: i32) -> Vec<u8> {
    // logit 0 = 2t - 1, logit 1 = 2a: class 1 iff 2a > 2t - 1 iff a >= t.
    one_value_model(quantizer, [0, 2], [2 * t - 1, 0])
}

/// Class 1 exactly for the levels `a <= t` (class 0 above).
fn at_most(quantizer: Quantizer, t: i32) -> Vec<u8> {
    // logit 0 = 2a, logit 1 = 2t + 1: class 1 iff 2t + 1 > 2a iff a <= t.
    one_value_model(quantizer, [2, 0], [0, 2 * t + 1])
}

/// Refines one value; checks the verdict against the truth over the exact
/// box `[lo, hi]` (the class of a model monotone in its one input changes
/// inside the box iff it changes at an end), and checks a counterexample
/// exactly. Returns the verdict.
fn refine_checked(file: &[u8], x: f32, eps: f32) -> Verdict {
    let model = Model::from_bytes(file).unwrap();
    let q = model.quantizer(0).unwrap();
    let mut scratch = vec![0; model.refine_scratch_len()];
    let mut trail = Trail::<REFINE_DEPTH>::new();
    let mut counterexample = [0.0f32];
    let budget = Budget::uniform(eps);
    let r = model
        .refine(
            &[x],
            budget,
            64,
            &mut scratch,
            &mut trail,
            &mut counterexample,
        )
        .unwrap();
    let class_at = |v: f32, scratch: &mut [i16]| model.predict(&[v], scratch).unwrap().class;
    let class = class_at(x, &mut scratch);
    let (lo, hi) = exact_box(x, eps, q.domain_min, q.domain_max);
    let changes = class_at(lo, &mut scratch) != class || class_at(hi, &mut scratch) != class;
    match r.verdict {
        Verdict::Certified => assert!(
            !changes,
            "x {x} eps {eps}: certified, but [{lo}, {hi}] changes class"
        ),
        Verdict::Refuted => {
            let v = counterexample[0];
            assert!(
                within(v, x, eps),
                "x {x} eps {eps}: counterexample {v} is outside the budget"
            );
            assert!(q.contains(v), "counterexample {v} is outside the domain");
            assert_ne!(
                class_at(v, &mut scratch),
                class,
                "counterexample {v} is not one"
            );
            assert!(changes);
        }
        Verdict::Unknown => panic!("x {x} eps {eps}: 64 boxes suffice for one value"),
    }
    // The certificate of the plain interval pass is sound too.
    let cert = model.certify(&[x], budget, &mut scratch).unwrap();
    assert!(!(cert.certified && changes));
    r.verdict
}

/// The audit's minimal case: one feature, scale 1, logits `[2q, 1]`. Every
/// f32 within the exact budget is class 0 (all 6,710,894 of them are
/// enumerated), yet rounding `x - eps` to nearest lands on 0.49999994,
/// which is class 1 and 0.2000000226 from x: the runtime answered Refuted.
#[test]
fn the_minimal_case_is_certified_not_refuted() {
    let quantizer = Quantizer {
        scale: 1.0,
        offset: 0.0,
        zero_point: 0,
        domain_min: 0.0,
        domain_max: 1.0,
    };
    let file = one_value_model(quantizer, [2, 0], [0, 1]);
    let model = Model::from_bytes(&file).unwrap();
    let x = f32::from_bits(0x3f33_3336);
    let eps = f32::from_bits(0x3e4c_ccdb);
    let (lo, hi) = exact_box(x, eps, 0.0, 1.0);
    assert_eq!(quantizer.real_box(x, eps), (lo, hi));
    assert!(
        !within(0.499_999_94, x, eps),
        "the old counterexample is outside"
    );
    let mut scratch = vec![0; model.refine_scratch_len()];
    let (mut v, mut count) = (lo, 0u32);
    while v <= hi {
        assert_eq!(
            model.predict(&[v], &mut scratch).unwrap().class,
            0,
            "at {v}"
        );
        count += 1;
        v = v.next_up();
    }
    assert_eq!(count, 6_710_894);
    assert_eq!(refine_checked(&file, x, eps), Verdict::Certified);
    let cert = model
        .certify(&[x], Budget::uniform(eps), &mut scratch)
        .unwrap();
    assert!(cert.certified, "the exact box certifies by intervals alone");
}

/// Every pixel value `k / 255` at eps 0.1 (25.5 steps: exactly a rounding
/// boundary) and 0.3: the runtime's integer box is the levels the exact
/// budget reaches, no wider, and threshold models just beyond either end
/// are certified while those at the ends are refuted with a counterexample
/// inside the budget. Before the fix the box was wider for 169 of the 256
/// values at 0.1, and 109 got a false Refuted.
#[test]
fn the_pixel_grid_box_is_exact() {
    let pixel = Quantizer::spanning(0.0, 1.0);
    for eps in [0.1f32, 0.3] {
        for k in 0..=255u8 {
            let x = f32::from(k) / 255.0;
            let (lo, hi) = exact_box(x, eps, 0.0, 1.0);
            let (qlo, qhi) = (pixel.quantize(lo), pixel.quantize(hi));
            assert_eq!(
                pixel.quantize_box(x, eps),
                Some((qlo, qhi)),
                "k {k} eps {eps}"
            );
            let zp = i32::from(pixel.zero_point);
            let (alo, ahi, at) = (
                i32::from(qlo) - zp,
                i32::from(qhi) - zp,
                i32::from(pixel.quantize(x)) - zp,
            );
            if ahi < 255 {
                assert_eq!(
                    refine_checked(&at_least(pixel, ahi + 1), x, eps),
                    Verdict::Certified
                );
            }
            if ahi > at {
                assert_eq!(
                    refine_checked(&at_least(pixel, ahi), x, eps),
                    Verdict::Refuted
                );
            }
            if alo > 0 {
                assert_eq!(
                    refine_checked(&at_most(pixel, alo - 1), x, eps),
                    Verdict::Certified
                );
            }
            if alo < at {
                assert_eq!(
                    refine_checked(&at_most(pixel, alo), x, eps),
                    Verdict::Refuted
                );
            }
        }
    }
}

/// A random quantiser and an input whose budget ends within a few ulps of
/// a rounding boundary between two levels (where rounding `x + eps` or
/// `x - eps` decides which level the box reaches).
fn boundary_case(seed: u64) -> (Quantizer, f32, f32) {
    let mut rng = rng(seed);
    let scale = rng.random_range(1..=40) as f32 / 255.0 * rng.random_range(0.5f32..2.0);
    let offset = rng.random_range(-0.25f32..0.25);
    let zero_point = rng.random_range(-128i8..=0);
    let quantizer = Quantizer {
        scale,
        offset,
        zero_point,
        domain_min: 0.0,
        domain_max: 1.0,
    };
    let x = rng.random_range(0.05f32..0.95);
    // The real value where level `a` meets `a + 1`, approached within ulps.
    let a = rng.random_range(-3i32..=3) + i32::from(quantizer.quantize(x)) - i32::from(zero_point);
    let boundary = offset + scale * (a as f32 + 0.5);
    let mut eps = (boundary - x).abs();
    for _ in 0..rng.random_range(0..=4) {
        eps = if rng.random_bool(0.5) {
            eps.next_up()
        } else {
            eps.next_down()
        };
    }
    // Below 2^-24 or so the oracle's f64 arithmetic would not be exact.
    (quantizer, x, if eps < 1e-7 { 0.0 } else { eps })
}

proptest! {
    #![proptest_config(proptest_config(3000))]

    /// At rounding boundaries of random quantisers, the runtime's real box
    /// is the exact one and its integer box the levels the exact one
    /// reaches; threshold models at and beyond each end of the box give
    /// true verdicts, and every counterexample is within the budget.
    #[test]
    fn boxes_at_rounding_boundaries_are_exact(seed: u64) {
        let (q, x, eps) = boundary_case(seed);
        let (lo, hi) = exact_box(x, eps, q.domain_min, q.domain_max);
        prop_assert_eq!(q.real_box(x, eps), (lo, hi));
        prop_assert_eq!(q.quantize_box(x, eps), Some((q.quantize(lo), q.quantize(hi))));
        let zp = i32::from(q.zero_point);
        let (alo, ahi) = (i32::from(q.quantize(lo)) - zp, i32::from(q.quantize(hi)) - zp);
        for t in [ahi, ahi + 1] {
            refine_checked(&at_least(q, t), x, eps);
        }
        for t in [alo, alo - 1] {
            refine_checked(&at_most(q, t), x, eps);
        }
    }
}

/// The real box handles the extremes: eps 0 is the point itself, a budget
/// beyond the f32 range is the whole domain, and a tiny eps next to a large
/// value rounds to nothing outside.
#[test]
fn real_box_extremes() {
    let q = Quantizer {
        scale: 1.0,
        offset: 0.0,
        zero_point: 0,
        domain_min: -f32::MAX,
        domain_max: f32::MAX,
    };
    assert_eq!(q.real_box(0.7, 0.0), (0.7, 0.7));
    assert_eq!(q.real_box(f32::MAX, f32::MAX), (0.0, f32::MAX));
    assert_eq!(q.real_box(-f32::MAX, f32::MAX), (-f32::MAX, 0.0));
    // -MAX is MAX + 1e6 away from 1e6 (outside); the next f32 is inside.
    assert_eq!(
        q.real_box(1.0e6, f32::MAX),
        ((-f32::MAX).next_up(), f32::MAX)
    );
    // 1e-30 next to 1: both ends round back to 1 and are moved inward
    // only when outside (here they are not: 1 itself is within).
    assert_eq!(q.real_box(1.0, 1e-30), (1.0, 1.0));
    assert_eq!(q.quantize_box(0.5, f32::INFINITY), None);
    assert_eq!(q.quantize_box(0.5, f32::NAN), None);
    assert_eq!(q.quantize_box(0.5, -0.1), None);
}

/// A quantiser centred on a normalisation's mean has the same 256 levels
/// as the plain one over the same domain: every pixel value quantises to
/// the same level (shifted by the zero point), the domain's ends to -128
/// and 127, and the offset is the level nearest the centre.
#[test]
fn a_centred_quantiser_keeps_the_levels() {
    let plain = Quantizer::spanning(0.0, 1.0);
    for centre in [0.0f32, 0.1307, 0.5, 0.99, 1.0] {
        let centred = Quantizer::spanning_about(0.0, 1.0, centre);
        assert!(
            (centred.offset - centre).abs() <= centred.scale / 2.0 + 1e-7,
            "centre {centre}"
        );
        for k in 0..=255u8 {
            let x = f32::from(k) / 255.0;
            assert_eq!(
                centred.quantize(x),
                plain.quantize(x),
                "centre {centre}, pixel {k}"
            );
        }
        assert_eq!((centred.quantize(0.0), centred.quantize(1.0)), (-128, 127));
    }
    // A centre outside the domain clamps to its end.
    assert_eq!(Quantizer::spanning_about(0.0, 1.0, 7.0).zero_point, 127);
    assert_eq!(Quantizer::spanning_about(0.0, 1.0, f32::NAN), plain);
}
