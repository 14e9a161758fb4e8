#!/usr/bin/env python3
"""Self-check of moto_stack.py, driven the way a sweep drives it: spawns the
harness, uploads small partitions, runs executions and prints one JSON
report (exit 1 when a check fails).

  stack_check.py --binary BIN [--samples 48] [--ranks 3]

Checks: an execution reaches SUCCEEDED with {rank}.json and
combined_data.json in S3 and a REPORT line per rank whose request id is the
rank JSON's lambda_request_id; a second execution works (warm); a new
MemorySize makes the next ranks cold with that memory; a throttled function
still finishes (Step Functions retries the 429); `fail-rank N` fails that
rank while the execution finishes; a handler error and an init error come
back as Unhandled function errors; stdin EOF leaves no worker behind. Also
measured: time to ready, where each execution's wall time went (from the
log timestamps) and the per-invoke overhead (boto3 Invoke wall minus the
REPORT Duration, warm).
"""

import argparse
import base64
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time

import boto3

HERE = os.path.dirname(os.path.abspath(__file__))
STACK, DATA, RESULTS = "cbcheck", "cosmicai-data", "cosmicai-results"
DATA_PREFIX, RESULTS_PREFIX = "25MB", "Anomaly Detection"
REPORT = re.compile(r"^REPORT RequestId: (?P<id>\S+)\tDuration: (?P<duration>\d+\.\d\d) ms\t"
                    r"Billed Duration: (?P<billed>\d+) ms\tMemory Size: (?P<memory>\d+) MB\t"
                    r"Max Memory Used: (?P<used>\d+) MB(\tInit Duration: (?P<init>\d+\.\d\d) ms)?$")


