#!/usr/bin/env bash
# Builds the certifying firmware of every board (each folder here with a
# .cargo/config.toml), or of the boards named, for thumbv7em-none-eabihf,
# and prints one `BOARD ELF` line per board on stdout (ELF relative to
# boards/). CI calls it through `cargo test --release -p end-to-end`
# (tests/tests/boards.rs), which also checks boards/size.snapshot.
#
#   CERT_MODEL=M.cert CERT_EPS=E boards/build.sh [BOARD]...
#
# 1. rustup's thumbv7em-none-eabihf target, when its libcore is installed;
# 2. otherwise Debian's toolchain (rustc-web cargo-web rust-web-src lld-22)
#    building core from source (-Zbuild-std), in its own target directory.
set -euo pipefail
# build.rs resolves a relative CERT_MODEL from the board's folder: make it
# absolute while the caller's directory is still the current one.
if [ -n "${CERT_MODEL:-}" ]; then
    CERT_MODEL=$(realpath "$CERT_MODEL")
    export CERT_MODEL
fi
cd "$(dirname "$0")"
target=thumbv7em-none-eabihf
# A caller's cargo (e.g. `cargo test`) must not leak its settings here.
unset CARGO_TARGET_DIR CARGO_BUILD_TARGET RUSTFLAGS CARGO_ENCODED_RUSTFLAGS

boards=("$@")
if [ ${#boards[@]} -eq 0 ]; then
    for config in */.cargo/config.toml; do
        boards+=("${config%%/*}")
    done
fi

libdir=$(rustc --print target-libdir --target "$target" 2>/dev/null || true)
if [ -n "$libdir" ] && compgen -G "$libdir/libcore-*.rlib" >/dev/null; then
    mode=rustup
    dir=target/$target/release
elif [ -x /usr/bin/cargo ] && [ -x /usr/bin/rustc ]; then
    echo "boards/build.sh: no rustup $target target; building core from source with Debian's toolchain" >&2
    mode=build-std
    dir=target/build-std/$target/release
else
    echo "boards/build.sh: no toolchain for $target. Either" >&2
    echo "  rustup target add $target" >&2
    echo "or" >&2
    echo "  apt-get install -y rustc-web cargo-web rust-web-src lld-22" >&2
    exit 1
fi

for board in "${boards[@]}"; do
    if [ ! -f "$board/.cargo/config.toml" ]; then
        echo "boards/build.sh: no board $board (no $board/.cargo/config.toml)" >&2
        exit 1
    fi
    # Inside the board's folder, so that cargo reads its .cargo/config.toml
    # (target, DEFMT_LOG).
    if [ "$mode" = rustup ]; then
        (cd "$board" && cargo build --release >&2)
    else
        (cd "$board" && unset RUSTUP_TOOLCHAIN &&
            RUSTC_BOOTSTRAP=1 RUSTC=/usr/bin/rustc /usr/bin/cargo -Zbuild-std=core \
                build --release --target-dir ../target/build-std >&2)
    fi
    echo "$board $dir/$board"
done
