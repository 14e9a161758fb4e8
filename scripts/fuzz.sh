#!/usr/bin/env bash
# libFuzzer + AddressSanitizer runs of the parsers of untrusted input (issue 14).
# The harnesses are the Fuzz/ package, one executable per parser.
#
#   scripts/fuzz.sh TARGET SECONDS [libFuzzer args]   build, fuzz TARGET for SECONDS, print a summary line
#   scripts/fuzz.sh all SECONDS [libFuzzer args]      every target in turn; records results/fuzz/
#   scripts/fuzz.sh --record TARGET SECONDS [...]     one target, also recorded in results/fuzz/
#   scripts/fuzz.sh merge TARGET|all                  minimise discoveries into the committed corpus
#   scripts/fuzz.sh replay TARGET|all                 run each committed crash input (Fuzz/Crashes/TARGET) once
#   scripts/fuzz.sh build [TARGET...]                 just build the harnesses (default every one)
#   scripts/fuzz.sh list                              the target names
#
# FUZZ_SKIP_BUILD=1 runs the binaries already in .build-fuzz without building.
# FUZZ_SKIP_KNOWN=1 makes a harness pass over inputs of a known, reported crash
# (see the harness) so a long run can look for others; CI never sets it.
# Extra arguments go to libFuzzer after the defaults, e.g. -runs=1000000 to stop
# at a million executions (whichever of that and SECONDS comes first).
#
# Each run fails (exit 1) on a crash, sanitizer report, timeout (an input taking
# 1 s or more) or out-of-memory (RSS over 2 GB, or one allocation over 1 GB);
# the input is saved under .build-fuzz/artifacts/TARGET/. New corpus inputs go to
# .build-fuzz/corpus/TARGET (the committed Fuzz/Corpus/TARGET is read only)
# until `merge` keeps those that add coverage. After the run every corpus input
# is replayed once to time the slowest one to the millisecond.
set -uo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)
SCRATCH=${FUZZ_SCRATCH:-$ROOT/.build-fuzz}
BIN=$SCRATCH/release
RESULTS=$ROOT/results/fuzz
TIMEOUT_SECONDS=1
RSS_LIMIT_MB=2048
MALLOC_LIMIT_MB=1024
REPORT="python3 $ROOT/Fuzz/Tools/fuzz_report.py"
# The Swift runtime's crash backtracer would stall each failure for its own
# timeout; libFuzzer and ASan print the stack.
export SWIFT_BACKTRACE=enable=no
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=0:symbolize=1}

targets() {
    for dir in "$ROOT"/Fuzz/Sources/fuzz-*/; do basename "$dir"; done
}

# Largest input libFuzzer generates, per target: a little above the biggest seed.
max_len() {
    case "$1" in
        fuzz-torch) echo 24576 ;;
        fuzz-s3-listing) echo 16384 ;;
        *) echo 4096 ;;
    esac
}

