//! The certifying firmware on Nordic's nRF52840 DK (PCA10056).
//!
//! Input frames arrive on UARTE0, wired on the DK to the J-Link's USB
//! virtual COM port (115200 8N1); each is certified with `cert-app`'s
//! station (`Model::decide` at the model's own spec, then the
//! `CertifiedGate`), the decision drives LED1 (proven: act) or LED2 (not
//! proven: fall back), a reply line goes back over the port, and every
//! frame is logged with defmt over RTT. The same station and serve loop
//! run on the emulated board (`mps2-an386`'s `serve` program) in CI. Only
//! this file is board glue.
#![no_std]
#![no_main]

use cert_app::{ActiveLow, Station, log, serve};
use cert_runtime::{Buffers, Model, REFINE_DEPTH, Trail};
use core::panic::PanicInfo;

use cortex_m_rt::entry;
use defmt_rtt as _;
use nrf52840_hal::clocks::Clocks;
use nrf52840_hal::gpio::{Level, p0};
use nrf52840_hal::pac;
use nrf52840_hal::uarte::{self, Baudrate, Parity, Uarte};

include!(concat!(env!("OUT_DIR"), "/sizes.rs"));

/// The model file, borrowed in place from flash.
static MODEL: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/model.cert"));

#[entry]
fn main() -> ! {
    static mut SCRATCH: [i16; SCRATCH_LEN] = [0; SCRATCH_LEN];
    static mut INPUT: [f32; INPUT_LEN] = [0.0; INPUT_LEN];
    static mut COUNTEREXAMPLE: [f32; INPUT_LEN] = [0.0; INPUT_LEN];
    static mut TRAIL: Trail<REFINE_DEPTH> = Trail::new();
    // UARTE DMA buffers: must live in RAM.
    static mut TX_BUF: [u8; cert_app::reply::LINE_MAX] = [0; cert_app::reply::LINE_MAX];
    static mut RX_BUF: [u8; 1] = [0];

    let p = pac::Peripherals::take().expect("peripherals taken once");
    // An accurate baud rate needs the 32 MHz crystal, not the RC oscillator.
    let _clocks = Clocks::new(p.CLOCK).enable_ext_hfosc();
    let port0 = p0::Parts::new(p.P0);
    // LED1..LED4 are P0.13..P0.16, lit when the pin is low: start dark.
    let act = ActiveLow(port0.p0_13.into_push_pull_output(Level::High).degrade());
    let fallback = ActiveLow(port0.p0_14.into_push_pull_output(Level::High).degrade());
    // The virtual COM port: P0.06 is the chip's TXD, P0.08 its RXD (no flow control).
    let pins = uarte::Pins {
        txd: port0.p0_06.into_push_pull_output(Level::High).degrade(),
        rxd: port0.p0_08.into_floating_input().degrade(),
        cts: None,
        rts: None,
    };
    let uarte = Uarte::new(p.UARTE0, pins, Parity::EXCLUDED, Baudrate::BAUD115200);
    let (mut tx, mut rx) = uarte
        .split(TX_BUF, RX_BUF)
        .expect("UARTE buffers are in RAM");

    let model = match Model::from_bytes(MODEL) {
        Ok(model) => model,
        Err(e) => defmt::panic!("model: {}", e),
    };
    defmt::info!(
        "model: {=usize} inputs, {=usize} classes, {=usize} parameters; certifying at its eps {=f32} (channel 0), refining with {=u32} boxes",
        model.input_len(),
        model.classes(),
        model.parameter_count(),
        model.budget().eps(0).unwrap_or(0.0),
        model.refine_boxes()
    );
    let Ok(mut station) = Station::new(model, act, fallback);
    defmt::info!(
        "waiting for frames of {=usize} values on UARTE0 (VCOM, 115200 8N1); LED1 = proven, LED2 = fall back",
        INPUT_LEN
    );
    let mut buffers = Buffers {
        scratch: SCRATCH,
        trail: TRAIL,
        counterexample: COUNTEREXAMPLE,
    };
    loop {
        // A closing frame ends a session; the board then serves the next.
        let end = serve(
            &mut station,
            &mut rx,
            &mut tx,
            INPUT,
            &mut buffers,
            log::round,
        );
        log::end(&end);
    }
}

/// Logs the panic, then faults: `probe-rs run` catches the HardFault,
/// prints a backtrace and exits non-zero.
#[panic_handler]
fn panic(info: &PanicInfo) -> ! {
    let (file, line) = info.location().map_or(("?", 0), |l| (l.file(), l.line()));
    // `as_str` avoids pulling core::fmt (float formatting included) into flash.
    let message = info.message().as_str().unwrap_or("(formatted message)");
    defmt::error!("panic at {=str}:{=u32}: {=str}", file, line, message);
    cortex_m::interrupt::disable();
    cortex_m::asm::udf()
}
