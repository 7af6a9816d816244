#!/usr/bin/env bash
# Issue 20's GPU measurements in one device run (prepared by
# scripts/gpu-prepare.sh; run from the project root with .gpu/ carried):
#
#   bash scripts/gpu-measure.sh      (writes everything under $OUT)
#
# 1. The PyTorch peer step (../shared/bench/torch_ibp_bench.py), once.
# 2. `certnn bench --device cuda` for each build variant (no autotune;
#    autotune at level minimal with its persistent cache, run twice to show
#    first use and reuse; autotune + fusion), each under a time limit, with
#    cubecl's autotune and compilation log on stderr.
# 3. A comparison table per variant, as gpu-compare.sh prints it.
# 4. The 30-epoch cnn-small run (eps 0.4 -> 0.3) with the fastest variant,
#    then cnn7's with whatever time is left.
# Everything a step prints goes to $OUT/NAME.log as it runs, so a step cut
# short by its limit still leaves its part. One device command may run 10
# minutes: the fixed limits add up to 510 s, and cnn7 gets the rest of 570.
set -u
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/gpu-measure}
mkdir -p "$OUT"
gpu=.gpu
archs=(--arch mlp:256,256 --arch cnn-small --arch cnn7)
batches=(--batch-size 128 --batch-size 512)
if command -v nvcc >/dev/null; then
    export CUDA_PATH=${CUDA_PATH:-$(dirname "$(dirname "$(readlink -f "$(command -v nvcc)")")")}
fi
export CUDA_PATH=${CUDA_PATH:-/usr/local/cuda-13.0}
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$OUT/gpu.txt"
for variant in cuda cuda-autotune cuda-fusion; do
    xz -dc "$gpu/certnn-$variant.xz" > "/tmp/certnn-$variant" && chmod +x "/tmp/certnn-$variant"
done

run() { # NAME LIMIT COMMAND...: runs with a time limit, logs, records wall time and status
    local name=$1 limit=$2; shift 2
    local start=$(date +%s%N)
    timeout "$limit" "$@" > "$OUT/$name.out" 2> "$OUT/$name.log"
    local rc=$?
    local end=$(date +%s%N)
    echo "$name rc=$rc wall=$(( (end - start) / 1000000 )) ms" | tee -a "$OUT/steps.txt"
}

began=$(date +%s)
run torch 90 python3 "$gpu/bench/torch_ibp_bench.py" --device cuda "${archs[@]}" "${batches[@]}" --steps 20
export CUBECL_DEBUG_LOG=stderr
run bench-plain 75 "/tmp/certnn-cuda" bench --device cuda "${archs[@]}" "${batches[@]}" --steps 20 --json
export CUBECL_AUTOTUNE_LEVEL=minimal CUBECL_AUTOTUNE_CACHE=on
# The persistent cache of tuning results lives beside the binary's working
# directory; the second run shows what a tuned machine pays.
run bench-autotune-minimal-first 90 "/tmp/certnn-cuda-autotune" bench --device cuda "${archs[@]}" "${batches[@]}" --steps 20 --json
run bench-autotune-minimal-again 45 "/tmp/certnn-cuda-autotune" bench --device cuda "${archs[@]}" "${batches[@]}" --steps 20 --json
run bench-fusion 90 "/tmp/certnn-cuda-fusion" bench --device cuda "${archs[@]}" "${batches[@]}" --steps 20 --json
unset CUBECL_DEBUG_LOG

python3 - "$OUT" <<'PY' | tee "$OUT/compare.md"
import glob, json, os, sys
out = sys.argv[1]
torch = {}
for line in open(f"{out}/torch.out"):
    try:
        r = json.loads(line)
        torch[(r["arch"], r["batch_size"])] = r
    except ValueError:
        pass
best = {}
for path in sorted(glob.glob(f"{out}/bench-*.out")):
    name = os.path.basename(path)[:-4]
    try:
        rows = json.load(open(path))
    except ValueError:
        print(f"\n{name}: no complete output (see {name}.log)")
        continue
    print(f"\n{name}\n\n| arch | batch | clean: certnn / PyTorch | IBP centres: certnn / PyTorch | IBP batch: certnn / PyTorch |\n|---|---|---|---|---|")
    for r in rows:
        k = (r["arch"], r["batch_size"])
        t = torch.get(k)
        cells = [f"{r[f]:.0f} / {t[f]:.0f} = {r[f] / t[f]:.2f}x" if t else f"{r[f]:.0f} / -" for f in
                 ("clean_samples_per_s", "ibp_centres_samples_per_s", "ibp_samples_per_s")]
        print(f"| {k[0]} | {k[1]} | " + " | ".join(cells) + " |")
        if k == ("cnn-small", 128):
            best[name] = r["ibp_centres_samples_per_s"]
winner = max(best, key=best.get) if best else "bench-plain"
open(f"{out}/winner.txt", "w").write(winner)
print(f"\nfastest on cnn-small IBP: {winner}")
PY

winner=$(cat "$OUT/winner.txt" 2>/dev/null || echo bench-plain)
case $winner in
    bench-plain) bin=/tmp/certnn-cuda ;;
    bench-fusion) bin=/tmp/certnn-cuda-fusion ;;
    *) bin=/tmp/certnn-cuda-autotune; export CUBECL_AUTOTUNE_LEVEL=${winner#bench-autotune-}; CUBECL_AUTOTUNE_LEVEL=${CUBECL_AUTOTUNE_LEVEL%-*} ;;
esac
run train-cnn-small 120 "$bin" train --device cuda --arch cnn-small --eps-train 0.4 --eps 0.3 --epochs 30 \
    --val-pgd-steps 0 --out "$OUT/run-cnn-small"
cp "$OUT/run-cnn-small/metrics.jsonl" "$OUT/cnn-small-metrics.jsonl" 2>/dev/null
left=$(( 570 - ($(date +%s) - began) ))
if [ "$left" -gt 30 ]; then
    run train-cnn7 "$left" "$bin" train --device cuda --arch cnn7 --eps-train 0.4 --eps 0.3 --epochs 30 \
        --val-pgd-steps 0 --out "$OUT/run-cnn7"
    cp "$OUT/run-cnn7/metrics.jsonl" "$OUT/cnn7-metrics.jsonl" 2>/dev/null
fi
cat "$OUT/steps.txt"
