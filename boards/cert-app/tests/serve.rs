//! The whole application on the host: frames of test inputs go in over a
//! byte stream, and every reply, every gate level, every certificate and
//! every refined verdict must be what the runtime gives for the same input.

use std::cell::Cell;
use std::convert::Infallible;
use std::rc::Rc;

use cert_app::frame::encode;
use cert_app::{ActiveLow, Buffers, FrameError, Outcome, Round, ServeError, Station, serve_one};
use cert_runtime::builder::{
    Certification, Input, LayerKind, LayerSpec, ModelSpec, OutputSpec, quantize_multiplier,
};
use cert_runtime::container::{HEADER_LEN, TRAILER_LEN};
use cert_runtime::gate::Decision;
use cert_runtime::vectors::Vectors;
use cert_runtime::{ContainerError, Model, Quantizer, REFINE_DEPTH, Trail, Verdict};
use embedded_hal::digital::{ErrorType, OutputPin};

static MODEL: &[u8] = include_bytes!("../../demo/demo.cert");
static VECTORS: &[u8] = include_bytes!("../../demo/demo.cvec");

/// A pin whose level the test can read.
#[derive(Clone, Default)]
struct Pin(Rc<Cell<bool>>);

impl ErrorType for Pin {
    type Error = Infallible;
}

impl OutputPin for Pin {
    fn set_low(&mut self) -> Result<(), Infallible> {
        self.0.set(false);
        Ok(())
    }

    fn set_high(&mut self) -> Result<(), Infallible> {
        self.0.set(true);
        Ok(())
    }
}

fn frame(input: &[f32]) -> Vec<u8> {
    let mut out = vec![0; HEADER_LEN + 4 * input.len() + TRAILER_LEN];
    encode(input, &mut out).unwrap();
    out
}

/// What the runtime alone says about `input`: the certificate at the
/// model's budget, and the refinement when it does not certify.
fn host(model: &Model<'_>, input: &[f32]) -> (cert_runtime::Certificate, Option<(Verdict, u32)>) {
    let mut scratch = vec![0i16; model.refine_scratch_len()];
    let mut trail = Trail::<REFINE_DEPTH>::new();
    let mut counterexample = vec![0f32; model.input_len()];
    let cert = model.certify(input, model.budget(), &mut scratch).unwrap();
    let refined = (!cert.certified && model.refine_boxes() > 0).then(|| {
        let r = model
            .refine(
                input,
                model.budget(),
                model.refine_boxes(),
                &mut scratch,
                &mut trail,
                &mut counterexample,
            )
            .unwrap();
        (r.verdict, r.boxes)
    });
    (cert, refined)
}

/// Serves frames of `inputs` to a station of `model`, with a damaged frame
/// and a frame of the wrong size after the first; checks every round
/// against the host and returns the outcomes.
fn serve(model: &Model<'_>, inputs: &[Vec<f32>]) -> Vec<Outcome> {
    let n = model.input_len();
    let (act, fallback) = (Pin::default(), Pin::default());
    let mut station = Station::new(model.clone(), act.clone(), fallback.clone()).unwrap();
    assert!(!act.0.get() && !fallback.0.get());
    let mut stream = Vec::new();
    for (i, input) in inputs.iter().enumerate() {
        stream.extend(frame(input));
        if i == 0 {
            let mut bad = frame(input);
            bad[HEADER_LEN + 5] ^= 0x10;
            stream.extend(bad);
            stream.extend(frame(&input[..n - 1]));
        }
    }
    let mut rx = &stream[..];
    let mut tx = Vec::new();
    let mut input = vec![0f32; n];
    let (mut scratch, mut counterexample) = (vec![0i16; model.refine_scratch_len()], vec![0f32; n]);
    let mut buffers = Buffers {
        scratch: &mut scratch,
        counterexample: &mut counterexample,
    };
    let mut rounds = Vec::new();
    loop {
        match serve_one(&mut station, &mut rx, &mut tx, &mut input, &mut buffers) {
            Ok(round) => {
                if let Round::Decided(o) = &round {
                    assert_eq!(act.0.get(), o.proven());
                    assert_eq!(fallback.0.get(), !o.proven());
                }
                rounds.push(round);
            }
            Err(ServeError::Eof) => break,
            Err(e) => panic!("{e:?}"),
        }
    }
    assert_eq!(rounds.len(), inputs.len() + 2);
    assert!(matches!(
        rounds[1],
        Round::Rejected(FrameError::Container(
            ContainerError::ChecksumMismatch { .. }
        ))
    ));
    assert_eq!(
        rounds[2],
        Round::Rejected(FrameError::Length {
            got: 4 * (n - 1),
            expected: 4 * n
        })
    );
    let replies: Vec<&str> = std::str::from_utf8(&tx).unwrap().lines().collect();
    assert_eq!(replies.len(), rounds.len());
    assert_eq!(replies[1], "err frame");
    assert_eq!(
        replies[2],
        format!("err length got={} expected={}", 4 * (n - 1), 4 * n)
    );
    let decided = rounds.iter().zip(&replies).filter_map(|(r, line)| match r {
        Round::Decided(o) => Some((o.clone(), *line)),
        _ => None,
    });
    let mut outcomes = Vec::new();
    for ((o, line), input) in decided.zip(inputs) {
        let (cert, refined) = host(model, input);
        assert_eq!((&o.certificate, o.refinement), (&cert, refined));
        let class = cert.class;
        let expected = if o.proven() {
            Decision::Act { class }
        } else {
            Decision::FallBack { class }
        };
        assert_eq!(o.decision, expected);
        assert_eq!(
            line,
            format!(
                "ok class={class} certified={} min_margin={} boxes={}",
                u8::from(o.proven()),
                cert.min_margin(),
                o.boxes()
            )
        );
        outcomes.push(o);
    }
    outcomes
}

