//! The firmware's footprint for every model pair against
//! `firmware/size.snapshot`: growth over 10% fails until the snapshot is
//! rewritten (`UPDATE_SNAPSHOTS=1 cargo test --release -p end-to-end`).

use end_to_end::footprint::{Footprint, table};
use end_to_end::snapshot::{self, Snapshot, entries, growth};
use end_to_end::{firmware_dir, model_pairs};

#[test]
fn footprint_within_snapshot() {
    let mut rows = Vec::new();
    let mut now = Snapshot::new();
    for (model, vectors) in model_pairs().unwrap() {
        let (footprint, _) = Footprint::measure(&model, &vectors).unwrap();
        now.extend(entries(&footprint));
        rows.push(footprint);
    }
    println!("{}", table(&rows));
    let path = firmware_dir().join("size.snapshot");
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, snapshot::render(&now)).unwrap();
    }
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let accepted = snapshot::parse(&text).unwrap();
    let grown = growth(&accepted, &now);
    assert!(
        grown.is_empty(),
        "footprint grew (explain it, then UPDATE_SNAPSHOTS=1 cargo test --release -p end-to-end):\n{}",
        grown.join("\n")
    );
}
