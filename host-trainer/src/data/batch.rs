//! Moving inputs and labels onto a burn device.

use burn::tensor::{Device, Int, Tensor, TensorData};

use super::Dataset;

/// The inputs and labels at `indices` as `[n, c, h, w]` and `[n]` tensors.
pub fn batch(set: &Dataset, indices: &[usize], device: &Device) -> (Tensor<4>, Tensor<1, Int>) {
    let s = set.shape;
    let mut values = Vec::with_capacity(indices.len() * s.len());
    for &i in indices {
        values.extend_from_slice(set.image(i));
    }
    let inputs = Tensor::from_data(
        TensorData::new(values, [indices.len(), s.channels, s.height, s.width]),
        device,
    );
    let labels: Vec<i64> = indices.iter().map(|&i| i64::from(set.labels[i])).collect();
    (
        inputs,
        Tensor::from_data(TensorData::new(labels, [indices.len()]), device),
    )
}
