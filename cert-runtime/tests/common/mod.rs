//! Shared by the integration tests and the benchmark: a seeded generator of
//! random int8 models ([`ModelSpec`]), random inputs and boxes, and the
//! checks every soundness property applies.
//!
//! Every random choice comes from a [`StdRng`] seeded by the caller (in the
//! tests, by proptest), so a failing case is reproduced by its seed.

// Each test binary (and the benchmark) uses a different subset.
#![allow(dead_code)]

pub mod exact;
pub mod exercise;
pub mod golden;

use cert_runtime::format::owned::{OwnedModel, quantize_multiplier};
use cert_runtime::format::{
    CertSpec, InputSpec, Layer, ModelDesc, Output, Owned, Params, Requantize,
};
use cert_runtime::{Certificate, Prediction, Quantizer, Shape, container};
use proptest::prelude::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Typical magnitude of an int8 weight drawn by [`random_weights`].
const TYPICAL_WEIGHT: f64 = 64.0;
/// The spread requantised outputs should have, in int8 steps.
pub const TARGET_OUTPUT: f64 = 30.0;

/// An owned input spec, layer and output stage (what the generators make).
pub type OwnedInput = InputSpec<'static, Owned>;
pub type OwnedLayer = Layer<'static, Owned>;
pub type OwnedOutput = Output<'static, Owned>;

/// Proptest settings of the property tests: `cases` cases, no regression
/// files (a failure prints its seeds, which reproduce it).
pub fn proptest_config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// A seeded random-number generator.
pub fn rng(seed: u64) -> StdRng {
    StdRng::seed_from_u64(seed)
}

/// eps values in real input units: exactly 0, a few quantisation steps, or
/// anywhere in `[0, 0.3]`.
pub fn arb_eps() -> impl Strategy<Value = f32> {
    prop_oneof![Just(0.0f32), 0.0f32..0.03, 0.0f32..=0.3]
}

/// Input quantisers over the domain `[0, 1]`, one per channel: scale
/// `k / 255` with `k` in `1..=8`, zero point in `-128..=0` (so large inputs
/// may clip at 127), and sometimes an offset in `[-0.2, 0.2]`.
pub fn random_input_spec(rng: &mut StdRng, shape: Shape) -> OwnedInput {
    let quantizers: Vec<Quantizer> = (0..shape.channels)
        .map(|_| Quantizer {
            scale: rng.random_range(1..=8) as f32 / 255.0,
            offset: if rng.random_bool(0.3) {
                rng.random_range(-0.2..=0.2)
            } else {
                0.0
            },
            zero_point: rng.random_range(-128..=0),
            domain_min: 0.0,
            domain_max: 1.0,
        })
        .collect();
    let dims = [shape.channels, shape.height, shape.width].map(|d| d as u16);
    InputSpec::new(dims, &quantizers, &[])
}

/// `n` int8 weights in `[-127, 127]`, about one in ten exactly zero.
pub fn random_weights(rng: &mut StdRng, n: usize) -> Vec<i8> {
    (0..n)
        .map(|_| {
            if rng.random_bool(0.1) {
                0
            } else {
                rng.random_range(-127..=127)
            }
        })
        .collect()
}

/// Typical magnitude of the (zero-point-shifted) activations a layer reads.
#[derive(Debug, Clone, Copy)]
pub struct Magnitude(pub f64);

impl Magnitude {
    /// Activations of an input quantised by `input`'s finest channel from `[0, 1]`.
    pub fn of_input(input: &OwnedInput) -> Self {
        let finest = (0..usize::from(input.channels))
            .filter_map(|c| input.quantizer(c))
            .map(|q| q.scale)
            .fold(f32::INFINITY, f32::min);
        Magnitude(0.6 / f64::from(finest))
    }

    /// Activations of a layer requantised by [`random_requantize`].
    pub fn of_hidden() -> Self {
        Magnitude(TARGET_OUTPUT)
    }

