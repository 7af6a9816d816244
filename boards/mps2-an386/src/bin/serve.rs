//! The application every board ships (`cert-app`'s station and serve
//! loop, as on the nRF52840 DK), on the emulated Cortex-M4F: input frames
//! in over UART0, the decision on the two user LEDs, one reply line out
//! per frame, until the closing frame. Exits 0 when the session closed and
//! the LEDs always showed the decision.
#![no_std]
#![no_main]

use cert_app::{Round, ServeError, Station, log, serve};
use cert_runtime::{Buffers, Model, REFINE_DEPTH, Trail};
use cortex_m_rt::entry;
use mps2_an386::leds::{self, Led};
use mps2_an386::{INPUT_LEN, MODEL, SCRATCH_LEN, exit, uart};

#[entry]
fn main() -> ! {
    static mut SCRATCH: [i16; SCRATCH_LEN] = [0; SCRATCH_LEN];
    static mut INPUT: [f32; INPUT_LEN] = [0.0; INPUT_LEN];
    static mut COUNTEREXAMPLE: [f32; INPUT_LEN] = [0.0; INPUT_LEN];
    static mut TRAIL: Trail<REFINE_DEPTH> = Trail::new();

    let model = match Model::from_bytes(MODEL) {
        Ok(model) => model,
        Err(e) => {
            defmt::error!("model: {}", e);
            exit::exit(false)
        }
    };
    defmt::info!(
        "serving: {=usize} inputs, {=usize} classes, refine {=u32} boxes",
        model.input_len(),
        model.classes(),
        model.refine_boxes()
    );
    let Ok(mut station) = Station::new(model, Led::ACT, Led::FALL_BACK);
    let (mut rx, mut tx) = uart::split();
    let mut buffers = Buffers {
        scratch: SCRATCH,
        trail: TRAIL,
        counterexample: COUNTEREXAMPLE,
    };
    let mut leds_ok = true;
    let end = serve(
        &mut station,
        &mut rx,
        &mut tx,
        INPUT,
        &mut buffers,
        |index, round| {
            log::round(index, round);
            if let Round::Decided(o) = round {
                let want = if o.decision.proven() { 0b01 } else { 0b10 };
                if leds::levels() != want {
                    defmt::error!("frame {=u32}: LEDs read {=u32:#04b}", index, leds::levels());
                    leds_ok = false;
                }
            }
        },
    );
    log::end(&end);
    exit::exit(end == ServeError::Eof && leds_ok)
}
