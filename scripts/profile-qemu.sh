#!/usr/bin/env bash
# Where a firmware's instructions go, function by function: runs ELF in
# QEMU's mps2-an386 one instruction per translation block and counts how
# often each instruction of the functions matching REGEX (demangled names,
# grep -E) executes. QEMU counts instructions, not cycles.
#
#   scripts/profile-qemu.sh ELF REGEX            per function: total, calls, per call
#   scripts/profile-qemu.sh ELF REGEX --annotate the same, then their
#                                                disassembly with a count per line
#
# Example (the self-check of cnn-small, which predicts and certifies its
# 20 vectors; about 3 minutes):
#
#   cargo run --release -p end-to-end --bin footprint >/dev/null
#   scripts/profile-qemu.sh "$(ls -t boards/target/e2e/cnn-small-eps0.1-mps2-an386-all-*.elf | head -1)" \
#       'pair_rows|gather_pair|requantize_pairs'
#
# Needs llvm-nm and llvm-objdump (`rustup component add llvm-tools`).
set -euo pipefail
elf=${1:?usage: profile-qemu.sh ELF REGEX [--annotate]}
pattern=${2:?usage: profile-qemu.sh ELF REGEX [--annotate]}
tools=$(rustc --print sysroot)/lib/rustlib/x86_64-unknown-linux-gnu/bin
if [ ! -x "$tools/llvm-nm" ]; then
    rustup component add llvm-tools >&2
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# address size name, for every matching function
"$tools/llvm-nm" -S -C "$elf" | awk -v re="$pattern" '$3 ~ /^[tT]$/ && $0 ~ re {
    name = $4; for (i = 5; i <= NF; i++) name = name " " $i
    print $1, $2, name }' > "$work/functions"
if [ ! -s "$work/functions" ]; then
    echo "profile-qemu.sh: no function of $elf matches '$pattern'" >&2
    exit 1
fi
ranges=$(awk '{printf "%s0x%s+0x%s", (NR > 1 ? "," : ""), $1, $2}' "$work/functions")
mkfifo "$work/trace"
# Each executed instruction logs "Trace ...: [cpu/pc/flags/...]"; count by pc.
awk -F'[/[]' '{count[$3]++} END {for (pc in count) if (pc != "") print count[pc], pc}' \
    "$work/trace" > "$work/counts" &
timeout 1800 qemu-system-arm -machine mps2-an386 -cpu cortex-m4 -nographic \
    -monitor none -serial none -semihosting-config enable=on,target=native \
    -icount shift=0 -singlestep -d exec,nochain -dfilter "$ranges" \
    -D "$work/trace" -kernel "$elf" >/dev/null 2>&1 || true
wait
python3 - "$work/functions" "$work/counts" <<'PY'
import sys
functions = [line.split(maxsplit=2) for line in open(sys.argv[1])]
counts = {int(pc, 16): int(n) for n, pc in (line.split() for line in open(sys.argv[2]))}
print("%12s %8s %8s  %s" % ("instructions", "calls", "per call", "function"))
for address, size, name in functions:
    start, end = int(address, 16), int(address, 16) + int(size, 16)
    total = sum(n for pc, n in counts.items() if start <= pc < end)
    calls = counts.get(start, 0)
    print("%12d %8d %8d  %s" % (total, calls, total // max(calls, 1), name.strip()))
PY
if [ "${3:-}" = "--annotate" ]; then
    while read -r address size name; do
        echo "== $name"
        "$tools/llvm-objdump" -d --no-show-raw-insn --start-address="0x$address" \
            --stop-address=$((16#$address + 16#$size)) "$elf" | sed -n '7,$p' |
            python3 -c '
import sys
counts = {int(pc, 16): n for n, pc in (l.split() for l in open(sys.argv[1]))}
for line in sys.stdin:
    head = line.split(":")[0].strip()
    n = counts.get(int(head, 16), "") if head and all(c in "0123456789abcdef" for c in head) else ""
    print("%10s  %s" % (n, line.rstrip()))
' "$work/counts"
    done < "$work/functions"
fi
