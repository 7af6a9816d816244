//! CROWN-IBP's margins against brute force: points drawn from the input box
//! (and its corners) never have a smaller margin than the bound, the bound
//! is exact at eps = 0, and IBP's tightness lies in (0, 1].

use burn::tensor::{Device, Distribution, Int, Tensor, TensorData};
use host_trainer::bounds::Perturbation;
use host_trainer::crown::{crown_ibp_margins, tightness};
use host_trainer::data::{ChannelSpace, InputSpace};
use host_trainer::ibp::{Bounds, Mode, propagate};
use host_trainer::model::{Arch, Init, InputShape, Net};

const BATCH: usize = 16;
const CLASSES: usize = 4;

/// A random network of `arch` over `shape`, with inputs normalised as
/// `space` says, a random batch inside the space and its labels.
fn setup(
    arch: &str,
    shape: InputShape,
    space: &InputSpace,
    seed: u64,
) -> (Net, Tensor<4>, Tensor<1, Int>) {
    let device = Device::flex();
    device.seed(seed);
    let net = Net::new(
        &arch.parse::<Arch>().unwrap(),
        Init::Shi,
        shape,
        space,
        CLASSES,
        &device,
    )
    .unwrap();
    let dims = [BATCH, shape.channels, shape.height, shape.width];
    let unit: Tensor<4> = Tensor::random(dims, Distribution::Uniform(0.0, 1.0), &device);
    let (min, max) = domain(space, shape, &device);
    let x = min.clone() + (max - min) * unit;
    let labels = Tensor::from_data(
        TensorData::new(
            (0..BATCH as i64).map(|i| i % CLASSES as i64).collect(),
            [BATCH],
        ),
        &device,
    );
    (net, x, labels)
}

/// Every value's domain ends, `[1, channels, height, width]`.
fn domain(space: &InputSpace, shape: InputShape, device: &Device) -> (Tensor<4>, Tensor<4>) {
    let per_channel = |f: fn(&ChannelSpace) -> f32| {
        let v: Vec<f32> = space.channels.iter().map(f).collect();
        Tensor::<1>::from_data(TensorData::new(v, [shape.channels]), device)
            .reshape([1, shape.channels, 1, 1])
            .repeat_dim(2, shape.height)
            .repeat_dim(3, shape.width)
    };
    (per_channel(|c| c.min), per_channel(|c| c.max))
}

/// The margins `f_y - f_j` of the points, `[batch, classes]`, as a vector.
fn true_margins(net: &Net, points: Tensor<4>, labels: &Tensor<1, Int>) -> Vec<f32> {
    let logits = propagate(net, Some(points), None, None, Mode::Eval, false)
        .logits
        .unwrap();
    let own = logits.clone().gather(1, labels.clone().reshape([BATCH, 1]));
    (own - logits)
        .into_data()
        .convert::<f32>()
        .try_to_vec::<f32>()
        .unwrap()
}

/// The CROWN-IBP margins of the box around `x`, with the box.
fn crown(
    net: &Net,
    x: Tensor<4>,
    labels: &Tensor<1, Int>,
    eps: &[f32],
    space: &InputSpace,
) -> (Vec<f32>, Bounds<4>) {
    let input = Perturbation::new(eps, space).around(x);
    let pass = propagate(
        net,
        None,
        Some(input.clone()),
        Some(labels.clone()),
        Mode::Eval,
        true,
    );
    let margins = crown_ibp_margins(net, &pass, &input, labels.clone(), net.head.weight.val());
    (
        margins
            .into_data()
            .convert::<f32>()
            .try_to_vec::<f32>()
            .unwrap(),
        input,
    )
}

fn check_sound(arch: &str, shape: InputShape, space: &InputSpace, eps: &[f32]) {
    let (net, x, labels) = setup(arch, shape, space, 11);
    let (bounds, input) = crown(&net, x, &labels, eps, space);
    let device = input.centre.device();
    let dims = input.centre.dims();
    for trial in 0..200 {
        let u: Tensor<4> = Tensor::random(dims, Distribution::Uniform(-1.0, 1.0), &device);
        // Odd trials: corners of the box.
        let u = if trial % 2 == 1 { u.sign() } else { u };
        let points = input.centre.clone() + input.radius.clone() * u;
        let margins = true_margins(&net, points, &labels);
        for (i, (&m, &b)) in margins.iter().zip(&bounds).enumerate() {
            let slack = 1e-4 * (1.0 + m.abs());
            assert!(
                m >= b - slack,
                "{arch}: value {i}: margin {m} below the bound {b}"
            );
        }
    }
}

