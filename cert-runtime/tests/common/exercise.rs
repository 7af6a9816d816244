//! Drives every entry point of a loaded model with inputs of the right
//! length, for the robustness tests and the fuzz target: whatever the
//! model, each call must return `Ok` or `Err`, never panic.
//!
//! No dependencies beyond `cert_runtime` and `std`, so the fuzz crate can
//! include this file as it is.

use cert_runtime::Model;

/// Largest input (in values) worth allocating for; bigger models are only
/// loaded, not run.
pub const MAX_EXERCISED_INPUT: usize = 1 << 14;

/// eps and `max_eps` values tried: zero, ordinary, huge and the largest finite.
pub const EPS_VALUES: [f32; 4] = [0.0, 0.1, 1e30, f32::MAX];

/// Runs predict, certify and certified_radius (real and quantised) on a
/// few inputs spanning the model's domain. `seed_byte` varies the integer
/// inputs. Returns how many calls succeeded.
pub fn exercise(model: &Model<'_>, seed_byte: u8) -> usize {
    let len = model.input_len();
    if len > MAX_EXERCISED_INPUT {
        return 0;
    }
    let spec = model.header().input;
    let mut scratch = vec![0i16; model.certify_scratch_len()];
    let mut successes = 0;
    let middle = spec.domain_min / 2.0 + spec.domain_max / 2.0;
    for value in [spec.domain_min, middle, spec.domain_max] {
        let input = vec![value; len];
        successes += usize::from(model.predict(&input, &mut scratch).is_ok());
        for eps in EPS_VALUES {
            successes += usize::from(model.certify(&input, eps, &mut scratch).is_ok());
            successes += usize::from(model.certified_radius(&input, eps, &mut scratch).is_ok());
        }
    }
    let point: Vec<i8> = (0..len)
        .map(|i| (i as u8).wrapping_mul(37).wrapping_add(seed_byte) as i8)
        .collect();
    let lo: Vec<i8> = point
        .iter()
        .map(|&p| p.saturating_sub(seed_byte as i8 & 15))
        .collect();
    let hi: Vec<i8> = point.iter().map(|&p| p.saturating_add(7)).collect();
    successes += usize::from(model.predict_quantized(&point, &mut scratch).is_ok());
    successes += usize::from(
        model
            .certify_quantized(&point, &lo, &hi, &mut scratch)
            .is_ok(),
    );
    successes
}
