#!/usr/bin/env bash
# CI fuzzing (issue 14): builds every libFuzzer harness once, replays every
# committed crash input (Fuzz/Crashes/TARGET) through its harness, then runs
# each target for FUZZ_CI_SECONDS (default 30) from the committed corpus. Exit
# 1 when any committed crash input fails again, or a target crashes, trips
# AddressSanitizer, times out (an input of 1 s or more) or runs out of memory;
# the failing input is under $FUZZ_SCRATCH/artifacts/TARGET/ (default
# .build-fuzz). Exit 2 when the harnesses do not build. Nothing is recorded in
# results/.
#
# Needs only the Swift toolchain (its clang resource directory ships the
# libFuzzer and AddressSanitizer runtimes, libclang_rt.fuzzer/asan: no Debian
# package) and what scripts/setup-test-tools.sh installs (OpenBLAS, for the
# parsers' package graph); python3 for Fuzz/Tools/fuzz_report.py.
set -uo pipefail
cd "$(dirname "$0")/.."

SECONDS_PER_TARGET=${FUZZ_CI_SECONDS:-30}
SCRATCH=${FUZZ_SCRATCH:-$(pwd)/.build-fuzz}
started=$SECONDS

# swiftc links -sanitize=fuzzer,address against the toolchain's own runtimes;
# a toolchain without them fails at the first link, so say so up front.
toolchain=$(dirname "$(dirname "$(readlink -f "$(command -v swiftc)")")")
for runtime in fuzzer asan; do
    if ! compgen -G "$toolchain/lib/clang/*/lib/linux/libclang_rt.$runtime-$(uname -m).a" >/dev/null; then
        echo "fuzz-ci: the Swift toolchain at $toolchain has no libclang_rt.$runtime runtime" \
             "(lib/clang/*/lib/linux/); use a swift.org Linux toolchain" >&2
        exit 2
    fi
done

scripts/fuzz.sh build || exit 2
echo "fuzz-ci: build done in $((SECONDS - started)) s"

failed=()
for target in $(scripts/fuzz.sh list); do
    if ! FUZZ_SKIP_BUILD=1 scripts/fuzz.sh replay "$target"; then
        failed+=("$target (committed crash input)")
        continue
    fi
    if ! FUZZ_SKIP_BUILD=1 scripts/fuzz.sh "$target" "$SECONDS_PER_TARGET"; then
        failed+=("$target")
    fi
done

echo "fuzz-ci: done in $((SECONDS - started)) s"
if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzz-ci: FAILED: ${failed[*]} (inputs under $SCRATCH/artifacts/)" >&2
    exit 1
fi
echo "fuzz-ci: every target clean"
