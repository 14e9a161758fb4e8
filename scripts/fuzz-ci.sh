#!/usr/bin/env bash
# CI fuzzing (issue 14): builds every libFuzzer harness once, then runs each for
# FUZZ_CI_SECONDS (default 30) from the committed corpus. Exit 1 when any target
# crashes, trips AddressSanitizer, times out (an input of 1 s or more) or runs
# out of memory; the failing input is under .build-fuzz/artifacts/TARGET/.
# Exit 2 when the harnesses do not build. Nothing is recorded in results/.
set -uo pipefail
cd "$(dirname "$0")/.."

SECONDS_PER_TARGET=${FUZZ_CI_SECONDS:-30}
started=$SECONDS
scripts/fuzz.sh build || exit 2
echo "fuzz-ci: build done in $((SECONDS - started)) s"

failed=()
for target in $(scripts/fuzz.sh list); do
    if ! FUZZ_SKIP_BUILD=1 scripts/fuzz.sh "$target" "$SECONDS_PER_TARGET"; then
        failed+=("$target")
    fi
done

echo "fuzz-ci: done in $((SECONDS - started)) s"
if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzz-ci: FAILED: ${failed[*]} (inputs under .build-fuzz/artifacts/)" >&2
    exit 1
fi
echo "fuzz-ci: every target clean"
