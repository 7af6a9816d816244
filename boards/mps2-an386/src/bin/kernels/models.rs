//! The random models of the `kernels` program: valid models of every
//! layer kind carved from an arena, each run with the native (DSP) kernels
//! and with `Scalar`.

use cert_kernels::Scalar;
use cert_runtime::format::{
    Bounds, CertSpec, Conv2d, Dense, Header, InputSpec, Layer, ModelDesc, Output, Params,
    Requantize,
};
use cert_runtime::{Budget, Model, Quantizer, REFINE_DEPTH, Trail};
use rand::Rng;
use rand::rngs::SmallRng;

use crate::weight;

/// Takes `n` bytes off the front of the arena.
fn take<'a>(arena: &mut &'a mut [u8], n: usize) -> &'a mut [u8] {
    let (head, tail) = core::mem::take(arena).split_at_mut(n);
    *arena = tail;
    head
}

/// The parameters of a layer with `channels` outputs and `fan_in` weights
/// each, carved from the arena: random weights, biases within the
/// accumulator headroom, and a requantisation that keeps outputs spread.
fn params<'a>(
    rng: &mut SmallRng,
    arena: &mut &'a mut [u8],
    channels: usize,
    fan_in: usize,
    logits: bool,
) -> Params<'a> {
    let weights = take(arena, channels * fan_in);
    for w in weights.iter_mut() {
        *w = weight(rng);
    }
    let bias = take(arena, 4 * channels);
    for b in bias.chunks_exact_mut(4) {
        let spread = (fan_in as i32) * 2000;
        b.copy_from_slice(&rng.random_range(-spread..=spread).to_le_bytes());
    }
    let output = if logits {
        Output::Logits { scale: 1.0 }
    } else {
        let multiplier = take(arena, 4 * channels);
        let shift = take(arena, channels);
        // Outputs of about +-30 levels: acc ~ sqrt(fan_in) * 64 * 128.
        let bits = 13 + (usize::BITS - fan_in.leading_zeros()) / 2;
        let narrow = (30 + bits as u8 - 5).min(62);
        // A third of the layers write some of their channels with a shift
        // of at most 32 (the multiplier shortened to match), a third all
        // of them: the requantisation's wide path, alone and mixed.
        let wide_share = [0.0, 0.3, 1.0][rng.random_range(0..3)];
        for (m, s) in multiplier.chunks_exact_mut(4).zip(shift.iter_mut()) {
            // `narrow` is at least 38: a wide shift of 20..=32 is below it.
            let widen = if rng.random_bool(wide_share) {
                narrow - rng.random_range(20..=32u8)
            } else {
                0
            };
            let full = rng.random_range(1i32 << 30..i32::MAX);
            m.copy_from_slice(&(full >> widen).to_le_bytes());
            *s = narrow - widen;
        }
        let zero_point = rng.random_range(-128..=0);
        Output::Requantize(Requantize {
            multiplier: &*multiplier,
            shift: &*shift,
            zero_point,
            min: if rng.random_bool(0.7) {
                zero_point
            } else {
                -128
            },
            max: 127,
            scale: 1.0,
        })
    };
    Params {
        weights,
        bias,
        output,
    }
}

