//! Refinement, checked exhaustively: for tiny random networks with 2 to 4
//! inputs, EVERY integer point of the box is classified, and
//!
//! - "certified" never has a point of another class in its box;
//! - every counterexample is real: an input within the budget (exactly,
//!   checked by the independent oracle of `common::exact`) and the domain
//!   that `predict` classifies differently;
//! - with a budget large enough to split down to single points, the verdict
//!   is exact: certified iff no integer point of the box changes class.

mod common;

use cert_runtime::format::owned::OwnedModel;
use cert_runtime::format::{CertSpec, InputSpec};
use cert_runtime::{Budget, Model, Quantizer, REFINE_DEPTH, Trail, Verdict};
use common::exact::{exact_box, within};
use common::*;
use proptest::prelude::*;
use rand::Rng;
use rand::rngs::StdRng;

/// A random network over `2..=4` features, each quantised coarsely (12 to
/// 32 steps of 1/255 per level) so that boxes hold few integer points.
fn tiny_model(seed: u64) -> OwnedModel {
    let mut rng = rng(seed);
    let features = rng.random_range(2..=4);
    let quantizers: Vec<Quantizer> = (0..features)
        .map(|_| Quantizer {
            scale: rng.random_range(12..=32) as f32 / 255.0,
            offset: rng.random_range(-0.3..=0.3),
            zero_point: rng.random_range(-64..=0),
            domain_min: 0.0,
            domain_max: 1.0,
        })
        .collect();
    let names: Vec<String> = (0..features).map(|i| format!("f{i}")).collect();
    let input = InputSpec::features(&quantizers, &names);
    let mut magnitude = Magnitude::of_input(&input);
    let mut width = features;
    let mut layers = Vec::new();
    for _ in 0..rng.random_range(1..=2) {
        let outputs = rng.random_range(2..=6);
        let stage = random_requantize(&mut rng, outputs, width, magnitude, true);
        layers.push(random_dense(&mut rng, width, outputs, magnitude, stage));
        width = outputs;
        magnitude = Magnitude::of_hidden();
    }
    let classes = rng.random_range(2..=3);
    layers.push(logits_layer(&mut rng, width, classes));
    let mut desc = model_spec(input, layers);
    desc.header.certification = CertSpec::new(&vec![0.1; features], 64);
    desc
}

/// A random input and per-feature budget whose box holds at most a few
/// thousand integer points.
fn random_case(rng: &mut StdRng, model: &Model<'_>) -> (Vec<f32>, Vec<f32>) {
    let n = model.input_len();
    let input = random_input(rng, n);
    let eps = (0..n).map(|_| rng.random_range(0.0..=0.25f32)).collect();
    (input, eps)
}

/// The levels the inputs within `eps` of `input` reach, per feature: the
/// quantised ends of the exact budget (computed by the test's own oracle;
/// quantisation is monotone, so every level between them is in the box).
fn integer_box(model: &Model<'_>, input: &[f32], eps: &[f32]) -> Vec<(i8, i8)> {
    input
        .iter()
        .zip(eps)
        .enumerate()
        .map(|(i, (&x, &e))| {
            let q = model.quantizer(i).unwrap();
            let (lo, hi) = exact_box(x, e, q.domain_min, q.domain_max);
            (q.quantize(lo), q.quantize(hi))
        })
        .collect()
}

/// Every integer point of the box.
fn points(bounds: &[(i8, i8)]) -> Vec<Vec<i8>> {
    let mut all = vec![Vec::new()];
    for &(lo, hi) in bounds {
        all = all
            .into_iter()
            .flat_map(|p| {
                (lo..=hi).map(move |v| {
                    let mut q = p.clone();
                    q.push(v);
                    q
                })
            })
            .collect();
    }
    all
}

