#!/usr/bin/env python3
"""A deployed CosmicBench stack on loopback: moto's S3, IAM, STS, Lambda,
CloudWatch Logs and Step Functions (executing the real ASL from
`BIN aws definition`), with Lambda invokes run by real `BIN lambda` workers.

  moto_stack.py --binary BIN --stack NAME --data-bucket D --results-bucket R
                [--data-prefix P] [--results-prefix P] [--max-concurrency N]
                [--rank-memory MB] [--threads N] [--worker-env K=V ...]

Prints one JSON line (endpoint, region, account, the sweeper's keys, the
admin's keys, state_machine_arn, functions, log_groups), then answers stdin
commands with one JSON line each: `stats`, `fail-rank N`, `clear-faults`.
On stdin EOF it kills every worker, stops moto and exits 0.

Signatures and IAM are enforced (least-privilege users and roles); the
workers get temporary credentials of their function's execution role, as on
Lambda. moto 5.2.1 needs fixes, applied in-process: signatures against the
raw URI (moto_s3), Lambda GET signatures, execution deep copies and names
(moto_patches), and Lambda invoke without Docker (lambda_pool).
"""

import argparse
import atexit
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import harness_common  # noqa: E402
import moto_s3  # noqa: E402  (exits 3 with a clear message when moto is missing)

import lambda_pool  # noqa: E402
import moto_patches  # noqa: E402
from moto.awslambda.models import lambda_backends  # noqa: E402
from moto.iam.models import iam_backends  # noqa: E402

ACCOUNT = moto_s3.ACCOUNT
REGION = "us-east-1"
HANDLERS = ("initialize", "rank", "summarize")
SMALL_MEMORY_MB = 1024  # CloudFormationTemplate.smallFunctionMemoryMB
TIMEOUTS = {"initialize": 120, "rank": 900, "summarize": 300}  # CloudFormationTemplate.timeoutSeconds
IMAGE_URI = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/cosmicbench:harness"
SWEEPER_ACTIONS = ["states:StartExecution", "states:DescribeExecution", "states:ListStateMachines",
                   "states:GetExecutionHistory", "lambda:GetFunctionConfiguration",
                   "lambda:UpdateFunctionConfiguration", "logs:FilterLogEvents"]


def prefix_of(value):
    """A scope prefix as the template wants it: empty or ending in '/'."""
    value = (value or "").lstrip("/")
    return value if not value or value.endswith("/") else value + "/"


