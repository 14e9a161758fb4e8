#!/usr/bin/env bash
# Measures two cosmicbench binaries (e.g. the engine before and after a
# change) back to back, alternating, REPS times each, at 1 and 2 threads with
# the environment's OpenBLAS kernel, and the new one also with
# `--blas-core auto`. Every run's output is kept in OUT_DIR; the table comes
# from scripts/engine-table.py OUT_DIR.
#
#   scripts/engine-compare.sh BEFORE_BIN AFTER_BIN OUT_DIR [REPS]
set -euo pipefail
before="$1" after="$2" out="$3" reps="${4:-3}"
mkdir -p "$out"
args=(bench --batch 512 --micro-batch 64 --seconds 8 --stages)
for rep in $(seq 1 "$reps"); do
    for threads in 1 2; do
        "$before" "${args[@]}" --threads "$threads" >"$out/before-t$threads-r$rep.txt"
        "$after" "${args[@]}" --threads "$threads" >"$out/after-t$threads-r$rep.txt"
        "$after" "${args[@]}" --threads "$threads" --blas-core auto >"$out/auto-t$threads-r$rep.txt"
    done
done
for threads in 1 2; do
    "$after" "${args[@]}" --threads "$threads" --json >"$out/after-t$threads.json"
done
