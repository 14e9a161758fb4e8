#!/usr/bin/env bash
# Performance regression gate (issue 5). See Benchmarks/README.md.
#
#   scripts/perf-gate.sh              check the tree against the committed baselines
#   scripts/perf-gate.sh --update     re-record the baselines on this machine
#   scripts/perf-gate.sh --spread N   run the suites N times and print the run-to-run
#                                     spread per metric (what the thresholds come from)
#
# Options: --no-benchmarks, --no-callgrind, --no-sweep (skip those steps),
# --no-retry (do not confirm a benchmark regression with a second run).
# OPENBLAS_CORETYPE is pinned to Cooperlake on CPUs with AVX512-BF16 (see below).
#
# Steps of a check, each against a committed baseline:
#   1. package-benchmark suites (Benchmarks/AstroMAEBenchmarks, Benchmarks/CAIWorkloadBenchmarks)
#      vs .benchmarkBaselines/*/gate, thresholds per metric in
#      Benchmarks/AstroMAEBenchmarks/GateConfiguration.swift. A regression is
#      re-run once and fails only if the second run regresses too.
#   2. callgrind instruction count of one forward pass (batch 4) vs
#      Benchmarks/baselines/callgrind_forward.txt (perf events, and so
#      package-benchmark's `instructions` metric, are unavailable on this VM).
#   3. the quick sweep (`cosmicbench sweep`, 1 repetition; confirmed by a
#      second run on a regression) between two
#      `cosmicbench bench` probes: its ranks' samples/s over the model-only
#      samples/s of the same run (Benchmarks/sweep_efficiency.py) vs
#      Benchmarks/baselines/sweep_efficiency.tsv; and its peak RSS and
#      failures vs results/quick (`cosmicbench compare --metric memory`).
# Exit 0 when nothing regressed (improvements print a reminder to update the
# baseline), 1 on a regression (with the diff), 2 when the gate itself fails.
set -uo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)

MODE=check
SPREAD_RUNS=0
RUN_BENCHMARKS=1
RUN_CALLGRIND=1
RUN_SWEEP=1
RETRY=1
while [ $# -gt 0 ]; do
    case "$1" in
        --update) MODE=update ;;
        --spread) MODE=spread; SPREAD_RUNS=${2:?--spread needs a run count}; shift ;;
        --no-benchmarks) RUN_BENCHMARKS=0 ;;
        --no-callgrind) RUN_CALLGRIND=0 ;;
        --no-sweep) RUN_SWEEP=0 ;;
        --no-retry) RETRY=0 ;;
        -h|--help) sed -n '2,/^set -uo/p' "$0" | sed '$d'; exit 0 ;;
        *) echo "perf-gate: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done

# Single-threaded everywhere: the engine's InferenceSession uses threads 1,
# and OpenBLAS must not spread one GEMM over the shared cores.
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1

# The baselines were recorded with OpenBLAS's Cooperlake kernels (what it
# picks on this kind's AMD Zen 4). OpenBLAS 0.3.21 does not know some newer
# CPUs with the same instructions (a Sapphire Rapids Xeon was seen here) and
# falls back to Prescott, 3x slower: a different machine, not a regression.
# Pin the kernels whenever the CPU has what Cooperlake needs.
if [ -z "${OPENBLAS_CORETYPE:-}" ] && grep -qw avx512_bf16 /proc/cpuinfo; then
    export OPENBLAS_CORETYPE=Cooperlake
fi

BASELINE=gate
CANDIDATE=gate_candidate
CALLGRIND_BASELINE=Benchmarks/baselines/callgrind_forward.txt
CALLGRIND_BATCH=4
# Percent the forward pass's instruction count may grow (spread measured: < 1e-6 %).
CALLGRIND_TOLERANCE=0.5
# Slowdown factor (minus 1) of the quick sweep's pipeline efficiency allowed
# before it is a regression.
# Run-to-run spread seen here: 0.80-1.13 for one configuration within minutes
# (the probes themselves moved 362-438 samples/s), so a loose threshold, a
# median baseline and a confirming second run; the model's speed is gated
# tightly by the callgrind count and the package benchmarks.
SWEEP_TOLERANCE=0.35
SWEEP_UPDATE_RUNS=3
SWEEP_BASELINE=Benchmarks/baselines/sweep_efficiency.tsv
# A rank's peak RSS varied 125–164 MB between otherwise identical quick
# sweeps on this machine (page-cache faults of the mapped partition), so the
# sweep's memory check is looser; the benchmark suites gate memory tightly.
SWEEP_MEMORY_TOLERANCE=0.60
SWEEP_REPETITIONS=1
WORK="$ROOT/.build/perf-gate"
BENCH=(swift package --allow-writing-to-package-directory benchmark)

