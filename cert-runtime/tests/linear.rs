//! Linear bounds (`Bounds::Linear`), checked against the very inference
//! they are about:
//!
//! - on tiny random networks, EVERY integer point of the box is run: each
//!   margin lower bound is at most the smallest margin of any point, so a
//!   linear certificate never has a counterexample;
//! - a linear margin bound is never below the interval one, and the class,
//!   and certification at eps 0, are the interval pass's;
//! - they do what intervals cannot: two identical hidden neurons feeding
//!   `h0 - h1 + 1` are proven equal;
//! - on larger random networks (convolutions included), random points and
//!   corners of the box respect the bounds.

mod common;

use cert_runtime::format::owned::OwnedModel;
use cert_runtime::format::owned::quantize_multiplier;
use cert_runtime::format::{
    Bounds, CertSpec, InputSpec, Layer, ModelDesc, Output, Params, Requantize,
};
use cert_runtime::{Budget, Certificate, Model, Quantizer};
use common::*;
use proptest::prelude::*;
use rand::Rng;
use rand::rngs::StdRng;

/// The same model with margins bounded by `bounds`.
fn with_bounds(mut desc: OwnedModel, bounds: Bounds) -> Vec<u8> {
    desc.header.certification.bounds = bounds;
    encode(&desc)
}

/// A random network over `2..=4` features quantised coarsely, with one or
/// two dense hidden layers of up to 8 units, some ReLUs, some clamps.
fn tiny_model(seed: u64) -> OwnedModel {
    let mut rng = rng(seed);
    let features = rng.random_range(2..=4);
    let quantizers: Vec<Quantizer> = (0..features)
        .map(|_| Quantizer {
            scale: rng.random_range(8..=32) as f32 / 255.0,
            offset: rng.random_range(-0.3..=0.3),
            zero_point: rng.random_range(-64..=0),
            domain_min: 0.0,
            domain_max: 1.0,
        })
        .collect();
    let input = InputSpec::features(&quantizers, &[]);
    let mut magnitude = Magnitude::of_input(&input);
    let mut width = features;
    let mut layers = Vec::new();
    for _ in 0..rng.random_range(1..=2) {
        let outputs = rng.random_range(2..=8);
        let relu = rng.random_bool(0.8);
        let stage = random_requantize(&mut rng, outputs, width, magnitude, relu);
        layers.push(random_dense(&mut rng, width, outputs, magnitude, stage));
        width = outputs;
        magnitude = Magnitude::of_hidden();
    }
    let classes = rng.random_range(2..=3);
    layers.push(logits_layer(&mut rng, width, classes));
    model_spec(input, layers)
}

/// A random integer box of a tiny model (at most a few thousand points).
fn tiny_box(rng: &mut StdRng, n: usize) -> (Vec<i8>, Vec<i8>, Vec<i8>) {
    let mut point = Vec::new();
    let (mut lo, mut hi) = (Vec::new(), Vec::new());
    for _ in 0..n {
        let p: i8 = rng.random_range(-100..=100);
        let below = rng.random_range(0..=12);
        let above = rng.random_range(0..=12);
        point.push(p);
        lo.push(p.saturating_sub(below));
        hi.push(p.saturating_add(above));
    }
    (point, lo, hi)
}

/// Every integer point of `[lo, hi]`.
fn all_points(lo: &[i8], hi: &[i8]) -> Vec<Vec<i8>> {
    let mut all = vec![Vec::new()];
    for (&l, &h) in lo.iter().zip(hi) {
        all = all
            .into_iter()
            .flat_map(|p| {
                (l..=h).map(move |v| {
                    let mut q = p.clone();
                    q.push(v);
                    q
                })
            })
            .collect();
    }
    all
}

/// The smallest `f_class - f_j` over `points`, for every `j`.
fn true_margins(model: &Model<'_>, points: &[Vec<i8>], class: usize) -> Vec<i64> {
    let mut scratch = vec![0; model.predict_scratch_len()];
    let mut worst = vec![i64::MAX; model.classes()];
    for p in points {
        let logits = model.predict_quantized(p, &mut scratch).unwrap().logits;
        for (w, d) in worst.iter_mut().zip(logit_differences(&logits, class)) {
            *w = (*w).min(d);
        }
    }
    worst
}

/// Checks a linear certificate against the interval one and the truth.
fn check(linear: &Certificate, interval: &Certificate, truth: &[i64]) {
    assert_eq!(linear.class, interval.class);
    for (j, ((&l, &i), &t)) in linear
        .margins
        .iter()
        .zip(&interval.margins)
        .zip(truth)
        .enumerate()
    {
        assert!(l >= i, "margin {j}: linear {l} below interval {i}");
        assert!(
            i64::from(l) <= t,
            "margin {j}: linear bound {l} above the true minimum {t}"
        );
    }
    assert!(!interval.certified || linear.certified);
    assert_eq!(linear.certified, proves(linear.class, &linear.margins));
}

