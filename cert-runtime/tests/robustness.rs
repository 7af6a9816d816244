//! Robustness of loading and running: arbitrary bytes and damaged model
//! files are loaded or refused, and run when loaded, without panicking.
//! (Debug builds, with overflow checks, make this stricter:
//! `cargo test -p cert-runtime --features std --test robustness`.)

mod common;

use cert_runtime::Model;
use cert_runtime::format;
use common::exercise::{EPS_VALUES, exercise};
use common::golden::GOLDEN;
use common::{encode, payload, proptest_config, random_model, seal};
use proptest::prelude::*;

/// One way of damaging a valid model file.
#[derive(Debug, Clone)]
enum Mutation {
    /// XOR one byte (anywhere, container included) with a non-zero mask.
    Flip { at: usize, mask: u8 },
    /// Keep only the first `len` bytes.
    Truncate { len: usize },
    /// Append bytes.
    Extend { tail: Vec<u8> },
    /// Overwrite a payload byte and recompute the CRC.
    Overwrite { at: usize, value: u8 },
    /// Insert bytes into the payload and recompute the CRC.
    Insert { at: usize, bytes: Vec<u8> },
    /// Remove payload bytes and recompute the CRC.
    Remove { at: usize, len: usize },
}

impl Mutation {
    /// Applies the mutation; positions wrap around the relevant length. A
    /// payload mutation of a file too short to have a payload seals an
    /// empty one.
    fn apply(&self, file: &[u8]) -> Vec<u8> {
        let mut body = payload(file).to_vec();
        let wrap = |at: usize, len: usize| at % len.max(1);
        match self {
            Mutation::Flip { at, mask } => {
                let mut out = file.to_vec();
                let at = wrap(*at, file.len());
                if let Some(byte) = out.get_mut(at) {
                    *byte ^= mask.max(&1);
                }
                return out;
            }
            Mutation::Truncate { len } => return file[..wrap(*len, file.len())].to_vec(),
            Mutation::Extend { tail } => return [file, tail].concat(),
            Mutation::Overwrite { at, value } => {
                let at = wrap(*at, body.len());
                if let Some(byte) = body.get_mut(at) {
                    *byte = *value;
                }
            }
            Mutation::Insert { at, bytes } => {
                let at = wrap(*at, body.len() + 1);
                body.splice(at..at, bytes.iter().copied());
            }
            Mutation::Remove { at, len } => {
                let at = wrap(*at, body.len());
                body.drain(at..(at + len).min(body.len()));
            }
        }
        seal(&body)
    }
}

fn arb_mutation() -> impl Strategy<Value = Mutation> {
    let bytes = || prop::collection::vec(any::<u8>(), 1..8);
    prop_oneof![
        1 => (any::<usize>(), any::<u8>()).prop_map(|(at, mask)| Mutation::Flip { at, mask }),
        1 => any::<usize>().prop_map(|len| Mutation::Truncate { len }),
        1 => bytes().prop_map(|tail| Mutation::Extend { tail }),
        4 => (any::<usize>(), any::<u8>()).prop_map(|(at, value)| Mutation::Overwrite { at, value }),
        1 => (any::<usize>(), bytes()).prop_map(|(at, bytes)| Mutation::Insert { at, bytes }),
        1 => (any::<usize>(), 1..4usize).prop_map(|(at, len)| Mutation::Remove { at, len }),
    ]
}

/// Loads `file` and, when it loads, runs every entry point on it.
fn load_and_exercise(file: &[u8], seed_byte: u8) {
    if let Ok(model) = Model::from_bytes(file) {
        exercise(&model, seed_byte);
    }
}

proptest! {
    #![proptest_config(proptest_config(512))]

    /// Arbitrary bytes, bare or sealed in a correct container, never panic.
    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        load_and_exercise(&bytes, 0);
        load_and_exercise(&seal(&bytes), 1);
    }

    /// Valid files (the golden one and random ones), damaged one to three
    /// times, are loaded or refused, and run when loaded, without panicking.
    #[test]
    fn mutated_files_never_panic(
        model_seed: u64,
        use_golden: bool,
        mutations in prop::collection::vec(arb_mutation(), 1..=3),
    ) {
        let mut file = if use_golden { GOLDEN.to_vec() } else { encode(&random_model(model_seed)) };
        for mutation in &mutations {
            file = mutation.apply(&file);
        }
        load_and_exercise(&file, model_seed as u8);
    }

    /// Every random model survives a round trip through its encoding, and
    /// running it succeeds on every in-domain input.
    #[test]
    fn random_models_round_trip_and_run(model_seed: u64) {
        let file = encode(&random_model(model_seed));
        let model = Model::from_bytes(&file).unwrap();
        let mut again = vec![0u8; file.len()];
        prop_assert_eq!(format::encode_into(model.desc(), &mut again), Ok(file.len()));
        prop_assert_eq!(&again, &file);
        // Three domain points x (predict, certify and radius per eps,
        // certify at the model's budget, refine), and predict_quantized; the
        // box given to certify_quantized may not contain its point.
        let always_ok = 3 * (1 + 2 * EPS_VALUES.len() + 2) + 1;
        prop_assert!(exercise(&model, model_seed as u8) >= always_ok);
    }
}

/// The fuzz target's seed inputs (`fuzz/seeds`) are valid files of today's
/// format in the target's input form: mode byte 0 and a model file, or mode
/// byte 1 and a payload to seal. `UPDATE_SNAPSHOTS=1` rewrites them.
#[test]
fn fuzz_seeds_are_current() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds");
    let mut seeds = vec![
        ("golden-file".to_string(), [&[0u8][..], GOLDEN].concat()),
        (
            "golden-payload".to_string(),
            [&[1u8][..], payload(GOLDEN)].concat(),
        ),
    ];
    for seed in 0..8u64 {
        let file = encode(&random_model(seed));
        if seed < 2 {
            seeds.push((format!("random-{seed}-file"), [&[0u8][..], &file].concat()));
        }
        seeds.push((
            format!("random-{seed}-payload"),
            [&[1u8][..], payload(&file)].concat(),
        ));
    }
    for (name, bytes) in seeds {
        let path = dir.join(name);
        if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
            std::fs::write(&path, &bytes).unwrap();
        }
        assert!(
            std::fs::read(&path).is_ok_and(|b| b == bytes),
            "{} is stale: UPDATE_SNAPSHOTS=1 cargo test --release -p cert-runtime --test robustness",
            path.display()
        );
    }
}
