//! Drives every entry point of a loaded model with inputs of the right
//! length, for the robustness tests and the fuzz target: whatever the
//! model, each call must return `Ok` or `Err`, never panic.
//!
//! No dependencies beyond `cert_runtime` and `std`, so the fuzz crate can
//! include this file as it is.

use cert_runtime::{Budget, Model, REFINE_DEPTH, Trail};

/// Largest input (in values) worth allocating for; bigger models are only
/// loaded, not run.
pub const MAX_EXERCISED_INPUT: usize = 1 << 14;

/// eps and radius limits tried: zero, ordinary, huge and the largest finite.
pub const EPS_VALUES: [f32; 4] = [0.0, 0.1, 1e30, f32::MAX];

/// Boxes refinement may use here: enough to split, small enough to be quick.
const REFINE_BOXES: u32 = 8;

/// Runs predict, certify (at uniform budgets and the model's own),
/// certified_radius and refine on inputs at the bottom, middle and top of
/// every channel's domain, and the quantised entry points on one integer
/// box. `seed_byte` varies the integer inputs. Returns how many calls
/// succeeded.
pub fn exercise(model: &Model<'_>, seed_byte: u8) -> usize {
    let len = model.input_len();
    if len > MAX_EXERCISED_INPUT {
        return 0;
    }
    let mut scratch = vec![0i16; model.refine_scratch_len()];
    let mut counterexample = vec![0f32; len];
    let mut trail = Trail::<REFINE_DEPTH>::new();
    let mut successes = 0;
    let channel_len = len / model.input_channels();
    for place in [0.0f32, 0.5, 1.0] {
        let input: Vec<f32> = (0..len)
            .map(|i| {
                let q = model
                    .quantizer(i / channel_len)
                    .expect("a loaded model's channel");
                let value = q.domain_min / 2.0 + q.domain_max / 2.0;
                match place {
                    0.0 => q.domain_min,
                    1.0 => q.domain_max,
                    _ => value.clamp(q.domain_min, q.domain_max),
                }
            })
            .collect();
        successes += usize::from(model.predict(&input, &mut scratch).is_ok());
        for eps in EPS_VALUES {
            let uniform = Budget::uniform(eps);
            successes += usize::from(model.certify(&input, uniform, &mut scratch).is_ok());
            let radius = model.certified_radius(&input, Budget::uniform(1.0), eps, &mut scratch);
            successes += usize::from(radius.is_ok());
        }
        successes += usize::from(model.certify(&input, model.budget(), &mut scratch).is_ok());
        let refined = model.refine(
            &input,
            model.budget(),
            REFINE_BOXES,
            &mut scratch,
            &mut trail,
            &mut counterexample,
        );
        successes += usize::from(refined.is_ok());
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
