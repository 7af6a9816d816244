#!/usr/bin/env bash
# Builds the certifying firmware of every board (each folder here with a
# .cargo/config.toml), or of the boards named, for thumbv7em-none-eabihf,
# and prints one `BOARD[:PROGRAM] ELF` line per program on stdout (ELF
# relative to boards/). With --run (one board), runs its main program in
# QEMU (run-qemu.sh) and exits with the device's status.
#
#   CERT_MODEL=M.cert [CERT_VECTORS=V.cvec] [CERT_FEATURES="conv refine"] boards/build.sh [--run] [BOARD]...
#
# CERT_FEATURES, when set (even empty), picks the runtime's parts the
# firmware carries (default: all); programs that need a part left out are
# not built and not listed.
#
# 1. rustup's thumbv7em-none-eabihf target, when its libcore is installed;
# 2. otherwise Debian's toolchain (rustc-web cargo-web rust-web-src lld-22)
#    building core from source (-Zbuild-std), in its own target directory.
set -euo pipefail
# build.rs resolves a relative path from the board's folder: make the
# caller's paths absolute while its directory is still the current one.
for var in CERT_MODEL CERT_VECTORS; do
    if [ -n "${!var:-}" ]; then
        export "$var=$(realpath "${!var}")"
    fi
done
cd "$(dirname "$0")"
target=thumbv7em-none-eabihf
# A caller's cargo (e.g. `cargo test`) must not leak its settings here.
unset CARGO_TARGET_DIR CARGO_BUILD_TARGET RUSTFLAGS CARGO_ENCODED_RUSTFLAGS

run=false
if [ "${1:-}" = --run ]; then
    run=true
    shift
fi
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

features=()
if [ -n "${CERT_FEATURES+set}" ]; then
    features=(--no-default-features --features "${CERT_FEATURES}")
fi
built=$(mktemp)
trap 'rm -f "$built"' EXIT
for board in "${boards[@]}"; do
    if [ ! -f "$board/.cargo/config.toml" ]; then
        echo "boards/build.sh: no board $board (no $board/.cargo/config.toml)" >&2
        exit 1
    fi
    # Inside the board's folder, so that cargo reads its .cargo/config.toml
    # (target, DEFMT_LOG).
    if [ "$mode" = rustup ]; then
        (cd "$board" && cargo build --release "${features[@]}" \
            --message-format=json-render-diagnostics >"$built")
    else
        (cd "$board" && unset RUSTUP_TOOLCHAIN &&
            RUSTC_BOOTSTRAP=1 RUSTC=/usr/bin/rustc /usr/bin/cargo -Zbuild-std=core \
                build --release "${features[@]}" --target-dir ../target/build-std \
                --message-format=json-render-diagnostics >"$built")
    fi
    # Every program cargo built (or found fresh), as BOARD[:PROGRAM] PATH.
    grep -o '"executable":"[^"]*"' "$built" | sed 's/"executable":"//; s/"$//' |
        while read -r elf; do
            name=$(basename "$elf")
            if [ "$name" = "$board" ]; then
                echo "$board ${elf#"$PWD"/}"
            else
                echo "$board:$name ${elf#"$PWD"/}"
            fi
        done
done

if [ "$run" = true ]; then
    # QEMU emulates the MPS2 AN386 only; other boards run on their hardware.
    if [ "${boards[0]}" != mps2-an386 ]; then
        echo "boards/build.sh: --run runs mps2-an386 in QEMU; flash ${boards[0]} with its own runner (see boards/README.md)" >&2
        exit 2
    fi
    exec ./run-qemu.sh "$dir/${boards[0]}"
fi
