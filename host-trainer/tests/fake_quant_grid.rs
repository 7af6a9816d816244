//! QA-IBP trains on the grid the exporter quantises to: for random layers,
//! the fake-quantised weights are, level for level, the int8 weights of the
//! exported model (hidden layers per output channel, the classifier on one
//! shared grid).

use burn::tensor::{Device, Tensor, TensorData};
use cert_runtime::format::{CertSpec, InputSpec};
use host_trainer::export::{FoldedLayer, Header, quantize};
use host_trainer::fake_quant::{dense_weights, head_weights};
use proptest::prelude::*;

/// A layer's weights as burn's `Linear` holds them (`[inputs, outputs]`)
/// and as the exporter folds them (one row per output).
fn layer(inputs: usize, outputs: usize, values: &[f32]) -> (Tensor<2>, FoldedLayer) {
    let burn = Tensor::<2>::from_data(
        TensorData::new(values.to_vec(), [inputs, outputs]),
        &Device::flex(),
    );
    let rows = (0..outputs)
        .flat_map(|o| (0..inputs).map(move |i| values[i * outputs + o]))
        .collect();
    let folded = FoldedLayer {
        conv: None,
        inputs,
        outputs,
        weights: rows,
        bias: vec![0.0; outputs],
    };
    (burn, folded)
}

/// The integer level of every fake-quantised weight, in the exporter's
/// row order: `value / step` of its output's grid (`shared`: one grid for
/// all outputs).
fn levels(fake: Tensor<2>, inputs: usize, outputs: usize, shared: bool) -> Vec<i8> {
    let values = fake
        .into_data()
        .convert::<f32>()
        .try_to_vec::<f32>()
        .unwrap();
    let at = |i: usize, o: usize| values[i * outputs + o];
    let column_max = |o: usize| (0..inputs).map(|i| at(i, o).abs()).fold(0f32, f32::max);
    let shared_max = (0..outputs).map(column_max).fold(0f32, f32::max);
    let mut levels = Vec::new();
    for o in 0..outputs {
        let step = if shared { shared_max } else { column_max(o) } / 127.0;
        levels.extend((0..inputs).map(|i| (at(i, o) / step).round() as i8));
    }
    levels
}

proptest! {
    #[test]
    fn fake_quantised_weights_are_the_exported_levels(
        (inputs, hidden, classes, values, head) in (1usize..12, 1usize..8, 2usize..6)
            .prop_flat_map(|(i, h, c)| (
                Just(i), Just(h), Just(c),
                proptest::collection::vec(-2f32..2.0, i * h),
                proptest::collection::vec(-2f32..2.0, h * c),
            ))
    ) {
        prop_assume!(values.iter().any(|v| v.abs() > 1e-3));
        prop_assume!(head.iter().any(|v| v.abs() > 1e-3));
        let (hidden_burn, hidden_folded) = layer(inputs, hidden, &values);
        let (head_burn, head_folded) = layer(hidden, classes, &head);
        let header = Header {
            input: InputSpec::image(1, 1, inputs as u16),
            certification: CertSpec::new(&[0.1], 0),
            class_names: (0..classes).map(|c| c.to_string()).collect(),
            description: String::new(),
        };
        let spec = quantize(&[hidden_folded, head_folded], &[1.0], header).unwrap();
        prop_assert_eq!(
            levels(dense_weights(hidden_burn).weights, inputs, hidden, false),
            spec.layers[0].params().weight_values().collect::<Vec<i8>>()
        );
        prop_assert_eq!(
            levels(head_weights(head_burn), hidden, classes, true),
            spec.layers[1].params().weight_values().collect::<Vec<i8>>()
        );
    }
}