/// What the exhaustive enumeration says: does some integer point of the
/// box get a class other than `class`?
fn some_point_changes_class(model: &Model<'_>, bounds: &[(i8, i8)], class: usize) -> bool {
    let mut scratch = vec![0; model.predict_scratch_len()];
    points(bounds)
        .iter()
        .any(|p| model.predict_quantized(p, &mut scratch).unwrap().class != class)
}

/// Checks one refinement against the enumeration; returns its verdict and
/// whether plain interval certification had already certified it.
fn check(model: &Model<'_>, input: &[f32], eps: &[f32], max_boxes: u32) -> (Verdict, bool) {
    let mut scratch = vec![0; model.refine_scratch_len()];
    let mut trail = Trail::<REFINE_DEPTH>::new();
    let mut counterexample = vec![0.0; input.len()];
    let budget = Budget::per_channel(eps);
    let r = model
        .refine(
            input,
            budget,
            max_boxes,
            &mut scratch,
            &mut trail,
            &mut counterexample,
        )
        .unwrap();
    assert_eq!(
        r.certificate,
        model.certify(input, budget, &mut scratch).unwrap()
    );
    let class = model.predict(input, &mut scratch).unwrap().class;
    assert_eq!(r.certificate.class, class);
    assert!(
        (1..=max_boxes.max(1)).contains(&r.boxes),
        "{} boxes of {max_boxes}",
        r.boxes
    );
    let bounds = integer_box(model, input, eps);
    let changes = some_point_changes_class(model, &bounds, class);
    match r.verdict {
        Verdict::Certified => assert!(!changes, "certified, but a point of the box changes class"),
        Verdict::Refuted => {
            for (i, (&c, (&x, &e))) in counterexample.iter().zip(input.iter().zip(eps)).enumerate()
            {
                assert!(
                    within(c, x, e),
                    "counterexample {c} is farther than {e} from {x}"
                );
                assert!(
                    model.quantizer(i).unwrap().contains(c),
                    "outside the domain"
                );
            }
            let at = model.predict(&counterexample, &mut scratch).unwrap();
            assert_ne!(at.class, class, "the counterexample is not one");
            assert!(changes);
        }
        Verdict::Unknown => assert_eq!(r.boxes, max_boxes, "unknown before the budget ran out"),
    }
    (r.verdict, r.certificate.certified)
}

proptest! {
    #![proptest_config(proptest_config(400))]

    /// With any budget, "certified" and "refuted" are true statements.
    #[test]
    fn verdicts_are_true_for_every_budget(model_seed: u64, case_seed: u64, max_boxes in 1u32..40) {
        let bytes = encode(&tiny_model(model_seed));
        let model = Model::from_bytes(&bytes).unwrap();
        let (input, eps) = random_case(&mut rng(case_seed), &model);
        check(&model, &input, &eps, max_boxes);
    }

    /// With a budget that can split every value down to single points, the
    /// verdict is exact: never unknown.
    #[test]
    fn enough_boxes_make_the_verdict_exact(model_seed: u64, case_seed: u64) {
        let bytes = encode(&tiny_model(model_seed));
        let model = Model::from_bytes(&bytes).unwrap();
        let (input, eps) = random_case(&mut rng(case_seed), &model);
        let leaves = points(&integer_box(&model, &input, &eps)).len() as u32;
        let (verdict, _) = check(&model, &input, &eps, 2 * leaves);
        prop_assert_ne!(verdict, Verdict::Unknown);
    }
}

