#!/usr/bin/env bash
# Builds the firmware for thumbv7em-none-eabihf with whichever toolchain
# this machine has, and prints the ELF's path (relative to firmware/) as
# the last line of stdout. With --run, then runs it in QEMU (run-qemu.sh)
# and exits with the device's status.
#
#   CERT_MODEL=M CERT_VECTORS=V firmware/build.sh [--run]
#
# 1. rustup's thumbv7em-none-eabihf target, when its libcore is installed;
# 2. otherwise Debian's toolchain (rustc-web cargo-web rust-web-src lld-22)
#    building core from source (-Zbuild-std), in its own target directory.
set -euo pipefail
cd "$(dirname "$0")"
target=thumbv7em-none-eabihf
# A caller's cargo (e.g. `cargo test`) must not leak its settings here.
unset CARGO_TARGET_DIR CARGO_BUILD_TARGET RUSTFLAGS CARGO_ENCODED_RUSTFLAGS

libdir=$(rustc --print target-libdir --target "$target" 2>/dev/null || true)
if [ -n "$libdir" ] && compgen -G "$libdir/libcore-*.rlib" >/dev/null; then
    cargo build --release >&2
    elf=target/$target/release/firmware
elif [ -x /usr/bin/cargo ] && [ -x /usr/bin/rustc ]; then
    echo "build.sh: no rustup $target target; building core from source with Debian's toolchain" >&2
    unset RUSTUP_TOOLCHAIN
    RUSTC_BOOTSTRAP=1 RUSTC=/usr/bin/rustc /usr/bin/cargo -Zbuild-std=core \
        build --release --target-dir target/build-std >&2
    elf=target/build-std/$target/release/firmware
else
    echo "build.sh: no toolchain for $target. Either" >&2
    echo "  rustup target add $target" >&2
    echo "or" >&2
    echo "  apt-get install -y rustc-web cargo-web rust-web-src lld-22" >&2
    exit 1
fi

if [ "${1:-}" = --run ]; then
    exec ./run-qemu.sh "$elf"
fi
echo "$elf"
