//! Each IBP rule against brute-force sampling: points drawn from the input
//! box (and its corners) must land inside the propagated bounds.

use burn::tensor::{Device, Distribution, Int, Tensor, TensorData};
use host_trainer::data::InputSpace;
use host_trainer::ibp::{Bounds, Mode, propagate};
use host_trainer::model::{Arch, Init, InputShape, Net};

fn check(arch: &str, mode: Mode) {
    let device = Device::flex();
    device.seed(7);
    let shape = InputShape {
        channels: 1,
        height: 12,
        width: 12,
    };
    let net = Net::new(
        &arch.parse::<Arch>().unwrap(),
        Init::Shi,
        shape,
        &InputSpace::unit(1),
        4,
        &device,
    )
    .unwrap();
    let batch = 16;
    let x: Tensor<4> = Tensor::random([batch, 1, 12, 12], Distribution::Uniform(0.0, 1.0), &device);
    let labels: Tensor<1, Int> = Tensor::from_data(
        TensorData::new((0..batch as i64).map(|i| i % 4).collect(), [batch]),
        &device,
    );
    let eps = 0.05;
    let input_box = Bounds::around(x.clone(), eps, 0.0, 1.0);
    // Train mode: the clean batch sets the BatchNorm statistics for every
    // tensor of the pass; sampling must use the same statistics, so the
    // samples are evaluated in eval mode after copying batch stats is not
    // possible; instead compare against eval mode only when mode is Eval.
    let pass = propagate(
        &net,
        Some(x.clone()),
        Some(input_box.clone()),
        Some(labels.clone()),
        mode,
        true,
    );
    let margins = pass
        .margins
        .unwrap()
        .into_data()
        .try_to_vec::<f32>()
        .unwrap();
    for trial in 0..200 {
        let u: Tensor<4> = if trial % 2 == 0 {
            Tensor::random(
                [batch, 1, 12, 12],
                Distribution::Uniform(-1.0, 1.0),
                &device,
            )
        } else {
            Tensor::random(
                [batch, 1, 12, 12],
                Distribution::Uniform(-1.0, 1.0),
                &device,
            )
            .sign() // corners
        };
        let point = input_box.centre.clone() + input_box.radius.clone() * u;
        let logits = propagate(&net, Some(point), None, None, Mode::Eval, false)
            .logits
            .unwrap();
        let l = logits.into_data().try_to_vec::<f32>().unwrap();
        let y = labels
            .clone()
            .into_data()
            .convert::<i64>()
            .try_to_vec::<i64>()
            .unwrap();
        for b in 0..batch {
            for j in 0..4 {
                let margin = l[b * 4 + y[b] as usize] - l[b * 4 + j];
                assert!(
                    margin >= margins[b * 4 + j] - 1e-4,
                    "{arch}: sample {b} class {j}: {margin} < bound {}",
                    margins[b * 4 + j]
                );
            }
        }
    }
}

#[test]
fn margins_bound_sampled_points_mlp() {
    check("mlp:32,16", Mode::Eval);
}

#[test]
fn margins_bound_sampled_points_cnn() {
    check("cnn-small", Mode::Eval);
}