    /// Typical magnitude of an accumulator with `fan_in` terms over such
    /// activations.
    fn accumulator(self, fan_in: usize) -> f64 {
        (fan_in as f64).sqrt() * TYPICAL_WEIGHT * self.0
    }
}

/// `n` int32 biases of about the accumulator's own magnitude.
pub fn random_biases(rng: &mut StdRng, n: usize, fan_in: usize, input: Magnitude) -> Vec<i32> {
    let spread = input.accumulator(fan_in) as i32;
    (0..n).map(|_| rng.random_range(-spread..=spread)).collect()
}

/// A per-channel requantisation stage whose outputs are neither all
/// saturated nor all zero: real multiplier `U(0.5, 2) * TARGET_OUTPUT /
/// input.accumulator(fan_in)` (in some layers written with shifts of at
/// most 32 for some or all channels), optionally with a fused ReLU
/// (`min = zero_point`) and sometimes a lowered upper clamp.
pub fn random_requantize(
    rng: &mut StdRng,
    channels: usize,
    fan_in: usize,
    input: Magnitude,
    relu: bool,
) -> OwnedOutput {
    // A third of the layers write some of their channels' multipliers with
    // a shift of at most 32, another third all of them (fewer multiplier
    // bits, about the same real scale): the requantisation's wide path,
    // alone and mixed with the narrow one.
    let wide_share = [0.0, 0.3, 1.0][rng.random_range(0..3)];
    let (multiplier, shift): (Vec<i32>, Vec<u8>) = (0..channels)
        .map(|_| {
            let real = rng.random_range(0.5..2.0) * TARGET_OUTPUT / input.accumulator(fan_in);
            let (m, s) = quantize_multiplier(real);
            let narrowing = if rng.random_bool(wide_share) {
                s.saturating_sub(32)
            } else {
                0
            };
            (m >> narrowing, s - narrowing)
        })
        .unzip();
    let zero_point: i8 = if relu {
        rng.random_range(-128..=0)
    } else {
        rng.random_range(-32..=32)
    };
    let min = if relu { zero_point } else { i8::MIN };
    let max = if rng.random_bool(0.25) {
        rng.random_range(zero_point..=i8::MAX)
    } else {
        i8::MAX
    };
    Output::Requantize(Requantize::new(
        &multiplier,
        &shift,
        zero_point,
        min,
        max,
        0.05,
    ))
}

/// A Dense layer with random weights and biases and the given output stage.
pub fn random_dense(
    rng: &mut StdRng,
    inputs: usize,
    outputs: usize,
    input: Magnitude,
    output: OwnedOutput,
) -> OwnedLayer {
    let weights = random_weights(rng, inputs * outputs);
    let bias = random_biases(rng, outputs, inputs, input);
    Layer::dense(
        inputs as u32,
        outputs as u32,
        Params::new(&weights, &bias, output),
    )
}

/// Geometry of a square-or-not 2-D convolution.
#[derive(Debug, Clone, Copy)]
pub struct ConvGeometry {
    /// Output channels.
    pub out_channels: usize,
    /// Kernel height and width.
    pub kernel: [u8; 2],
    /// Stride, vertical and horizontal.
    pub stride: [u8; 2],
    /// Zero padding, vertical and horizontal.
    pub padding: [u8; 2],
}

impl ConvGeometry {
    /// Weights per output channel for an input with `in_channels` channels.
    pub fn fan_in(&self, in_channels: usize) -> usize {
        in_channels * usize::from(self.kernel[0]) * usize::from(self.kernel[1])
    }

    /// The activation shape this convolution produces from `input`.
    pub fn output_shape(&self, input: Shape) -> Shape {
        let side = |size: usize, i: usize| {
            let (k, s, p) = (
                usize::from(self.kernel[i]),
                usize::from(self.stride[i]),
                usize::from(self.padding[i]),
            );
            (size + 2 * p - k) / s + 1
        };
        Shape {
            channels: self.out_channels,
            height: side(input.height, 0),
            width: side(input.width, 1),
        }
    }
}

