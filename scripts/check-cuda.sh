#!/usr/bin/env bash
# Checks that host-trainer's `cuda` feature builds without the network: its
# dependency graph takes cubecl-llvm from the stand-in in patches/ and holds
# nothing that downloads LLVM, and `cargo check --features cuda` passes,
# also with autotune and fusion (`cuda-fusion`).
# An upgrade of burn or cubecl that brings the download back fails here,
# loudly, instead of in a user's offline build. No GPU needed.
set -euo pipefail
cd "$(dirname "$0")/.."
tree=$(cargo tree -p host-trainer --features cuda -e normal,build --prefix none --locked)
if ! grep -q "^cubecl-llvm v.*(.*patches/cubecl-llvm-stand-in)" <<<"$tree"; then
    echo "check-cuda: cubecl-llvm no longer comes from patches/cubecl-llvm-stand-in:" >&2
    grep "^cubecl" <<<"$tree" | sort -u >&2 || true
    echo "(did cubecl change version? the stand-in pins the version it replaces)" >&2
    exit 1
fi
for crate in llvm-sys tracel-llvm-bundler pliron-llvm; do
    if grep -q "^$crate " <<<"$tree"; then
        echo "check-cuda: $crate is back in the cuda build graph; it downloads LLVM" >&2
        exit 1
    fi
done
cargo check --release -p host-trainer --features cuda --locked
# The variants the GPU measurements compare (autotune, fusion) build too.
cargo check --release -p host-trainer --features cuda-fusion --locked