#[test]
fn serves_the_demo_inputs_like_the_runtime_decides_them() {
    let model = Model::from_bytes(MODEL).unwrap();
    let vectors = Vectors::from_bytes(VECTORS).unwrap();
    let mut inputs = Vec::new();
    for case in vectors.cases() {
        inputs.push(case.input_values().collect::<Vec<f32>>());
    }
    let outcomes = serve(&model, &inputs);
    let certified = outcomes.iter().filter(|o| o.certificate.certified).count();
    assert!(
        0 < certified && certified < outcomes.len(),
        "{certified} certified"
    );
    assert!(
        outcomes
            .iter()
            .filter(|o| !o.certificate.certified)
            .all(|o| o.refinement.is_some())
    );
}

/// Two identical hidden neurons, and class 0's logit `h0 - h1 + 1`: class 0
/// wins at every input, but interval bounds treat `h0` and `h1` as
/// independent and cannot prove it. Refinement splits the input until they
/// can: the gate acts.
#[test]
fn the_gate_acts_on_what_only_refinement_proves() {
    let (multiplier, shift) = quantize_multiplier(1.0 / 64.0);
    let spec = ModelSpec {
        input: Input::features(vec![Quantizer::spanning(0.0, 1.0)], vec!["x".into()]),
        certification: Certification {
            eps: vec![0.1],
            refine_boxes: 256,
        },
        classes: 2,
        class_names: vec!["always".into(), "never".into()],
        description: "twin neurons".into(),
        layers: vec![
            LayerSpec {
                kind: LayerKind::Dense {
                    inputs: 1,
                    outputs: 2,
                },
                weights: vec![64, 64],
                bias: vec![0, 0],
                output: OutputSpec::Requantize {
                    multiplier: vec![multiplier; 2],
                    shift: vec![shift; 2],
                    zero_point: -128,
                    min: -128,
                    max: 127,
                    scale: 1.0 / 255.0,
                },
            },
            LayerSpec {
                kind: LayerKind::Dense {
                    inputs: 2,
                    outputs: 2,
                },
                weights: vec![1, -1, 0, 0],
                bias: vec![1, 0],
                output: OutputSpec::Logits { scale: 1.0 },
            },
        ],
    };
    let bytes = spec.to_bytes().unwrap();
    let model = Model::from_bytes(&bytes).unwrap();
    let outcomes = serve(&model, &[vec![0.5], vec![0.2], vec![0.9]]);
    for o in outcomes {
        assert_eq!(o.certificate.class, 0);
        assert!(
            !o.certificate.certified,
            "interval bounds cannot prove twins equal"
        );
        assert_eq!(o.refinement.map(|r| r.0), Some(Verdict::Certified));
        assert_eq!(o.decision, Decision::Act { class: 0 });
    }
}

#[test]
fn active_low_inverts() {
    let pin = Pin::default();
    let mut led = ActiveLow(pin.clone());
    led.set_high().unwrap();
    assert!(!pin.0.get());
    led.set_low().unwrap();
    assert!(pin.0.get());
}
