//! The QEMU board's footprint for every model pair against
//! `boards/mps2-an386/size.snapshot`: growth over 10% fails until the
//! snapshot is rewritten (`UPDATE_SNAPSHOTS=1 cargo test --release -p
//! end-to-end`).

use end_to_end::footprint::{Footprint, table};
use end_to_end::snapshot::{self, Snapshot, entries};
use end_to_end::{boards_dir, model_pairs};

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
    let path = boards_dir().join("mps2-an386/size.snapshot");
    let grown = snapshot::compare_with_file(&path, &now).unwrap();
    assert!(
        grown.is_empty(),
        "footprint grew (explain it, then UPDATE_SNAPSHOTS=1 cargo test --release -p end-to-end):\n{}",
        grown.join("\n")
    );
}
