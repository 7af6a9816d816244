#!/usr/bin/env bash
# The main job on the shipped defaults: train a small certified MNIST model
# on the vendored digits, evaluate it, export it to int8, certify the test
# set on the host, then certify test images on an emulated Cortex-M4F
# (QEMU mps2-an386) and check the device's certificates against the host's.
#
#   scripts/demo.sh [RUN_DIR]        (default runs/demo; about a minute on 2 cores once built)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export PATH="$HOME/.cargo/bin:$PATH"
run=${1:-runs/demo}
eps=0.1
cargo build --release -p host-trainer
certnn=target/release/certnn
if [ -f "$run/checkpoint.json" ]; then
    $certnn train --out "$run" --resume
else
    $certnn train --arch mlp:256,256 --eps-train 0.2 --eps $eps --epochs 30 \
        --batch-size 64 --ramp-length 15 --out "$run"
fi
$certnn eval --run "$run"
$certnn export --run "$run" --out "$run/model.cert"
$certnn certify --model "$run/model.cert"   # at the budget the model file carries (eps $eps)
$certnn vectors --model "$run/model.cert" --count 20 --out "$run/vectors.cvec"
echo "== certifying the same images on the emulated Cortex-M4F (QEMU mps2-an386)"
CERT_MODEL="$run/model.cert" CERT_VECTORS="$run/vectors.cvec" boards/build.sh --run mps2-an386
