//! A deterministic random model and inputs: the demo pair the firmware
//! embeds by default, made without training so that it needs no data.

use cert_runtime::format::owned::quantize_multiplier;
use cert_runtime::format::{
    CertSpec, InputSpec, Layer, ModelDesc, Output, Owned, Params, Requantize,
};
use cert_runtime::{Model, vectors};

/// Inputs of the demo model: MNIST-shaped, 1 x 28 x 28.
const SIDE: u16 = 28;
/// Hidden units.
const HIDDEN: u32 = 32;
/// Classes.
const CLASSES: u32 = 10;
/// The eps the demo model is certified at: a fifth of an input step, so
/// that only the pixels near a rounding boundary can move, and about half
/// of the cases certify.
pub const DEMO_EPS: f32 = 0.0008;
/// Boxes the demo model refines with: few, so that the device runs every
/// verdict's path (some uncertified cases end certified, some not).
pub const DEMO_REFINE_BOXES: u32 = 8;
/// Cases in the demo vectors.
pub const DEMO_CASES: usize = 10;

/// xorshift64*: small, deterministic, good enough for test data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: i32, hi: i32) -> i32 {
        lo + (self.next() >> 33) as i32 % (hi - lo + 1)
    }
}

fn dense(
    rng: &mut Rng,
    inputs: u32,
    outputs: u32,
    output: Output<'static, Owned>,
) -> Layer<'static, Owned> {
    let weights: Vec<i8> = (0..inputs * outputs)
        .map(|_| rng.range(-20, 20) as i8)
        .collect();
    let bias: Vec<i32> = (0..outputs).map(|_| rng.range(-2000, 2000)).collect();
    Layer::dense(inputs, outputs, Params::new(&weights, &bias, output))
}

/// A random dense 784-32-10 model with a ReLU hidden layer.
pub fn demo_model() -> Vec<u8> {
    let mut rng = Rng(0x5EED_CE27);
    let (multiplier, shift) = quantize_multiplier(1.0 / 400.0);
    let hidden = Output::Requantize(Requantize::new(
        &vec![multiplier; HIDDEN as usize],
        &vec![shift; HIDDEN as usize],
        -128,
        -128,
        127,
        1.0 / 16.0,
    ));
    let inputs = u32::from(SIDE) * u32::from(SIDE);
    let class_names: Vec<String> = (0..CLASSES).map(|c| c.to_string()).collect();
    let layers = vec![
        dense(&mut rng, inputs, HIDDEN, hidden),
        dense(&mut rng, HIDDEN, CLASSES, Output::Logits { scale: 1.0 }),
    ];
    let desc = ModelDesc::new(
        InputSpec::image(1, SIDE, SIDE),
        CertSpec::new(&[DEMO_EPS], DEMO_REFINE_BOXES),
        &class_names,
        "random dense 784-32-10, for firmware tests only",
        layers,
    );
    let bytes = desc
        .and_then(|d| d.to_bytes())
        .expect("the demo model encodes");
    Model::from_bytes(&bytes).expect("the demo model is valid");
    bytes
}

/// Random images, off the 1/255 quantisation grid (on a 1/4080 one), from
/// faint to full contrast.
pub fn demo_inputs() -> Vec<Vec<f32>> {
    let mut rng = Rng(0x1A7E_57ED);
    let len = usize::from(SIDE) * usize::from(SIDE);
    (0..DEMO_CASES)
        .map(|case| {
            let contrast = 40 + 215 * case as i32 / (DEMO_CASES as i32 - 1);
            (0..len)
                .map(|_| rng.range(0, contrast * 16) as f32 / (255.0 * 16.0))
                .collect()
        })
        .collect()
}

/// The demo model file and its test vectors. The labels are the model's
/// own predictions: the model is random, so there is no truth to use.
pub fn demo_files() -> (Vec<u8>, Vec<u8>) {
    let model_file = demo_model();
    let inputs = demo_inputs();
    let labels = predictions(&model_file, &inputs);
    let vectors =
        vectors::build(&model_file, &inputs, Some(&labels)).expect("the demo vectors build");
    (model_file, vectors)
}

fn predictions(model_file: &[u8], inputs: &[Vec<f32>]) -> Vec<u16> {
    let model = Model::from_bytes(model_file).expect("the demo model loads");
    let mut scratch = vec![0i16; model.predict_scratch_len()];
    inputs
        .iter()
        .map(|x| model.predict(x, &mut scratch).expect("valid input").class as u16)
        .collect()
}
