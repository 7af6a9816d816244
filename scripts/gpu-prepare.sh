#!/usr/bin/env bash
# Prepares the GPU measurements of issue 20 on this (CPU) machine: builds
# the three CUDA variants of certnn, strips and compresses them, and copies
# the PyTorch peer benchmark, all into .gpu/ (git-ignored), which the device
# run carries. Then, on the device machine (carry [".gpu"]):
#
#   bash scripts/gpu-measure.sh
#
# Variants (host-trainer features): `cuda` (burn-cuda as before: no
# autotune, no fusion), `cuda-autotune` (burn's autotune with its persistent
# cache), `cuda-fusion` (autotune and burn's kernel fusion). Each builds in
# its own target dir: 12, 14 and 16 minutes on 2 cores from scratch
# (measured 2026-12-05; 41 MB in .gpu/ in all, under the 64 MiB a device
# run carries). SHARED defaults to ../shared.
set -euo pipefail
cd "$(dirname "$0")/.."
shared=${SHARED:-../shared}
mkdir -p .gpu
for variant in cuda cuda-autotune cuda-fusion; do
    echo "== building certnn with --features $variant"
    cargo build --release --locked -p host-trainer --features "$variant" --target-dir "target/$variant"
    strip -o ".gpu/certnn-$variant" "target/$variant/release/certnn"
    xz -T2 -f ".gpu/certnn-$variant"
done
rm -rf .gpu/bench && cp -r "$shared/bench" .gpu/bench
cp scripts/gpu-measure.sh .gpu/
ls -la .gpu
