//! Soundness of certification on random networks: every promise a
//! certificate makes is checked against the very inference it is about.
//!
//! Run with `cargo test --release -p cert-runtime --features std`.

mod common;

use cert_runtime::{Budget, Certificate, Model};
use common::*;
use proptest::prelude::*;
use rand::Rng;

/// Random points and random corners checked per box.
const SAMPLES: usize = 48;

/// An encoded random model and the generator of its inputs.
struct Case {
    bytes: Vec<u8>,
    input_len: usize,
    rng: rand::rngs::StdRng,
}

impl Case {
    /// The random model of `model_seed`; inputs and boxes come from `case_seed`.
    fn new(model_seed: u64, case_seed: u64) -> Self {
        let bytes = encode(&random_model(model_seed));
        let input_len = Model::from_bytes(&bytes)
            .expect("encoded model loads")
            .input_len();
        Case {
            bytes,
            input_len,
            rng: rng(case_seed),
        }
    }

    fn model(&self) -> Model<'_> {
        Model::from_bytes(&self.bytes).expect("encoded model loads")
    }

    /// A random input in the domain.
    fn random_input(&mut self) -> Vec<f32> {
        random_input(&mut self.rng, self.input_len)
    }
}

/// Scratch large enough for every entry point of `model`.
fn scratch_for(model: &Model<'_>) -> Vec<i16> {
    vec![0; model.certify_scratch_len()]
}

/// Checks `cert` against the prediction at every point in `points`.
fn assert_covers_all(model: &Model<'_>, cert: &Certificate, points: &[Vec<f32>]) {
    let mut scratch = scratch_for(model);
    for point in points {
        let at = model
            .predict(point, &mut scratch)
            .expect("point is in the domain");
        assert_certificate_covers(cert, &at);
    }
}

