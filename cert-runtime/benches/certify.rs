//! What a certificate costs next to a plain prediction, on an MNIST-sized
//! dense net (784-256-256-10) and a small conv net (1x28x28 ->
//! Conv(16, 4x4, stride 2, pad 1) -> Conv(32, 4x4, stride 1, pad 1) ->
//! Dense(100) -> Dense(10)), both with random int8 weights and the
//! per-channel requantisation of the test generator.
//!
//! `cargo bench -p cert-runtime --bench certify`
//!
//! After the criterion groups it prints `ratio certify/predict NET: Rx`
//! for each net, once at an eps where its input is certified (the interval
//! pass alone) and once where it is not (the interval pass plus the
//! inference that names the class). `CERT_BENCH_MODEL=path/to/model.cert`
//! adds a model file (run on a blank input) to the nets.

#[path = "../tests/common/mod.rs"]
mod common;

use std::hint::black_box;
use std::time::{Duration, Instant};

use cert_runtime::format::InputSpec;
use cert_runtime::format::owned::OwnedModel;
use cert_runtime::{Budget, Model, Shape};
use common::{
    ConvGeometry, Magnitude, OwnedInput, flat, logits_layer, model_spec, random_conv, random_dense,
    random_input, random_requantize, rng,
};
use criterion::Criterion;

/// The input of both nets: one 28x28 channel, 1/255 steps from -128.
fn mnist_input() -> OwnedInput {
    InputSpec::image(1, 28, 28)
}

/// 784-256-256-10 with fused ReLUs.
fn dense_net() -> OwnedModel {
    let mut rng = rng(784);
    let input = mnist_input();
    let mut layers = Vec::new();
    let mut magnitude = Magnitude::of_input(&input);
    let mut width = 28 * 28;
    for units in [256, 256] {
        let stage = random_requantize(&mut rng, units, width, magnitude, true);
        layers.push(random_dense(&mut rng, width, units, magnitude, stage));
        (width, magnitude) = (units, Magnitude::of_hidden());
    }
    layers.push(logits_layer(&mut rng, width, 10));
    model_spec(input, layers)
}

/// Conv(16, 4x4, s2) -> Conv(32, 4x4, s1) -> Dense(100) -> Dense(10), ReLUs.
fn conv_net() -> OwnedModel {
    let mut rng = rng(28);
    let input = mnist_input();
    let mut shape = Shape {
        channels: 1,
        height: 28,
        width: 28,
    };
    let mut magnitude = Magnitude::of_input(&input);
    let mut layers = Vec::new();
    for (out_channels, stride) in [(16, 2), (32, 1)] {
        let geometry = ConvGeometry {
            out_channels,
            kernel: [4, 4],
            stride: [stride, stride],
            padding: [1, 1],
        };
        let out = geometry.output_shape(shape);
        let fan_in = geometry.fan_in(shape.channels);
        let stage = random_requantize(&mut rng, out_channels, fan_in, magnitude, true);
        layers.push(random_conv(&mut rng, shape, geometry, magnitude, stage));
        (shape, magnitude) = (out, Magnitude::of_hidden());
    }
    let stage = random_requantize(&mut rng, 100, shape.len(), magnitude, true);
    layers.push(random_dense(&mut rng, shape.len(), 100, magnitude, stage));
    shape = flat(100);
    layers.push(logits_layer(&mut rng, shape.len(), 10));
    model_spec(input, layers)
}

/// eps values tried, largest first, for an input the net certifies.
const CERTIFIED_CANDIDATES: [f32; 5] = [0.1, 0.05, 2.0 / 255.0, 1.0 / 255.0, 0.0];
/// eps values tried, smallest first, for an input the net does not certify.
const REFUTED_CANDIDATES: [f32; 4] = [0.05, 0.1, 0.3, 1.0];

/// One timed call.
#[derive(Debug, Clone, Copy)]
enum Operation {
    /// `Model::predict`.
    Predict,
    /// `Model::certify` at `eps`, whose outcome is `certified`.
    Certify { eps: f32, certified: bool },
}

impl Operation {
    fn label(self) -> String {
        match self {
            Operation::Predict => "predict".into(),
            Operation::Certify { eps, certified } => {
                let outcome = if certified { "certified" } else { "refuted" };
                format!("certify eps={eps:.4} ({outcome})")
            }
        }
    }
}

/// A benchmarked net, one input, and the operations timed on it.
struct Subject {
    name: String,
    bytes: Vec<u8>,
    input: Vec<f32>,
    operations: Vec<Operation>,
}

impl Subject {
    /// A net given by its file; `input` makes an input of the given length.
    fn new(name: String, bytes: Vec<u8>, input: impl FnOnce(usize) -> Vec<f32>) -> Self {
        let model = Model::from_bytes(&bytes).expect("benchmark model loads");
        let input = input(model.input_len());
        let operations = operations_for(&model, &input);
        drop(model); // it borrows `bytes`
        Subject {
            name,
            bytes,
            input,
            operations,
        }
    }

