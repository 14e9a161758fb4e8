"""moto's S3 + IAM on 127.0.0.1 with signatures and policies enforced.

Setup (unauthenticated): buckets, a least-privilege IAM user (GetObject on
DATA_BUCKET/DATA_PREFIX/*, PutObject on RESULTS_BUCKET/RESULTS_PREFIX/*,
ListBucket on both), a summarizer user (Get/PutObject on the results
prefix, ListBucket on the results bucket), an admin user with full access,
seeded objects. Then
auth is switched on, one JSON line is printed, and the server runs until
stdin closes.

Stock moto verifies a signature against a canonical URI rebuilt from the
*decoded* URL, so correctly signed requests whose path or query hold escapes
(`%2F` in a list prefix, `+`, `=`, non-ASCII...) fail. The patch below makes
it verify against the raw request URI (werkzeug's RAW_URI), as AWS does;
nothing in site-packages is edited.
"""

import argparse
import hashlib
import json
import logging
import os
import sys
import urllib.request
from urllib.parse import urlsplit

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import harness_common  # noqa: E402

try:
    import boto3
    from moto.core.authorization import ActionAuthenticatorMixin
    from moto.core.responses import BaseResponse
    from moto.s3.models import s3_backends
    from moto.server import ThreadedMotoServer
except ImportError as error:  # the Swift test shows this line
    sys.stderr.write(f"moto is not importable ({error}); install it with: pip install 'moto[server]==5.2.1'\n")
    sys.exit(3)

ACCOUNT = "123456789012"


def patch_raw_uri_signature_check() -> None:
    """Verify SigV4 against the raw request line instead of the decoded URL."""
    original_setup = BaseResponse.setup_class
    original_auth = ActionAuthenticatorMixin._authenticate_and_authorize_action

    def setup_class(self, request, full_url, headers, *args, **kwargs):
        environ = getattr(request, "environ", None) or {}
        self._harness_raw_uri = environ.get("RAW_URI") or environ.get("REQUEST_URI")
        return original_setup(self, request, full_url, headers, *args, **kwargs)

    def authenticate(self, iam_request_cls, resource="*"):
        raw = getattr(self, "_harness_raw_uri", None)
        if not raw:
            return original_auth(self, iam_request_cls, resource)
        decoded_uri = self.uri
        parts = urlsplit(decoded_uri)
        raw_parts = urlsplit(raw)
        self.uri = parts._replace(path=raw_parts.path, query=raw_parts.query).geturl()
        try:
            return original_auth(self, iam_request_cls, resource)
        finally:
            self.uri = decoded_uri

    BaseResponse.setup_class = setup_class
    ActionAuthenticatorMixin._authenticate_and_authorize_action = authenticate


def pattern_bytes(size: int) -> bytes:
    """Deterministic content the tests can check: byte i is i % 251."""
    block = bytes(range(251))
    return (block * (size // 251 + 1))[:size]


def create_user(iam, name: str, policy: dict) -> dict:
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName=f"{name}-policy", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return {"access_key_id": key["AccessKeyId"], "secret_access_key": key["SecretAccessKey"]}


def start(port, data_bucket, results_bucket, data_prefix, results_prefix, seeds=(), seed_many=0, seed_big_mb=0,
          before_auth=None):
    """Starts moto on 127.0.0.1 with the buckets, users and seeded objects,
    runs before_auth(endpoint, admin_session) if given (more unauthenticated
    setup), switches auth on and returns (server, info)."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    patch_raw_uri_signature_check()
    server = ThreadedMotoServer(harness_common.HOST, port, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"

    session = boto3.session.Session(aws_access_key_id="setup", aws_secret_access_key="setup", region_name="us-east-1")
    s3 = session.client("s3", endpoint_url=endpoint)
    iam = session.client("iam", endpoint_url=endpoint)
    for bucket in (data_bucket, results_bucket):
        s3.create_bucket(Bucket=bucket)
    user = create_user(iam, "cosmicai-worker", {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "s3:GetObject",
             "Resource": f"arn:aws:s3:::{data_bucket}/{data_prefix}/*"},
            {"Effect": "Allow", "Action": "s3:PutObject",
             "Resource": f"arn:aws:s3:::{results_bucket}/{results_prefix}/*"},
            {"Effect": "Allow", "Action": "s3:ListBucket",
             "Resource": [f"arn:aws:s3:::{data_bucket}", f"arn:aws:s3:::{results_bucket}"]},
        ],
    })
    # The summarizer's role in deploy/template.json: read and write the results.
    summarizer = create_user(iam, "cosmicai-summarizer", {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"],
             "Resource": f"arn:aws:s3:::{results_bucket}/{results_prefix}/*"},
            {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": f"arn:aws:s3:::{results_bucket}"},
        ],
    })
    admin = create_user(iam, "cosmicai-admin", {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
    })

    backend = s3_backends[ACCOUNT]["aws"]
    seeded = {}
    for key in seeds:
        text = f"seeded:{key}"
        full_key = f"{data_prefix}/{key}"
        backend.put_object(data_bucket, full_key, text.encode("utf-8"))
        seeded[full_key] = text
    for index in range(seed_many):
        backend.put_object(data_bucket, f"{data_prefix}/many/obj-{index:05d}.json", b"{}")
    big = {}
    if seed_big_mb:
        body = pattern_bytes(seed_big_mb * 1024 * 1024)
        big_key = f"{data_prefix}/big.bin"
        backend.put_object(data_bucket, big_key, body)
        big = {"key": big_key, "size": len(body), "md5": hashlib.md5(body).hexdigest()}
        del body

    if before_auth is not None:
        before_auth(endpoint, session)
    request = urllib.request.Request(f"{endpoint}/moto-api/reset-auth", data=b"0", method="POST",
                                     headers={"Content-Type": "application/json"})
    urllib.request.urlopen(request).read()

    info = {
        "endpoint": endpoint, "region": "us-east-1",
        "access_key_id": user["access_key_id"], "secret_access_key": user["secret_access_key"],
        "admin_access_key_id": admin["access_key_id"], "admin_secret_access_key": admin["secret_access_key"],
        "summarizer_access_key_id": summarizer["access_key_id"],
        "summarizer_secret_access_key": summarizer["secret_access_key"],
        "data_bucket": data_bucket, "results_bucket": results_bucket,
        "data_prefix": data_prefix, "results_prefix": results_prefix,
        "seeded": seeded, "big": big,
    }
    return server, info


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--data-bucket", default="cosmicai-data")
    parser.add_argument("--results-bucket", default="cosmicai-results")
    parser.add_argument("--data-prefix", default="100MB")
    parser.add_argument("--results-prefix", default="Anomaly Detection")
    parser.add_argument("--seed", action="append", default=[], metavar="KEY",
                        help="object DATA_PREFIX/KEY in the data bucket holding 'seeded:KEY' (UTF-8)")
    parser.add_argument("--seed-many", type=int, default=0, help="N small objects under DATA_PREFIX/many/")
    parser.add_argument("--seed-big-mb", type=int, default=0, help="a pattern object DATA_PREFIX/big.bin of N MiB")
    args = parser.parse_args()

    server, info = start(args.port, args.data_bucket, args.results_bucket, args.data_prefix, args.results_prefix,
                         seeds=args.seed, seed_many=args.seed_many, seed_big_mb=args.seed_big_mb)
    harness_common.announce(info)
    harness_common.serve_until_stdin_closes()
    server.stop()


if __name__ == "__main__":
    main()
