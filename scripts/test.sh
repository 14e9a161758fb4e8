#!/usr/bin/env bash
# The test suite, as CI runs it: install what the tests need when it is
# missing (scripts/setup-test-tools.sh), then every XCTest in release mode
# (the engine is SIMD code that debug builds make ~50x slower). The AWS
# tests start their own moto server and fake Lambda Runtime API on
# 127.0.0.1 and stop them when they finish.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-test-tools.sh
swift test -c release --disable-swift-testing "$@"
