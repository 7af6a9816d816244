#!/usr/bin/env bash
# Installs what the demo and the tests need; idempotent, quiet when all is there.
# Needs cargo (rustup, Rust >= 1.95) and, for missing packages, root or sudo.
set -euo pipefail

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if ! command -v cargo >/dev/null; then
    echo "setup: cargo not found; install Rust >= 1.95 with rustup (https://rustup.rs)" >&2
    exit 1
fi

packages=()
command -v qemu-system-arm >/dev/null || packages+=(qemu-system-arm)
command -v timeout >/dev/null || packages+=(coreutils)
command -v c++ >/dev/null || packages+=(g++)  # mimalloc, libfuzzer-sys
target=thumbv7em-none-eabihf
libdir=$(rustc --print target-libdir --target "$target" 2>/dev/null || true)
if ! { [ -n "$libdir" ] && compgen -G "$libdir/libcore-*.rlib" >/dev/null; }; then
    # Prefer rustup's prebuilt core; fall back to Debian's build-std toolchain.
    if ! rustup target add "$target" >&2; then
        packages+=(rustc-web cargo-web rust-web-src lld-22)
    fi
fi
if [ ${#packages[@]} -gt 0 ]; then
    echo "setup: installing ${packages[*]}" >&2
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}" >&2
fi
for component in rustfmt clippy; do
    if ! cargo "${component/rustfmt/fmt}" --version >/dev/null 2>&1; then
        rustup component add "$component" >&2
    fi
done
if ! command -v defmt-print >/dev/null; then
    echo "setup: installing defmt-print (about 2 minutes)" >&2
    cargo install defmt-print --locked --quiet
fi
# Every lock file's crates (the workspace's, the boards', the fuzz
# target's): the lock-file test reads all three offline, before anything
# builds the fuzz target.
root=$(cd "$(dirname "$0")/.." && pwd)
for dir in "$root" "$root/boards" "$root/cert-runtime/fuzz"; do
    (cd "$dir" && cargo fetch --locked --quiet)
done