proptest! {
    #![proptest_config(proptest_config(1000))]

    /// The certificate's class is the prediction for the unperturbed input,
    /// and its margins bound the logits at random points and corners of the
    /// real eps box.
    #[test]
    fn real_box_margins_hold_everywhere(model_seed: u64, case_seed: u64, eps in arb_eps()) {
        let mut case = Case::new(model_seed, case_seed);
        let input = case.random_input();
        let mut points: Vec<Vec<f32>> =
            (0..SAMPLES).map(|_| random_box_point(&mut case.rng, &input, eps)).collect();
        points.extend(real_box_corners(&mut case.rng, &input, eps, SAMPLES));
        points.push(input.clone());

        let model = case.model();
        let mut scratch = scratch_for(&model);
        let cert = model.certify(&input, Budget::uniform(eps), &mut scratch).unwrap();
        let prediction = model.predict(&input, &mut scratch).unwrap();
        prop_assert_eq!(cert.class, prediction.class);
        prop_assert_eq!(cert.margins.len(), model.classes());
        prop_assert_eq!(cert.margins[cert.class], 0);
        prop_assert_eq!(cert.certified, proves(cert.class, &cert.margins));
        assert_covers_all(&model, &cert, &points);
    }

    /// The same over integer boxes with `certify_quantized` and
    /// `predict_quantized`.
    #[test]
    fn integer_box_margins_hold_everywhere(model_seed: u64, case_seed: u64) {
        let mut case = Case::new(model_seed, case_seed);
        let (point, lo, hi) = random_integer_box(&mut case.rng, case.input_len);
        let bounds: Vec<(i8, i8)> = lo.iter().copied().zip(hi.iter().copied()).collect();
        let mut points: Vec<Vec<i8>> =
            (0..SAMPLES).map(|_| random_integer_point(&mut case.rng, &lo, &hi)).collect();
        points.extend(box_corners(&mut case.rng, &bounds, SAMPLES));

        let model = case.model();
        let mut scratch = scratch_for(&model);
        let cert = model.certify_quantized(&point, &lo, &hi, &mut scratch).unwrap();
        let prediction = model.predict_quantized(&point, &mut scratch).unwrap();
        prop_assert_eq!(cert.class, prediction.class);
        for x in &points {
            let at = model.predict_quantized(x, &mut scratch).unwrap();
            assert_certificate_covers(&cert, &at);
        }
    }

    /// At eps = 0 (and on a one-point integer box) the margins are exactly
    /// the logit differences: the interval pass loses nothing.
    #[test]
    fn zero_eps_margins_are_exact(model_seed: u64, case_seed: u64) {
        let mut case = Case::new(model_seed, case_seed);
        let input = case.random_input();
        let model = case.model();
        let mut scratch = scratch_for(&model);
        let prediction = model.predict(&input, &mut scratch).unwrap();
        let expected = logit_differences(&prediction.logits, prediction.class);

        let real = model.certify(&input, Budget::uniform(0.0), &mut scratch).unwrap();
        let channel_len = model.input_len() / model.input_channels();
        let point: Vec<i8> = input
            .iter()
            .enumerate()
            .map(|(i, &x)| model.quantizer(i / channel_len).unwrap().quantize(x))
            .collect();
        let integer = model.certify_quantized(&point, &point, &point, &mut scratch).unwrap();
        for cert in [real, integer] {
            prop_assert_eq!(cert.class, prediction.class);
            let margins: Vec<i64> = cert.margins.iter().map(|&m| i64::from(m)).collect();
            prop_assert_eq!(&margins, &expected);
        }
    }

    /// Larger boxes give smaller (or equal) margins, and a certificate at a
    /// larger eps implies one at every smaller eps.
    #[test]
    fn margins_shrink_as_eps_grows(
        model_seed: u64,
        case_seed: u64,
        eps_a in arb_eps(),
        eps_b in arb_eps(),
    ) {
        let (small, large) = (eps_a.min(eps_b), eps_a.max(eps_b));
        let mut case = Case::new(model_seed, case_seed);
        let input = case.random_input();
        let model = case.model();
        let mut scratch = scratch_for(&model);
        let inner = model.certify(&input, Budget::uniform(small), &mut scratch).unwrap();
        let outer = model.certify(&input, Budget::uniform(large), &mut scratch).unwrap();
        prop_assert_eq!(inner.class, outer.class);
        for (j, (&a, &b)) in inner.margins.iter().zip(&outer.margins).enumerate() {
            prop_assert!(a >= b, "margin {} grew from {} to {} as eps grew", j, a, b);
        }
        prop_assert!(!outer.certified || inner.certified);
    }

    /// The certified radius is certified, and the next larger `f32` is not
    /// (unless the radius is `max`): it is the largest certified eps.
    #[test]
    fn certified_radius_is_the_largest_certified_eps(
        model_seed: u64,
        case_seed: u64,
        max in 0.0f32..=0.3,
    ) {
        let mut case = Case::new(model_seed, case_seed);
        let input = case.random_input();
        let model = case.model();
        let mut scratch = scratch_for(&model);
        let unit = Budget::uniform(1.0);
        let radius = model.certified_radius(&input, unit, max, &mut scratch).unwrap();
        let at_zero = model.certify(&input, Budget::uniform(0.0), &mut scratch).unwrap();
        prop_assert_eq!(radius.class, at_zero.class);
        let Some(eps) = radius.radius else {
            prop_assert!(!at_zero.certified);
            return Ok(());
        };
        prop_assert!((0.0..=max).contains(&eps));
        prop_assert!(model.certify(&input, Budget::uniform(eps), &mut scratch).unwrap().certified);
        if eps < max {
            let next = f32::from_bits(eps.to_bits() + 1);
            prop_assert!(!model.certify(&input, Budget::uniform(next), &mut scratch).unwrap().certified);
        }
    }

    /// Per-channel budgets: the certificate covers random points and
    /// corners of the box whose half-width differs per channel, and a
    /// per-channel budget of equal values is the uniform one.
    #[test]
    fn per_channel_budgets_hold_everywhere(model_seed: u64, case_seed: u64, eps in arb_eps()) {
        let mut case = Case::new(model_seed, case_seed);
        let input = case.random_input();
        let bytes = case.bytes.clone();
        let model = Model::from_bytes(&bytes).unwrap();
        let channels = model.input_channels();
        let channel_len = model.input_len() / channels;
        let per_channel: Vec<f32> =
            (0..channels).map(|c| eps * (c + 1) as f32 / channels as f32).collect();
        let bounds: Vec<(f32, f32)> = input
            .iter()
            .enumerate()
            .map(|(i, &x)| real_bounds(x, per_channel[i / channel_len]))
            .collect();
        let mut points = box_corners(&mut case.rng, &bounds, SAMPLES);
        points.extend((0..SAMPLES).map(|_| {
            bounds
                .iter()
                .map(|&(lo, hi)| (lo + case.rng.random_range(0.0..=1.0f32) * (hi - lo)).clamp(lo, hi))
                .collect()
        }));
        let mut scratch = scratch_for(&model);
        let cert = model.certify(&input, Budget::per_channel(&per_channel), &mut scratch).unwrap();
        assert_covers_all(&model, &cert, &points);
        let same = vec![eps; channels];
        prop_assert_eq!(
            model.certify(&input, Budget::per_channel(&same), &mut scratch).unwrap(),
            model.certify(&input, Budget::uniform(eps), &mut scratch).unwrap()
        );
    }
}

