//! certnn networks out to ONNX and back: the same logits.

use burn::module::{Param, RunningState};
use burn::tensor::{Device, Distribution, Tensor};
use host_trainer::data::{ChannelSpace, InputShape, InputSpace};
use host_trainer::ibp::{Mode, propagate};
use host_trainer::model::{Arch, Init, Net};
use host_trainer::onnx::{import_bytes, to_onnx};

/// A random network whose BatchNorms hold random statistics.
fn random_net(
    arch: &str,
    shape: InputShape,
    space: &InputSpace,
    classes: usize,
    device: &Device,
) -> Net {
    let mut net = Net::new(
        &arch.parse::<Arch>().unwrap(),
        Init::Shi,
        shape,
        space,
        classes,
        device,
    )
    .unwrap();
    let random = |n: usize, lo: f64, hi: f64| {
        Tensor::<1>::random([n], Distribution::Uniform(lo, hi), device)
    };
    let bns = net
        .convs
        .iter_mut()
        .map(|b| &mut b.bn)
        .chain(net.dense.iter_mut().map(|b| &mut b.bn));
    for bn in bns {
        let n = bn.gamma.dims()[0];
        bn.gamma = Param::from_tensor(random(n, 0.5, 2.0));
        bn.beta = Param::from_tensor(random(n, -0.5, 0.5));
        bn.running_mean = RunningState::new(random(n, -0.3, 0.3));
        bn.running_var = RunningState::new(random(n, 0.2, 3.0));
    }
    net
}

fn logits(net: &Net, x: Tensor<4>) -> Vec<f32> {
    let out = propagate(net, Some(x), None, None, Mode::Eval, false)
        .logits
        .unwrap();
    out.into_data()
        .convert::<f32>()
        .try_to_vec::<f32>()
        .unwrap()
}

fn round_trip(arch: &str, shape: InputShape, space: InputSpace) {
    let device = Device::flex();
    device.seed(3);
    let net = random_net(arch, shape, &space, 5, &device);
    let bytes = to_onnx(&net, shape.channels, shape.height, shape.width).unwrap();
    let imported = import_bytes(&bytes, None).unwrap();
    assert_eq!(imported.arch().to_string(), arch);
    let mut imported_space = space.clone();
    for ((c, m), s) in imported_space
        .channels
        .iter_mut()
        .zip(&imported.mean)
        .zip(&imported.std)
    {
        assert!(
            (c.mean - m).abs() <= 1e-6 * (1.0 + c.mean.abs()) && (c.std - s).abs() <= 1e-6 * c.std
        );
        (c.mean, c.std) = (*m, *s);
    }
    let back = imported.net(&imported_space, &device).unwrap();
    let x = Tensor::<4>::random(
        [16, shape.channels, shape.height, shape.width],
        Distribution::Uniform(0.0, 1.0),
        &device,
    );
    let (a, b) = (logits(&net, x.clone()), logits(&back, x));
    for (i, (a, b)) in a.iter().zip(&b).enumerate() {
        assert!(
            (a - b).abs() <= 1e-5 * (1.0 + a.abs()),
            "{arch}: logit {i}: {a} != {b}"
        );
    }
}

#[test]
fn a_convolutional_network_round_trips() {
    let shape = InputShape {
        channels: 1,
        height: 12,
        width: 12,
    };
    round_trip(
        "custom:conv4k3s1p1,conv6k4s2p0,fc16",
        shape,
        InputSpace::unit(1),
    );
}

#[test]
fn a_normalised_convolutional_network_round_trips() {
    let shape = InputShape {
        channels: 2,
        height: 9,
        width: 9,
    };
    let channel = |mean, std| ChannelSpace {
        min: 0.0,
        max: 1.0,
        mean,
        std,
    };
    let space = InputSpace {
        channels: vec![channel(0.13, 0.31), channel(0.5, 0.2)],
    };
    round_trip("custom:conv4k3s2p1,fc8", shape, space);
}

#[test]
fn a_feature_network_round_trips() {
    let shape = InputShape {
        channels: 6,
        height: 1,
        width: 1,
    };
    let channels = (0..6)
        .map(|c| ChannelSpace {
            min: -2.0,
            max: 3.0,
            mean: 0.1 * c as f32,
            std: 0.5 + 0.2 * c as f32,
        })
        .collect();
    round_trip("mlp:12,8", shape, InputSpace { channels });
}
