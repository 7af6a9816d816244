//! Arbitrary bytes as a model file: loading returns `Ok` or `Err`, and a
//! model that loads runs predict, certify and certified_radius (real and
//! quantised) without panicking. Overflow checks are on in fuzz builds, so
//! an arithmetic overflow counts as a crash too.
//!
//! Input form: one mode byte, then the bytes. An even mode byte loads the
//! bytes as a whole model file; an odd one seals them as a payload in a
//! container with the right length and CRC, so that mutations get past
//! the checksum to the decoder and the validator.
#![no_main]

use cert_runtime::Model;
use cert_runtime::format::{FORMAT_VERSION, MAGIC};
use libfuzzer_sys::fuzz_target;

#[path = "../../tests/common/exercise.rs"]
mod exercise;

const CRC32: crc::Crc<u32> = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC);

/// A model file around `payload`, with a correct length and CRC.
fn seal(payload: &[u8]) -> Vec<u8> {
    let mut file = MAGIC.to_vec();
    file.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    file.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    file.extend_from_slice(payload);
    file.extend_from_slice(&CRC32.checksum(payload).to_le_bytes());
    file
}

fuzz_target!(|input: &[u8]| {
    let Some((&mode, bytes)) = input.split_first() else {
        return;
    };
    let sealed;
    let file = if mode & 1 == 0 {
        bytes
    } else {
        sealed = seal(bytes);
        &sealed
    };
    if let Ok(model) = Model::from_bytes(file) {
        exercise::exercise(&model, mode);
    }
});