def slice_partition(source, destination, start, count):
    """Rows [start, start+count) of every per-sample tensor of a safetensors file."""
    with open(source, "rb") as handle:
        length = struct.unpack("<Q", handle.read(8))[0]
        header = json.loads(handle.read(length))
        base = 8 + length
        metadata = header.pop("__metadata__", None)
        leading = [t["shape"][0] for t in header.values() if t["shape"]]
        samples = max(set(leading), key=leading.count)
        out_header, chunks, offset = {}, [], 0
        for name, tensor in sorted(header.items(), key=lambda item: item[1]["data_offsets"][0]):
            begin, end = tensor["data_offsets"]
            handle.seek(base + begin)
            data = handle.read(end - begin)
            shape = list(tensor["shape"])
            if shape and shape[0] == samples:
                row = len(data) // samples
                data = data[start * row:(start + count) * row]
                shape[0] = count
            out_header[name] = {"dtype": tensor["dtype"], "shape": shape, "data_offsets": [offset, offset + len(data)]}
            chunks.append(data)
            offset += len(data)
    if metadata is not None:
        out_header["__metadata__"] = metadata
    text = json.dumps(out_header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(destination, "wb") as handle:
        handle.write(struct.pack("<Q", len(text)) + text + b"".join(chunks))


def make_partitions(binary, directory, ranks, samples):
    full = os.path.join(directory, "full")
    subprocess.run([binary, "data", "generate", "--partition", "25MB", "--files", "1", "--out", full],
                   check=True, capture_output=True)
    names = []
    for index in range(ranks):
        name = f"{index + 1}.safetensors"
        slice_partition(os.path.join(full, "1.safetensors"), os.path.join(directory, name), index * samples, samples)
        names.append(name)
    return names


class Harness:
    """moto_stack.py as a child process, as the Swift test runs it."""

    def __init__(self, binary, extra=()):
        started = time.monotonic()
        self.process = subprocess.Popen(
            [sys.executable, os.path.join(HERE, "moto_stack.py"), "--binary", binary, "--stack", STACK,
             "--data-bucket", DATA, "--results-bucket", RESULTS, "--data-prefix", DATA_PREFIX + "/",
             "--results-prefix", RESULTS_PREFIX + "/", *extra],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        line = self.process.stdout.readline()
        if not line:
            raise SystemExit(f"moto_stack.py exited {self.process.wait()} before announcing")
        self.info = json.loads(line)
        self.ready_seconds = time.monotonic() - started

    def command(self, line):
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()
        return json.loads(self.process.stdout.readline())

    def close(self, timeout=30):
        self.process.stdin.close()
        started = time.monotonic()
        code = self.process.wait(timeout)
        return code, time.monotonic() - started

    def client(self, service, admin=False):
        prefix = "admin_" if admin else ""
        return boto3.client(service, endpoint_url=self.info["endpoint"], region_name=self.info["region"],
                            aws_access_key_id=self.info[prefix + "access_key_id"],
                            aws_secret_access_key=self.info[prefix + "secret_access_key"])


def payload(result_path, files, batch=16):
    return {"bucket": RESULTS, "file_limit": files, "batch_size": batch, "object_type": "folder",
            "S3_object_name": RESULTS_PREFIX, "script": "inference.py", "result_path": result_path,
            "data_bucket": DATA, "data_prefix": DATA_PREFIX}


def run_execution(harness, sfn, s3, name, files):
    """One execution to its end: status, wall seconds, rank JSONs, combined."""
    result_path = f"{RESULTS_PREFIX}/{name}"
    started, started_wall = time.monotonic(), int(time.time() * 1000)
    arn = sfn.start_execution(stateMachineArn=harness.info["state_machine_arn"],
                              input=json.dumps(payload(result_path, files)))["executionArn"]
    while True:
        described = sfn.describe_execution(executionArn=arn)
        if described["status"] != "RUNNING":
            break
        time.sleep(0.05)
    wall = time.monotonic() - started
    ranks = {}
    for rank in range(files):
        try:
            ranks[rank] = json.loads(s3.get_object(Bucket=RESULTS, Key=f"{result_path}/{rank}.json")["Body"].read())
        except s3.exceptions.NoSuchKey:
            ranks[rank] = None
    try:
        combined = json.loads(s3.get_object(Bucket=RESULTS, Key=f"{result_path}/combined_data.json")["Body"].read())
    except s3.exceptions.NoSuchKey:
        combined = None
    window = (started_wall, int(time.time() * 1000) + 1)
    return {"arn": arn, "status": described["status"], "wall_seconds": round(wall, 3), "ranks": ranks, "window": window,
            "combined": combined, "output": described.get("output"), "error": described.get("error")}


def reports(logs, group):
    """REPORT lines of a log group by request id (FilterLogEvents, paginated)."""
    found, kwargs = {}, {"logGroupName": group, "filterPattern": "REPORT"}
    while True:
        page = logs.filter_log_events(**kwargs)
        for event in page["events"]:
            match = REPORT.match(event["message"])
            if match:
                found[match["id"]] = match.groupdict()
        if not page.get("nextToken"):
            return found
        kwargs["nextToken"] = page["nextToken"]


def phases(logs, groups, window):
    """Where an execution's wall time went, from the log timestamps (ms):
    each step's invokes (first START to last END) and the gaps between them,
    which are the engine's and the harness's (with any cold start's init)."""
    spans = {}
    for step in ("initialize", "rank", "summarize"):
        events = logs.filter_log_events(logGroupName=groups[step], startTime=window[0], endTime=window[1])["events"]
        starts = [e["timestamp"] for e in events if e["message"].startswith("START ")]
        ends = [e["timestamp"] for e in events if e["message"].startswith("END ")]
        if not starts or not ends:
            return None
        spans[step] = (min(starts), max(ends))
    return {"initialize_ms": spans["initialize"][1] - spans["initialize"][0],
            "ranks_ms": spans["rank"][1] - spans["rank"][0],
            "summarize_ms": spans["summarize"][1] - spans["summarize"][0],
            "start_to_initialize_ms": spans["initialize"][0] - window[0],
            "initialize_to_ranks_ms": spans["rank"][0] - spans["initialize"][1],
            "ranks_to_summarize_ms": spans["summarize"][0] - spans["rank"][1],
            "summarize_to_seen_done_ms": window[1] - spans["summarize"][1]}


def worker_pids(binary):
    """Live `BIN lambda` processes (to show none outlives the harness)."""
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as handle:
                    argv = handle.read().split(b"\0")
            except OSError:
                continue
            if len(argv) >= 2 and argv[0] == binary.encode() and argv[1] == b"lambda":
                pids.append(int(entry))
    return pids


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", required=True)
    parser.add_argument("--ranks", type=int, default=3)
    parser.add_argument("--samples", type=int, default=48, help="samples per partition")
    args = parser.parse_args()
    binary = os.path.abspath(args.binary)
    failures, report = [], {}

    def check(ok, what):
        if not ok:
            failures.append(what)
        return ok

    work = tempfile.mkdtemp(prefix="stack-check-")
    names = make_partitions(binary, work, args.ranks, args.samples)
    harness = Harness(binary)
    report["ready_seconds"] = round(harness.ready_seconds, 3)
    try:
        for name in names:
            harness.client("s3", admin=True).upload_file(os.path.join(work, name), DATA, f"{DATA_PREFIX}/{name}")
        sfn, s3, logs, lam = (harness.client(s) for s in ("stepfunctions", "s3", "logs", "lambda"))
        rank_fn, rank_group = harness.info["functions"]["rank"], harness.info["log_groups"]["rank"]
        admin_logs = harness.client("logs", admin=True)  # the sweeper may only FilterLogEvents, which suffices
        check(sfn.list_state_machines()["stateMachines"][0]["stateMachineArn"] == harness.info["state_machine_arn"],
              "ListStateMachines shows the stack's machine")

        def judged(name, memory, expect_cold=None, failed_rank=None):
            execution = run_execution(harness, sfn, s3, name, args.ranks)
            found = reports(logs, rank_group)
            summary = {"status": execution["status"], "wall_seconds": execution["wall_seconds"], "ranks": {},
                       "phases": phases(admin_logs, harness.info["log_groups"], execution["window"])}
            check(execution["status"] == "SUCCEEDED", f"{name}: status {execution['status']} {execution['error']}")
            check(execution["combined"] is not None, f"{name}: combined_data.json written")
            for rank, body in execution["ranks"].items():
                if rank == failed_rank:
                    check(body is None, f"{name}: the killed rank {rank} wrote no JSON")
                    continue
                if not check(body is not None, f"{name}: {rank}.json written"):
                    continue
                line = found.get(body.get("lambda_request_id"))
                check(line is not None, f"{name}: REPORT line for rank {rank}'s request id")
                if line is None:
                    continue
                cold = line["init"] is not None
                summary["ranks"][rank] = {"cold": cold, "duration_ms": float(line["duration"]),
                                          "init_ms": line["init"] and float(line["init"]),
                                          "max_memory_used_mb": int(line["used"]),
                                          "process_seconds": body.get("process_seconds")}
                check(int(line["memory"]) == memory == body.get("lambda_memory_mb"),
                      f"{name}: rank {rank} memory {line['memory']} / {body.get('lambda_memory_mb')}, want {memory}")
                check(cold == bool(body.get("cold_start")), f"{name}: rank {rank} Init Duration iff cold_start")
                if expect_cold is not None:
                    check(cold == expect_cold(rank, cold), f"{name}: rank {rank} cold={cold}")
            if failed_rank is not None and execution["combined"] is not None:
                entry = [r for r in execution["combined"] if r.get("rank") == failed_rank]
                check(entry and entry[0].get("status") == "failed", f"{name}: combined marks rank {failed_rank} failed")
            return summary

        report["first"] = judged("check-1", 1769)
        report["second_warm"] = judged("check-2", 1769, expect_cold=lambda rank, cold: False)

        updated = lam.update_function_configuration(FunctionName=rank_fn, MemorySize=2048)
        config = lam.get_function_configuration(FunctionName=rank_fn)
        check(updated["MemorySize"] == 2048 and config["MemorySize"] == 2048, "MemorySize reads back 2048")
        check(config["State"] == "Active" and config["LastUpdateStatus"] == "Successful",
              f"State {config['State']} / LastUpdateStatus {config.get('LastUpdateStatus')}")
        alive = harness.command("stats")["environments_alive"][rank_fn]
        check(alive == 0, f"rank environments retired after the update ({alive} alive)")
        report["after_update"] = judged("check-3", 2048)
        colds = [r["cold"] for r in report["after_update"]["ranks"].values()]
        check(colds and colds.count(True) >= 1 and all(colds[:1]), "first rank after the update is cold")

        admin_lambda = harness.client("lambda", admin=True)
        admin_lambda.put_function_concurrency(FunctionName=rank_fn, ReservedConcurrentExecutions=1)
        before = harness.command("stats")["throttled"]
        report["throttled_run"] = judged("check-4", 2048)
        report["throttled_run"]["throttles"] = harness.command("stats")["throttled"] - before
        check(report["throttled_run"]["throttles"] > 0, "reserved concurrency 1 throttled a rank")
        admin_lambda.delete_function_concurrency(FunctionName=rank_fn)

        faulted = min(1, args.ranks - 1)
        check(harness.command(f"fail-rank {faulted}")["ok"], "fail-rank accepted")
        report["fault"] = judged("check-5", 2048, failed_rank=faulted)
        exit_errors = logs.filter_log_events(logGroupName=rank_group, filterPattern='"Runtime.ExitError"')["events"]
        check(len(exit_errors) >= 1, "the killed runtime's Runtime.ExitError is in the rank log group")
        check(harness.command("clear-faults")["fail_ranks"] == [], "clear-faults")
        report["after_fault"] = judged("check-6", 2048)

        # Per-invoke overhead: warm idle-rank invokes through moto and the hook.
        event = json.dumps({"rank": 0, "files": [], "payload": payload(f"{RESULTS_PREFIX}/overhead", args.ranks)})
        overheads = []
        for _ in range(10):
            started = time.monotonic()
            answer = admin_lambda.invoke(FunctionName=rank_fn, Payload=event.encode(), LogType="Tail")
            wall_ms = (time.monotonic() - started) * 1000.0
            answer["Payload"].read()
            tail = base64.b64decode(answer["LogResult"]).decode()
            duration = float(re.search(r"\tDuration: ([\d.]+) ms", tail).group(1))
            overheads.append(wall_ms - duration)
        overheads.sort()
        report["invoke_overhead_ms"] = {"median": round(overheads[len(overheads) // 2], 2),
                                        "min": round(overheads[0], 2), "max": round(overheads[-1], 2)}

        # A handler error and an init error come back as Unhandled function errors.
        bad = json.dumps({"rank": 0, "files": ["77.safetensors"],
                          "payload": payload(f"{RESULTS_PREFIX}/bad", args.ranks)}).encode()
        answer = admin_lambda.invoke(FunctionName=rank_fn, Payload=bad)
        report["handler_error"] = {"function_error": answer.get("FunctionError"),
                                   "payload": json.loads(answer["Payload"].read())}
        check(answer.get("FunctionError") == "Unhandled" and "errorType" in report["handler_error"]["payload"],
              "a handler error is an Unhandled function error")
        summarize_fn = harness.info["functions"]["summarize"]
        variables = admin_lambda.get_function_configuration(FunctionName=summarize_fn)["Environment"]["Variables"]
        admin_lambda.update_function_configuration(FunctionName=summarize_fn, Environment={
            "Variables": dict(variables, COSMICBENCH_HANDLER="bogus")})
        answer = admin_lambda.invoke(FunctionName=summarize_fn, Payload=b"{}")
        report["init_error"] = {"function_error": answer.get("FunctionError"),
                                "payload": json.loads(answer["Payload"].read())}
        check(answer.get("FunctionError") == "Unhandled", "an init error is an Unhandled function error")
        admin_lambda.update_function_configuration(FunctionName=summarize_fn, Environment={"Variables": variables})
        report["stats"] = harness.command("stats")
        report["unknown_command"] = harness.command("bogus")
        check(report["unknown_command"]["ok"] is False, "unknown command answered")
        pids = worker_pids(binary)
        report["workers_before_eof"] = len(pids)
    finally:
        code, seconds = harness.close()
        shutil.rmtree(work, ignore_errors=True)
    time.sleep(0.5)
    left = [pid for pid in pids if os.path.exists(f"/proc/{pid}") and pid in worker_pids(binary)]
    report["exit"] = {"code": code, "seconds": round(seconds, 3), "workers_left": left}
    check(code == 0, f"harness exit code {code}")
    check(not left, f"workers outlived the harness: {left}")
    report["failures"] = failures
    sys.stdout.write(json.dumps(report, sort_keys=True, default=str) + "\n")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
