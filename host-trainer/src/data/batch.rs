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

/// A data set uploaded to the device once; batches are gathered there, so
/// a training step sends only its indices.
pub struct Resident {
    inputs: Tensor<4>,
    labels: Tensor<1, Int>,
}

impl Resident {
    /// Uploads every input and label of `set`.
    pub fn new(set: &Dataset, device: &Device) -> Self {
        let all: Vec<usize> = (0..set.len()).collect();
        let (inputs, labels) = batch(set, &all, device);
        Resident { inputs, labels }
    }

    /// The inputs and labels at `indices`, as [`batch`] gives them.
    pub fn gather(&self, indices: &[usize], device: &Device) -> (Tensor<4>, Tensor<1, Int>) {
        let at: Vec<i64> = indices.iter().map(|&i| i as i64).collect();
        let at = Tensor::<1, Int>::from_data(TensorData::new(at, [indices.len()]), device);
        (
            self.inputs.clone().select(0, at.clone()),
            self.labels.clone().select(0, at),
        )
    }
}