    /// A generated net, run on a random input.
    fn generated(name: &str, spec: &OwnedModel) -> Self {
        let bytes = spec.to_bytes().expect("benchmark model encodes");
        Subject::new(name.into(), bytes, |len| random_input(&mut rng(1), len))
    }

    /// The model file named by `CERT_BENCH_MODEL`, if any, run on a blank
    /// input (every value its first channel's `domain_min`).
    fn from_env() -> Option<Self> {
        let path = std::env::var("CERT_BENCH_MODEL").ok()?;
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let low = Model::from_bytes(&bytes)
            .expect("model loads")
            .quantizer(0)
            .expect("a channel")
            .domain_min;
        Some(Subject::new(path, bytes, |len| vec![low; len]))
    }

    fn model(&self) -> Model<'_> {
        Model::from_bytes(&self.bytes).unwrap()
    }

    /// Runs one operation once.
    fn run(&self, model: &Model<'_>, operation: Operation, scratch: &mut [i16]) {
        let input = black_box(self.input.as_slice());
        match operation {
            Operation::Predict => drop(black_box(model.predict(input, scratch))),
            Operation::Certify { eps, .. } => drop(black_box(model.certify(
                input,
                Budget::uniform(eps),
                scratch,
            ))),
        }
    }

    /// Prints the mean time of every operation and its ratio to predict.
    fn report_ratios(&self) {
        let model = self.model();
        let mut scratch = vec![0; model.certify_scratch_len()];
        let times = interleaved_times(self.operations.len(), |i| {
            self.run(&model, self.operations[i], &mut scratch)
        });
        let summary: Vec<String> = self
            .operations
            .iter()
            .zip(&times)
            .map(|(op, time)| format!("{} {time:.1?}", op.label()))
            .collect();
        let parameters = model.parameter_count();
        println!(
            "{}: {parameters} parameters, {}",
            self.name,
            summary.join(", ")
        );
        for (op, time) in self.operations.iter().zip(&times) {
            let Operation::Certify { eps, certified } = *op else {
                continue;
            };
            let ratio = time.as_secs_f64() / times[0].as_secs_f64();
            let outcome = if certified { "certified" } else { "refuted" };
            println!(
                "ratio certify/predict {}: {ratio:.2}x ({outcome}, eps {eps:.4})",
                self.name
            );
        }
    }
}

/// Predict, certify at the largest candidate eps that certifies `input`
/// and certify at the smallest that does not (each when found).
fn operations_for(model: &Model<'_>, input: &[f32]) -> Vec<Operation> {
    let mut scratch = vec![0; model.certify_scratch_len()];
    let mut certify = |eps| {
        model
            .certify(input, Budget::uniform(eps), &mut scratch)
            .unwrap()
            .certified
    };
    let certified = CERTIFIED_CANDIDATES.into_iter().find(|&eps| certify(eps));
    let refuted = REFUTED_CANDIDATES.into_iter().find(|&eps| !certify(eps));
    let mut operations = vec![Operation::Predict];
    operations.extend(certified.map(|eps| Operation::Certify {
        eps,
        certified: true,
    }));
    operations.extend(refuted.map(|eps| Operation::Certify {
        eps,
        certified: false,
    }));
    operations
}

/// Mean time of one call of each of `count` operations (`run(i)` runs
/// operation `i` once): batches of the operations alternate for many
/// rounds, so that load from other processes hits all of them alike, and
/// each operation's fastest batch counts.
fn interleaved_times(count: usize, mut run: impl FnMut(usize)) -> Vec<Duration> {
    const ROUNDS: usize = 30;
    const BATCH_TARGET: Duration = Duration::from_millis(5);
    let mut batch = |i: usize, calls: u32| {
        let start = Instant::now();
        for _ in 0..calls {
            run(i);
        }
        start.elapsed() / calls
    };
    let calls: Vec<u32> = (0..count)
        .map(|i| (BATCH_TARGET.as_secs_f64() / batch(i, 3).as_secs_f64()).ceil() as u32)
        .collect();
    let mut best = vec![Duration::MAX; count];
    for _ in 0..ROUNDS {
        for i in 0..count {
            best[i] = best[i].min(batch(i, calls[i].max(1)));
        }
    }
    best
}

fn main() {
    let mut subjects = vec![
        Subject::generated("dense", &dense_net()),
        Subject::generated("conv", &conv_net()),
    ];
    subjects.extend(Subject::from_env());
    let mut criterion = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .configure_from_args();
    for subject in &subjects {
        let model = subject.model();
        let mut scratch = vec![0; model.certify_scratch_len()];
        let mut group = criterion.benchmark_group(subject.name.as_str());
        for &op in &subject.operations {
            group.bench_function(op.label(), |b| {
                b.iter(|| subject.run(&model, op, &mut scratch))
            });
        }
        group.finish();
    }
    criterion.final_summary();
    for subject in &subjects {
        subject.report_ratios();
    }
}
