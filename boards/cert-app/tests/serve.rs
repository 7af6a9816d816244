//! The whole application on the host: frames of the demo model's test
//! inputs go in over a byte stream, and every reply, every gate level and
//! every certificate must be what `Model::certify` gives for the same
//! pixels.

use std::cell::Cell;
use std::convert::Infallible;
use std::rc::Rc;

use cert_app::frame::{HEADER_LEN, TRAILER_LEN, encode};
use cert_app::{ActiveLow, FrameError, Round, ServeError, Station, serve_one};
use cert_runtime::Model;
use cert_runtime::gate::Decision;
use cert_runtime::vectors::Vectors;
use embedded_hal::digital::{ErrorType, OutputPin};

static MODEL: &[u8] = include_bytes!("../../../firmware/demo/demo.cert");
static VECTORS: &[u8] = include_bytes!("../../../firmware/demo/demo.cvec");

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

fn frame(pixels: &[u8]) -> Vec<u8> {
    let mut out = vec![0; HEADER_LEN + pixels.len() + TRAILER_LEN];
    encode(pixels, &mut out).unwrap();
    out
}

#[test]
fn serves_the_demo_inputs_like_the_host_certifies_them() {
    let eps = Vectors::from_bytes(VECTORS).unwrap().header().eps;
    assert!(serve_demo_inputs(eps) > 0, "nothing certified at eps {eps}");
    // The whole input domain: nothing can be certified, every input falls back.
    assert_eq!(serve_demo_inputs(1.0), 0);
}

/// Serves frames of the demo inputs at `eps`, checks every round against
/// the host, and returns how many inputs were certified.
fn serve_demo_inputs(eps: f32) -> usize {
    let model = Model::from_bytes(MODEL).unwrap();
    let vectors = Vectors::from_bytes(VECTORS).unwrap();
    let n = model.input_len();
    let (act, fallback) = (Pin::default(), Pin::default());
    let mut station = Station::new(model.clone(), eps, act.clone(), fallback.clone()).unwrap();
    assert!(!act.0.get() && !fallback.0.get());

    // Pixels from the demo inputs (x in [0, 1] -> round(255 x)), then a
    // damaged frame and a frame of the wrong size between two of them.
    let mut images = Vec::new();
    let mut x = vec![0f32; n];
    for case in vectors.cases() {
        case.input_into(&mut x).unwrap();
        images.push(
            x.iter()
                .map(|&v| (v * 255.0).round() as u8)
                .collect::<Vec<u8>>(),
        );
    }
    let mut stream = Vec::new();
    for (i, image) in images.iter().enumerate() {
        stream.extend(frame(image));
        if i == 0 {
            let mut bad = frame(image);
            bad[HEADER_LEN + 5] ^= 0x10;
            stream.extend(bad);
            stream.extend(frame(&image[..10]));
        }
    }

    let mut rx = &stream[..];
    let mut tx = Vec::new();
    let (mut pixels, mut input) = (vec![0u8; n], vec![0f32; n]);
    let mut scratch = vec![0i16; model.certify_scratch_len()];
    let mut rounds = Vec::new();
    loop {
        match serve_one(
            &mut station,
            &mut rx,
            &mut tx,
            &mut pixels,
            &mut input,
            &mut scratch,
        ) {
            Ok(round) => {
                if let Round::Decided(v) = &round {
                    assert_eq!(act.0.get(), v.cert.certified);
                    assert_eq!(fallback.0.get(), !v.cert.certified);
                }
                rounds.push(round);
            }
            Err(ServeError::Eof) => break,
            Err(e) => panic!("{e:?}"),
        }
    }
    assert_eq!(rounds.len(), images.len() + 2);
    assert_eq!(rounds[1], Round::Rejected(FrameError::Checksum));
    assert_eq!(
        rounds[2],
        Round::Rejected(FrameError::Length {
            got: 10,
            expected: n
        })
    );

    let replies: Vec<&str> = std::str::from_utf8(&tx).unwrap().lines().collect();
    assert_eq!(replies.len(), rounds.len());
    assert_eq!(replies[1], "err checksum");
    assert_eq!(replies[2], format!("err length got=10 expected={n}"));
    let decided = rounds.iter().zip(&replies).filter_map(|(r, line)| match r {
        Round::Decided(v) => Some((v, line)),
        _ => None,
    });
    let mut certified = 0;
    for ((v, line), image) in decided.zip(&images) {
        let x: Vec<f32> = image.iter().map(|&p| f32::from(p) / 255.0).collect();
        let host = model.certify(&x, eps, &mut scratch).unwrap();
        assert_eq!(v.cert, host);
        let class = host.class;
        let expected = if host.certified {
            Decision::Act { class }
        } else {
            Decision::FallBack { class }
        };
        assert_eq!(v.decision, expected);
        assert_eq!(
            *line,
            format!(
                "ok class={class} certified={} min_margin={}",
                u8::from(host.certified),
                host.min_margin()
            )
        );
        certified += usize::from(host.certified);
    }
    certified
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
