#!/usr/bin/env python3
"""Writes the small hand-made seeds of the fuzz corpora (Fuzz/Corpus/<target>/seed-*).

Run from the repository root: python3 Fuzz/Tools/make_seeds.py. Needs only the
standard library, plus torch for the torch seeds (skipped without it). The
seeds are starting points; libFuzzer's -merge=1 adds what it discovers.
"""

import glob
import io
import json
import os
import re
import shutil
import struct
import sys
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CORPUS = os.path.join(ROOT, "Fuzz", "Corpus")
SIZES = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1,
         "U64": 8, "U32": 4, "U16": 2, "U8": 1, "BOOL": 1}


def write(target, name, data):
    directory = os.path.join(CORPUS, target)
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, "seed-" + name), "wb") as out:
        out.write(data)


def safetensors(tensors, metadata=None, pad=0):
    """tensors: list of (name, dtype, shape); data bytes are a deterministic ramp."""
    header, offset, body = {}, 0, b""
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, dtype, shape in tensors:
        count = 1
        for d in shape:
            count *= d
        size = count * SIZES[dtype]
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + size]}
        body += bytes((offset + i) % 251 for i in range(size))
        offset += size
    text = json.dumps(header, separators=(",", ":")).encode() + b" " * pad
    return struct.pack("<Q", len(text)) + text + body


def safetensors_seeds():
    golden = os.path.join(ROOT, "Fixtures", "golden", "astromae-seed20250108-b3.safetensors")
    with open(golden, "rb") as f:
        length = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(length))
    # The golden file's names, dtypes and metadata with every dimension cut to at most 2.
    small = [(k, v["dtype"], [min(d, 2) for d in v["shape"]]) for k, v in header.items() if k != "__metadata__"]
    write("fuzz-safetensors", "golden-shrunk", safetensors(small, header.get("__metadata__"), pad=5))
    write("fuzz-safetensors", "every-dtype", safetensors([(d.lower(), d, [2]) for d in SIZES]))
    write("fuzz-safetensors", "scalar-and-empty", safetensors([("s", "F32", []), ("e", "F64", [0, 3])]))
    write("fuzz-safetensors", "metadata-only", safetensors([], {"format": "pt", "k": "v"}))
    write("fuzz-safetensors", "unaligned", safetensors([("b", "U8", [3]), ("f", "F32", [2, 2]), ("d", "F64", [1])]))
    write("fuzz-safetensors", "escapes", safetensors([('na\u00efve "q"/\\', "I16", [1, 2])]))


def payload_seeds():
    cai = {"bucket": "cosmicai-results", "file_limit": "11", "batch_size": 512, "object_type": "folder",
           "S3_object_name": "Anomaly Detection", "script": "/tmp/Anomaly Detection/Inference/inference.py",
           "result_path": "result-partition-100MB/1GB/1", "data_bucket": "cosmicai-data", "data_prefix": "100MB"}
    write("fuzz-payload", "cai-demo", json.dumps(cai, indent=2).encode())
    minimal = {"bucket": "b-1", "file_limit": 3, "batch_size": 32, "result_path": "r/x",
               "data_bucket": "d.b", "data_prefix": "", "world_size": "2"}
    write("fuzz-payload", "minimal", json.dumps(minimal).encode())
    with_map = dict(minimal, data_map=[{"rank": 0, "files": ["1.safetensors"]}], object_type=None)
    write("fuzz-payload", "data-map", json.dumps(with_map).encode())
    write("fuzz-payload", "numbers", b'{"bucket":"b","file_limit":1e2,"batch_size":-0.0,"result_path":"a/../b",'
          b'"data_bucket":"x","data_prefix":"p/","extra":[true,false,null,1.5e308,"\\ud83d\\ude00"]}')


