//! BatchNorm in an interval pass: a per-channel affine map from batch
//! statistics (training) or the running ones (evaluation), applied to the
//! clean batch, the centre and, through its absolute value, the radius.

use burn::nn::BatchNorm;
use burn::tensor::Tensor;

use super::{Affine, Bounds, CleanInput, Flow, Mode};

/// BatchNorm as a per-channel affine map `w x + b`, applied to the clean
/// batch, the centre, and (through `|w|`) the radius; the map is returned
/// too (`None` when no statistics could be taken).
pub(super) fn batch_norm<const D: usize>(
    bn: &BatchNorm,
    flow: Flow<D>,
    mode: Mode,
) -> (Flow<D>, Option<Affine>) {
    let (mean, var) = match mode {
        Mode::Eval => (bn.running_mean.value(), bn.running_var.value()),
        Mode::Train(training) => {
            // Batch statistics; gradients flow through them.
            let centre = flow.bounds.as_ref().map(|b| &b.centre);
            let source = match training.clean_input {
                CleanInput::Batch => flow.clean.as_ref().or(centre),
                CleanInput::Centres => centre.or(flow.clean.as_ref()),
            };
            let Some(source) = source.cloned() else {
                return (flow, None);
            };
            let (mean, var) = channel_stats(source);
            update_running(bn, mean.clone().detach(), var.clone().detach());
            (mean, var)
        }
    };
    let scale = bn.gamma.val() / var.add_scalar(bn.epsilon).sqrt();
    let shift = bn.beta.val() - mean * scale.clone();
    let affine = Affine {
        scale: scale.clone(),
        shift: shift.clone(),
    };
    let (scale, shift) = (per_channel::<D>(scale), per_channel::<D>(shift));
    let flow = Flow {
        clean: flow.clean.map(|x| x * scale.clone() + shift.clone()),
        bounds: flow.bounds.map(|b| Bounds {
            centre: b.centre * scale.clone() + shift.clone(),
            radius: b.radius * scale.clone().abs(),
        }),
    };
    (flow, Some(affine))
}

/// Mean and (population) variance per channel (dimension 1).
fn channel_stats<const D: usize>(x: Tensor<D>) -> (Tensor<1>, Tensor<1>) {
    let channels = x.dims()[1];
    let per_channel: Tensor<2> = x.swap_dims(0, 1).reshape([channels as i32, -1]);
    let mean = per_channel.clone().mean_dim(1);
    let var = (per_channel - mean.clone()).square().mean_dim(1);
    (mean.reshape([channels]), var.reshape([channels]))
}

fn update_running(bn: &BatchNorm, mean: Tensor<1>, var: Tensor<1>) {
    let m = bn.momentum;
    let device = mean.device();
    let running_mean = bn.running_mean.value_sync().to_device(&device);
    let running_var = bn.running_var.value_sync().to_device(&device);
    bn.running_mean
        .update(running_mean.mul_scalar(1.0 - m).add(mean.mul_scalar(m)));
    bn.running_var
        .update(running_var.mul_scalar(1.0 - m).add(var.mul_scalar(m)));
}

/// Reshapes a `[C]` vector to broadcast over dimension 1 of a rank-`D` tensor.
pub(super) fn per_channel<const D: usize>(v: Tensor<1>) -> Tensor<D> {
    let mut shape = [1i32; D];
    shape[1] = v.dims()[0] as i32;
    v.reshape(shape)
}