mkdir -p "$WORK"
REGRESSED=0
IMPROVED=0
UPDATE_HINT="scripts/perf-gate.sh --update"

note() { printf '\n== %s\n' "$*"; }

# Runs the suites and stores the results as package-benchmark baseline $1.
record_baseline() {
    local name=$1 log="$WORK/record-$1.log"
    if ! "${BENCH[@]}" baseline update "$name" --no-progress --quiet >"$log" 2>&1; then
        echo "perf-gate: benchmark run failed (baseline $name); log: $log" >&2
        tail -40 "$log" >&2
        return 1
    fi
}

# Compares stored baseline $2 against $1 with the thresholds recorded in $2.
# Prints the deviations; returns 0 within, 10 better, 11 worse, 1 tool failure.
check_baselines() {
    local log="$WORK/check.log"
    "${BENCH[@]}" baseline check "$1" "$2" --no-progress >"$log" 2>"$log.stderr"
    # Drop the build chatter; keep the deviation tables and the verdict.
    if grep -aq '^===*$' "$log"; then
        sed -n '/^===*$/,$p' "$log"
    else
        grep -a 'baseline thresholds' "$log" || true
    fi
    if grep -aq "is WORSE than" "$log"; then return 11; fi
    if grep -aq "is BETTER than" "$log"; then return 10; fi
    if grep -aq "is WITHIN" "$log"; then return 0; fi
    echo "perf-gate: 'benchmark baseline check' gave no verdict; logs: $log, $log.stderr" >&2
    tail -40 "$log" "$log.stderr" >&2
    return 1
}

