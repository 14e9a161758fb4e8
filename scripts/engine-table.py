#!/usr/bin/env python3
"""Markdown tables from the runs of scripts/engine-compare.sh.

For each configuration (before/after/auto × threads) it takes the run with the
median samples/s and prints throughput, the sgemm roofline measured in the
same run, and the per-stage split (`bench --stages`). Prints to stdout.

    python3 scripts/engine-table.py results/engine
"""
import pathlib
import re
import statistics
import sys

HEAD = re.compile(r"^([\d.]+) samples/s\s+([\d.]+) GFLOP/s.*?(\d+) thread\(s\) (\w+)\s+OpenBLAS (\S+) × (\d+)\s+peak RSS (\d+) MB")
STAGE = re.compile(r"^\s+(\w+) ×(\d+)\s+([\d.]+) ms/sample\s+([\d.]+)%")
ROOF = re.compile(r"^sgemm roofline ([\d.]+) GFLOP/s.*model at (\d+)% of it")


def parse(path):
    run = {"stages": {}, "file": path.name}
    for line in path.read_text().splitlines():
        if m := HEAD.match(line):
            run.update(sps=float(m[1]), gflops=float(m[2]), threads=int(m[3]), mode=m[4], core=m[5], rss=int(m[7]))
        elif m := STAGE.match(line):
            run["stages"][m[1]] = (float(m[3]), float(m[4]))
        elif m := ROOF.match(line):
            run.update(sgemm=float(m[1]))
    return run


def main():
    root = pathlib.Path(sys.argv[1])
    runs = {}
    for path in sorted(root.glob("*-t*-r*.txt")):
        label, threads, _ = path.stem.split("-")
        runs.setdefault((label, threads), []).append(parse(path))
    chosen = {}
    for key, group in runs.items():
        group.sort(key=lambda r: r["sps"])
        chosen[key] = group[len(group) // 2]
        chosen[key]["all"] = [r["sps"] for r in group]
    names = {"before": "before (session start, 010a07f)", "after": "after", "auto": "after, `--blas-core auto`"}
    print("| engine | threads | OpenBLAS kernel | samples/s (median run) | all runs | model GFLOP/s | sgemm 1536³ GFLOP/s | of roofline | peak RSS MB |")
    print("|---|---:|---|---:|---|---:|---:|---:|---:|")
    for label in ("before", "after", "auto"):
        for threads in ("t1", "t2"):
            r = chosen.get((label, threads))
            if not r:
                continue
            fraction = r["gflops"] / r["sgemm"]
            print(f"| {names[label]} | {r['threads']} ({r['mode']}) | {r['core']} | {r['sps']:.1f} | "
                  f"{', '.join(f'{x:.0f}' for x in r['all'])} | {r['gflops']:.1f} | {r['sgemm']:.1f} | "
                  f"{fraction:.0%} | {r['rss']} |")
    print()
    # `bench --stages` times each stage alone on one workspace and one thread,
    # so only the 1-thread runs' split is shown.
    for threads in ("t1",):
        before, after = chosen.get(("before", threads)), chosen.get(("after", threads))
        if not (before and after):
            continue
        print(f"Stages, each timed alone on one thread (ms per sample, share of the sum), "
              f"from {before['file']} and {after['file']}:\n")
        print("| stage | before ms | before % | after ms | after % | after / before |")
        print("|---|---:|---:|---:|---:|---:|")
        for stage, (ms0, share0) in before["stages"].items():
            ms1, share1 = after["stages"].get(stage, (float("nan"), float("nan")))
            print(f"| {stage} | {ms0:.3f} | {share0:.1f}% | {ms1:.3f} | {share1:.1f}% | {ms1 / ms0:.2f} |")
        total0 = sum(v[0] for v in before["stages"].values())
        total1 = sum(v[0] for v in after["stages"].values())
        print(f"| **sum** | {total0:.3f} | | {total1:.3f} | | {total1 / total0:.2f} |\n")


if __name__ == "__main__":
    main()
