#!/usr/bin/env bash
# CosmicBench's main job on the embedded default (synthetic data, seeded
# weights): install OpenBLAS if missing, build, check the model against the
# golden PyTorch fixtures, time the forward pass, run the quick sweep and
# regenerate its report. Usage: scripts/main-job.sh [OUT_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-results/quick-local}"

if ! dpkg -s libopenblas-dev >/dev/null 2>&1; then
    sudo_cmd=""
    [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
    $sudo_cmd apt-get update && $sudo_cmd apt-get install -y libopenblas-dev
fi

swift build -c release --product cosmicbench
bin=.build/release/cosmicbench
"$bin" verify
"$bin" bench --batch 128 --micro-batch 64 --seconds 5
"$bin" sweep sweeps/quick.toml --out "$out"
"$bin" report "$out"
echo "report: $out/REPORT.md"
