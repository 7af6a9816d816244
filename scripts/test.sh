#!/usr/bin/env bash
# The whole test suite, and what CI checks: formatting, lints and docs with
# warnings denied; unit, property and training tests of every crate; the
# Cortex-M builds of every board and the QEMU runs compared bit for bit
# with the host (golden logs, size snapshots, the DSP kernel differential);
# the benches, the fuzz target and the CUDA feature compiled.
#
#   scripts/test.sh            (about 11 minutes on 2 cores from a clean checkout)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export PATH="$HOME/.cargo/bin:$PATH"
step() { echo "== $*"; }

step "cargo fmt --check (workspace, boards, fuzz target, stand-ins)"
cargo fmt --all --check
(cd boards && cargo fmt --all --check)
(cd cert-runtime/fuzz && cargo fmt --check)
for patch in patches/*/; do (cd "$patch" && cargo fmt --check); done

step "board builds (thumbv7em-none-eabihf, every board and program)"
boards/build.sh >/dev/null

step "cargo clippy -D warnings (workspace with every target, the dense-only runtime, boards)"
cargo clippy --release --workspace --all-targets --locked -- -D warnings
# The runtime's smallest build too (dense models only: no conv, refine, linear).
cargo clippy --release -p cert-runtime --no-default-features --all-targets --locked -- -D warnings
(cd boards && cargo clippy --release --locked -p cert-app -p cert-build --all-targets -- -D warnings)
for board in boards/*/.cargo/config.toml; do
    (cd "${board%/.cargo/config.toml}" && cargo clippy --release --locked --all-targets -- -D warnings)
done

step "cargo doc with warnings denied"
RUSTDOCFLAGS="-D warnings" cargo doc --release --workspace --no-deps --locked

step "cargo test --release --workspace (runtime, kernels, trainer, QEMU end-to-end, lock files)"
cargo test --release --workspace --no-fail-fast --locked

step "board glue on the host (frames, replies, served model vs the runtime)"
(cd boards && cargo test --release --locked)

step "send-frame.py: its framing against the Rust golden frame and the shipped vectors"
if command -v python3 >/dev/null; then
    python3 boards/send-frame.py --self-test
else
    echo "python3 not installed: skipped"
fi

step "benches and the fuzz target compile"
cargo bench --workspace --no-run --locked
(cd cert-runtime/fuzz && cargo check --locked)

step "the CUDA feature builds offline with the cubecl-llvm stand-in"
scripts/check-cuda.sh