/// The generator must produce models for which the properties above say
/// something: some inputs certified at a small eps, some not.
#[test]
fn generated_models_certify_some_inputs_and_not_others() {
    let (mut certified, mut refuted, trials) = (0, 0, 400);
    for seed in 0..trials {
        let mut case = Case::new(seed, seed);
        let input = case.random_input();
        let model = case.model();
        let mut scratch = scratch_for(&model);
        let eps = 2.0 * model.quantizer(0).unwrap().scale;
        match model
            .certify(&input, Budget::uniform(eps), &mut scratch)
            .unwrap()
            .certified
        {
            true => certified += 1,
            false => refuted += 1,
        }
    }
    assert!(
        certified >= trials / 10,
        "only {certified} of {trials} certified"
    );
    assert!(refuted >= trials / 10, "only {refuted} of {trials} refuted");
}

/// A huge `max` (far more quantisation steps than any integer counter
/// holds) still finds the radius, the whole domain's when the whole domain
/// is certified. (A grid search used to cap its steps and returned less.)
#[test]
fn certified_radius_handles_huge_limits() {
    let mut whole_domain_certified = 0;
    for seed in 0..200 {
        let mut case = Case::new(seed, seed);
        let input = case.random_input();
        let model = case.model();
        let mut scratch = scratch_for(&model);
        let everywhere = model
            .certify(&input, Budget::uniform(1.0), &mut scratch)
            .unwrap()
            .certified;
        for max in [1e30, f32::MAX] {
            let radius = model
                .certified_radius(&input, Budget::uniform(1.0), max, &mut scratch)
                .unwrap();
            if let Some(eps) = radius.radius {
                assert!(
                    model
                        .certify(&input, Budget::uniform(eps), &mut scratch)
                        .unwrap()
                        .certified
                );
            }
            if everywhere {
                assert_eq!(radius.radius, Some(max), "{radius:?}");
            }
        }
        whole_domain_certified += usize::from(everywhere);
    }
    assert!(
        whole_domain_certified > 0,
        "no model is constant on its domain"
    );
}

/// Identical logit rows tie everywhere, and a tie goes to the lowest
/// index: the decision is class 0 for every input, which the certificate
/// proves (margins exactly 0 at eps = 0), at every eps.
#[test]
fn a_tie_everywhere_certifies_class_0() {
    for seed in 0..50 {
        let mut spec = random_model(seed);
        let logits = spec.layers.last_mut().expect("a logits layer");
        let inputs = logits.fan_in();
        let params = logits.params_mut();
        let first_row = params.weights[..inputs].to_vec();
        for row in params.weights.chunks_exact_mut(inputs) {
            row.copy_from_slice(&first_row);
        }
        let first_bias = params.bias[..4].to_vec();
        for bias in params.bias.chunks_exact_mut(4) {
            bias.copy_from_slice(&first_bias);
        }
        let bytes = encode(&spec);
        let model = Model::from_bytes(&bytes).unwrap();
        let mut scratch = scratch_for(&model);
        let input = random_input(&mut rng(seed), model.input_len());
        let cert = model
            .certify(&input, Budget::uniform(0.0), &mut scratch)
            .unwrap();
        assert!(cert.certified);
        assert_eq!(cert.class, 0);
        assert!(cert.margins.iter().all(|&m| m == 0), "{:?}", cert.margins);
        let radius = model
            .certified_radius(&input, Budget::uniform(1.0), 0.3, &mut scratch)
            .unwrap();
        assert_eq!((radius.class, radius.radius), (0, Some(0.3)));
    }
}