/// A Conv2d layer over `input` with random weights and biases.
pub fn random_conv(
    rng: &mut StdRng,
    input: Shape,
    geometry: ConvGeometry,
    magnitude: Magnitude,
    output: OwnedOutput,
) -> OwnedLayer {
    let fan_in = geometry.fan_in(input.channels);
    let weights = random_weights(rng, geometry.out_channels * fan_in);
    let bias = random_biases(rng, geometry.out_channels, fan_in, magnitude);
    Layer::conv2d(
        [input.channels as u16, geometry.out_channels as u16],
        geometry.kernel,
        geometry.stride,
        geometry.padding,
        Params::new(&weights, &bias, output),
    )
}

/// Random convolution geometry that fits `input`: kernel `1..=4` (at most
/// the input's side; 4 takes the runtime's whole-group gathering of
/// interior pixels), stride `1..=2`, padding `0..kernel`, 1 to 8 channels.
fn random_conv_geometry(rng: &mut StdRng, input: Shape) -> ConvGeometry {
    let mut side = |size: usize| {
        let kernel = rng.random_range(1..=size.min(4)) as u8;
        (
            kernel,
            rng.random_range(1..=2u8),
            rng.random_range(0..kernel),
        )
    };
    let (kh, sh, ph) = side(input.height);
    let (kw, sw, pw) = side(input.width);
    ConvGeometry {
        out_channels: rng.random_range(1..=8),
        kernel: [kh, kw],
        stride: [sh, sw],
        padding: [ph, pw],
    }
}

/// The last layer: a Dense layer producing `classes` int32 logits.
pub fn logits_layer(rng: &mut StdRng, inputs: usize, classes: usize) -> OwnedLayer {
    let output = Output::Logits { scale: 0.01 };
    random_dense(rng, inputs, classes, Magnitude::of_hidden(), output)
}

/// Wraps an input spec and layers into a model certified at eps 0.05 in
/// every channel, without refinement.
pub fn model_spec(input: OwnedInput, layers: Vec<OwnedLayer>) -> OwnedModel {
    let channels = usize::from(input.channels);
    let certification = CertSpec::new(&vec![0.05; channels], 0);
    ModelDesc::new(input, certification, &[], "random test model", layers)
        .expect("at most MAX_LAYERS layers")
}

/// A random small network: input of 1..=2 channels of 3..=7 x 3..=7 values,
/// 1 to 3 hidden layers (dense only, or convolutions then dense), each with
/// or without a fused ReLU, and a Dense logits layer with 2 to 4 classes.
pub fn random_model(seed: u64) -> OwnedModel {
    let mut rng = rng(seed);
    let mut shape = Shape {
        channels: rng.random_range(1..=2),
        height: rng.random_range(3..=7),
        width: rng.random_range(3..=7),
    };
    let input = random_input_spec(&mut rng, shape);
    let hidden = rng.random_range(1..=3);
    let convolutions = if rng.random_bool(0.5) {
        rng.random_range(1..=hidden)
    } else {
        0
    };
    let mut layers = Vec::new();
    let mut magnitude = Magnitude::of_input(&input);
    for index in 0..hidden {
        let relu = rng.random_bool(0.7);
        let (layer, out) = if index < convolutions {
            let geometry = random_conv_geometry(&mut rng, shape);
            let out = geometry.output_shape(shape);
            let fan_in = geometry.fan_in(shape.channels);
            let stage = random_requantize(&mut rng, out.channels, fan_in, magnitude, relu);
            (
                random_conv(&mut rng, shape, geometry, magnitude, stage),
                out,
            )
        } else {
            let outputs = rng.random_range(1..=8);
            let stage = random_requantize(&mut rng, outputs, shape.len(), magnitude, relu);
            let layer = random_dense(&mut rng, shape.len(), outputs, magnitude, stage);
            (layer, flat(outputs))
        };
        layers.push(layer);
        shape = out;
        magnitude = Magnitude::of_hidden();
    }
    let classes = rng.random_range(2..=4);
    layers.push(logits_layer(&mut rng, shape.len(), classes));
    for layer in &mut layers {
        if rng.random_bool(0.1) {
            let params = layer.params_mut();
            let weights: Vec<i8> = params.weight_values().collect();
            let biases = extreme_biases(&mut rng, &weights, params.channels());
            params.bias = biases.iter().flat_map(|b| b.to_le_bytes()).collect();
        }
    }
    model_spec(input, layers)
}

