//! The host and the device must run the same runtime code for "bit-identical"
//! to hold, so the three lock files (the workspace's, the boards', the fuzz
//! target's) must agree on the version of every crate cert-runtime is built
//! from (postcard, heapless, serde, crc, micromath, ...). This asks cargo for
//! cert-runtime's normal dependencies in each workspace, as locked, and fails
//! naming the crate and the versions when one drifts.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

/// cert-runtime's normal dependency tree in the workspace at `dir` (for
/// `target`, if given), as name -> versions, read from the lock file without
/// changing it.
fn runtime_tree(dir: &Path, target: Option<&str>) -> BTreeMap<String, BTreeSet<String>> {
    let mut cargo = Command::new(env!("CARGO"));
    cargo.current_dir(dir).args([
        "tree",
        "-p",
        "cert-runtime",
        "-e",
        "normal",
        "--prefix",
        "none",
        "-f",
        "{p}",
        "--locked",
        "--offline",
    ]);
    if let Some(target) = target {
        cargo.args(["--target", target]);
    }
    // A caller's cargo (this test's) must not leak its target settings.
    cargo.env_remove("CARGO_BUILD_TARGET");
    let out = cargo.output().expect("cargo runs");
    assert!(
        out.status.success(),
        "cargo tree in {}: {}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let mut tree: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for line in String::from_utf8(out.stdout).unwrap().lines() {
        let mut words = line.split_whitespace();
        if let (Some(name), Some(version)) = (words.next(), words.next()) {
            tree.entry(name.to_string())
                .or_default()
                .insert(version.to_string());
        }
    }
    tree
}

#[test]
fn lock_files_agree_on_the_runtime_dependencies() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let host = runtime_tree(&root, None);
    assert!(
        host.contains_key("postcard") && host.contains_key("heapless"),
        "cert-runtime's tree lost its dependencies: {host:?}"
    );
    let mut disagreements = Vec::new();
    for (dir, target) in [
        ("boards", Some("thumbv7em-none-eabihf")),
        ("cert-runtime/fuzz", None),
    ] {
        let other = runtime_tree(&root.join(dir), target);
        for (name, ours) in &host {
            if let Some(theirs) = other.get(name)
                && theirs != ours
            {
                disagreements.push(format!("{name}: {ours:?} on the host, {theirs:?} in {dir}"));
            }
        }
        for name in ["postcard", "heapless"] {
            assert!(
                other.contains_key(name),
                "{dir}: cert-runtime without {name}"
            );
        }
    }
    assert!(
        disagreements.is_empty(),
        "the lock files disagree on crates the host and the device share \
         (run `cargo update -p NAME --precise VERSION` in the folder that drifted):\n{}",
        disagreements.join("\n")
    );
}