/// A random valid model in the arena, run with both kernels: predict,
/// certify at a random budget and at the model's, and refine. `Err` names
/// what differed; `Ok` counts the results compared.
pub(crate) fn one_model(
    rng: &mut SmallRng,
    arena: &mut [u8],
    scratch_a: &mut [i16],
    scratch_b: &mut [i16],
) -> Result<u32, &'static str> {
    let mut arena = arena;
    let conv = rng.random_bool(0.5);
    let (channels, height, width) = if conv {
        (
            rng.random_range(1..=3),
            rng.random_range(3..=8),
            rng.random_range(3..=8),
        )
    } else {
        (rng.random_range(1..=40), 1, 1)
    };
    let quantizers = take(&mut arena, 17 * channels);
    let eps = take(&mut arena, 4 * channels);
    for (q, e) in quantizers.chunks_exact_mut(17).zip(eps.chunks_exact_mut(4)) {
        let quantizer = Quantizer {
            scale: rng.random_range(1..=8) as f32 / 255.0,
            offset: if rng.random_bool(0.3) {
                rng.random_range(-0.2..=0.2)
            } else {
                0.0
            },
            zero_point: rng.random_range(-128..=0),
            domain_min: 0.0,
            domain_max: 1.0,
        };
        q.copy_from_slice(&quantizer.encode());
        e.copy_from_slice(&rng.random_range(0.0f32..=0.1).to_le_bytes());
    }
    let mut layers = heapless::Vec::<Layer<'_>, { cert_runtime::MAX_LAYERS }>::new();
    let (mut c, mut h, mut w) = (channels, height, width);
    if conv {
        for _ in 0..rng.random_range(1..=2) {
            // Kernel rows of 4 (one whole group) take the interior fast
            // path of the convolution's gather.
            let kernel = [
                rng.random_range(1..=h.min(3)) as u8,
                rng.random_range(1..=w.min(4)) as u8,
            ];
            let stride = [rng.random_range(1..=2u8), rng.random_range(1..=2u8)];
            let padding = [
                rng.random_range(0..kernel[0]),
                rng.random_range(0..kernel[1]),
            ];
            let out_channels = rng.random_range(1..=9);
            let fan_in = c * usize::from(kernel[0]) * usize::from(kernel[1]);
            let layer = Conv2d {
                in_channels: c as u16,
                out_channels: out_channels as u16,
                kernel,
                stride,
                padding,
                params: params(rng, &mut arena, out_channels, fan_in, false),
            };
            let side = |size: usize, i: usize| {
                (size + 2 * usize::from(padding[i]) - usize::from(kernel[i]))
                    / usize::from(stride[i])
                    + 1
            };
            (c, h, w) = (out_channels, side(h, 0), side(w, 1));
            let _ = layers.push(Layer::Conv2d(layer));
        }
    }
    let mut features = c * h * w;
    for _ in 0..rng.random_range(0..=2) {
        let outputs = rng.random_range(1..=13);
        let layer = Dense {
            inputs: features as u32,
            outputs: outputs as u32,
            params: params(rng, &mut arena, outputs, features, false),
        };
        features = outputs;
        let _ = layers.push(Layer::Dense(layer));
    }
    let classes = rng.random_range(2..=5);
    let _ = layers.push(Layer::Dense(Dense {
        inputs: features as u32,
        outputs: classes as u32,
        params: params(rng, &mut arena, classes, features, true),
    }));
    let desc = ModelDesc {
        header: Header {
            input: InputSpec {
                channels: channels as u16,
                height: height as u16,
                width: width as u16,
                quantizers: &*quantizers,
                names: "",
            },
            certification: CertSpec {
                eps: &*eps,
                refine_boxes: 16,
                // Half the models bound margins linearly too (their tail
                // layer's interval pass runs on the kernels as well).
                bounds: if rng.random_bool(0.5) {
                    Bounds::Linear
                } else {
                    Bounds::Interval
                },
            },
            classes: classes as u16,
            class_names: "",
            description: "",
        },
        layers,
    };
    let Ok(native) = Model::from_desc(desc) else {
        return Err("building the model (the generator made an invalid one)");
    };
    let scalar = native.clone().with_kernels::<Scalar>();
    let n = native.input_len();
    let mut input = [0f32; 8 * 8 * 3];
    let input = &mut input[..n];
    let (mut ce_a, mut ce_b) = ([0f32; 8 * 8 * 3], [0f32; 8 * 8 * 3]);
    let (mut trail_a, mut trail_b) = (Trail::<REFINE_DEPTH>::new(), Trail::<REFINE_DEPTH>::new());
    let mut checks = 0;
    for _ in 0..4 {
        for x in input.iter_mut() {
            *x = match rng.random_range(0..8) {
                0 => 0.0,
                1 => 1.0,
                _ => rng.random_range(0.0..=1.0),
            };
        }
        let input = &*input;
        if native.predict(input, scratch_a) != scalar.predict(input, scratch_b) {
            return Err("predict");
        }
        let budget = Budget::uniform(rng.random_range(0.0..=0.2));
        for budget in [budget, native.budget()] {
            if native.certify(input, budget, scratch_a) != scalar.certify(input, budget, scratch_b)
            {
                return Err("certify");
            }
        }
        let a = native.refine(
            input,
            native.budget(),
            16,
            scratch_a,
            &mut trail_a,
            &mut ce_a[..n],
        );
        let b = scalar.refine(
            input,
            scalar.budget(),
            16,
            scratch_b,
            &mut trail_b,
            &mut ce_b[..n],
        );
        if a != b || ce_a[..n] != ce_b[..n] {
            return Err("refine");
        }
        checks += 4;
    }
    Ok(checks)
}
