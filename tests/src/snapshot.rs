//! The size snapshot, `boards/mps2-an386/size.snapshot`: what the footprint was when
//! last accepted, one `model key value` line each. A test fails when any
//! value grows by more than [`TOLERANCE`]; after an explained growth,
//! rewrite it with `UPDATE_SNAPSHOTS=1 cargo test --release -p end-to-end`.

use std::collections::BTreeMap;

use crate::footprint::Footprint;

/// Allowed growth before the snapshot test fails: 10%.
pub const TOLERANCE: f64 = 0.10;

/// `(model, key) -> value`.
pub type Snapshot = BTreeMap<(String, String), u64>;

/// The snapshot entries of one footprint: the sizes that code changes move
/// (weights and vectors are inputs, and instructions are reported, not
/// guarded).
pub fn entries(f: &Footprint) -> Snapshot {
    [
        ("code_flash", f.code_flash),
        ("runtime_code", f.runtime_code),
        ("static_ram", f.static_ram),
        ("stack_peak", f.stack_peak),
    ]
    .into_iter()
    .map(|(k, v)| ((f.name.clone(), k.to_owned()), v))
    .collect()
}

/// Parses a snapshot file; `#` starts a comment.
pub fn parse(text: &str) -> Result<Snapshot, String> {
    let mut snapshot = Snapshot::new();
    for line in text
        .lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
    {
        if line.is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split_whitespace().collect();
        match fields[..] {
            [model, key, value] => {
                let value = value.parse().map_err(|_| format!("bad value: {line}"))?;
                snapshot.insert((model.to_owned(), key.to_owned()), value);
            }
            _ => return Err(format!("expected `model key value`: {line}")),
        }
    }
    Ok(snapshot)
}

/// Renders a snapshot file.
pub fn render(snapshot: &Snapshot) -> String {
    let mut out = String::from(
        "# Firmware footprint in bytes (thumbv7em-none-eabihf, release), checked by\n\
         # `cargo test --release -p end-to-end`: growth over 10% fails. After an\n\
         # explained change: UPDATE_SNAPSHOTS=1 cargo test --release -p end-to-end\n",
    );
    for ((model, key), value) in snapshot {
        out += &format!("{model} {key} {value}\n");
    }
    out
}

/// One message per entry of `now` that grew more than [`TOLERANCE`] over
/// `accepted`, or that `accepted` lacks.
pub fn growth(accepted: &Snapshot, now: &Snapshot) -> Vec<String> {
    now.iter()
        .filter_map(
            |((model, key), &value)| match accepted.get(&(model.clone(), key.clone())) {
                None => Some(format!("{model} {key}: {value} is not in the snapshot")),
                Some(&old) if value as f64 > old as f64 * (1.0 + TOLERANCE) => Some(format!(
                    "{model} {key}: {old} -> {value} (+{:.1}%)",
                    (value as f64 / old as f64 - 1.0) * 100.0
                )),
                Some(_) => None,
            },
        )
        .collect()
}

/// Compares `now` with the snapshot file at `path` (rewriting the file
/// first when `UPDATE_SNAPSHOTS` is set); returns the entries that grew by
/// more than the allowed margin or are new.
pub fn compare_with_file(path: &std::path::Path, now: &Snapshot) -> Result<Vec<String>, String> {
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(path, render(now)).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    let text = std::fs::read_to_string(path).unwrap_or_default();
    Ok(growth(&parse(&text)?, now))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_flags_growth() {
        let text = "# comment\ndemo code_flash 1000\ndemo static_ram 200 # why\n";
        let accepted = parse(text).unwrap();
        assert_eq!(parse(&render(&accepted)).unwrap(), accepted);
        let mut now = accepted.clone();
        assert!(growth(&accepted, &now).is_empty());
        now.insert(("demo".into(), "code_flash".into()), 1100);
        assert!(growth(&accepted, &now).is_empty());
        now.insert(("demo".into(), "code_flash".into()), 1101);
        now.insert(("other".into(), "static_ram".into()), 5);
        assert_eq!(growth(&accepted, &now).len(), 2);
        assert!(parse("demo code_flash").is_err());
    }
}