/// Refinement does what plain intervals cannot: over many random cases,
/// some inputs that the interval pass leaves uncertified are certified by
/// refinement and some are refuted with a counterexample.
#[test]
fn refinement_certifies_and_refutes_what_intervals_leave_open() {
    let (mut lifted, mut refuted, mut open) = (0, 0, 0);
    for seed in 0..400 {
        let bytes = encode(&tiny_model(seed));
        let model = Model::from_bytes(&bytes).unwrap();
        let (input, eps) = random_case(&mut rng(seed ^ 0xabcd), &model);
        let leaves = points(&integer_box(&model, &input, &eps)).len() as u32;
        match check(&model, &input, &eps, 2 * leaves) {
            (_, true) => {}
            (Verdict::Certified, false) => lifted += 1,
            (Verdict::Refuted, false) => refuted += 1,
            (Verdict::Unknown, false) => open += 1,
        }
    }
    println!("lifted {lifted} refuted {refuted}");
    assert!(
        lifted >= 10,
        "refinement certified only {lifted} uncertified inputs"
    );
    assert!(refuted >= 10, "refinement refuted only {refuted} inputs");
    assert_eq!(open, 0);
}

/// The verdict does not depend on the trail: any trail at least
/// `refine_depth(max_boxes)` deep gives the same decision, and a shallower
/// one is refused with an error, never a different verdict.
#[test]
fn verdicts_do_not_depend_on_the_trail() {
    let mut compared = 0;
    for seed in 0..200 {
        let bytes = encode(&tiny_model(seed));
        let model = Model::from_bytes(&bytes).unwrap();
        let (input, eps) = random_case(&mut rng(seed), &model);
        let budget = Budget::per_channel(&eps);
        let mut scratch = vec![0; model.refine_scratch_len()];
        let mut counterexample = vec![0.0; input.len()];
        let max_boxes = 65;
        assert!(model.refine_depth(max_boxes) <= 64);
        let mut exact = Trail::<64>::new();
        let a = model.refine(
            &input,
            budget,
            max_boxes,
            &mut scratch,
            &mut exact,
            &mut counterexample,
        );
        let first = counterexample.clone();
        let mut deep = Trail::<REFINE_DEPTH>::new();
        let b = model.refine(
            &input,
            budget,
            max_boxes,
            &mut scratch,
            &mut deep,
            &mut counterexample,
        );
        assert_eq!(a, b);
        if a.as_ref().is_ok_and(|d| d.verdict == Verdict::Refuted) {
            assert_eq!(first, counterexample);
        }
        let mut shallow = Trail::<1>::new();
        let c = model.refine(
            &input,
            budget,
            1000,
            &mut scratch,
            &mut shallow,
            &mut counterexample,
        );
        let needed = model.refine_depth(1000);
        assert_eq!(
            c,
            Err(cert_runtime::Error::TrailTooShallow {
                needed,
                capacity: 1
            })
        );
        compared += 1;
    }
    assert_eq!(compared, 200);
}

/// On image-shaped inputs (several values per channel, a convolution
/// first), refinement's verdicts are true statements too, and a refuted
/// input's counterexample is classified differently.
#[test]
fn refinement_of_random_conv_models_is_sound() {
    for seed in 0..100 {
        let bytes = encode(&random_model(seed));
        let model = Model::from_bytes(&bytes).unwrap();
        let mut rng = rng(seed);
        let input = random_input(&mut rng, model.input_len());
        let budget = Budget::uniform(rng.random_range(0.0..=0.05));
        let mut scratch = vec![0; model.refine_scratch_len()];
        let mut trail = Trail::<REFINE_DEPTH>::new();
        let mut counterexample = vec![0.0; input.len()];
        let r = model
            .refine(
                &input,
                budget,
                32,
                &mut scratch,
                &mut trail,
                &mut counterexample,
            )
            .unwrap();
        let class = model.predict(&input, &mut scratch).unwrap().class;
        if r.verdict == Verdict::Refuted {
            let at = model.predict(&counterexample, &mut scratch).unwrap();
            assert_ne!(at.class, class);
        }
        if r.verdict == Verdict::Certified {
            let mut sample_rng = common::rng(seed + 1);
            let eps = budget.eps(0).unwrap();
            for _ in 0..64 {
                let point = random_box_point(&mut sample_rng, &input, eps);
                assert_eq!(model.predict(&point, &mut scratch).unwrap().class, class);
            }
        }
    }
}
