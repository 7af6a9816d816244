//! Every board firmware in `boards/` builds for its target
//! (`boards/build.sh`), and its footprint stays within
//! `boards/size.snapshot`: growth over 10% fails until the snapshot is
//! rewritten (`UPDATE_SNAPSHOTS=1 cargo test --release -p end-to-end`).
//! Real boards cannot run here; their certifying code is `cert-app`, tested
//! on the host by `cargo test` in `boards/` and on the Cortex-M4F by the
//! QEMU board, over the same `cert-runtime`.

use std::process::{Command, Stdio};

use end_to_end::elf;
use end_to_end::footprint::feature_sizes;
use end_to_end::origin::{Origin, code_by_origin};
use end_to_end::snapshot::{self, Snapshot};
use end_to_end::workspace_root;

#[test]
fn boards_build_within_snapshot() {
    let boards = workspace_root().join("boards");
    // Built with the demo model, whatever models/ holds, so that the
    // sizes compare across checkouts; its bytes are not code, and neither
    // are the demo vectors of a board that embeds them.
    let model = workspace_root().join("boards/demo/demo.cert");
    let weights = std::fs::metadata(&model).unwrap().len();
    let vectors = std::fs::read(workspace_root().join("boards/demo/demo.cvec")).unwrap();
    let output = Command::new("bash")
        .arg(boards.join("build.sh"))
        .env("CERT_MODEL", &model)
        .env(
            "CERT_VECTORS",
            workspace_root().join("boards/demo/demo.cvec"),
        )
        .stderr(Stdio::inherit())
        .output()
        .unwrap();
    assert!(output.status.success(), "boards/build.sh failed");
    let stdout = String::from_utf8(output.stdout).unwrap();
    let mut now = Snapshot::new();
    for line in stdout.lines() {
        let (board, path) = line.split_once(' ').expect("`BOARD ELF` lines");
        if board.contains(':') {
            continue; // a board's extra program, not what it flashes
        }
        let image = std::fs::read(boards.join(path)).unwrap();
        let probe = &vectors[..64];
        let embedded = image.windows(probe.len()).any(|w| w == probe);
        let data = weights + if embedded { vectors.len() as u64 } else { 0 };
        let sections = elf::sections(&image).unwrap();
        let code = code_by_origin(&image).unwrap();
        let of = |origin| code.get(&origin).copied().unwrap_or(0);
        println!(
            "{board}: flash {} B (model and vectors {data} B), static RAM {} B, .text by origin {code:?}",
            sections.flash, sections.static_ram
        );
        for (key, value) in [
            ("code_flash", sections.flash - data),
            (
                "runtime_code",
                of(Origin::Runtime) + of(Origin::RuntimeDeps),
            ),
            ("static_ram", sections.static_ram),
        ] {
            now.insert((board.to_owned(), key.to_owned()), value);
        }
    }
    assert!(!now.is_empty(), "boards/build.sh built no board");
    // The shipped application with each set of the runtime's parts.
    let demo_vectors = workspace_root().join("boards/demo/demo.cvec");
    for size in feature_sizes(&model, &demo_vectors).unwrap() {
        let board = format!("serve[{}]", size.features.replace(' ', "+"));
        println!(
            "{board}: runtime code {} B, code flash {} B",
            size.runtime_code, size.code_flash
        );
        now.insert((board.clone(), "runtime_code".into()), size.runtime_code);
        now.insert((board, "code_flash".into()), size.code_flash);
    }
    let path = boards.join("size.snapshot");
    let grown = snapshot::compare_with_file(&path, &now).unwrap();
    assert!(
        grown.is_empty(),
        "board footprint grew (explain it, then UPDATE_SNAPSHOTS=1 cargo test --release -p end-to-end):\n{}",
        grown.join("\n")
    );
}
