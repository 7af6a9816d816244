//! The runtime's integer convolution computes what burn's convolution
//! computes on the same integers (layout, stride, padding), checked through
//! a model whose logits are the convolution's outputs.

use burn::tensor::module::conv2d;
use burn::tensor::ops::ConvOptions;
use burn::tensor::{Device, Tensor, TensorData};
use cert_runtime::format::{CertSpec, InputSpec, Layer, ModelDesc, Output, Params, Requantize};
use cert_runtime::{Model, Quantizer};
use rand::{Rng, SeedableRng};

#[test]
fn integer_conv_matches_burn() {
    let device = Device::flex();
    let mut rng = rand::rngs::StdRng::seed_from_u64(11);
    for &(c, h, w, o, k, s, p) in &[
        (1, 5, 5, 2, 3, 2, 1),
        (2, 6, 5, 1, 2, 1, 0),
        (1, 7, 7, 2, 4, 2, 0),
        (3, 4, 4, 2, 3, 1, 1),
    ] {
        let weights: Vec<i8> = (0..o * c * k * k)
            .map(|_| rng.random_range(-20..=20))
            .collect();
        let input: Vec<i8> = (0..c * h * w)
            .map(|_| rng.random_range(-128..=127))
            .collect();
        let (oh, ow) = ((h + 2 * p - k) / s + 1, (w + 2 * p - k) / s + 1);
        let n = o * oh * ow;
        assert!(n <= cert_runtime::MAX_CLASSES);
        let identity: Vec<i8> = (0..n * n).map(|i| i8::from(i / n == i % n)).collect();
        let integers = Quantizer {
            scale: 1.0,
            offset: 0.0,
            zero_point: 0,
            domain_min: -128.0,
            domain_max: 127.0,
        };
        // x 1/16: keeps every output inside int8.
        let sixteenth = Requantize::new(&vec![1 << 30; o], &vec![34; o], 0, -128, 127, 1.0);
        let conv = Params::new(&weights, &vec![0; o], Output::Requantize(sixteenth));
        let logits = Params::new(&identity, &vec![0; n], Output::Logits { scale: 1.0 });
        let spec = ModelDesc::new(
            InputSpec::new([c, h, w].map(|d| d as u16), &vec![integers; c], &[]),
            CertSpec::new(&vec![0.0; c], 0),
            &[],
            "",
            vec![
                Layer::conv2d(
                    [c as u16, o as u16],
                    [k as u8; 2],
                    [s as u8; 2],
                    [p as u8; 2],
                    conv,
                ),
                Layer::dense(n as u32, n as u32, logits),
            ],
        )
        .unwrap();
        let bytes = spec.to_bytes().unwrap();
        let model = Model::from_bytes(&bytes).unwrap();
        let mut scratch = vec![0i16; model.predict_scratch_len()];
        let got = model
            .predict_quantized(&input, &mut scratch)
            .unwrap()
            .logits;

        let x = Tensor::<4>::from_data(
            TensorData::new(
                input.iter().map(|&v| f32::from(v)).collect::<Vec<_>>(),
                [1, c, h, w],
            ),
            &device,
        );
        let kernel = Tensor::<4>::from_data(
            TensorData::new(
                weights.iter().map(|&v| f32::from(v)).collect::<Vec<_>>(),
                [o, c, k, k],
            ),
            &device,
        );
        let want = conv2d(x, kernel, None, ConvOptions::new([s, s], [p, p], [1, 1], 1))
            .into_data()
            .convert::<f32>()
            .try_to_vec::<f32>()
            .unwrap();
        let want: Vec<i32> = want
            .iter()
            .map(|&v| ((v / 16.0 + 0.5).floor() as i32).clamp(-128, 127))
            .collect();
        assert_eq!(
            got.as_slice(),
            want.as_slice(),
            "c{c} {h}x{w} o{o} k{k} s{s} p{p}"
        );
    }
}
