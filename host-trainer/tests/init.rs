//! The initialiser draws hidden weights with the standard deviation of its
//! formula; the classifier keeps burn's default.

use burn::tensor::{Device, Tensor};
use host_trainer::data::InputSpace;
use host_trainer::model::{Arch, Init, InputShape, Net};

fn std_of<const D: usize>(t: Tensor<D>) -> f64 {
    let v = t.into_data().convert::<f32>().try_to_vec::<f32>().unwrap();
    let mean = v.iter().map(|&x| f64::from(x)).sum::<f64>() / v.len() as f64;
    (v.iter()
        .map(|&x| (f64::from(x) - mean).powi(2))
        .sum::<f64>()
        / v.len() as f64)
        .sqrt()
}

#[test]
fn hidden_weights_follow_the_formula() {
    let device = Device::flex();
    device.seed(3);
    let shape = InputShape {
        channels: 1,
        height: 28,
        width: 28,
    };
    for init in [Init::Shi, Init::ShiBn] {
        let net = Net::new(
            &Arch::cnn_small(),
            init,
            shape,
            &InputSpace::unit(1),
            10,
            &device,
        )
        .unwrap();
        for (block, fan_in) in net.convs.iter().zip([16, 16 * 16]) {
            let got = std_of(block.conv.weight.val());
            let want = init.std(fan_in);
            assert!(
                (got / want - 1.0).abs() < 0.1,
                "{init:?} conv fan-in {fan_in}: std {got} vs {want}"
            );
        }
        let fan_in = 32 * 10 * 10;
        let got = std_of(net.dense[0].linear.weight.val());
        assert!(
            (got / init.std(fan_in) - 1.0).abs() < 0.05,
            "{init:?} dense: {got}"
        );
    }
    assert!((Init::Shi.std(784) - (2.0 * std::f64::consts::PI).sqrt() / 784.0).abs() < 1e-15);
}