drop_candidate() {
    for dir in .benchmarkBaselines/*/"$CANDIDATE"; do
        [ -d "$dir" ] || continue
        local target
        target=$(basename "$(dirname "$dir")")
        rm -rf "${WORK:?}/$target-$CANDIDATE"
        mv "$dir" "$WORK/$target-$CANDIDATE"
    done
}

benchmark_gate() {
    note "benchmarks: running both suites (single-threaded; load average $(cut -d' ' -f1-3 /proc/loadavg))"
    local started=$SECONDS
    record_baseline "$CANDIDATE" || { drop_candidate; return 2; }
    echo "ran in $((SECONDS - started)) s"
    local status=0
    check_baselines "$BASELINE" "$CANDIDATE" || status=$?
    if [ $status -eq 11 ] && [ $RETRY -eq 1 ]; then
        note "benchmarks: regression seen; running the suites once more to confirm"
        record_baseline "$CANDIDATE" || { drop_candidate; return 2; }
        status=0
        check_baselines "$BASELINE" "$CANDIDATE" || status=$?
    fi
    drop_candidate
    case $status in
        0) echo "benchmarks: within thresholds of baseline '$BASELINE'" ;;
        10) echo "benchmarks: IMPROVED beyond thresholds; update the baseline: $UPDATE_HINT"; IMPROVED=1 ;;
        11) echo "benchmarks: REGRESSION beyond thresholds (confirmed by a second run)"; REGRESSED=1 ;;
        *) return 2 ;;
    esac
}

callgrind_count() {
    swift build -c release --product AstroMAEInstructionCount >"$WORK/build-count.log" 2>&1 \
        || { tail -20 "$WORK/build-count.log" >&2; return 1; }
    local bin
    bin="$(swift build -c release --show-bin-path)/AstroMAEInstructionCount"
    "$bin" --write-weights "$WORK/weights.safetensors" || return 1
    # valgrind 3.19 cannot read the DWARF 5 debug info some linked C code
    # (BoringSSL, via swift-crypto) carries; count on a copy without debug
    # info (the symbol table, which --toggle-collect needs, stays).
    strip --strip-debug -o "$WORK/AstroMAEInstructionCount" "$bin" || return 1
    bin="$WORK/AstroMAEInstructionCount"
    rm -f "$WORK/callgrind.out"
    # OpenBLAS would pick its kernel from the CPU valgrind emulates; pin it
    # so the count does not depend on that choice.
    OPENBLAS_CORETYPE=Haswell valgrind --tool=callgrind --collect-atstart=no \
        --toggle-collect='*measuredForward*' --callgrind-out-file="$WORK/callgrind.out" \
        "$bin" --batch "$CALLGRIND_BATCH" --weights "$WORK/weights.safetensors" >"$WORK/callgrind.log" 2>&1 \
        || { tail -20 "$WORK/callgrind.log" >&2; return 1; }
    awk '/^summary:/ { print $2 }' "$WORK/callgrind.out"
}

# Self instructions per function (mangled name, summed over the source files
# callgrind splits it into), for the per-function diff on a regression.
callgrind_functions() {
    callgrind_annotate --inclusive=no --auto=no --threshold=100 "$1" 2>/dev/null \
        | awk '/^ *[0-9,]+ \(/ && !/PROGRAM TOTALS/ { gsub(",", "", $1); n = $1; $1 = ""; $2 = ""; sub(/^ +/, "");
                                 sub(/^[^:]*:/, ""); sub(/ \[.*$/, ""); sum[$0] += n }
               END { for (f in sum) print sum[f] "\t" f }' \
        | sort -t"$(printf '\t')" -k1,1nr
}

callgrind_gate() {
    note "callgrind: instructions of one forward pass, batch $CALLGRIND_BATCH"
    command -v valgrind >/dev/null || { echo "perf-gate: valgrind not installed" >&2; return 2; }
    [ -f "$CALLGRIND_BASELINE" ] || { echo "perf-gate: no $CALLGRIND_BASELINE; record it with $UPDATE_HINT" >&2; return 2; }
    local started=$SECONDS base new
    base=$(awk '$1 == "instructions" { print $2 }' "$CALLGRIND_BASELINE")
    new=$(callgrind_count) || { echo "perf-gate: callgrind run failed" >&2; return 2; }
    local change
    change=$(awk -v b="$base" -v n="$new" 'BEGIN { printf "%+.3f", (n - b) / b * 100 }')
    printf '| metric | baseline | new | change | threshold |\n|---|---:|---:|---:|---:|\n'
    printf '| forward_b%s instructions (Ir) | %s | %s | %s %% | +%s %% |\n' "$CALLGRIND_BATCH" "$base" "$new" "$change" "$CALLGRIND_TOLERANCE"
    echo "ran in $((SECONDS - started)) s"
    if awk -v c="$change" -v t="$CALLGRIND_TOLERANCE" 'BEGIN { exit !(c > t) }'; then
        echo "callgrind: REGRESSION: the forward pass executes ${change} % more instructions"
        local functions="${CALLGRIND_BASELINE%.txt}.functions.tsv"
        if [ -f "$functions" ]; then
            echo "largest per-function growth (self instructions, baseline -> new):"
            callgrind_functions "$WORK/callgrind.out" >"$WORK/callgrind.functions.tsv"
            awk -F'\t' 'NR == FNR { base[$2] = $1; next }
                         { d = $1 - base[$2]; if (d > 0) printf "%+12d  %12d -> %12d  %s\n", d, base[$2], $1, $2 }' \
                "$functions" "$WORK/callgrind.functions.tsv" | sort -rn | head -8 | swift demangle --simplified
        fi
        REGRESSED=1
    elif awk -v c="$change" -v t="$CALLGRIND_TOLERANCE" 'BEGIN { exit !(c < -t) }'; then
        echo "callgrind: IMPROVED (${change} %); update the baseline: $UPDATE_HINT"
        IMPROVED=1
    else
        echo "callgrind: within ±$CALLGRIND_TOLERANCE %"
    fi
}

callgrind_update() {
    note "callgrind: recording $CALLGRIND_BASELINE"
    local new
    new=$(callgrind_count) || { echo "perf-gate: callgrind run failed" >&2; return 2; }
    mkdir -p "$(dirname "$CALLGRIND_BASELINE")"
    {
        echo "# Instructions (callgrind Ir) of one forward pass of AstroMAEInstructionCount, written by $UPDATE_HINT"
        echo "instructions $new"
        echo "batch $CALLGRIND_BATCH"
        echo "openblas_coretype Haswell"
        echo "valgrind $(valgrind --version)"
        echo "swift $(swift --version 2>/dev/null | head -1)"
        echo "recorded $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(hostname) ($(getconf _NPROCESSORS_ONLN) cores)"
    } >"$CALLGRIND_BASELINE"
    callgrind_functions "$WORK/callgrind.out" >"${CALLGRIND_BASELINE%.txt}.functions.tsv"
    echo "instructions $new"
}

# Model-only samples/s of `cosmicbench bench` at the quick sweep's batch and the ranks' pass size,
# one thread: the same-run reference the sweep's efficiency is taken against.
bench_probe() {
    "$1" bench --batch 128 --micro-batch 64 --seconds 3 --no-roofline --json >"$WORK/probe.json" 2>"$WORK/probe.log" \
        || { tail -20 "$WORK/probe.log" >&2; return 1; }
    python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["samples_per_second"])' "$WORK/probe.json"
}

# Runs the quick sweep between two bench probes; sets SWEEP_REFERENCE (mean
# of the probes, samples/s) and leaves the results in $WORK/quick.
run_quick_sweep() {
    local cli=$1 before after
    rm -rf "$WORK/quick"
    before=$(bench_probe "$cli") || return 2
    "$cli" sweep sweeps/quick.toml --repetitions "$SWEEP_REPETITIONS" --out "$WORK/quick" --no-report \
        >"$WORK/sweep.log" 2>&1 || { tail -20 "$WORK/sweep.log" >&2; return 2; }
    after=$(bench_probe "$cli") || return 2
    SWEEP_REFERENCE=$(awk -v a="$before" -v b="$after" 'BEGIN { printf "%.3f", (a + b) / 2 }')
    echo "model-only reference: $before samples/s before the sweep, $after after (mean $SWEEP_REFERENCE)"
}

build_cli() {
    swift build -c release --product cosmicbench >"$WORK/build-cli.log" 2>&1 \
        || { tail -20 "$WORK/build-cli.log" >&2; return 2; }
    echo "$(swift build -c release --show-bin-path)/cosmicbench"
}

sweep_update() {
    note "sweep: recording $SWEEP_BASELINE (median of $SWEEP_UPDATE_RUNS runs)"
    local cli run
    cli=$(build_cli) || return 2
    for run in $(seq 1 "$SWEEP_UPDATE_RUNS"); do
        run_quick_sweep "$cli" || return 2
        python3 Benchmarks/sweep_efficiency.py measure "$WORK/quick/summary.csv" "$SWEEP_REFERENCE" >"$WORK/efficiency-$run.tsv"
        cat "$WORK/efficiency-$run.tsv"
    done
    {
        echo "# Pipeline efficiency of the quick sweep (rank samples/s over model-only bench samples/s, same run),"
        echo "# median of $SWEEP_UPDATE_RUNS runs, written by $UPDATE_HINT on $(hostname) at $(date -u +%Y-%m-%dT%H:%M:%SZ)"
        echo "# OpenBLAS kernels: ${OPENBLAS_CORETYPE:-auto-detected}"
        cat "$WORK"/efficiency-*.tsv | sort | awk -F'\t' '
            { values[$1] = values[$1] " " $2; order[$1] = 1 }
            END { for (c in order) { n = split(substr(values[c], 2), v, " ");
                                     for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
                                     printf "%s\t%s\n", c, v[int((n + 1) / 2)] } }' | sort
    } >"$SWEEP_BASELINE.tmp" && mv "$SWEEP_BASELINE.tmp" "$SWEEP_BASELINE"
    rm -f "$WORK"/efficiency-*.tsv
    cat "$SWEEP_BASELINE"
}

sweep_gate() {
    local cli
    cli=$(build_cli) || return 2
    [ -f "$SWEEP_BASELINE" ] || { echo "perf-gate: no $SWEEP_BASELINE; record it with $UPDATE_HINT" >&2; return 2; }
    note "sweep: quick sweep ($SWEEP_REPETITIONS repetition): efficiency vs $SWEEP_BASELINE, memory and failures vs results/quick"
    local started=$SECONDS status=0
    run_quick_sweep "$cli" || return 2
    python3 Benchmarks/sweep_efficiency.py check "$SWEEP_BASELINE" "$WORK/quick/summary.csv" \
        "$SWEEP_REFERENCE" "$SWEEP_TOLERANCE"
    status=$?
    if [ $status -eq 1 ] && [ $RETRY -eq 1 ]; then
        note "sweep: efficiency regression seen; running the sweep once more to confirm"
        run_quick_sweep "$cli" || return 2
        python3 Benchmarks/sweep_efficiency.py check "$SWEEP_BASELINE" "$WORK/quick/summary.csv" \
            "$SWEEP_REFERENCE" "$SWEEP_TOLERANCE"
        status=$?
    fi
    case $status in
        0) echo "sweep efficiency: within ${SWEEP_TOLERANCE}x of the baseline" ;;
        1) echo "sweep efficiency: REGRESSION beyond tolerance"; REGRESSED=1 ;;
        *) return 2 ;;
    esac
    # Timings recorded on another day are not comparable on a shared
    # machine (a 38 % slower rank was seen with the model's instruction
    # count unchanged); results/quick gates memory and failed configurations.
    "$cli" compare results/quick "$WORK/quick" --metric memory \
        --tolerance "$SWEEP_MEMORY_TOLERANCE" | tee "$WORK/compare.md"
    status=${PIPESTATUS[0]}
    echo "ran in $((SECONDS - started)) s"
    case $status in
        0) ;;
        1) echo "sweep: memory REGRESSION or newly failed configuration vs results/quick"; REGRESSED=1 ;;
        *) return 2 ;;
    esac
}

case $MODE in
    update)
        if [ $RUN_BENCHMARKS -eq 0 ]; then
            if [ $RUN_CALLGRIND -eq 1 ]; then callgrind_update || exit 2; fi
            if [ $RUN_SWEEP -eq 1 ]; then sweep_update || exit 2; fi
            note "baselines recorded; review and commit Benchmarks/baselines/"
            exit 0
        fi
        note "recording package-benchmark baseline '$BASELINE' (both suites)"
        record_baseline "$BASELINE" || exit 2
        # A run slowed down for its whole length by other load would make a
        # baseline every later run "improves" on: check it with a second run,
        # and adopt that run instead when it is better beyond the thresholds.
        for round in 1 2 3; do
            note "verifying the baseline with another run ($round of at most 3)"
            record_baseline "$CANDIDATE" || exit 2
            status=0
            check_baselines "$BASELINE" "$CANDIDATE" || status=$?
            case $status in
                10)
                    echo "the verifying run was better: adopting it as '$BASELINE'"
                    for dir in .benchmarkBaselines/*/"$CANDIDATE"; do
                        target_dir=$(dirname "$dir")
                        rm -rf "${target_dir:?}/$BASELINE"
                        mv "$dir" "$target_dir/$BASELINE"
                        sed -i "s/\"baselineName\":\"$CANDIDATE\"/\"baselineName\":\"$BASELINE\"/" "$target_dir/$BASELINE/results.json"
                    done
                    ;;
                0) drop_candidate; break ;;
                11) drop_candidate; echo "warning: the verifying run was WORSE than the new baseline (load during it?); keeping the baseline"; break ;;
                *) drop_candidate; exit 2 ;;
            esac
        done
        ls .benchmarkBaselines/*/"$BASELINE"/results.json
        if [ $RUN_CALLGRIND -eq 1 ]; then callgrind_update || exit 2; fi
        if [ $RUN_SWEEP -eq 1 ]; then sweep_update || exit 2; fi
        note "baselines recorded; review and commit .benchmarkBaselines/ and Benchmarks/baselines/"
        exit 0
        ;;
    spread)
        names=()
        for i in $(seq 1 "$SPREAD_RUNS"); do
            note "spread: run $i of $SPREAD_RUNS (load: $(cut -d' ' -f1-3 /proc/loadavg))"
            record_baseline "spread$i" || exit 2
            names+=("spread$i")
        done
        for target in AstroMAEBenchmarks CAIWorkloadBenchmarks; do
            for name in "${names[@]}"; do
                swift package benchmark baseline read "$name" --target "$target" --format influx --path stdout \
                    2>/dev/null >"$WORK/$target-$name.influx.csv"
            done
        done
        python3 Benchmarks/spread.py "$WORK"/*-spread*.influx.csv
        for name in "${names[@]}"; do rm -rf .benchmarkBaselines/*/"$name"; done
        exit 0
        ;;
esac

for target in AstroMAEBenchmarks CAIWorkloadBenchmarks; do
    if [ ! -f ".benchmarkBaselines/$target/$BASELINE/results.json" ]; then
        echo "perf-gate: no baseline .benchmarkBaselines/$target/$BASELINE; record it with $UPDATE_HINT" >&2
        exit 2
    fi
done

note "OpenBLAS kernels: ${OPENBLAS_CORETYPE:-auto-detected}"
if [ $RUN_BENCHMARKS -eq 1 ]; then benchmark_gate || exit 2; fi
if [ $RUN_CALLGRIND -eq 1 ]; then callgrind_gate || exit 2; fi
if [ $RUN_SWEEP -eq 1 ]; then sweep_gate || exit 2; fi

if [ $REGRESSED -eq 1 ]; then
    note "perf-gate: FAILED (performance regression; diff above)"
    exit 1
fi
if [ $IMPROVED -eq 1 ]; then
    note "perf-gate: passed with improvements. Record them so they stay gated: $UPDATE_HINT (then commit .benchmarkBaselines/ and Benchmarks/baselines/)"
else
    note "perf-gate: passed"
fi
exit 0