def state_machine_definition(args, data_prefix, results_prefix):
    """The ASL from the binary, with the tolerance as a float for moto."""
    common = ["aws", "definition", "--region", REGION, "--account", ACCOUNT,
              "--data-bucket", args.data_bucket, "--data-prefix", data_prefix,
              "--results-bucket", args.results_bucket, "--results-prefix", results_prefix,
              "--max-concurrency", str(args.max_concurrency), "--rank-memory", str(args.rank_memory)]
    done = subprocess.run([args.binary] + common + ["--stack-name", args.stack], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"moto_stack: `{args.binary} aws definition` failed ({done.returncode}): {done.stderr.strip()}")
    definition = json.loads(done.stdout)

    def floats(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "ToleratedFailurePercentage" and isinstance(value, int):
                    node[key] = float(value)
                else:
                    floats(value)
        elif isinstance(node, list):
            for item in node:
                floats(item)
    floats(definition)
    return definition


def policy(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": actions, "Resource": resources} for actions, resources in statements]})


def role_policy(handler, args, data_prefix, results_prefix, log_group):
    """PipelineRoles.function(handler) without its Condition (moto ignores them)."""
    logs = (["logs:CreateLogStream", "logs:PutLogEvents"], [f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{log_group}:*"])
    data_objects = f"arn:aws:s3:::{args.data_bucket}/{data_prefix}*"
    results_objects = f"arn:aws:s3:::{args.results_bucket}/{results_prefix}*"
    write = (["s3:PutObject"], [results_objects])
    if handler == "initialize":
        return policy(logs, (["s3:ListBucket"], [f"arn:aws:s3:::{args.data_bucket}"]),
                      (["s3:GetObject"], [data_objects]), write)
    if handler == "rank":
        return policy(logs, (["s3:GetObject"], [data_objects]), write)
    return policy(logs, (["s3:GetObject"], [results_objects]),
                  (["s3:ListBucket"], [f"arn:aws:s3:::{args.results_bucket}"]), write)


def give_fixed_engine_key(user_name):
    """moto's Step Functions engine calls Lambda with the fixed keys ak/sk."""
    backend = iam_backends[ACCOUNT]["global"]
    key = backend.create_access_key(user_name)
    backend.access_keys.pop(key.physical_resource_id, None)
    key.access_key_id, key.secret_access_key = "ak", "sk"
    backend.access_keys[key.physical_resource_id] = key


def build_stack(endpoint, session, args, names, data_prefix, results_prefix, definition):
    """Everything a deployed stack has; runs before auth is switched on."""
    clients = {name: session.client(name, endpoint_url=endpoint) for name in
               ("iam", "sts", "lambda", "logs", "stepfunctions")}
    iam = clients["iam"]
    credentials = {}
    trust = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
    for handler in HANDLERS:
        role = f"{args.stack}-{handler}-role"
        arn = iam.create_role(RoleName=role, AssumeRolePolicyDocument=trust, MaxSessionDuration=43200)["Role"]["Arn"]
        iam.put_role_policy(RoleName=role, PolicyName=f"{role}-policy", PolicyDocument=role_policy(
            handler, args, data_prefix, results_prefix, names["log_groups"][handler]))
        assumed = clients["sts"].assume_role(RoleArn=arn, RoleSessionName=names["functions"][handler],
                                             DurationSeconds=43200)["Credentials"]
        credentials[handler] = (arn, assumed)
        clients["logs"].create_log_group(logGroupName=names["log_groups"][handler])
        clients["logs"].put_retention_policy(logGroupName=names["log_groups"][handler], retentionInDays=30)
        clients["lambda"].create_function(
            FunctionName=names["functions"][handler], Role=arn, PackageType="Image",
            Code={"ImageUri": IMAGE_URI}, Description=f"CosmicBench {handler} step of the CAI pipeline",
            MemorySize=args.rank_memory if handler == "rank" else SMALL_MEMORY_MB, Timeout=TIMEOUTS[handler],
            Architectures=["x86_64"], EphemeralStorage={"Size": 10240 if handler == "rank" else 512},
            Environment={"Variables": {
                "COSMICBENCH_HANDLER": handler, "COSMICBENCH_DATA_BUCKET": args.data_bucket,
                "COSMICBENCH_DATA_PREFIX": data_prefix, "COSMICBENCH_RESULTS_BUCKET": args.results_bucket,
                "COSMICBENCH_RESULTS_PREFIX": results_prefix}})

    states_trust = trust.replace("lambda.amazonaws.com", "states.amazonaws.com")
    states_role = f"{args.stack}-states-role"
    states_arn = iam.create_role(RoleName=states_role, AssumeRolePolicyDocument=states_trust)["Role"]["Arn"]
    iam.put_role_policy(RoleName=states_role, PolicyName=f"{states_role}-policy", PolicyDocument=policy(
        (["lambda:InvokeFunction"], [f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{names['functions'][h]}"
                                     for h in HANDLERS])))
    # The engine's own calls (fixed keys ak/sk): moto checks `lambda:Invoke` on "*".
    iam.create_user(UserName=f"{args.stack}-states-engine")
    iam.put_user_policy(UserName=f"{args.stack}-states-engine", PolicyName="invoke",
                        PolicyDocument=policy((["lambda:Invoke"], ["*"])))
    give_fixed_engine_key(f"{args.stack}-states-engine")

    buckets = [args.data_bucket, args.results_bucket]
    sweeper = moto_s3.create_user(iam, f"{args.stack}-sweeper", json.loads(policy(
        (SWEEPER_ACTIONS, ["*"]),
        (["s3:GetObject", "s3:PutObject"], [f"arn:aws:s3:::{b}/*" for b in buckets]),
        (["s3:ListBucket", "s3:HeadBucket"], [f"arn:aws:s3:::{b}" for b in buckets]))))

    machine = clients["stepfunctions"].create_state_machine(
        name=f"{args.stack}-pipeline", definition=json.dumps(definition), roleArn=states_arn, type="STANDARD")
    return {"credentials": credentials, "sweeper": sweeper, "state_machine_arn": machine["stateMachineArn"]}


def worker_environment(args, built, endpoint):
    """The env of a new worker: Lambda's variables, the function's current
    configuration, its role's temporary credentials."""
    extra = dict(item.split("=", 1) for item in args.worker_env)

    def env_for(pool, environment):
        function = lambda_backends[ACCOUNT][REGION].get_function(pool.name)
        creds = built["credentials"][pool.handler][1]
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k != "MOTO_PORT"}
        env.update(function.environment_vars or {})
        env["COSMICBENCH_THREADS"] = str(args.threads)
        env.update(extra)
        env.update({
            "AWS_LAMBDA_RUNTIME_API": environment.api.address, "AWS_LAMBDA_FUNCTION_NAME": pool.name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(environment.memory_mb), "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_LOG_GROUP_NAME": pool.log_group, "AWS_LAMBDA_LOG_STREAM_NAME": environment.stream,
            "AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION, "AWS_ENDPOINT_URL_S3": endpoint,
            "AWS_ACCESS_KEY_ID": creds["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": creds["SecretAccessKey"],
            "AWS_SESSION_TOKEN": creds["SessionToken"], "_HANDLER": pool.handler,
        })
        return env
    return env_for


def handle_command(stack, line):
    """One stdin command → one JSON reply line."""
    words = line.split()
    if words == ["stats"]:
        return stack.stats()
    if len(words) == 2 and words[0] == "fail-rank" and words[1].lstrip("-").isdigit():
        stack.fail_ranks.add(int(words[1]))
        return {"ok": True, "fail_ranks": sorted(stack.fail_ranks)}
    if words == ["clear-faults"]:
        stack.fail_ranks.clear()
        return {"ok": True, "fail_ranks": []}
    return {"ok": False, "error": f"unknown command {line!r}; expected stats, fail-rank N or clear-faults"}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", required=True, help="the cosmicbench binary (`aws definition`, `lambda`)")
    parser.add_argument("--stack", required=True)
    parser.add_argument("--data-bucket", required=True)
    parser.add_argument("--results-bucket", required=True)
    parser.add_argument("--data-prefix", default="")
    parser.add_argument("--results-prefix", default="")
    parser.add_argument("--max-concurrency", type=int, default=2, help="the Map's MaxConcurrency")
    parser.add_argument("--rank-memory", type=int, default=1769, help="the rank function's MemorySize, MB")
    parser.add_argument("--threads", type=int, default=1, help="COSMICBENCH_THREADS of every worker")
    parser.add_argument("--worker-env", action="extend", nargs="+", default=[], metavar="K=V",
                        help="extra environment of every worker (several, or repeated)")
    args = parser.parse_args(argv)
    for item in args.worker_env:
        if "=" not in item or item.startswith("="):
            parser.error(f"--worker-env wants K=V, got {item!r}")
    return args


def main():
    args = parse_args()
    if not os.environ.get("MOTO_STACK_VERBOSE"):  # the engine logs every failed task at length
        logging.getLogger("moto.stepfunctions").setLevel(logging.CRITICAL)
    data_prefix, results_prefix = prefix_of(args.data_prefix), prefix_of(args.results_prefix)
    names = {"functions": {h: f"{args.stack}-{h}" for h in HANDLERS},
             "log_groups": {h: f"/aws/lambda/{args.stack}-{h}" for h in HANDLERS}}
    definition = state_machine_definition(args, data_prefix, results_prefix)  # fails fast, before moto
    moto_patches.apply_all()
    built = {}

    def before_auth(endpoint, session):
        os.environ["MOTO_PORT"] = endpoint.rsplit(":", 1)[1]  # where the engine calls back
        request = urllib.request.Request(f"{endpoint}/moto-api/config", method="POST", headers={
            "Content-Type": "application/json"}, data=json.dumps(
            {"stepfunctions": {"execute_state_machine": True}}).encode("utf-8"))
        urllib.request.urlopen(request).read()
        built.update(build_stack(endpoint, session, args, names, data_prefix, results_prefix, definition))

    server, info = moto_s3.start(0, args.data_bucket, args.results_bucket, data_prefix.rstrip("/"),
                                 results_prefix.rstrip("/"), before_auth=before_auth)
    stack = lambda_pool.LambdaStack(ACCOUNT, REGION, args.binary, worker_environment(args, built, info["endpoint"]))
    for handler in HANDLERS:
        stack.add_function(handler, names["functions"][handler], names["log_groups"][handler])
    stack.install()
    atexit.register(stack.stop)

    def on_sigterm(*_):
        stack.stop()
        os._exit(0)
    signal.signal(signal.SIGTERM, on_sigterm)

    harness_common.announce({
        "ready": True, "endpoint": info["endpoint"], "region": REGION, "account": ACCOUNT,
        "access_key_id": built["sweeper"]["access_key_id"],
        "secret_access_key": built["sweeper"]["secret_access_key"],
        "admin_access_key_id": info["admin_access_key_id"],
        "admin_secret_access_key": info["admin_secret_access_key"],
        "state_machine_arn": built["state_machine_arn"], "stack": args.stack,
        "functions": names["functions"], "log_groups": names["log_groups"],
        "data_bucket": args.data_bucket, "results_bucket": args.results_bucket,
        "data_prefix": data_prefix, "results_prefix": results_prefix,
    })
    lock = threading.Lock()

    def on_line(line):
        with lock:
            harness_common.reply(handle_command(stack, line))

    harness_common.serve_until_stdin_closes(on_line)
    stack.stop()
    server.stop()
    sys.stdout.flush()
    os._exit(0)  # moto's execution threads are not daemons; nothing is left to wait for


if __name__ == "__main__":
    main()
