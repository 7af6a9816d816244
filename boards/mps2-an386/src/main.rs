//! Decides the embedded test vectors on a Cortex-M4F (QEMU mps2-an386) at
//! the model's own spec (`Model::decide`, as the station does) and checks
//! every certificate, refined verdict and counterexample against the
//! host's, bit for bit.
//!
//! Logs each case and a summary with defmt over semihosting, drives the
//! certified decision gate on the board's two user LEDs and reads them
//! back, and exits with status 0 only when every case matched.
#![no_std]
#![no_main]

use cert_app::{CaseCheck, Tally, check_case};
use cert_runtime::gate::{Action, CertifiedGate};
use cert_runtime::vectors::Vectors;
use cert_runtime::{Buffers, Layer, Model, REFINE_DEPTH, Trail, Verdict};
use cortex_m_rt::entry;
use mps2_an386::count::Counter;
use mps2_an386::leds::{self, Led};
use mps2_an386::{INPUT_LEN, MODEL, SCRATCH_LEN, VECTORS, exit, stack};

#[entry]
fn main() -> ! {
    static mut SCRATCH: [i16; SCRATCH_LEN] = [0; SCRATCH_LEN];
    static mut INPUT: [f32; INPUT_LEN] = [0.0; INPUT_LEN];
    static mut COUNTEREXAMPLE: [f32; INPUT_LEN] = [0.0; INPUT_LEN];
    static mut TRAIL: Trail<REFINE_DEPTH> = Trail::new();

    stack::paint();
    let peripherals = cortex_m::Peripherals::take().expect("peripherals taken once");
    let counter = Counter::new(peripherals.SYST);
    let mut buffers = Buffers {
        scratch: SCRATCH,
        trail: TRAIL,
        counterexample: COUNTEREXAMPLE,
    };
    let passed = run(counter, &mut buffers, INPUT);
    defmt::info!("stack: peak={=u32} bytes", stack::peak());
    exit::exit(passed)
}

/// Checks every case; true when all matched the host.
fn run(mut counter: Counter, buffers: &mut Buffers<'_>, input: &mut [f32]) -> bool {
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
    defmt::info!(
        "model: {=usize} inputs, {=usize} classes, {=usize} parameters, eps {=f32} (channel 0), refine {=u32} boxes; {=usize} cases",
        model.input_len(),
        model.classes(),
        model.parameter_count(),
        model.budget().eps(0).unwrap_or(0.0),
        model.refine_boxes(),
        vectors.len()
    );
    if let Some(case) = vectors.cases().next()
        && let Ok(x) = case.input_into(input)
    {
        profile_layers(&model, x, buffers.scratch, &mut counter);
    }
    let mut tally = Tally::default();
    for (index, case) in vectors.cases().enumerate() {
        let checked = case
            .input_into(input)
            .and_then(|x| check_case(&model, &case, x, buffers, &mut counter));
        let check = match checked {
            Ok(check) => check,
            Err(e) => {
                defmt::error!("case {=usize}: {}", index, e);
                tally.fail();
                continue;
            }
        };
        let Ok(action) = gate.apply_decision(&check.decision);
        let acted = matches!(action, Action::Act { .. });
        let leds_ok = leds::levels() == if acted { 0b01 } else { 0b10 };
        let consistent = check.predicted == check.decision.class();
        let ok = check.host && consistent && leds_ok && acted == check.decision.proven();
        let refined = check.refined(&model);
        log_case(index, case.label, &check, refined, ok);
        if !check.host {
            defmt::error!(
                "case {=usize}: device {} host {}",
                index,
                check.decision,
                case.expected
            );
        }
        if !consistent {
            defmt::error!(
                "case {=usize}: predict gives class {=usize}, decide {=usize}",
                index,
                check.predicted,
                check.decision.class()
            );
        }
        if !leds_ok {
            defmt::error!(
                "case {=usize}: gate drove {}, LEDs read {=u32:#04b}",
                index,
                action,
                leds::levels()
            );
        }
        tally.record(case.label, &check, refined, acted, ok);
    }
    summarize(&tally, calibrated && counter.in_range())
}

