#!/usr/bin/env bash
# The whole test suite: unit, property and training tests of every crate,
# the Cortex-M build of the runtime, and the firmware in QEMU compared bit
# for bit with the host.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export PATH="$HOME/.cargo/bin:$PATH"
echo "== no_std build of cert-runtime for thumbv7em-none-eabihf"
firmware/build.sh >/dev/null
echo "== cargo test --release --workspace (runtime, trainer, QEMU end-to-end, board builds)"
cargo test --release --workspace --no-fail-fast
echo "== board glue on the host (frames, replies, served model vs the runtime)"
(cd boards && cargo test --release)
