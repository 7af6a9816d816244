#!/usr/bin/env bash
# The one QEMU invocation of the project: runs a firmware ELF in QEMU's
# mps2-an386 (Cortex-M4F) and decodes its defmt log with defmt-print;
# exits with QEMU's status (124 on timeout). The cargo runner of
# boards/mps2-an386 (`cargo run --release` there), and what the
# end-to-end tests call.
#
#   run-qemu.sh ELF        QEMU_TIMEOUT=seconds (default 120)
#                          DEFMT_LOG_FORMAT=defmt-print's --log-format (default its own)
#                          UART_IN=FILE UART_OUT=FILE: UART0 reads FILE's bytes
#                          (input frames) and its output goes to UART_OUT
#                          (replies); without them UART0 is not connected
#
# -icount shift=0 makes one instruction one nanosecond of virtual time, so
# SysTick counts instructions (QEMU has no cycles).
set -uo pipefail
elf=${1:?usage: run-qemu.sh ELF}
if ! command -v defmt-print >/dev/null; then
    echo "run-qemu.sh: installing defmt-print" >&2
    cargo install defmt-print --locked >&2 || exit 1
fi
format=()
if [ -n "${DEFMT_LOG_FORMAT:-}" ]; then
    format=(--log-format "$DEFMT_LOG_FORMAT")
fi
serial=(-serial none)
if [ -n "${UART_IN:-}" ]; then
    # QEMU 7.2's pipe backend reads PATH.in and writes PATH.out.
    uart=$(mktemp -d)
    trap 'rm -rf "$uart"' EXIT
    cp "$UART_IN" "$uart/uart.in"
    : > "$uart/uart.out"
    serial=(-chardev "pipe,id=uart0,path=$uart/uart" -serial chardev:uart0)
fi
timeout --kill-after=5 "${QEMU_TIMEOUT:-120}" \
    qemu-system-arm -machine mps2-an386 -cpu cortex-m4 -nographic \
    -monitor none "${serial[@]}" \
    -semihosting-config enable=on,target=native \
    -icount shift=0 -kernel "$elf" |
    defmt-print -e "$elf" "${format[@]}"
status=${PIPESTATUS[0]}
if [ -n "${UART_IN:-}" ]; then
    cp "$uart/uart.out" "${UART_OUT:?UART_OUT names the file for the output of UART0}"
fi
exit "$status"