def torch_seeds():
    try:
        import torch
        from torch.utils.data import TensorDataset
    except ImportError:
        print("torch not installed: no torch seeds", file=sys.stderr)
        return
    torch.manual_seed(1)
    ds = TensorDataset(torch.rand(2, 1, 2, 2), torch.rand(2, 5, dtype=torch.float64), torch.arange(2))
    def saved(obj, **kw):
        buf = io.BytesIO()
        torch.save(obj, buf, **kw)
        return buf.getvalue()
    zipped = saved(ds)
    write("fuzz-torch", "dataset-zip.pt", zipped)
    write("fuzz-torch", "dataset-legacy.pt", saved(ds, _use_new_zipfile_serialization=False))
    write("fuzz-torch", "dataset-proto4.pt", saved(ds, pickle_protocol=4))
    with zipfile.ZipFile(io.BytesIO(zipped)) as z:
        pickle_name = next(n for n in z.namelist() if n.endswith("/data.pkl"))
        write("fuzz-torch", "dataset.pkl", z.read(pickle_name))
        deflated = io.BytesIO()
        with zipfile.ZipFile(deflated, "w", zipfile.ZIP_DEFLATED) as out:
            for info in z.infolist():
                out.writestr(info.filename, z.read(info.filename))
        write("fuzz-torch", "dataset-deflated.pt", deflated.getvalue())
    base = torch.arange(12, dtype=torch.float32).reshape(3, 4)
    views = TensorDataset(base.t()[:3], base[:, 1:3].t().contiguous().t()[:, :1].expand(3, 1), torch.ones(3, dtype=torch.bool))
    write("fuzz-torch", "views.pt", saved(views))
    model = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.BatchNorm1d(2))
    write("fuzz-torch", "state-dict.pt", saved(model.state_dict()))
    write("fuzz-torch", "state-dict-half.pt", saved({k: v.half() for k, v in model.state_dict().items()}))
    write("fuzz-torch", "checkpoint.pt", saved({"epoch": 3, "model": model.state_dict(), "note": "x"}))
    write("fuzz-torch", "full-module.pt", saved(model))
    write("fuzz-torch", "full-module-legacy.pt", saved(model, _use_new_zipfile_serialization=False))


def torch_fixture_seeds():
    """The repository's small torch fixtures (under 4 kB), hostile ones included."""
    pattern = os.path.join(ROOT, "Tests", "TorchPickleTests", "Fixtures", "**", "*.pt")
    for path in sorted(glob.glob(pattern, recursive=True)):
        if os.path.getsize(path) < 4096:
            shutil.copyfile(path, os.path.join(CORPUS, "fuzz-torch", "fixture-" + os.path.basename(path)))


def sweepspec_seeds():
    """The shipped sweeps and every literal spec of the SweepKit spec tests."""
    for path in sorted(glob.glob(os.path.join(ROOT, "sweeps", "*.toml"))):
        with open(path, "rb") as f:
            write("fuzz-sweepspec", os.path.basename(path), f.read())
    with open(os.path.join(ROOT, "Tests", "SweepKitTests", "SpecTests.swift")) as f:
        source = f.read()
    count = 0
    for block in re.findall(r'"""\n(.*?)\n\s*"""', source, re.S):
        lines = block.split("\n")
        indent = min((len(l) - len(l.lstrip()) for l in lines if l.strip()), default=0)
        text = "\n".join(l[indent:] for l in lines) + "\n"
        if "\\(" in text or len(text) < 20:
            continue
        count += 1
        write("fuzz-sweepspec", "spec-test-%d.toml" % count, text.encode())


def s3_listing_seeds():
    """ListObjectsV2 pages: the AWSClient parser tests' documents plus a few hand-made ones."""
    with open(os.path.join(ROOT, "Tests", "AWSClientTests", "S3ListingParserTests.swift")) as f:
        source = f.read()
    page = re.search(r'static let page = """\n(.*?)\n\s*"""', source, re.S).group(1)
    write("fuzz-s3-listing", "test-page.xml", "\n".join(l.strip() for l in page.split("\n")).encode())
    for count, literal in enumerate(sorted(set(re.findall(r'"(<ListBucketResult>.*?</ListBucketResult>)"', source))), 1):
        write("fuzz-s3-listing", "test-%d.xml" % count, literal.encode())
    ns = ' xmlns="http://s3.amazonaws.com/doc/2006-03-01/"'
    write("fuzz-s3-listing", "last-page.xml", ('<?xml version="1.0" encoding="UTF-8"?><ListBucketResult%s>'
          "<Name>b</Name><KeyCount>1</KeyCount><IsTruncated>false</IsTruncated><Contents><Key>25MB/1.pt</Key>"
          "<ETag>&quot;e&quot;</ETag><Size>26214400</Size></Contents></ListBucketResult>" % ns).encode())
    write("fuzz-s3-listing", "cdata-prefixes.xml", ("<ListBucketResult><EncodingType>url</EncodingType>"
          "<CommonPrefixes><Prefix><![CDATA[a%2Fb/]]></Prefix></CommonPrefixes><CommonPrefixes><Prefix>c/</Prefix>"
          "</CommonPrefixes><IsTruncated>true</IsTruncated><NextContinuationToken>t&amp;k</NextContinuationToken>"
          "</ListBucketResult>").encode())


