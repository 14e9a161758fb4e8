#!/usr/bin/env python3
"""Replays the committed fuzz-lambda-event inputs through real `cosmicbench lambda` workers.

  replay_lambda_events.py --binary PATH [--crashes DIR]

Each input is what the fuzz harness reads: optional header lines, a blank
line, the event. Only the event is replayed here (the Runtime API headers are
the fake's own; LambdaRuntimeTests replay the headers). One worker per
handler (initialize, rank, summarize), each behind its own fake Runtime API
(scripts/aws-harness/fake_runtime_api.py), scoped to buckets no committed
input names and with S3 at a closed port, so every input is answered before
any S3 call (a valid payload as out of scope). Prints
one JSON object: per handler, per input, the worker's answer (status,
errorType, errorMessage), then whether the worker still answers an ordinary
event afterwards and its exit code (null while it runs). The test
(CAIWorkloadTests.LambdaEventFuzzRegressionTests) judges.
"""

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "scripts", "aws-harness"))
import fake_runtime_api  # noqa: E402

HANDLERS = ("initialize", "rank", "summarize")
# A well-formed event each handler rejects (no S3 needed): proves the worker is still serving.
SENTINEL = b'{"rank": "zero"}'


def event_of(data):
    """The body after the first blank line, or the whole input when it has none (as the harness splits it)."""
    for i in range(len(data) - 1):
        if data[i:i + 2] == b"\n\n":
            return data[i + 2:]
        if data[i:i + 4] == b"\r\n\r\n":
            return data[i + 4:]
    return data


def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def answer(result):
    body = result.get("errorBody") or {}
    return {"status": result.get("status"), "errorType": body.get("errorType") or result.get("errorType"),
            "errorMessage": body.get("errorMessage")}


def replay(binary, handler, inputs):
    api = fake_runtime_api.FakeRuntimeAPI()
    api.start()
    env = dict(os.environ)
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        env.pop(name, None)
    env.update({
        "AWS_LAMBDA_RUNTIME_API": api.address, "COSMICBENCH_HANDLER": handler,
        "AWS_ACCESS_KEY_ID": "AKIDFUZZREPLAY", "AWS_SECRET_ACCESS_KEY": "fuzz-replay", "AWS_REGION": "us-east-1",
        "AWS_ENDPOINT_URL_S3": "http://127.0.0.1:%d" % closed_port(), "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "2048",
        "COSMICBENCH_THREADS": "1",
        "COSMICBENCH_DATA_BUCKET": "fuzz-replay-data", "COSMICBENCH_RESULTS_BUCKET": "fuzz-replay-results",
    })
    log = tempfile.TemporaryFile()
    process = subprocess.Popen([binary, "lambda"], env=env, stdout=log, stderr=subprocess.STDOUT)
    report = {"inputs": {}}
    try:
        for name, data in inputs:
            report["inputs"][name] = answer(api.invoke(event_of(data), timeout_ms=60_000))
        report["after"] = answer(api.invoke(SENTINEL, timeout_ms=60_000))
        report["exit"] = process.poll()
    finally:
        api.stop()
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        log.seek(0)
        report["log"] = log.read().decode("utf-8", "replace")[-3000:]
        log.close()
    return report


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--binary", required=True)
    parser.add_argument("--crashes", default=os.path.join(ROOT, "Fuzz", "Crashes", "fuzz-lambda-event"))
    args = parser.parse_args()
    inputs = []
    for name in sorted(os.listdir(args.crashes)):
        with open(os.path.join(args.crashes, name), "rb") as f:
            inputs.append((name, f.read()))
    print(json.dumps({handler: replay(args.binary, handler, inputs) for handler in HANDLERS}))


if __name__ == "__main__":
    main()
