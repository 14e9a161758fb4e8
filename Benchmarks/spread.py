#!/usr/bin/env python3
"""Run-to-run spread of the gate's metrics, for choosing thresholds.

Reads package-benchmark influx exports (`baseline read --format influx`) of
several runs of the same suites (`scripts/perf-gate.sh --spread N` writes
them) and prints, per benchmark and metric, the value of every run at the
percentile the gate checks and the spread between runs: (worst - best) /
best in percent, the noise a threshold must stay above. p0 is the best
iteration (package-benchmark orders larger-is-better metrics so that p0 is
the largest), p50 the median.
"""
import sys
from collections import defaultdict

PERCENTILES = ("0.0", "50.0")


def values(path):
    """{(benchmark, metric, percentile): value} from one influx export."""
    out = {}
    for line in open(path):
        fields = line.rstrip("\n").split(",")
        if line.startswith("#") or len(fields) < 11 or fields[0] == "measurement":
            continue
        metric, test, percentile, value = fields[6], fields[8], fields[9], fields[10]
        if percentile in PERCENTILES:
            out[(test, metric, percentile)] = float(value)
    return out


def kind(metric):
    lowered = metric.lower()
    if "malloc" in lowered:
        return "mallocCountTotal"
    if "resident" in lowered:
        return "peak_resident_kb"
    return "time-derived"


def spread(runs):
    low, high = min(runs), max(runs)
    if high == 0:
        return 0.0
    return (high - low) / max(low, 1e-12) * 100


def main(paths):
    runs = defaultdict(list)
    for path in sorted(paths):
        for key, value in values(path).items():
            runs[key].append(value)
    rows = defaultdict(dict)
    for (test, metric, percentile), vals in runs.items():
        rows[(test, metric)][percentile] = vals
    widest = defaultdict(float)
    print("| benchmark | metric | p0 of each run | p0 spread | p50 of each run | p50 spread |")
    print("|---|---|---|---:|---|---:|")
    for (test, metric), by_percentile in sorted(rows.items()):
        cells = []
        for percentile in PERCENTILES:
            vals = by_percentile.get(percentile, [])
            s = spread(vals) if vals else 0.0
            widest[(kind(metric), percentile)] = max(widest[(kind(metric), percentile)], s)
            cells += [", ".join(f"{v:.6g}" for v in vals), f"{s:.1f} %"]
        print(f"| {test} | {metric} | " + " | ".join(cells) + " |")
    print()
    print("| metric kind | widest p0 spread | widest p50 spread |")
    print("|---|---:|---:|")
    for metric_kind in sorted({k for k, _ in widest}):
        print(f"| {metric_kind} | {widest[(metric_kind, '0.0')]:.1f} % | {widest[(metric_kind, '50.0')]:.1f} % |")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: spread.py RUN.influx.csv ...")
    main(sys.argv[1:])