proptest! {
    #![proptest_config(proptest_config(2000))]

    /// Every integer point of the box: the linear bounds hold, beat or
    /// equal the interval ones, and a certified box has no counterexample.
    #[test]
    fn linear_bounds_hold_at_every_point_of_tiny_boxes(model_seed: u64, case_seed: u64) {
        let desc = tiny_model(model_seed);
        let (linear_file, interval_file) = (with_bounds(desc.clone(), Bounds::Linear), with_bounds(desc, Bounds::Interval));
        let (linear, interval) = (Model::from_bytes(&linear_file).unwrap(), Model::from_bytes(&interval_file).unwrap());
        let (point, lo, hi) = tiny_box(&mut rng(case_seed), linear.input_len());
        let mut scratch = vec![0; linear.certify_scratch_len()];
        let l = linear.certify_quantized(&point, &lo, &hi, &mut scratch).unwrap();
        let i = interval.certify_quantized(&point, &lo, &hi, &mut scratch).unwrap();
        let truth = true_margins(&linear, &all_points(&lo, &hi), l.class);
        check(&l, &i, &truth);
    }

    /// Larger random networks (convolutions first, or dense only): random
    /// points and corners of real eps boxes respect the linear margins.
    #[test]
    fn linear_bounds_hold_on_random_networks(model_seed: u64, case_seed: u64, eps in arb_eps()) {
        let desc = random_model(model_seed);
        let (linear_file, interval_file) = (with_bounds(desc.clone(), Bounds::Linear), with_bounds(desc, Bounds::Interval));
        let (linear, interval) = (Model::from_bytes(&linear_file).unwrap(), Model::from_bytes(&interval_file).unwrap());
        let mut rng = rng(case_seed);
        let input = random_input(&mut rng, linear.input_len());
        let mut scratch = vec![0; linear.certify_scratch_len()];
        let l = linear.certify(&input, Budget::uniform(eps), &mut scratch).unwrap();
        let i = interval.certify(&input, Budget::uniform(eps), &mut scratch).unwrap();
        let mut points: Vec<Vec<f32>> = (0..48).map(|_| random_box_point(&mut rng, &input, eps)).collect();
        points.extend(real_box_corners(&mut rng, &input, eps, 48));
        let mut worst = vec![i64::MAX; linear.classes()];
        for p in &points {
            let logits = linear.predict(p, &mut scratch).unwrap().logits;
            for (w, d) in worst.iter_mut().zip(logit_differences(&logits, l.class)) {
                *w = (*w).min(d);
            }
        }
        check(&l, &i, &worst);
    }
}

/// At eps 0 the box is a point and linear bounds change nothing.
#[test]
fn a_point_box_is_exact_with_linear_bounds() {
    for seed in 0..200 {
        let desc = tiny_model(seed);
        let model_file = with_bounds(desc, Bounds::Linear);
        let model = Model::from_bytes(&model_file).unwrap();
        let input = random_input(&mut rng(seed), model.input_len());
        let mut scratch = vec![0; model.certify_scratch_len()];
        let cert = model
            .certify(&input, Budget::uniform(0.0), &mut scratch)
            .unwrap();
        let logits = model.predict(&input, &mut scratch).unwrap().logits;
        let exact = logit_differences(&logits, cert.class);
        for (m, e) in cert.margins.iter().zip(exact) {
            assert_eq!(i64::from(*m), e);
        }
    }
}

/// Two identical hidden neurons and class 0's logit `h0 - h1 + 1`: class 0
/// wins everywhere. Intervals treat `h0` and `h1` as independent and cannot
/// prove it; linear bounds substitute both into the same input and can.
#[test]
fn linear_bounds_prove_what_intervals_cannot() {
    let (multiplier, shift) = quantize_multiplier(1.0 / 64.0);
    let twins = Requantize::new(&[multiplier; 2], &[shift; 2], -128, -128, 127, 1.0 / 255.0);
    let layers = vec![
        Layer::dense(
            1,
            2,
            Params::new(&[64, 64], &[0, 0], Output::Requantize(twins)),
        ),
        Layer::dense(
            2,
            2,
            Params::new(&[1, -1, 0, 0], &[1, 0], Output::Logits { scale: 1.0 }),
        ),
    ];
    let desc = ModelDesc::new(
        InputSpec::features(&[Quantizer::spanning(0.0, 1.0)], &[]),
        CertSpec::new(&[0.1], 0),
        &[],
        "twin neurons",
        layers,
    )
    .unwrap();
    let (linear_file, interval_file) = (
        with_bounds(desc.clone(), Bounds::Linear),
        with_bounds(desc, Bounds::Interval),
    );
    let (linear, interval) = (
        Model::from_bytes(&linear_file).unwrap(),
        Model::from_bytes(&interval_file).unwrap(),
    );
    let mut scratch = vec![0; linear.certify_scratch_len()];
    for x in [0.2f32, 0.5, 0.9] {
        let i = interval
            .certify(&[x], Budget::uniform(0.1), &mut scratch)
            .unwrap();
        let l = linear
            .certify(&[x], Budget::uniform(0.1), &mut scratch)
            .unwrap();
        assert!(!i.certified, "intervals cannot prove twins equal");
        assert!(l.certified, "linear bounds do: margins {:?}", l.margins);
        assert_eq!(l.class, 0);
    }
}

/// Over many random tiny boxes, linear bounds certify some that intervals
/// do not (the feature does something), and never the other way round.
#[test]
fn linear_bounds_certify_more() {
    let (mut gained, mut both) = (0, 0);
    for seed in 0..600 {
        let desc = tiny_model(seed);
        let (linear_file, interval_file) = (
            with_bounds(desc.clone(), Bounds::Linear),
            with_bounds(desc, Bounds::Interval),
        );
        let (linear, interval) = (
            Model::from_bytes(&linear_file).unwrap(),
            Model::from_bytes(&interval_file).unwrap(),
        );
        let (point, lo, hi) = tiny_box(&mut rng(seed ^ 0x11), linear.input_len());
        let mut scratch = vec![0; linear.certify_scratch_len()];
        let l = linear
            .certify_quantized(&point, &lo, &hi, &mut scratch)
            .unwrap();
        let i = interval
            .certify_quantized(&point, &lo, &hi, &mut scratch)
            .unwrap();
        assert!(!i.certified || l.certified);
        gained += usize::from(l.certified && !i.certified);
        both += usize::from(i.certified);
    }
    println!("linear certified {gained} boxes intervals did not ({both} both)");
    assert!(
        gained >= 10,
        "linear bounds certified only {gained} more boxes"
    );
}
