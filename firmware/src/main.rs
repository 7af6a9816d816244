//! Certifies the embedded test vectors on a Cortex-M4F (QEMU mps2-an386)
//! and checks every certificate against the host's, bit for bit.
//!
//! Logs each case and a summary with defmt over semihosting, drives the
//! certified decision gate on the board's two user LEDs, and exits with
//! status 0 only when every certificate matched.
#![no_std]
#![no_main]

mod count;
mod exit;
mod leds;
mod stack;
mod tally;

use cert_runtime::Model;
use cert_runtime::gate::CertifiedGate;
use cert_runtime::vectors::Vectors;
use cortex_m_rt::entry;
use defmt_semihosting as _;

use crate::count::Counter;
use crate::leds::Led;
use crate::tally::{Outcome, Tally};

include!(concat!(env!("OUT_DIR"), "/sizes.rs"));

/// The model file, borrowed in place from flash.
static MODEL: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/model.cert"));
/// The host's test vectors for `MODEL`.
static VECTORS: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/vectors.cvec"));

#[entry]
fn main() -> ! {
    static mut SCRATCH: [i16; SCRATCH_LEN] = [0; SCRATCH_LEN];
    static mut INPUT: [f32; INPUT_LEN] = [0.0; INPUT_LEN];

    stack::paint();
    let peripherals = cortex_m::Peripherals::take().expect("peripherals taken once");
    let counter = Counter::new(peripherals.SYST);
    let passed = run(counter, SCRATCH, INPUT);
    defmt::info!("stack: peak={=u32} bytes", stack::peak());
    exit::exit(passed)
}

/// Certifies every case; true when all matched the host.
fn run(mut counter: Counter, scratch: &mut [i16], input: &mut [f32]) -> bool {
    let model = match Model::from_bytes(MODEL) {
        Ok(model) => model,
        Err(e) => {
            defmt::error!("model: {}", e);
            return false;
        }
    };
    let vectors = match Vectors::from_bytes(VECTORS).and_then(|v| v.check_model(MODEL).map(|()| v))
    {
        Ok(vectors) => vectors,
        Err(e) => {
            defmt::error!("vectors: {}", e);
            return false;
        }
    };
    let calibrated = counter.calibrate();
    let Ok(mut gate) = CertifiedGate::new(Led::ACT, Led::FALL_BACK);
    let eps = vectors.header().eps;
    defmt::info!(
        "model: {=usize} inputs, {=usize} classes, {=usize} parameters; {=usize} cases at eps {=f32}",
        model.input_len(),
        model.classes(),
        model.parameter_count(),
        vectors.len(),
        eps
    );
    let mut tally = Tally::default();
    for (index, case) in vectors.cases().enumerate() {
        let outcome = case.input_into(input).and_then(|x| {
            let (prediction, predict) = counter.count(|| model.predict(x, scratch));
            let (cert, certify) = counter.count(|| model.certify(x, eps, scratch));
            Ok(Outcome {
                prediction: prediction?,
                cert: cert?,
                predict,
                certify,
            })
        });
        match outcome {
            Ok(outcome) => {
                let Ok(decision) = gate.apply(&outcome.cert);
                tally.record(index, &case, &outcome, decision, leds::levels());
            }
            Err(e) => {
                defmt::error!("case {=usize}: {}", index, e);
                tally.fail();
            }
        }
    }
    tally.summarize(calibrated && counter.in_range())
}
