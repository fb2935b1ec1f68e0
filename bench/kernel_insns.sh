#!/usr/bin/env bash
# Instructions per FLOP of the ARM64 kernel sets, counted under qemu-aarch64:
# every guest instruction is its own translation block (-singlestep) and
# every executed block is logged (-d exec,nochain), so the count of log
# lines is the count of executed instructions, the same on every machine.
# Each kernel runs with 1 and 3 repetitions; the difference over 2
# repetitions cancels start-up and setup.  docs/BENCH.md has the results.
# usage: bench/kernel_insns.sh [build-aarch64]   (after make TARGET=aarch64 build-aarch64/bench/kernel_insns)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-build-aarch64}/bench/kernel_insns
count() { qemu-aarch64 -singlestep -d exec,nochain "$BIN" "$@" 2>&1 >/dev/null | grep -c '^Trace'; }
printf '| kernel | set | instructions per call | FLOPs per call | instructions per FLOP |\n|---|---|---:|---:|---:|\n'
for kern in ukr ukr_epi ukr_k24 qdw dot8 erf; do
    for set in scalar neon; do
        flops=$(qemu-aarch64 "$BIN" $set $kern 1)
        i1=$(count $set $kern 1)
        i3=$(count $set $kern 3)
        per=$(( (i3 - i1) / 2 ))
        unit=$([ $kern = erf ] && echo "elements" || echo "FLOPs")
        printf '| %s | %s | %d | %d %s | %.3f |\n' $kern $set $per $flops "$unit" "$(echo "$per / $flops" | bc -l)"
    done
done
