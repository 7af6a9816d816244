//! The whole application on the host: frames of test inputs go in over a
//! byte stream, and every reply, every gate level, every certificate and
//! every refined verdict must be what the runtime gives for the same input.

use std::cell::Cell;
use std::convert::Infallible;
use std::rc::Rc;

use cert_app::frame::encode;
use cert_app::{ActiveLow, FrameError, Outcome, Round, ServeError, Station, serve};
use cert_runtime::container::{HEADER_LEN, TRAILER_LEN};
use cert_runtime::format::owned::quantize_multiplier;
use cert_runtime::format::{CertSpec, InputSpec, Layer, ModelDesc, Output, Params, Requantize};
use cert_runtime::gate::Action;
use cert_runtime::vectors::Vectors;
use cert_runtime::{
    Buffers, ContainerError, Decision, Model, Quantizer, REFINE_DEPTH, Trail, Verdict,
};
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

/// What the runtime alone decides about `input`.
fn runtime_decision(model: &Model<'_>, input: &[f32]) -> Decision {
    let mut scratch = vec![0i16; model.decide_scratch_len()];
    let mut trail = Trail::<REFINE_DEPTH>::new();
    let mut counterexample = vec![0f32; model.input_len()];
    let mut buffers = Buffers {
        scratch: &mut scratch,
        trail: &mut trail,
        counterexample: &mut counterexample,
    };
    model.decide(input, &mut buffers).unwrap()
}

/// Serves frames of `inputs` to a station of `model`, with a damaged frame
/// and a frame of the wrong size after the first and the closing frame at
/// the end (more frames after it are not read); checks every round against
/// the runtime and returns the outcomes.
fn serve_all(model: &Model<'_>, inputs: &[Vec<f32>]) -> Vec<Outcome> {
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
            let mut longer = input.clone();
            longer.push(0.5);
            stream.extend(frame(&longer));
        }
    }
    stream.extend(frame(&[]));
    stream.extend(frame(&inputs[0]));
    let mut rx = &stream[..];
    let mut tx = Vec::new();
    let mut input = vec![0f32; n];
    let (mut scratch, mut counterexample) = (vec![0i16; model.decide_scratch_len()], vec![0f32; n]);
    let mut trail = Trail::<REFINE_DEPTH>::new();
    let mut buffers = Buffers {
        scratch: &mut scratch,
        trail: &mut trail,
        counterexample: &mut counterexample,
    };
    let mut rounds = Vec::new();
    let end = serve(
        &mut station,
        &mut rx,
        &mut tx,
        &mut input,
        &mut buffers,
        |index, round| {
            assert_eq!(index as usize, rounds.len());
            if let Round::Decided(o) = round {
                assert_eq!(act.0.get(), o.decision.proven());
                assert_eq!(fallback.0.get(), !o.decision.proven());
            }
            rounds.push(round.clone());
        },
    );
    assert_eq!(end, ServeError::Eof);
    assert_eq!(
        rx.len(),
        frame(&inputs[0]).len(),
        "nothing after the closing frame is read"
    );
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
            got: 4 * (n + 1),
            expected: 4 * n
        })
    );
    let replies: Vec<&str> = std::str::from_utf8(&tx).unwrap().lines().collect();
    assert_eq!(replies.len(), rounds.len());
    assert_eq!(replies[1], "err frame");
    assert_eq!(
        replies[2],
        format!("err length got={} expected={}", 4 * (n + 1), 4 * n)
    );
    let decided = rounds.iter().zip(&replies).filter_map(|(r, line)| match r {
        Round::Decided(o) => Some((o.clone(), *line)),
        _ => None,
    });
    let mut outcomes = Vec::new();
    for ((o, line), input) in decided.zip(inputs) {
        let decision = runtime_decision(model, input);
        assert_eq!(o.decision, decision);
        let class = decision.class();
        let expected = if decision.proven() {
            Action::Act { class }
        } else {
            Action::FallBack { class }
        };
        assert_eq!(o.action, expected);
        assert_eq!(
            line,
            format!(
                "ok class={class} certified={} min_margin={} boxes={}",
                u8::from(decision.proven()),
                decision.certificate.min_margin(),
                decision.boxes
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
    let outcomes = serve_all(&model, &inputs);
    let certified = outcomes
        .iter()
        .filter(|o| o.decision.certificate.certified)
        .count();
    assert!(
        0 < certified && certified < outcomes.len(),
        "{certified} certified"
    );
    assert!(
        outcomes
            .iter()
            .filter(|o| !o.decision.certificate.certified)
            .all(|o| o.decision.boxes > 1 || o.decision.verdict == Verdict::Refuted),
        "every uncertified input is refined"
    );
}

/// Two identical hidden neurons, and class 0's logit `h0 - h1 + 1`: class 0
/// wins at every input, but interval bounds treat `h0` and `h1` as
/// independent and cannot prove it. Refinement splits the input until they
/// can: the gate acts.
#[test]
fn the_gate_acts_on_what_only_refinement_proves() {
    let (multiplier, shift) = quantize_multiplier(1.0 / 64.0);
    let twins = Requantize::new(&[multiplier; 2], &[shift; 2], -128, -128, 127, 1.0 / 255.0);
    let layers = vec![
        Layer::dense(
            1,
            2,
            Params::new(&[64, 64], &[0, 0], Output::Requantize(twins)),
        ),
        Layer::dense(
            2,
            2,
            Params::new(&[1, -1, 0, 0], &[1, 0], Output::Logits { scale: 1.0 }),
        ),
    ];
    let spec = ModelDesc::new(
        InputSpec::features(&[Quantizer::spanning(0.0, 1.0)], &["x".into()]),
        CertSpec::new(&[0.1], 256),
        &["always".into(), "never".into()],
        "twin neurons",
        layers,
    )
    .unwrap();
    let bytes = spec.to_bytes().unwrap();
    let model = Model::from_bytes(&bytes).unwrap();
    let outcomes = serve_all(&model, &[vec![0.5], vec![0.2], vec![0.9]]);
    for o in outcomes {
        assert_eq!(o.decision.class(), 0);
        assert!(
            !o.decision.certificate.certified,
            "interval bounds cannot prove twins equal"
        );
        assert_eq!(o.decision.verdict, Verdict::Certified);
        assert_eq!(o.action, Action::Act { class: 0 });
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
