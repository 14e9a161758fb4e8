#!/usr/bin/env python3
"""Pipeline efficiency of a quick sweep, for scripts/perf-gate.sh.

Efficiency of a configuration = its ranks' median samples/s (inference,
from summary.csv) over the model-only samples/s that `cosmicbench bench`
measured in the same gate run, just before and just after the sweep. Both
come from one run on one machine, so a slower or busier machine cancels
out; what is left is what the pipeline adds around the model (reading the
partition, the batch loop, page faults). The model's own speed is gated by
the callgrind count and the package benchmarks.

  sweep_efficiency.py measure SUMMARY_CSV REFERENCE_SPS          -> TSV on stdout
  sweep_efficiency.py check BASELINE_TSV SUMMARY_CSV REFERENCE_SPS TOLERANCE
      Markdown table on stdout; exit 1 when a configuration's efficiency
      fell by more than TOLERANCE (as a factor: 0.25 = 1.25x slower), 2 on bad input.
"""
import csv
import sys


def efficiencies(summary_path, reference):
    if reference <= 0:
        sys.exit(f"sweep_efficiency: reference samples/s must be positive, got {reference}")
    result = {}
    with open(summary_path, newline="") as handle:
        for row in csv.DictReader(handle):
            config = row["config_id"]
            if config in result:
                continue
            if row["status"] != "ok":
                sys.exit(f"sweep_efficiency: {summary_path}: configuration {config} is {row['status']}")
            rate = row.get("measured_rank_samples_per_s") or ""
            if not rate:
                sys.exit(f"sweep_efficiency: {summary_path}: {config} has no measured_rank_samples_per_s")
            result[config] = float(rate) / reference
    if not result:
        sys.exit(f"sweep_efficiency: {summary_path} holds no configuration")
    return result


def read_baseline(path):
    baseline = {}
    with open(path) as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip() or line.startswith("#"):
                continue
            fields = line.split("\t")
            if len(fields) != 2:
                sys.exit(f"sweep_efficiency: {path}:{number}: expected 'config<TAB>efficiency'")
            baseline[fields[0]] = float(fields[1])
    return baseline


def main(argv):
    if len(argv) == 4 and argv[1] == "measure":
        for config, value in efficiencies(argv[2], float(argv[3])).items():
            print(f"{config}\t{value:.4f}")
        return 0
    if len(argv) == 6 and argv[1] == "check":
        baseline = read_baseline(argv[2])
        new = efficiencies(argv[3], float(argv[4]))
        tolerance = float(argv[5])
        print("| configuration | baseline efficiency | new efficiency | slowdown | threshold | verdict |")
        print("|---|---:|---:|---:|---:|---|")
        regressed = False
        compared = 0
        for config, base in baseline.items():
            if config not in new:
                print(f"| {config} | {base:.3f} | missing | | | REGRESSION |")
                regressed = True
                continue
            compared += 1
            slowdown = base / new[config]
            verdict = "ok"
            if slowdown - 1 > tolerance:
                verdict, regressed = "REGRESSION", True
            elif 1 / slowdown - 1 > tolerance:
                verdict = "improvement"
            print(f"| {config} | {base:.3f} | {new[config]:.3f} | {slowdown:.3f}x | {1 + tolerance:.2f}x | {verdict} |")
        if compared == 0:
            print("sweep_efficiency: no configuration compared", file=sys.stderr)
            return 2
        return 1 if regressed else 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