/// Biases of random sign as large as the loader's accumulator-headroom rule
/// allows (`3 * (|bias| + 255 * sum |w|) <= i32::MAX`), to test that no
/// accumulator overflows at the limit.
pub fn extreme_biases(rng: &mut StdRng, weights: &[i8], channels: usize) -> Vec<i32> {
    weights
        .chunks_exact(weights.len() / channels)
        .map(|row| {
            let abs_sum: i64 = row.iter().map(|&w| i64::from(w.unsigned_abs())).sum();
            let limit = i64::from(i32::MAX) / 3 - 255 * abs_sum;
            let bias = i32::try_from(limit).expect("small rows leave headroom");
            if rng.random_bool(0.5) { bias } else { -bias }
        })
        .collect()
}

/// The shape of `n` features.
pub fn flat(n: usize) -> Shape {
    Shape {
        channels: n,
        height: 1,
        width: 1,
    }
}

/// Encodes a description; every one the generators make must load.
pub fn encode(spec: &OwnedModel) -> Vec<u8> {
    let bytes = spec.to_bytes().expect("generated model must encode");
    if let Err(e) = cert_runtime::Model::from_bytes(&bytes) {
        panic!("generated model must load: {e}");
    }
    bytes
}

/// A random input in `[0, 1]`: mostly uniform, sometimes exactly 0 or 1.
pub fn random_input(rng: &mut StdRng, len: usize) -> Vec<f32> {
    (0..len)
        .map(|_| match rng.random_range(0..10) {
            0 => 0.0,
            1 => 1.0,
            _ => rng.random_range(0.0..=1.0),
        })
        .collect()
}

/// The inputs within `eps` of `x` for one pixel value: the exact budget
/// intersected with the domain `[0, 1]`, computed independently of the
/// runtime (see [`exact`]).
pub fn real_bounds(x: f32, eps: f32) -> (f32, f32) {
    exact::exact_box(x, eps, 0.0, 1.0)
}

/// A uniformly random point of the real eps box around `input`.
pub fn random_box_point(rng: &mut StdRng, input: &[f32], eps: f32) -> Vec<f32> {
    input
        .iter()
        .map(|&x| {
            let (lo, hi) = real_bounds(x, eps);
            (lo + rng.random_range(0.0..=1.0f32) * (hi - lo)).clamp(lo, hi)
        })
        .collect()
}

/// Corners of a box given per value by `(lo, hi)`: all of them when there
/// are at most 10 values, otherwise `random` random corners.
pub fn box_corners<T: Copy>(rng: &mut StdRng, bounds: &[(T, T)], random: usize) -> Vec<Vec<T>> {
    let corner = |pick: &mut dyn FnMut(usize) -> bool| {
        bounds
            .iter()
            .enumerate()
            .map(|(i, &(lo, hi))| if pick(i) { hi } else { lo })
            .collect()
    };
    if bounds.len() <= 10 {
        (0..1u32 << bounds.len())
            .map(|mask| corner(&mut |i| mask >> i & 1 == 1))
            .collect()
    } else {
        (0..random)
            .map(|_| corner(&mut |_| rng.random_bool(0.5)))
            .collect()
    }
}

