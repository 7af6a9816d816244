//! The int8 grids an exported model lives on, in one place: the exporter
//! quantises onto them and quantisation-aware training rounds onto them,
//! so that what training sees is what the device runs.

/// Largest level of a symmetric int8 weight: weights are `k * step` with
/// `|k| <= 127` (the grid is symmetric, so -128 is not used).
pub const WEIGHT_LEVELS: i8 = 127;

/// Zero point of every ReLU output: real 0 is the lowest int8 value.
pub const RELU_ZERO_POINT: i8 = -128;

/// Steps of a ReLU output from 0 to its calibrated maximum: the 256 int8
/// levels from [`RELU_ZERO_POINT`] to 127.
pub const ACTIVATION_STEPS: u8 = 255;

/// The step of a symmetric weight grid whose largest magnitude is `max_abs`.
pub fn weight_step(max_abs: f32) -> f32 {
    max_abs / f32::from(WEIGHT_LEVELS)
}

/// The step of a ReLU output grid that saturates at `max`.
pub fn activation_step(max: f32) -> f32 {
    max / f32::from(ACTIVATION_STEPS)
}