/// Logs what the input stage (checking and quantising the input, or its
/// box) and every layer cost in predict and in certify, for one input, next
/// to each layer's multiply-accumulates.
fn profile_layers(model: &Model<'_>, input: &[f32], scratch: &mut [i16], counter: &mut Counter) {
    const MARKS: usize = cert_runtime::MAX_LAYERS + 1;
    let (_, predict) =
        counter.count_marks::<_, MARKS>(|mark| model.predict_marked(input, scratch, mark));
    let (_, certify) = counter
        .count_marks::<_, MARKS>(|mark| model.certify_marked(input, model.budget(), scratch, mark));
    defmt::info!(
        "input: predict={=u32} certify={=u32}",
        predict[0],
        certify[0]
    );
    let shapes = model.shapes();
    for (i, layer) in model.layers().iter().enumerate() {
        let (kind, macs) = match layer {
            Layer::Dense(d) => ("dense", d.inputs * d.outputs),
            Layer::Conv2d(c) => {
                let fan_in =
                    u32::from(c.in_channels) * u32::from(c.kernel[0]) * u32::from(c.kernel[1]);
                ("conv2d", shapes[i + 1].len() as u32 * fan_in)
            }
        };
        let since = |marks: &[u32; MARKS]| marks[i + 1] - marks[i];
        defmt::info!(
            "layer {=usize}: {=str} macs={=u32} predict={=u32} certify={=u32}",
            i,
            kind,
            macs,
            since(&predict),
            since(&certify)
        );
    }
}

fn log_case(index: usize, label: Option<u16>, check: &CaseCheck, refined: bool, ok: bool) {
    let d = &check.decision;
    let verdict = match (refined, d.verdict) {
        (false, _) => "-",
        (true, Verdict::Certified) => "certified",
        (true, Verdict::Refuted) => "refuted",
        (true, Verdict::Unknown) => "unknown",
    };
    defmt::info!(
        "case {=usize}: label={=?} class={=usize} certified={=bool} min_margin={=i32} refined={=str} boxes={=u32} predict={=u32} certify={=u32} refine={=u32} {=str}",
        index,
        label,
        d.class(),
        d.certificate.certified,
        d.certificate.min_margin(),
        verdict,
        d.boxes,
        check.predict,
        check.certify,
        if refined { check.decide } else { 0 },
        if ok { "match" } else { "MISMATCH" }
    );
}

/// Logs the summary; true when there were cases and all matched.
/// `counted` says whether the instruction counts are trustworthy.
fn summarize(t: &Tally, counted: bool) -> bool {
    defmt::info!(
        "summary: cases={=u32} matched={=u32} certified={=u32} refined={=u32} refuted={=u32} acted={=u32} labelled={=u32} correct={=u32} proven_correct={=u32}",
        t.cases,
        t.matched,
        t.certified,
        t.refined,
        t.refuted,
        t.acted,
        t.labelled,
        t.correct,
        t.proven_correct
    );
    if counted && t.cases > 0 && t.predict > 0 {
        let uncertified = t.cases - t.certified;
        defmt::info!(
            "instructions: predict={=u64} certify={=u64} certified={=u64} uncertified={=u64} refine={=u64} boxes={=u64} ratio={=f32} (means per case; refine per refined case)",
            Tally::mean(t.predict, t.cases),
            Tally::mean(t.certify, t.cases),
            Tally::mean(t.certify_certified, t.certified),
            Tally::mean(t.certify - t.certify_certified, uncertified),
            Tally::mean(t.refine, t.refinements),
            Tally::mean(t.boxes, t.refinements),
            t.certify as f32 / t.predict as f32
        );
    } else {
        defmt::warn!("instructions: not counted");
    }
    t.passed()
}
