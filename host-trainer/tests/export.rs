//! Export: the int8 file round-trips, agrees with the float network, and
//! its certificates survive attacks (PGD through the float network and
//! random points of the box, both checked with the runtime's integer
//! inference).

mod common;

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use burn::module::Module;
use burn::tensor::Device;
use cert_runtime::Model;
use cert_runtime::format;
use host_trainer::data::batch;
use host_trainer::export::{certify_set, export};
use host_trainer::ibp::{Mode, propagate};
use host_trainer::train::{RunDir, load_net, train};
use rand::{Rng, SeedableRng};

#[test]
fn exported_model_round_trips_agrees_and_resists_attacks() {
    let tmp = tempfile::tempdir().unwrap();
    let device = Device::flex().autodiff();
    let dir = RunDir::new(tmp.path());
    let (cfg, set) = common::tiny_config(dir.root(), 3000, 4);
    train(
        &dir,
        &cfg,
        &set,
        &device,
        Arc::new(AtomicBool::new(false)),
        None,
    )
    .unwrap();
    let net = load_net(&cfg, &dir.best_model(), &device).unwrap();
    let bytes = export(
        &net,
        &cfg,
        &set,
        &cfg.eps,
        0,
        cert_runtime::Bounds::Interval,
        &device,
    )
    .unwrap()
    .to_bytes()
    .unwrap();

    // Round trip: decode and re-encode gives the same bytes.
    let model = Model::from_bytes(&bytes).unwrap();
    assert_eq!(format::encode(model.desc()).unwrap(), bytes);

    // int8 and float predictions agree on the test digits.
    let (_, test) = common::digits();
    let plain = net.valid();
    let indices: Vec<usize> = (0..test.len()).collect();
    let (x, _) = batch(&test, &indices, &device.clone().inner());
    let logits = propagate(&plain, Some(x), None, None, Mode::Eval, false)
        .logits
        .unwrap();
    let float: Vec<i64> = logits
        .argmax(1)
        .into_data()
        .convert::<i64>()
        .try_to_vec::<i64>()
        .unwrap();
    let mut scratch = vec![0i16; model.certify_scratch_len()];
    let agree = (0..test.len())
        .filter(|&i| model.predict(test.image(i), &mut scratch).unwrap().class as i64 == float[i])
        .count();
    assert!(
        agree as f32 >= 0.98 * test.len() as f32,
        "int8 and float agree on {agree} of {}",
        test.len()
    );

    // Certified test inputs: no counterexample from PGD through the float
    // network, nor from random points and corners of the box.
    let eps = 0.05;
    assert_eq!(
        model.budget().eps(0),
        Some(eps),
        "the file carries the run's eps"
    );
    let subset = test.take(300);
    let (summary, results) = certify_set(&model, &subset, model.budget(), None).unwrap();
    assert!(summary.certified_accuracy > 0.0);
    let certified: Vec<usize> = results
        .iter()
        .filter(|r| r.certified)
        .map(|r| r.index)
        .collect();
    let adversarial = pgd_adversarial(&net, &subset, &certified, eps, &device);
    let mut rng = rand::rngs::StdRng::seed_from_u64(5);
    for (k, &i) in certified.iter().enumerate() {
        let class = results[i].predicted;
        let image = subset.image(i);
        assert_eq!(
            model.predict(&adversarial[k], &mut scratch).unwrap().class,
            class,
            "PGD broke certified image {i}"
        );
        for trial in 0..20 {
            let point: Vec<f32> = image
                .iter()
                .map(|&p| {
                    let d = if trial % 2 == 0 {
                        rng.random_range(-eps..=eps)
                    } else if rng.random_bool(0.5) {
                        eps
                    } else {
                        -eps
                    };
                    (p + d).clamp(0.0, 1.0)
                })
                .collect();
            assert_eq!(
                model.predict(&point, &mut scratch).unwrap().class,
                class,
                "random point broke certified image {i}"
            );
        }
    }
}

/// PGD (L-infinity, 30 steps) on the float network against the true
/// label; returns the adversarial images.
fn pgd_adversarial(
    net: &host_trainer::model::Net,
    set: &host_trainer::data::Dataset,
    indices: &[usize],
    eps: f32,
    device: &Device,
) -> Vec<Vec<f32>> {
    use host_trainer::ibp::cross_entropy;
    let (x, y) = batch(set, indices, device);
    let x = x.without_autodiff();
    let (lo, hi) = (
        x.clone().sub_scalar(eps).clamp_min(0.0),
        x.clone().add_scalar(eps).clamp_max(1.0),
    );
    let mut adv = x;
    for _ in 0..30 {
        let input = adv.clone().autodiff().require_grad();
        let logits = propagate(net, Some(input.clone()), None, None, Mode::Eval, false)
            .logits
            .unwrap();
        let grads = cross_entropy(logits, y.clone()).backward();
        let g = input.grad(&grads).unwrap();
        adv = (adv + g.sign().mul_scalar(eps / 10.0))
            .max_pair(lo.clone())
            .min_pair(hi.clone());
    }
    let values = adv
        .into_data()
        .convert::<f32>()
        .try_to_vec::<f32>()
        .unwrap();
    values.chunks(set.shape.len()).map(|c| c.to_vec()).collect()
}