# --sanitize applies to the whole graph, so the parsers (and the C/C++ inside
# TOMLKit) carry coverage counters and ASan checks, not only the harnesses.
# SwiftPM hands swiftc the two sanitizers as separate -sanitize= flags in no
# fixed order and swiftc keeps only the last, so Swift code got either
# coverage or ASan; the single combined -Xswiftc flag comes last and wins.
# Dead stripping would discard the coverage sections, so it is off. Products
# are built one by one: a plain `swift build` would also build every target
# of the root package (the CLI, the benchmarks), which the harnesses never use.
build() {
    if [ "${FUZZ_SKIP_BUILD:-0}" = 1 ]; then return 0; fi
    [ $# -gt 0 ] || set -- $(targets)
    local product
    for product in "$@"; do
        echo "fuzz: building $product (release, fuzzer + address sanitizers)" >&2
        swift build -c release --package-path "$ROOT/Fuzz" --scratch-path "$SCRATCH" \
            --sanitize=fuzzer --sanitize=address -Xswiftc -sanitize=fuzzer,address \
            --disable-dead-strip --product "$product" 2>&1 \
            | grep -v -e "Cannot export local symbol" -e "unhandled; explicitly declare" -e "^    /.*CMakeLists.txt" \
                      -e "^    /.*PrivacyInfo.xcprivacy" >&2
        local status=${PIPESTATUS[0]}
        [ "$status" -eq 0 ] || { echo "fuzz: build of $product failed" >&2; return "$status"; }
    done
}

check_target() {
    [ -d "$ROOT/Fuzz/Sources/$1" ] || { echo "fuzz: unknown target '$1' (known: $(targets | tr '\n' ' '))" >&2; exit 2; }
}

corpus_stats() {
    local files bytes
    files=$(find "$1" -type f | wc -l)
    bytes=$(find "$1" -type f -printf '%s\n' | awk '{s += $1} END {print s + 0}')
    echo "$files $bytes"
}

environment() {
    local cpu
    cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
    echo "$cpu, $(nproc) cores, $(uname -sr), $(swift --version 2>/dev/null | head -1)"
}

# A timeout artifact is re-timed in a fresh process; true when it finishes well
# inside the limit every time (the stall was the shared machine, not the input).
spurious_timeout() {
    local target=$1 artifact=$2 log=$3 attempt ms
    for attempt in 1 2 3; do
        ms=$("$BIN/$target" -timeout=30 -rss_limit_mb="$RSS_LIMIT_MB" -malloc_limit_mb="$MALLOC_LIMIT_MB" \
                "$artifact" 2>&1 | sed -n 's/^Executed .* in \([0-9]*\) ms$/\1/p')
        [ -n "$ms" ] && [ "$ms" -lt $((TIMEOUT_SECONDS * 500)) ] || return 1
        echo "fuzz: re-timed $artifact: $ms ms (attempt $attempt)" >>"$log"
    done
    return 0
}

# run TARGET SECONDS RECORD [libFuzzer args]; returns libFuzzer's exit status.
# The run continues (same corpus, remaining time and -runs) after a timeout
# that does not reproduce outside the fuzzing process, recorded in the log as
# "fuzz: spurious timeout"; any other failure ends it.
run() {
    local target=$1 seconds=$2 record=$3
    shift 3
    local corpus=$SCRATCH/corpus/$target artifacts=$SCRATCH/artifacts/$target logs=$SCRATCH/logs
    mkdir -p "$corpus" "$artifacts/spurious" "$logs"
    local log=$logs/$target.log replay=$logs/$target.replay.log segment=$logs/$target.segment.log
    local runs="" extra=() arg
    for arg in "$@"; do
        case "$arg" in
            -runs=*) runs=${arg#-runs=} ;;
            *) extra+=("$arg") ;;
        esac
    done
    local base=(-timeout="$TIMEOUT_SECONDS" -rss_limit_mb="$RSS_LIMIT_MB" -malloc_limit_mb="$MALLOC_LIMIT_MB"
                -max_len="$(max_len "$target")" -dict="$ROOT/Fuzz/Dictionaries/$target.dict" -print_final_stats=1
                -artifact_prefix="$artifacts/" "${extra[@]}")
    local command="scripts/fuzz.sh $target $seconds${*:+ $*}"
    [ "${FUZZ_SKIP_KNOWN:-0}" = 1 ] && command="FUZZ_SKIP_KNOWN=1 $command"
    echo "fuzz: $target for ${seconds}s${runs:+ or $runs runs}: ${base[*]}" >&2
    : >"$log"
    local started=$SECONDS status load_before
    load_before=$(cut -d' ' -f1-3 /proc/loadavg)
    while :; do
        local left=$((seconds - (SECONDS - started)))
        [ "$left" -ge 1 ] || { status=0; break; }
        local limits=(-max_total_time="$left")
        [ -n "$runs" ] && limits+=(-runs="$runs")
        "$BIN/$target" "${limits[@]}" "${base[@]}" "$corpus" "$ROOT/Fuzz/Corpus/$target" >"$segment" 2>&1
        status=$?
        cat "$segment" >>"$log"
        # libFuzzer keeps going without coverage counters, which makes the run worthless.
        if grep -q "Is the code instrumented for coverage" "$segment"; then
            echo "fuzz: $BIN/$target has no coverage instrumentation; rebuild it (scripts/fuzz.sh build $target)" >&2
            return 3
        fi
        [ "$status" -ne 0 ] || break
        local artifact
        artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$segment" | tail -1)
        case "$(basename "${artifact:-none}")" in
            timeout-*) spurious_timeout "$target" "$artifact" "$log" || break ;;
            *) break ;;
        esac
        mv "$artifact" "$artifacts/spurious/"
        echo "fuzz: spurious timeout $(basename "$artifact") (re-timed under $((TIMEOUT_SECONDS * 500)) ms; kept in $artifacts/spurious)" >>"$log"
        if [ -n "$runs" ]; then
            local done_runs
            done_runs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\)/\1/p' "$segment" | tail -1)
            runs=$((runs - ${done_runs:-0}))
            [ "$runs" -ge 1 ] || { status=0; break; }
        fi
    done
    local wall=$((SECONDS - started))
    grep -E "ERROR|SUMMARY|Test unit written|spurious|DONE|Done " "$log" | tail -20 >&2
    # Replay every corpus input once (only when the run was clean: a crashing
    # input would stop the replay at that file).
    : >"$replay"
    if [ "$status" -eq 0 ]; then
        find "$corpus" "$ROOT/Fuzz/Corpus/$target" -type f -print0 \
            | xargs -0 -r -n 500 "$BIN/$target" -timeout="$TIMEOUT_SECONDS" -rss_limit_mb="$RSS_LIMIT_MB" \
                -malloc_limit_mb="$MALLOC_LIMIT_MB" >>"$replay" 2>&1
    fi
    $REPORT summary "$log" "$replay" "$target" "$wall"
    if [ "$record" = 1 ]; then
        local commit
        commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
        git diff --quiet HEAD -- Sources Fuzz 2>/dev/null || commit="$commit+local changes"
        $REPORT record "$log" "$replay" "$RESULTS/$target.json" \
            "target=$target" "command=$command" "seconds_limit=$seconds" "wall_seconds=$wall" \
            "exit_code=$status" "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)" "commit=$commit" \
            "environment=$(environment)" "libfuzzer_args=${base[*]}" \
            "load_average_before=$load_before" "load_average_after=$(cut -d' ' -f1-3 /proc/loadavg)"
        $REPORT table "$RESULTS"
    fi
    return "$status"
}