fn image() -> (InputShape, InputSpace) {
    let shape = InputShape {
        channels: 1,
        height: 10,
        width: 10,
    };
    (shape, InputSpace::unit(1))
}

/// Six features with their own domains and normalisations.
fn features() -> (InputShape, InputSpace) {
    let channels = (0..6)
        .map(|c| {
            let c = c as f32;
            ChannelSpace {
                min: -1.0 - c,
                max: 2.0 + c,
                mean: 0.25 * c,
                std: 0.5 + 0.3 * c,
            }
        })
        .collect();
    let shape = InputShape {
        channels: 6,
        height: 1,
        width: 1,
    };
    (shape, InputSpace { channels })
}

#[test]
fn margins_bound_sampled_points_cnn() {
    let (shape, space) = image();
    check_sound("cnn-small", shape, &space, &[0.05]);
}

#[test]
fn margins_bound_sampled_points_mlp_on_normalised_features() {
    let (shape, space) = features();
    check_sound("mlp:24,12", shape, &space, &[0.3, 0.1, 0.5, 0.2, 0.0, 0.4]);
}

#[test]
fn margins_are_exact_at_eps_zero() {
    for (arch, (shape, space)) in [("cnn-small", image()), ("mlp:24,12", features())] {
        let (net, x, labels) = setup(arch, shape, &space, 5);
        let eps = vec![0.0; shape.channels];
        let (bounds, _) = crown(&net, x.clone(), &labels, &eps, &space);
        let margins = true_margins(&net, x, &labels);
        for (i, (&m, &b)) in margins.iter().zip(&bounds).enumerate() {
            assert!(
                (m - b).abs() <= 1e-4 * (1.0 + m.abs()),
                "{arch}: value {i}: {m} != {b}"
            );
        }
    }
}

#[test]
fn tightness_lies_in_zero_one() {
    for (arch, (shape, space)) in [("cnn-small", image()), ("mlp:24,12", features())] {
        let (net, x, labels) = setup(arch, shape, &space, 3);
        let eps = vec![0.05; shape.channels];
        let input = Perturbation::new(&eps, &space).around(x.clone());
        let point = Bounds {
            centre: x.clone(),
            radius: x.zeros_like(),
        };
        let clean = propagate(
            &net,
            None,
            Some(point),
            Some(labels.clone()),
            Mode::Eval,
            true,
        );
        let t: f32 = tightness(&net, &clean, &input, labels).into_scalar();
        assert!(t > 0.0 && t <= 1.0 + 1e-5, "{arch}: tightness {t}");
    }
}

/// Two features through one small hidden layer, wide boxes (most ReLUs
/// unstable): the bound may not exceed the smallest margin over a 41 x 41
/// grid of the box, for many random networks. Sampling a large network
/// misses a wrong relaxation; this does not.
#[test]
fn margins_bound_a_dense_grid_on_tiny_networks() {
    let shape = InputShape {
        channels: 2,
        height: 1,
        width: 1,
    };
    let channels = vec![
        ChannelSpace {
            min: -2.0,
            max: 2.0,
            mean: 0.1,
            std: 0.7
        };
        2
    ];
    let space = InputSpace { channels };
    const STEPS: usize = 40;
    for seed in 0..12 {
        let (net, x, labels) = setup("mlp:5", shape, &space, seed);
        let (bounds, input) = crown(&net, x, &labels, &[0.6, 0.9], &space);
        let mut smallest = vec![f32::INFINITY; bounds.len()];
        for i in 0..=STEPS {
            for j in 0..=STEPS {
                let u = |k: usize| 2.0 * k as f32 / STEPS as f32 - 1.0;
                let step = Tensor::<1>::from_data(
                    TensorData::new(vec![u(i), u(j)], [2]),
                    &input.centre.device(),
                );
                let points =
                    input.centre.clone() + input.radius.clone() * step.reshape([1, 2, 1, 1]);
                for (s, m) in smallest.iter_mut().zip(true_margins(&net, points, &labels)) {
                    *s = s.min(m);
                }
            }
        }
        for (v, (&s, &b)) in smallest.iter().zip(&bounds).enumerate() {
            assert!(
                s >= b - 1e-4 * (1.0 + s.abs()),
                "seed {seed}, value {v}: smallest margin {s} below the bound {b}"
            );
        }
    }
}
