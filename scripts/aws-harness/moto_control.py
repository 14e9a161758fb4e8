"""moto's Step Functions, Lambda and CloudWatch Logs on 127.0.0.1 with
signatures and IAM policies enforced, for the control-plane clients' tests.

Setup (unauthenticated): state machines that really execute (a Pass one
and one that ends in a Fail state), a Lambda function (created, never
invoked: invoking needs Docker), a log group holding START/REPORT/END lines,
and two IAM users: `sweep` allowed exactly the operations the clients call
(moto checks the operation name as the action, and only Resource "*") and
`reader` allowed only GetFunctionConfiguration. Then auth is switched on,
one JSON line is printed, and the server runs until stdin closes.

Harness-side fixes, nothing in site-packages edited: signatures are
verified against the raw request URI (moto_s3's patch), else a Lambda call
by function ARN (`%3A` in the path) is refused; and moto_patches' fixes for
bodiless Lambda GETs under auth and for the second StartExecution.
"""

import argparse
import io
import json
import logging
import os
import sys
import time
import urllib.request
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import harness_common  # noqa: E402
import moto_s3  # noqa: E402  (exits with the install hint when moto is missing)
import moto_patches  # noqa: E402

import boto3  # noqa: E402
from moto.server import ThreadedMotoServer  # noqa: E402

FUNCTION = "cosmicbench-worker"
LOG_GROUP = f"/aws/lambda/{FUNCTION}"
LOG_STREAM = "2026/01/01/[$LATEST]0123456789abcdef"
COLD_REPORT = ("REPORT RequestId: 0f3a7c2e-1111-4a4a-9b9b-000000000001\tDuration: 12.34 ms\tBilled Duration: 13 ms\t"
               "Memory Size: 1769 MB\tMax Memory Used: 210 MB\tInit Duration: 301.2 ms\t\n")
WARM_REPORT = ("REPORT RequestId: 0f3a7c2e-1111-4a4a-9b9b-000000000002 Duration: 1001.50 ms Billed Duration: 1002 ms "
               "Memory Size: 1769 MB Max Memory Used: 215 MB XRAY TraceId: 1-5e1b4151-5ac6c58f5b2e SegmentId: "
               "6f2d0e6a1b2c3d4e Sampled: true")
FAIL_ERROR = "RankFailed"
FAIL_CAUSE = "rank 3 exceeded its memory limit"
SWEEP_ACTIONS = [
    "states:StartExecution", "states:DescribeExecution", "states:ListStateMachines", "states:GetExecutionHistory",
    "lambda:GetFunctionConfiguration", "lambda:UpdateFunctionConfiguration", "logs:FilterLogEvents",
]


def post_json(endpoint: str, path: str, body: bytes) -> None:
    request = urllib.request.Request(f"{endpoint}{path}", data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    urllib.request.urlopen(request).read()


def function_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("bootstrap", "#!/bin/sh\nexit 0\n")
    return buffer.getvalue()


def setup(endpoint: str) -> dict:
    session = boto3.session.Session(aws_access_key_id="setup", aws_secret_access_key="setup", region_name="us-east-1")
    iam = session.client("iam", endpoint_url=endpoint)
    sfn = session.client("stepfunctions", endpoint_url=endpoint)
    lam = session.client("lambda", endpoint_url=endpoint)
    logs = session.client("logs", endpoint_url=endpoint)
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                      "Principal": {"Service": ["states.amazonaws.com", "lambda.amazonaws.com"]}}]}
    role = iam.create_role(RoleName="cosmicbench-role", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    passing = sfn.create_state_machine(name="cosmicbench-pass", roleArn=role, definition=json.dumps({
        "StartAt": "Prepare",
        "States": {"Prepare": {"Type": "Pass", "Result": {"ranks": 2}, "ResultPath": "$.plan", "End": True}},
    }))["stateMachineArn"]
    failing = sfn.create_state_machine(name="cosmicbench-fail", roleArn=role, definition=json.dumps({
        "StartAt": "Prepare",
        "States": {
            "Prepare": {"Type": "Pass", "Next": "Rank"},
            "Rank": {"Type": "Fail", "Error": FAIL_ERROR, "Cause": FAIL_CAUSE},
        },
    }))["stateMachineArn"]
    function = lam.create_function(FunctionName=FUNCTION, Runtime="provided.al2023", Role=role, Handler="bootstrap",
                                   Code={"ZipFile": function_zip()}, MemorySize=1769, Timeout=900)
    logs.create_log_group(logGroupName=LOG_GROUP)
    logs.create_log_stream(logGroupName=LOG_GROUP, logStreamName=LOG_STREAM)
    now = int(time.time() * 1000)
    lines = ["START RequestId: 0f3a7c2e-1111-4a4a-9b9b-000000000001 Version: $LATEST\n", "rank 0 done\n",
             "END RequestId: 0f3a7c2e-1111-4a4a-9b9b-000000000001\n", COLD_REPORT, WARM_REPORT]
    logs.put_log_events(logGroupName=LOG_GROUP, logStreamName=LOG_STREAM,
                        logEvents=[{"timestamp": now + i, "message": line} for i, line in enumerate(lines)])
    sweep = moto_s3.create_user(iam, "cosmicbench-sweep", {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": SWEEP_ACTIONS, "Resource": "*"}],
    })
    reader = moto_s3.create_user(iam, "cosmicbench-reader", {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "lambda:GetFunctionConfiguration", "Resource": "*"}],
    })
    return {
        "access_key_id": sweep["access_key_id"], "secret_access_key": sweep["secret_access_key"],
        "reader_access_key_id": reader["access_key_id"], "reader_secret_access_key": reader["secret_access_key"],
        "pass_state_machine_arn": passing, "fail_state_machine_arn": failing,
        "fail_error": FAIL_ERROR, "fail_cause": FAIL_CAUSE,
        "function_name": FUNCTION, "function_arn": function["FunctionArn"],
        "log_group": LOG_GROUP, "log_stream": LOG_STREAM, "first_event_ms": now,
        "cold_report": COLD_REPORT, "warm_report": WARM_REPORT,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    args = parser.parse_args()

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    moto_s3.patch_raw_uri_signature_check()
    moto_patches.apply_all()
    server = ThreadedMotoServer(harness_common.HOST, args.port, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    os.environ["MOTO_PORT"] = str(port)  # where the execution engine calls back for Task states
    post_json(endpoint, "/moto-api/config", json.dumps({"stepfunctions": {"execute_state_machine": True}}).encode())
    info = setup(endpoint)
    post_json(endpoint, "/moto-api/reset-auth", b"0")
    info.update({"endpoint": endpoint, "region": "us-east-1", "account": moto_s3.ACCOUNT})
    harness_common.announce(info)
    harness_common.serve_until_stdin_closes()
    server.stop()


if __name__ == "__main__":
    main()