/// Corners of the real eps box around `input`.
pub fn real_box_corners(rng: &mut StdRng, input: &[f32], eps: f32, random: usize) -> Vec<Vec<f32>> {
    let bounds: Vec<(f32, f32)> = input.iter().map(|&x| real_bounds(x, eps)).collect();
    box_corners(rng, &bounds, random)
}

/// An integer box around a random quantised point: `(point, lo, hi)` with
/// `lo <= point <= hi`, widths from 0 to the whole int8 range.
pub fn random_integer_box(rng: &mut StdRng, len: usize) -> (Vec<i8>, Vec<i8>, Vec<i8>) {
    let reach = *[0, 1, 4, 16, 255]
        .get(rng.random_range(0..5))
        .expect("index in range");
    let mut point = Vec::with_capacity(len);
    let mut lo = Vec::with_capacity(len);
    let mut hi = Vec::with_capacity(len);
    for _ in 0..len {
        let p: i8 = rng.random();
        let below = rng.random_range(0..=reach);
        let above = rng.random_range(0..=reach);
        point.push(p);
        lo.push((i16::from(p) - below).max(i16::from(i8::MIN)) as i8);
        hi.push((i16::from(p) + above).min(i16::from(i8::MAX)) as i8);
    }
    (point, lo, hi)
}

/// A uniformly random point of the integer box `[lo, hi]`.
pub fn random_integer_point(rng: &mut StdRng, lo: &[i8], hi: &[i8]) -> Vec<i8> {
    lo.iter()
        .zip(hi)
        .map(|(&l, &h)| rng.random_range(l..=h))
        .collect()
}

/// `logits[class] - logits[j]` for every `j`, without overflow.
pub fn logit_differences(logits: &[i32], class: usize) -> Vec<i64> {
    logits
        .iter()
        .map(|&l| i64::from(logits[class]) - i64::from(l))
        .collect()
}

/// Whether margin lower bounds prove `class`: `> 0` against every lower
/// class index, `>= 0` against every higher one (a tie goes to the lowest
/// index, as the prediction's argmax breaks it).
pub fn proves(class: usize, margins: &[i32]) -> bool {
    margins.iter().enumerate().all(|(j, &m)| {
        if j < class {
            m > 0
        } else {
            j == class || m >= 0
        }
    })
}

/// What a certificate promises about one point of its box: every margin
/// lower bound holds for the point's logits, and a certified class is the
/// point's class (ties going to the lowest index).
pub fn assert_certificate_covers(cert: &Certificate, at: &Prediction) {
    let differences = logit_differences(&at.logits, cert.class);
    for (j, (&margin, &difference)) in cert.margins.iter().zip(&differences).enumerate() {
        assert!(
            difference >= i64::from(margin),
            "class {}: margin bound {margin} against {j} exceeds the actual {difference}",
            cert.class
        );
    }
    if cert.certified {
        assert_eq!(
            at.class, cert.class,
            "a certified box contains another class"
        );
    }
}

/// CRC-32/ISO-HDLC (reflected polynomial `0xEDB88320`, initial value and
/// final xor `0xFFFFFFFF`), written out independently of the runtime's
/// `crc` dependency so the tests check the spec in FORMAT.md.
pub fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = u32::MAX;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xEDB8_8320 & mask);
        }
    }
    !crc
}

/// A model-file container around any payload, with a correct length and
/// CRC, so that a mutated payload reaches the decoder and the validator.
pub fn seal(payload: &[u8]) -> Vec<u8> {
    let mut file = b"CERT".to_vec();
    file.extend_from_slice(&cert_runtime::format::FORMAT_VERSION.to_le_bytes());
    file.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    file.extend_from_slice(payload);
    file.extend_from_slice(&crc32(payload).to_le_bytes());
    file
}

/// The bytes between the container header and the CRC of a model file
/// (empty when the file is too short to have any).
pub fn payload(file: &[u8]) -> &[u8] {
    let end = file.len().saturating_sub(container::TRAILER_LEN);
    file.get(container::HEADER_LEN..end).unwrap_or(&[])
}