def lambda_event_seeds():
    """Runtime API `next` responses as the worker reads them: header lines, a
    blank line, the event. The events are those the state machine sends
    (StateMachineDefinition: the payload, the Map's ItemSelector, the
    summarizer's Payload) and those scripts/aws-harness/pipeline_check.py sends
    the worker; the headers are Lambda's (request id, deadline, function ARN,
    X-Ray trace id)."""
    demo = {"bucket": "cosmicai-results", "file_limit": "4", "batch_size": 512, "object_type": "folder",
            "S3_object_name": "Anomaly Detection", "script": "/tmp/Anomaly Detection/Inference/inference.py",
            "result_path": "result-partition-100MB/1GB/1", "data_bucket": "cosmicai-data", "data_prefix": "100MB"}
    harness = {"bucket": "cosmicai-results", "file_limit": 2, "batch_size": 16, "object_type": "folder",
               "S3_object_name": "Anomaly Detection", "script": "inference.py",
               "result_path": "Anomaly Detection/lambda run", "data_bucket": "cosmicai-data", "data_prefix": "25MB"}
    data_map = [["1.safetensors", "2.safetensors"], ["3.pt"], ["4.safetensors"], []]

    def response(event, request_id="8476a536-e9f4-11e8-9739-2dfe598c3fcd", deadline="1764633600000",
                 arn="arn:aws:lambda:us-east-1:123456789012:function:cosmicbench-Rank",
                 trace="Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1", extra=()):
        lines = []
        for name, value in (("Lambda-Runtime-Aws-Request-Id", request_id), ("Lambda-Runtime-Deadline-Ms", deadline),
                            ("Lambda-Runtime-Invoked-Function-Arn", arn), ("Lambda-Runtime-Trace-Id", trace)) + tuple(extra):
            if value is not None:
                lines.append("%s: %s" % (name, value))
        body = event if isinstance(event, bytes) else json.dumps(event, separators=(",", ":")).encode()
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + body

    write("fuzz-lambda-event", "initialize", response(demo))
    write("fuzz-lambda-event", "initialize-harness", response(harness, arn="arn:aws:lambda:us-east-1:000000000000:function:fake"))
    write("fuzz-lambda-event", "initialize-world-size", response(dict(demo, file_limit=3, world_size="4")))
    for rank, files in enumerate(data_map):
        write("fuzz-lambda-event", "rank-%d" % rank, response({"rank": rank, "files": files, "payload": demo}))
    write("fuzz-lambda-event", "rank-missing-file", response({"rank": 0, "files": ["77.safetensors"], "payload": harness}))
    write("fuzz-lambda-event", "rank-out-of-scope",
          response({"rank": 0, "files": ["1.safetensors"], "payload": dict(harness, result_path="elsewhere/run")}))
    summarize = {"payload": demo, "data_map": data_map,
                 "map_limits": {"max_concurrency": 40, "tolerated_failure_percentage": 0}}
    write("fuzz-lambda-event", "summarize", response(summarize))
    write("fuzz-lambda-event", "summarize-harness",
          response({"payload": harness, "data_map": [["1.safetensors"], ["2.safetensors"]]}))
    # Headers as a client may see them: lower case, no trace id, extra headers.
    write("fuzz-lambda-event", "headers-lower-case",
          response({"rank": 1, "files": ["3.pt"], "payload": demo}).replace(b"Lambda-Runtime-", b"lambda-runtime-"))
    write("fuzz-lambda-event", "headers-client-context",
          response(harness, trace=None, extra=(("Lambda-Runtime-Client-Context", '{"client":{}}'),
                                               ("Lambda-Runtime-Cognito-Identity", '{"cognitoIdentityId":"x"}'),
                                               ("Content-Type", "application/json"))))
    # What the loop reports as a malformed invocation: no deadline, no ARN, a bad deadline.
    write("fuzz-lambda-event", "headers-malformed", response(demo, deadline="-5", arn=None, trace=None))
    write("fuzz-lambda-event", "headers-none", json.dumps({"rank": 0, "files": [], "payload": demo}).encode())


if __name__ == "__main__":
    safetensors_seeds()
    payload_seeds()
    torch_seeds()
    torch_fixture_seeds()
    sweepspec_seeds()
    s3_listing_seeds()
    lambda_event_seeds()
