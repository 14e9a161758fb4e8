#!/usr/bin/env python3
"""Drives the real `cosmicbench` binary against loopback AWS peers and
prints one JSON object of what it observed (the Swift tests judge it).

  pipeline_check.py SCENARIO --binary PATH --partitions DIR [--prefix 25MB]

DIR holds partitions 1.safetensors, 2.safetensors, ... They are uploaded to
moto's S3 (signatures and IAM enforced, see moto_s3.py) under
cosmicai-data/PREFIX/ and, outside the worker's policy, forbidden/. The
worker's credentials may read PREFIX/* and write "Anomaly Detection/*".

Scenarios:
  s3-run    `cosmicbench run PAYLOAD --storage s3` (good, read refused,
            write refused, wrong secret) and the same payload on local folders;
            with --only-good just the first.
  lambda    `cosmicbench lambda` processes behind fake Runtime APIs: the
            initializer, the rank handler (cold, warm, a handler error), the
            summarizer, a deadline, an init error.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import fake_runtime_api  # noqa: E402
import moto_s3  # noqa: E402

import boto3  # noqa: E402

DATA_BUCKET = "cosmicai-data"
RESULTS_BUCKET = "cosmicai-results"
RESULTS_PREFIX = "Anomaly Detection"
FORBIDDEN_PREFIX = "forbidden"


def partition_names(directory):
    names = [n for n in os.listdir(directory) if n.endswith(".safetensors") or n.endswith(".pt")]
    return sorted(names, key=lambda n: int(n.split(".")[0]))


def start_s3(partitions, prefix):
    def upload(endpoint, session):
        s3 = session.client("s3", endpoint_url=endpoint)
        for name in partition_names(partitions):
            for where in (prefix, FORBIDDEN_PREFIX):
                s3.upload_file(os.path.join(partitions, name), DATA_BUCKET, f"{where}/{name}")
    return moto_s3.start(0, DATA_BUCKET, RESULTS_BUCKET, prefix, RESULTS_PREFIX, before_auth=upload)


def worker_environment(info, secret=None, user=""):
    env = dict(os.environ)
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        env.pop(name, None)
    env.update({
        "AWS_ACCESS_KEY_ID": info[user + "access_key_id"],
        "AWS_SECRET_ACCESS_KEY": secret or info[user + "secret_access_key"],
        "AWS_REGION": info["region"], "AWS_ENDPOINT_URL_S3": info["endpoint"],
    })
    return env


def admin_client(info):
    return boto3.client("s3", endpoint_url=info["endpoint"], region_name=info["region"],
                        aws_access_key_id=info["admin_access_key_id"],
                        aws_secret_access_key=info["admin_secret_access_key"])


def keys_under(admin, prefix):
    pages = admin.get_paginator("list_objects_v2").paginate(Bucket=RESULTS_BUCKET, Prefix=prefix)
    return sorted(obj["Key"] for page in pages for obj in page.get("Contents", []))


def get_text(admin, key):
    return admin.get_object(Bucket=RESULTS_BUCKET, Key=key)["Body"].read().decode("utf-8")


def payload(prefix, result_path, files, batch=16, data_prefix=None):
    return {
        "bucket": RESULTS_BUCKET, "file_limit": files, "batch_size": batch, "object_type": "folder",
        "S3_object_name": RESULTS_PREFIX, "script": "inference.py", "result_path": result_path,
        "data_bucket": DATA_BUCKET, "data_prefix": data_prefix or prefix,
    }


def run_cli(binary, arguments, env, cwd):
    started = time.monotonic()
    done = subprocess.run([binary] + arguments, env=env, cwd=cwd, capture_output=True, text=True, timeout=600)
    return {"exit": done.returncode, "stdout": done.stdout[-4000:], "stderr": done.stderr[-4000:],
            "seconds": time.monotonic() - started}


def scenario_s3_run(args):
    server, info = start_s3(args.partitions, args.prefix)
    admin = admin_client(info)
    files = len(partition_names(args.partitions))
    work = tempfile.mkdtemp(prefix="cosmicbench-s3-run-")
    report = {"files": files}
    try:
        def attempt(name, body, extra=(), env=None):
            path = os.path.join(work, f"{name}.json")
            with open(path, "w") as handle:
                json.dump(body, handle)
            outcome = run_cli(args.binary, ["run", path, "--storage", "s3"] + list(extra),
                              env or worker_environment(info), work)
            outcome["written"] = keys_under(admin, body["result_path"] + "/")
            report[name] = outcome
            return outcome

        good = attempt("good", payload(args.prefix, f"{RESULTS_PREFIX}/run 1", files, batch=args.batch),
                       ["--jobs", "2", "--save-predictions"])
        good["ranks"] = [json.loads(get_text(admin, f"{RESULTS_PREFIX}/run 1/{r}.json")) for r in range(files)]
        good["predictions"] = [get_text(admin, f"{RESULTS_PREFIX}/run 1/{r}.predictions.csv") for r in range(files)]
        good["combined"] = json.loads(get_text(admin, f"{RESULTS_PREFIX}/run 1/combined_data.json"))
        good["payload_json"] = json.loads(get_text(admin, f"{RESULTS_PREFIX}/run 1/payload.json"))
        if args.only_good:
            return report
        attempt("read_refused", payload(args.prefix, f"{RESULTS_PREFIX}/refused read", files,
                                        data_prefix=FORBIDDEN_PREFIX))
        attempt("write_refused", payload(args.prefix, "elsewhere/run", files))
        attempt("wrong_secret", payload(args.prefix, f"{RESULTS_PREFIX}/wrong secret", files),
                env=worker_environment(info, secret="not-the-secret"))

        # The same payload on local folders, for predictions to compare.
        root = os.path.join(work, "root")
        os.makedirs(os.path.join(root, DATA_BUCKET))
        os.symlink(os.path.abspath(args.partitions), os.path.join(root, DATA_BUCKET, args.prefix))
        path = os.path.join(work, "local.json")
        with open(path, "w") as handle:
            json.dump(payload(args.prefix, f"{RESULTS_PREFIX}/run 1", files), handle)
        local = run_cli(args.binary, ["run", path, "--root", root, "--save-predictions"], dict(os.environ), work)
        out = os.path.join(root, RESULTS_BUCKET, RESULTS_PREFIX, "run 1")
        if local["exit"] == 0:
            local["predictions"] = [open(os.path.join(out, f"{r}.predictions.csv")).read() for r in range(files)]
        report["local"] = local
    finally:
        server.stop()
    return report


class Worker:
    """One `cosmicbench lambda` process behind its own fake Runtime API."""

    def __init__(self, binary, info, handler, extra_env=None):
        self.api = fake_runtime_api.FakeRuntimeAPI()
        self.api.start()
        env = worker_environment(info, user="summarizer_" if handler == "summarize" else "")
        env.update({
            "AWS_LAMBDA_RUNTIME_API": self.api.address, "COSMICBENCH_HANDLER": handler,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "2048", "COSMICBENCH_DATA_BUCKET": DATA_BUCKET,
            "COSMICBENCH_RESULTS_BUCKET": RESULTS_BUCKET, "COSMICBENCH_RESULTS_PREFIX": RESULTS_PREFIX + "/",
            "COSMICBENCH_SAVE_PREDICTIONS": "1",
        })
        env.update(extra_env or {})
        self.log = tempfile.TemporaryFile()
        self.process = subprocess.Popen([binary, "lambda"], env=env, stdout=self.log, stderr=subprocess.STDOUT)

    def invoke(self, event, timeout_ms=120_000, deadline_ms=None):
        body = json.dumps(event) if not isinstance(event, str) else event
        started = time.monotonic()
        result = fake_runtime_api.jsonable(self.api.invoke(body, timeout_ms=timeout_ms, deadline_ms=deadline_ms))
        result["seconds"] = time.monotonic() - started
        return result

    def exit_code(self, wait_s=15):
        try:
            return self.process.wait(wait_s)
        except subprocess.TimeoutExpired:
            return None

    def stop(self):
        self.api.stop()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.log.seek(0)
        text = self.log.read().decode("utf-8", "replace")[-3000:]
        self.log.close()
        return text


def scenario_lambda(args):
    server, info = start_s3(args.partitions, args.prefix)
    admin = admin_client(info)
    files = len(partition_names(args.partitions))
    result_path = f"{RESULTS_PREFIX}/lambda run"
    event = payload(args.prefix, result_path, files)
    report = {"files": files}
    workers = []

    def worker(handler, extra_env=None):
        started = Worker(args.binary, info, handler, extra_env)
        workers.append(started)
        return started

    try:
        init = worker("initialize").invoke(event)
        report["initialize"] = init
        init_body = json.loads(init.get("body") or "null") if init.get("status") == "response" else None
        data_map = init_body["data_map"] if init_body else [[f"{r + 1}.safetensors"] for r in range(files)]

        rank_worker = worker("rank")
        report["ranks"] = [rank_worker.invoke({"rank": r, "files": names, "payload": event})
                           for r, names in enumerate(data_map)]
        report["rank_json"] = []
        for r in range(len(data_map)):
            try:
                report["rank_json"].append(json.loads(get_text(admin, f"{result_path}/{r}.json")))
            except Exception as error:  # reported, judged by the test
                report["rank_json"].append({"missing": str(error)})
        report["predictions"] = []
        for r in range(len(data_map)):
            try:
                report["predictions"].append(get_text(admin, f"{result_path}/{r}.predictions.csv"))
            except Exception as error:
                report["predictions"].append(f"missing: {error}")
        report["handler_error"] = rank_worker.invoke({"rank": 0, "files": ["77.safetensors"], "payload": event})
        report["out_of_scope"] = rank_worker.invoke(
            {"rank": 0, "files": data_map[0], "payload": payload(args.prefix, "elsewhere/run", files)})
        report["after_errors"] = rank_worker.invoke({"rank": 0, "files": data_map[0], "payload": event})

        summary = worker("summarize").invoke({"payload": event, "data_map": data_map})
        report["summarize"] = summary
        try:
            report["combined"] = json.loads(get_text(admin, f"{result_path}/combined_data.json"))
        except Exception as error:
            report["combined"] = {"missing": str(error)}

        # A rank whose deadline is too close: the timeout is reported before it.
        late = worker("rank")
        time.sleep(args.warm_up_s)  # let it build the model (its init) first
        report["deadline"] = late.invoke({"rank": 0, "files": data_map[0], "payload": event},
                                         deadline_ms=fake_runtime_api.now_ms() + 510)
        report["deadline_exit"] = late.exit_code()

        broken = worker("bogus")
        report["init_error"] = broken.api.init_error(wait_s=30)
        report["init_error_exit"] = broken.exit_code()
    finally:
        report["logs"] = [w.stop() for w in workers]
        server.stop()
    return report


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", choices=["s3-run", "lambda"])
    parser.add_argument("--binary", required=True)
    parser.add_argument("--partitions", required=True)
    parser.add_argument("--prefix", default="25MB")
    parser.add_argument("--warm-up-s", type=float, default=3.0)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--only-good", action="store_true", help="s3-run: only the good run (memory checks)")
    args = parser.parse_args()
    report = scenario_s3_run(args) if args.scenario == "s3-run" else scenario_lambda(args)
    sys.stdout.write(json.dumps(report, sort_keys=True, default=str) + "\n")


if __name__ == "__main__":
    main()
