//! Arbitrary bytes as a model file: loading returns `Ok` or `Err`, and a
//! model that loads runs predict, certify and certified_radius (real and
//! quantised) and refine without panicking. Overflow checks are on in fuzz builds, so
//! an arithmetic overflow counts as a crash too.
//!
//! Input form: one mode byte, then the bytes. An even mode byte loads the
//! bytes as a whole model file; an odd one seals them as a payload in a
//! container with the right length and CRC, so that mutations get past
//! the checksum to the decoder and the validator.
#![no_main]

use cert_runtime::Model;
use cert_runtime::container;
use cert_runtime::format::MODEL;
use libfuzzer_sys::fuzz_target;

#[path = "../../tests/common/exercise.rs"]
mod exercise;

fuzz_target!(|input: &[u8]| {
    let Some((&mode, bytes)) = input.split_first() else {
        return;
    };
    let sealed;
    let file = if mode & 1 == 0 {
        bytes
    } else {
        // Fuzz inputs are far below the 4 GiB a header can announce.
        sealed = container::seal(MODEL, bytes).expect("a small payload seals");
        &sealed
    };
    if let Ok(model) = Model::from_bytes(file) {
        exercise::exercise(&model, mode);
    }
});