# Every input a target once crashed on (Fuzz/Crashes/TARGET), run once through
# its harness: each must now pass (the unit tests replay them too).
replay() {
    local target=$1 dir=$ROOT/Fuzz/Crashes/$1 files=()
    [ -d "$dir" ] && mapfile -t files < <(find "$dir" -type f | sort)
    [ ${#files[@]} -gt 0 ] || { echo "fuzz: $target has no committed crash inputs" >&2; return 0; }
    mkdir -p "$SCRATCH/logs"
    local log=$SCRATCH/logs/$target.crashes.log
    if ! "$BIN/$target" -timeout="$TIMEOUT_SECONDS" -rss_limit_mb="$RSS_LIMIT_MB" -malloc_limit_mb="$MALLOC_LIMIT_MB" \
            "${files[@]}" >"$log" 2>&1; then
        grep -a -E "Running:|Fatal error|ERROR|SUMMARY" "$log" | tail -6 >&2
        echo "fuzz: $target fails again on a committed crash input (log: $log)" >&2
        return 1
    fi
    echo "fuzz: $target: ${#files[@]} committed crash inputs replayed clean" >&2
}

# Keeps the hand-made seed-*/fixture-* inputs and adds, from the committed
# corpus and the discoveries, only the inputs that add coverage to them.
merge() {
    local target=$1 committed=$ROOT/Fuzz/Corpus/$1
    local work
    work=$(mktemp -d "$SCRATCH/merge-$target.XXXXXX")
    find "$committed" -maxdepth 1 -type f \( -name 'seed-*' -o -name 'fixture-*' \) -exec cp {} "$work/" \;
    mkdir -p "$SCRATCH/corpus/$target"
    "$BIN/$target" -merge=1 -timeout="$TIMEOUT_SECONDS" -rss_limit_mb="$RSS_LIMIT_MB" \
        -malloc_limit_mb="$MALLOC_LIMIT_MB" -max_len="$(max_len "$target")" \
        "$work" "$committed" "$SCRATCH/corpus/$target" 2>&1 | grep -E "MERGE-OUTER|ERROR" >&2
    local status=${PIPESTATUS[0]}
    if [ "$status" -ne 0 ]; then
        echo "fuzz: merge of $target failed; committed corpus unchanged" >&2
        rm -rf "$work"
        return "$status"
    fi
    find "$committed" -maxdepth 1 -type f ! -name 'seed-*' ! -name 'fixture-*' -delete
    find "$work" -maxdepth 1 -type f ! -name 'seed-*' ! -name 'fixture-*' -exec mv {} "$committed/" \;
    rm -rf "$work"
    read -r files bytes <<<"$(corpus_stats "$committed")"
    echo "fuzz: $target corpus: $files files, $((bytes / 1024)) kB" >&2
}

RECORD=0
if [ "${1:-}" = "--record" ]; then RECORD=1; shift; fi
case "${1:-}" in
    list) targets ;;
    build) shift; build "$@" ;;
    replay)
        [ -n "${2:-}" ] || { echo "usage: scripts/fuzz.sh replay TARGET|all" >&2; exit 2; }
        if [ "$2" = all ]; then set -- $(targets); else check_target "$2"; set -- "$2"; fi
        build "$@" || exit 2
        failed=0
        for t in "$@"; do replay "$t" || failed=1; done
        exit "$failed"
        ;;
    merge)
        [ -n "${2:-}" ] || { echo "usage: scripts/fuzz.sh merge TARGET|all" >&2; exit 2; }
        if [ "$2" = all ]; then
            build || exit 2
            for t in $(targets); do merge "$t" || exit 1; done
        else
            check_target "$2"; build "$2" || exit 2; merge "$2"
        fi
        ;;
    all)
        seconds=${2:?usage: scripts/fuzz.sh all SECONDS [libFuzzer args]}
        shift 2
        build || exit 2
        failed=0
        for t in $(targets); do run "$t" "$seconds" 1 "$@" || failed=1; done
        exit "$failed"
        ;;
    ""|-h|--help)
        sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'
        ;;
    *)
        target=$1
        seconds=${2:?usage: scripts/fuzz.sh TARGET SECONDS [libFuzzer args]}
        shift 2
        check_target "$target"
        build "$target" || exit 2
        run "$target" "$seconds" "$RECORD" "$@"
        ;;
esac
