//! The application the boards ship, on a Cortex-M over a UART: the
//! emulated board's `serve` program (cert-app's station and serve loop, as
//! on the nRF52840 DK) gets a stream of input frames, a corrupt one, one of
//! the wrong size and the closing frame on UART0, and must send back, byte
//! for byte, the replies the same application sends on the host, where
//! they are checked against `Model::decide`.

use std::cell::Cell;
use std::convert::Infallible;
use std::path::Path;
use std::rc::Rc;

use cert_app::frame::encode;
use cert_app::{Round, ServeError, Station, serve};
use cert_runtime::container::{HEADER_LEN, TRAILER_LEN};
use cert_runtime::vectors::Vectors;
use cert_runtime::{Buffers, Model, REFINE_DEPTH, Trail};
use embedded_hal::digital::{ErrorType, OutputPin};
use end_to_end::device::{SERVE, build_board_with, run_qemu_with_uart};
use end_to_end::{model_pairs, workspace_root};

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

/// Frames of `inputs`, a corrupt copy and a longer frame after the first,
/// and the closing frame.
fn session(inputs: &[Vec<f32>]) -> Vec<u8> {
    let mut stream = Vec::new();
    for (i, input) in inputs.iter().enumerate() {
        stream.extend(frame(input));
        if i == 0 {
            let mut corrupt = frame(input);
            corrupt[HEADER_LEN] ^= 0x40;
            stream.extend(corrupt);
            let mut longer = input.clone();
            longer.push(0.0);
            stream.extend(frame(&longer));
        }
    }
    stream.extend(frame(&[]));
    stream
}

/// The replies the application sends on the host for `stream`, each
/// decided frame checked against `Model::decide` and the gate's pins.
fn host_replies(model: &Model<'_>, stream: &[u8], inputs: &[Vec<f32>]) -> Vec<u8> {
    let n = model.input_len();
    let (act, fallback) = (Pin::default(), Pin::default());
    let mut station = Station::new(model.clone(), act.clone(), fallback.clone()).unwrap();
    let (mut scratch, mut counterexample) = (vec![0i16; model.decide_scratch_len()], vec![0f32; n]);
    let mut trail = Trail::<REFINE_DEPTH>::new();
    let mut buffers = Buffers {
        scratch: &mut scratch,
        trail: &mut trail,
        counterexample: &mut counterexample,
    };
    let (mut rx, mut tx, mut input) = (stream, Vec::new(), vec![0f32; n]);
    let mut decided = 0;
    let end = serve(
        &mut station,
        &mut rx,
        &mut tx,
        &mut input,
        &mut buffers,
        |_, round| {
            if let Round::Decided(o) = round {
                assert_eq!(act.0.get(), o.decision.proven());
                assert_eq!(fallback.0.get(), !o.decision.proven());
                let mut scratch = vec![0i16; model.decide_scratch_len()];
                let (mut trail, mut ce) = (Trail::<REFINE_DEPTH>::new(), vec![0f32; n]);
                let mut own = Buffers {
                    scratch: &mut scratch,
                    trail: &mut trail,
                    counterexample: &mut ce,
                };
                assert_eq!(
                    o.decision,
                    model.decide(&inputs[decided], &mut own).unwrap()
                );
                decided += 1;
            }
        },
    );
    assert_eq!(end, ServeError::Eof);
    assert_eq!(decided, inputs.len());
    tx
}

/// Serves the first `cases` inputs of `vectors_path` on the emulated board
/// built with the runtime parts `features` (`None`: all) and compares its
/// replies with the host's.
fn check(model_path: &Path, vectors_path: &Path, cases: usize, features: Option<&str>) {
    let (model_file, vectors_file) = (
        std::fs::read(model_path).unwrap(),
        std::fs::read(vectors_path).unwrap(),
    );
    let model = Model::from_bytes(&model_file).unwrap();
    let inputs: Vec<Vec<f32>> = Vectors::from_bytes(&vectors_file)
        .unwrap()
        .cases()
        .take(cases)
        .map(|c| c.input_values().collect())
        .collect();
    let stream = session(&inputs);
    let want = host_replies(&model, &stream, &inputs);
    let elves = build_board_with(model_path, vectors_path, features).unwrap();
    let (run, sent) = run_qemu_with_uart(&elves[SERVE], &stream).unwrap();
    let log = run.log_text();
    assert_eq!(run.status, Some(0), "{log}");
    assert!(log.contains("session closed"), "{log}");
    let name = model_path.display();
    assert_eq!(
        String::from_utf8_lossy(&sent),
        String::from_utf8_lossy(&want),
        "{name}: the device's replies differ from the host's\n{log}"
    );
    let lines = String::from_utf8(want).unwrap();
    assert_eq!(lines.lines().count(), inputs.len() + 2, "{name}");
    assert!(
        lines.contains("err frame") && lines.contains("err length"),
        "{name}"
    );
}

/// The demo model (refining with a tiny box budget), a shipped feature
/// model that refines with 1,024 boxes, and a shipped image model.
#[test]
fn the_shipped_app_serves_over_a_uart_like_the_host() {
    let (demo_model, demo_vectors) = model_pairs().unwrap().remove(0);
    check(&demo_model, &demo_vectors, 10, None);
    let models = workspace_root().join("models");
    let pair = |name: &str| {
        (
            models.join(format!("{name}.cert")),
            models.join(format!("{name}.cvec")),
        )
    };
    let (wine, wine_vectors) = pair("wine-std0.25");
    check(&wine, &wine_vectors, 8, None);
    let (cnn, cnn_vectors) = pair("cnn-small-eps0.1");
    check(&cnn, &cnn_vectors, 3, None);
}

/// A firmware built with only part of the runtime serves the models that
/// need no more exactly like the full one, and refuses, with the runtime's
/// typed error, a model that needs a part it left out.
#[test]
fn reduced_firmware_serves_what_it_carries_and_refuses_the_rest() {
    let models = workspace_root().join("models");
    let pair = |name: &str| {
        (
            models.join(format!("{name}.cert")),
            models.join(format!("{name}.cvec")),
        )
    };
    let (mlp, mlp_vectors) = pair("mlp-eps0.1");
    let (cnn, cnn_vectors) = pair("cnn-small-eps0.1");
    let (wine, wine_vectors) = pair("wine-std0.25");
    // Dense only, no refinement; convolutions without refinement.
    check(&mlp, &mlp_vectors, 3, Some(""));
    check(&cnn, &cnn_vectors, 2, Some("conv"));
    for (model, vectors, features, missing) in [
        (&cnn, &cnn_vectors, "", "conv"),
        (&wine, &wine_vectors, "conv linear", "refine"),
        (&wine, &wine_vectors, "refine", "linear"),
    ] {
        let elves = build_board_with(model, vectors, Some(features)).unwrap();
        let (run, sent) = run_qemu_with_uart(&elves[SERVE], &session(&[])).unwrap();
        let log = run.log_text();
        assert_eq!(run.status, Some(1), "{log}");
        assert!(sent.is_empty());
        let refusal = format!("model: Unsupported {{ feature: \"{missing}\" }}");
        assert!(log.contains(&refusal), "{log}");
    }
}
