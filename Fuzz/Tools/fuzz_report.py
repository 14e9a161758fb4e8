#!/usr/bin/env python3
"""Turns libFuzzer logs into the figures of results/fuzz (called by scripts/fuzz.sh).

  fuzz_report.py summary LOG REPLAY_LOG TARGET [WALL_SECONDS]  -> one line: executions, crashes, slowest, peak
  fuzz_report.py record  LOG REPLAY_LOG OUT.json key=value...   -> the run as JSON (atomic write)
  fuzz_report.py table   DIR            -> DIR/README.md from every DIR/*.json (atomic write)

LOG is the fuzzing run's output (with -print_final_stats=1); REPLAY_LOG is the
output of running the fuzzer once on every corpus file, whose "Executed FILE in
N ms" lines give the slowest input to the millisecond (libFuzzer's own
slowest_unit_time_sec counts whole seconds).
"""

import glob
import json
import os
import re
import sys
import tempfile

ARTIFACT = re.compile(r"Test unit written to (\S+)")
EXECUTED = re.compile(r"^Executed (.+) in (\d+) ms$", re.M)


SPURIOUS = re.compile(r"^fuzz: spurious timeout (\S+)", re.M)


def stat(text, name, combine):
    """A final-stats figure over every segment of the run (sum or max)."""
    found = [int(v) for v in re.findall(r"^stat::%s:\s+(\d+)" % name, text, re.M)]
    return combine(found) if found else None


def parse(log_path, replay_path, wall_seconds=None):
    with open(log_path, errors="replace") as f:
        text = f.read()
    replay = ""
    if replay_path and os.path.exists(replay_path):
        with open(replay_path, errors="replace") as f:
            replay = f.read()
    spurious = SPURIOUS.findall(text)
    artifacts = [a for a in ARTIFACT.findall(text) if os.path.basename(a) not in spurious]
    times = [(int(ms), path) for path, ms in EXECUTED.findall(replay)]
    slowest_ms, slowest_file = max(times) if times else (None, None)
    kinds = sorted({os.path.basename(a).split("-")[0] for a in artifacts})
    executions = stat(text, "number_of_executed_units", sum)
    rate = stat(text, "average_exec_per_sec", max)
    if executions is not None and wall_seconds:
        rate = executions // max(int(wall_seconds), 1)
    return {
        "executions": executions,
        "exec_per_second": rate,
        "new_units": stat(text, "new_units_added", sum),
        "slowest_unit_seconds_libfuzzer": stat(text, "slowest_unit_time_sec", max),
        "peak_rss_mb": stat(text, "peak_rss_mb", max),
        "spurious_timeouts": spurious,
        "crashes": len(artifacts),
        "failure_kinds": kinds,
        "artifacts": artifacts,
        "sanitizer_reports": len(re.findall(r"^==\d+==ERROR: AddressSanitizer", text, re.M)),
        "replayed_inputs": len(times),
        "slowest_input_ms": slowest_ms,
        "slowest_input_file": slowest_file,
    }


def write_atomic(path, text):
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=directory, prefix=".tmp-")
    with os.fdopen(fd, "w") as out:
        out.write(text)
    os.chmod(temp, 0o644)
    os.replace(temp, path)


def summary(figures, target):
    def show(value, unit=""):
        return "?" if value is None else "%s%s" % (value, unit)
    spurious = len(figures["spurious_timeouts"])
    return ("%s: %s executions (%s/s), %d crashes%s, slowest input %s, peak RSS %s%s"
            % (target, show(figures["executions"]), show(figures["exec_per_second"]), figures["crashes"],
               " (" + ", ".join(figures["failure_kinds"]) + ")" if figures["failure_kinds"] else "",
               show(figures["slowest_input_ms"], " ms"), show(figures["peak_rss_mb"], " MB"),
               ", %d load-induced timeouts re-timed and passed" % spurious if spurious else ""))


def table(directory):
    rows = []
    for path in sorted(glob.glob(os.path.join(directory, "*.json"))):
        with open(path) as f:
            rows.append(json.load(f))
    lines = [
        "# Fuzzing results",
        "",
        "Written by `scripts/fuzz.sh` from its own runs (libFuzzer + AddressSanitizer, "
        "`-timeout=1 -rss_limit_mb=2048 -malloc_limit_mb=1024`); do not edit by hand. "
        "*Slowest input* replays every corpus input once after the run and takes the slowest "
        "(libFuzzer itself counts whole seconds; any input of 1 s or more would have been "
        "a timeout failure). A timeout that takes under half the limit on three re-timings in a "
        "fresh process is counted as the shared machine's stall, not the input's (column *re-timed*), "
        "and the run continues. Details per target in `<target>.json`.",
        "",
        "| target | executions | exec/s | crashes | slowest input | peak RSS | re-timed | date | commit | command |",
        "|---|---:|---:|---:|---:|---:|---:|---|---|---|",
    ]
    for r in rows:
        slowest = "?" if r.get("slowest_input_ms") is None else "%d ms" % r["slowest_input_ms"]
        lines.append("| %s | %s | %s | %d | %s | %s MB | %d | %s | `%s` | `%s` |" % (
            r["target"], format(r["executions"] or 0, ","), format(r["exec_per_second"] or 0, ","), r["crashes"],
            slowest, r["peak_rss_mb"], len(r.get("spurious_timeouts", [])), r["date"], r["commit"], r["command"]))
    environments = sorted({r.get("environment", "") for r in rows})
    lines += ["", "Environment: " + "; ".join(e for e in environments if e), ""]
    crashes_root = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "Crashes")
    found = sorted(glob.glob(os.path.join(crashes_root, "*", "*")))
    lines += ["## Crashes found", ""]
    if not found:
        lines.append("None so far.")
    lines += ["- `Fuzz/Crashes/%s` (%d bytes)" % (os.path.relpath(path, crashes_root), os.path.getsize(path))
              for path in found]
    lines += ["", "Each is replayed by a regression test that requires a clean error (`FuzzRegressionTests` for sweep specs, `S3ListingParserTests` for listings, `LambdaEventFuzzRegressionTests` and `NextInvocationFuzzRegressionTests` for Lambda events) and by its harness in `scripts/fuzz-ci.sh`.", ""]
    write_atomic(os.path.join(directory, "README.md"), "\n".join(lines))


def main(argv):
    if len(argv) >= 3 and argv[0] == "summary":
        figures = parse(argv[1], argv[2], argv[4] if len(argv) > 4 else None)
        print(summary(figures, argv[3] if len(argv) > 3 else "fuzz"))
    elif len(argv) >= 4 and argv[0] == "record":
        extra = dict(item.split("=", 1) for item in argv[4:])
        figures = parse(argv[1], argv[2], extra.get("wall_seconds"))
        for key in ("seconds_limit", "wall_seconds", "exit_code"):
            if key in extra:
                extra[key] = int(extra[key])
        record = dict(extra, **figures)
        write_atomic(argv[3], json.dumps(record, indent=2, sort_keys=True) + "\n")
    elif len(argv) == 2 and argv[0] == "table":
        table(argv[1])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
