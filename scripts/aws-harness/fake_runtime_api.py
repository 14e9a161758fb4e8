#!/usr/bin/env python3
"""A fake AWS Lambda Runtime API (version 2018-06-01) for driving workers offline.

Workers long-poll ``GET /2018-06-01/runtime/invocation/next`` and answer with
``POST .../invocation/{id}/response``, ``POST .../invocation/{id}/error`` or
``POST .../init/error``, exactly as on Lambda. A harness hands events in and
gets the worker's answer back, either in-process::

    api = FakeRuntimeAPI()
    api.start()                        # AWS_LAMBDA_RUNTIME_API = api.address
    result = api.invoke(b'{"x": 1}', deadline_ms=now_ms() + 5000)
    api.stop()

or, when run as a script, over a control interface on the same port:

    POST /_control/invoke     {"payload": "<event text>", "timeoutMs": 5000}
                              (or "deadlineMs": absolute; optional "requestId",
                              "headers": {...}, "omitHeaders": [...])
                              blocks until the worker answers; returns the result
    GET  /_control/init-error[?wait=SECONDS]
    GET  /_control/stats

A result is a dict: ``status`` is "response", "error", "init_error",
"timeout" (nobody answered by the deadline) or "stopped", with ``requestId``, ``body``
(the worker's bytes; text over HTTP), ``errorType`` (the
Lambda-Runtime-Function-Error-Type header), ``errorBody`` (the parsed error
JSON), ``deadlineMs``, ``answeredAtMs`` and ``msBeforeDeadline``, and
``timing`` (enqueue → next → answer, in ms, from a monotonic clock).

One instance stands for one execution environment: an init error fails
every later invoke, as on Lambda. Several workers may long-poll the same
instance (each `next` takes a different event), but give each worker process
its own instance when init errors must stay per-process.

As a script it prints one JSON line ({"port": N, "address": "127.0.0.1:N"})
and stops when its stdin closes. Every accepted socket has TCP_NODELAY set:
without it Nagle's algorithm and delayed ACKs add ~40-90 ms per invoke.
"""

import argparse
import base64
import collections
import json
import socket
import sys
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

API_PREFIX = "/2018-06-01/runtime/"
CONTROL_PREFIX = "/_control/"
# Lambda's synchronous response limit (6 MiB + 100 bytes, as Lambda enforces it).
RESPONSE_LIMIT_BYTES = 6 * 1024 * 1024 + 100
DEFAULT_TIMEOUT_MS = 30_000
DEFAULT_FUNCTION_ARN = "arn:aws:lambda:us-east-1:000000000000:function:fake"
MAX_CONTROL_BODY = 16 * 1024 * 1024
SHUTDOWN_POLL_S = 0.05  # how often serve_forever checks for stop()

HEADER_REQUEST_ID = "Lambda-Runtime-Aws-Request-Id"
HEADER_DEADLINE = "Lambda-Runtime-Deadline-Ms"
HEADER_FUNCTION_ARN = "Lambda-Runtime-Invoked-Function-Arn"
HEADER_TRACE_ID = "Lambda-Runtime-Trace-Id"
HEADER_ERROR_TYPE = "Lambda-Runtime-Function-Error-Type"


def now_ms():
    """Wall-clock milliseconds since the epoch, the unit of Lambda-Runtime-Deadline-Ms."""
    return int(time.time() * 1000)


class Invocation:
    """One event on its way to a worker and back."""

    def __init__(self, payload, deadline_ms, request_id, headers):
        self.payload = payload
        self.deadline_ms = deadline_ms
        self.request_id = request_id
        self.headers = headers
        self.enqueued = time.monotonic()
        self.fetched = None
        self.answered = None
        self.result = None
        self.done = threading.Event()


class FakeRuntimeAPI:
    """The Runtime API server plus the harness side (invoke, init error, stats)."""

    def __init__(self, host="127.0.0.1", port=0, function_arn=DEFAULT_FUNCTION_ARN,
                 response_limit=RESPONSE_LIMIT_BYTES, control=True):
        self.host = host
        self.port = port
        self.function_arn = function_arn
        self.response_limit = response_limit
        self.control = control
        self._lock = threading.Condition()
        self._queue = collections.deque()
        self._in_flight = {}
        self._finished = set()
        self._init_error = None
        self._stopping = False
        self._server = None
        self._thread = None
        self._sockets = set()
        self.stats = collections.Counter()

    def start(self):
        """Binds and serves in a background thread; returns the port."""
        api = self

        class Handler(RuntimeAPIHandler):
            fake = api

        self._server = ThreadingHTTPServer((self.host, self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, args=(SHUTDOWN_POLL_S,),
                                        name="fake-runtime-api", daemon=True)
        self._thread.start()
        return self.port

    @property
    def address(self):
        """The value for AWS_LAMBDA_RUNTIME_API (host:port)."""
        return "%s:%d" % (self.host, self.port)

    def stop(self):
        """Stops serving: parked `next` polls and open connections are closed,
        so a worker sees its Runtime API disappear."""
        with self._lock:
            self._stopping = True
            for invocation in list(self._queue) + list(self._in_flight.values()):
                self._retire(invocation, {"status": "stopped"})
            self._lock.notify_all()
            sockets = list(self._sockets)
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def invoke(self, payload, deadline_ms=None, timeout_ms=DEFAULT_TIMEOUT_MS,
               request_id=None, headers=None, omit_headers=()):
        """Queues one event and blocks until a worker answers or the deadline
        passes; returns the result dict described in the module docstring."""
        if isinstance(payload, str):
            payload = payload.encode("utf-8")
        if deadline_ms is None:
            deadline_ms = now_ms() + int(timeout_ms)
        request_id = request_id or str(uuid.uuid4())
        sent = {
            HEADER_REQUEST_ID: request_id,
            HEADER_DEADLINE: str(int(deadline_ms)),
            HEADER_FUNCTION_ARN: self.function_arn,
            HEADER_TRACE_ID: "Root=1-%08x-%s;Sampled=0" % (int(time.time()), uuid.uuid4().hex[:24]),
        }
        sent.update(headers or {})
        for name in omit_headers:
            sent.pop(name, None)
        invocation = Invocation(payload, int(deadline_ms), request_id, sent)
        with self._lock:
            if self._init_error is not None:
                return self._init_error_result(invocation)
            self._queue.append(invocation)
            self.stats["invokes"] += 1
            self._lock.notify_all()
        remaining = max(0.0, (invocation.deadline_ms - now_ms()) / 1000.0)
        if not invocation.done.wait(remaining):
            with self._lock:
                if invocation.result is None:
                    self._retire(invocation, {"status": "timeout"})
        invocation.done.wait()
        return invocation.result

    def init_error(self, wait_s=0.0):
        """The init error a worker posted, or None (after waiting up to wait_s)."""
        end = time.monotonic() + wait_s
        with self._lock:
            while self._init_error is None and not self._stopping:
                left = end - time.monotonic()
                if left <= 0:
                    break
                self._lock.wait(left)
            return None if self._init_error is None else dict(self._init_error)

    def in_flight_count(self):
        """Events queued or being handled: a caller's concurrency limit check."""
        with self._lock:
            return len(self._queue) + len(self._in_flight)

    def snapshot_stats(self):
        with self._lock:
            return dict(self.stats)

    def next_invocation(self):
        """Blocks until an event is queued; None once the server is stopping."""
        with self._lock:
            while not self._queue and not self._stopping:
                self._lock.wait()
            if self._stopping:
                return None
            invocation = self._queue.popleft()
            invocation.fetched = time.monotonic()
            self._in_flight[invocation.request_id] = invocation
            self.stats["next"] += 1
            return invocation

    def answer(self, request_id, kind, body, error_type):
        """Records a worker's /response or /error; returns (HTTP status, reply)."""
        with self._lock:
            invocation = self._in_flight.get(request_id)
            if invocation is None:
                self.stats["rejected"] += 1
                state = "already finished" if request_id in self._finished else "unknown"
                return 400, {"errorMessage": "request id %r is %s" % (request_id, state),
                             "errorType": "InvalidRequestID"}
            if kind == "response" and len(body) > self.response_limit:
                self.stats["too_large"] += 1
                message = ("Response payload size (%d bytes) exceeded maximum allowed payload size (%d bytes)."
                           % (len(body), self.response_limit))
                self._retire(invocation, {"status": "error", "errorType": "Function.ResponseSizeTooLarge",
                                          "errorBody": {"errorMessage": message,
                                                        "errorType": "Function.ResponseSizeTooLarge"},
                                          "body": b""})
                return 413, {"errorMessage": message, "errorType": "RequestEntityTooLarge"}
            result = {"status": kind, "body": body}
            if kind == "error":
                result["errorType"] = error_type
                result["errorBody"] = parse_json_or_none(body)
            self.stats[kind] += 1
            self._retire(invocation, result)
            return 202, {"status": "OK"}

    def record_init_error(self, body, error_type):
        with self._lock:
            self._init_error = {"status": "init_error", "errorType": error_type,
                                "errorBody": parse_json_or_none(body), "body": body,
                                "answeredAtMs": now_ms()}
            self.stats["init_error"] += 1
            pending = list(self._queue) + list(self._in_flight.values())
            self._queue.clear()
            for invocation in pending:
                self._retire(invocation, dict(self._init_error))
            self._lock.notify_all()
        return 202, {"status": "OK"}

    def track(self, sock, open_):
        with self._lock:
            if open_:
                self._sockets.add(sock)
            else:
                self._sockets.discard(sock)

    def _retire(self, invocation, result):
        invocation.answered = time.monotonic()
        answered_at = now_ms()
        result = dict(result)
        result.setdefault("body", b"")
        result.update({
            "requestId": invocation.request_id,
            "deadlineMs": invocation.deadline_ms,
            "answeredAtMs": answered_at,
            "msBeforeDeadline": invocation.deadline_ms - answered_at,
            "timing": timing_of(invocation),
        })
        invocation.result = result
        self._in_flight.pop(invocation.request_id, None)
        try:
            self._queue.remove(invocation)
        except ValueError:
            pass
        self._finished.add(invocation.request_id)
        invocation.done.set()

    def _init_error_result(self, invocation):
        result = dict(self._init_error)
        result["requestId"] = invocation.request_id
        invocation.result = result
        invocation.done.set()
        return result


def timing_of(invocation):
    def ms(a, b):
        return None if a is None or b is None else round((b - a) * 1000.0, 3)
    return {"enqueueToNextMs": ms(invocation.enqueued, invocation.fetched),
            "nextToAnswerMs": ms(invocation.fetched, invocation.answered),
            "totalMs": ms(invocation.enqueued, invocation.answered)}


def parse_json_or_none(body):
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None


def jsonable(result):
    """A result with its bytes as text (or base64 when they are not UTF-8)."""
    out = dict(result)
    body = out.pop("body", b"")
    try:
        out["body"] = body.decode("utf-8")
    except UnicodeDecodeError:
        out["bodyBase64"] = base64.b64encode(body).decode("ascii")
    return out


class RuntimeAPIHandler(BaseHTTPRequestHandler):
    """HTTP/1.1 keep-alive handler for the Runtime API and the control endpoints."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # StreamRequestHandler sets TCP_NODELAY in setup()
    fake = None  # set by FakeRuntimeAPI.start

    def setup(self):
        super().setup()
        self.fake.track(self.connection, True)

    def finish(self):
        self.fake.track(self.connection, False)
        super().finish()

    def log_message(self, format, *args):
        pass

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        if url.path == API_PREFIX + "invocation/next":
            return self._next()
        if self.fake.control and url.path == CONTROL_PREFIX + "init-error":
            try:
                wait = float(urllib.parse.parse_qs(url.query).get("wait", ["0"])[0])
            except ValueError:
                return self._fail(400, "BadControlRequest", "wait must be a number of seconds")
            error = self.fake.init_error(wait)
            return self._json(200, jsonable(error) if error else {"status": "none"})
        if self.fake.control and url.path == CONTROL_PREFIX + "stats":
            return self._json(200, self.fake.snapshot_stats())
        return self._fail(404, "NotFound", "no route GET %s" % url.path)

    def do_POST(self):
        body = self._read_body()
        if body is None:
            return
        path = urllib.parse.urlsplit(self.path).path
        error_type = self.headers.get(HEADER_ERROR_TYPE)
        if path == API_PREFIX + "init/error":
            return self._json(*self.fake.record_init_error(body, error_type))
        if path.startswith(API_PREFIX + "invocation/"):
            parts = path[len(API_PREFIX + "invocation/"):].split("/")
            if len(parts) == 2 and parts[1] in ("response", "error") and parts[0]:
                request_id = urllib.parse.unquote(parts[0])
                return self._json(*self.fake.answer(request_id, parts[1], body, error_type))
        if self.fake.control and path == CONTROL_PREFIX + "invoke":
            return self._control_invoke(body)
        return self._fail(404, "NotFound", "no route POST %s" % path)

    def _next(self):
        invocation = self.fake.next_invocation()
        if invocation is None:
            self.close_connection = True
            return
        self.send_response(200)
        for name, value in invocation.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(invocation.payload)))
        self.end_headers()
        self.wfile.write(invocation.payload)

    def _control_invoke(self, body):
        try:
            request = json.loads(body.decode("utf-8"))
            payload = request["payload"]
            if not isinstance(payload, str):
                raise ValueError("payload must be a string (the event's exact text)")
            deadline_ms = request.get("deadlineMs")
            timeout_ms = int(request.get("timeoutMs", DEFAULT_TIMEOUT_MS))
            deadline_ms = None if deadline_ms is None else int(deadline_ms)
            headers = {str(k): str(v) for k, v in (request.get("headers") or {}).items()}
            omit = [str(name) for name in request.get("omitHeaders") or ()]
        except (UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError) as error:
            return self._fail(400, "BadControlRequest", "bad control invoke body: %s" % error)
        result = self.fake.invoke(payload, deadline_ms=deadline_ms, timeout_ms=timeout_ms,
                                  request_id=request.get("requestId"), headers=headers, omit_headers=omit)
        self._json(200, jsonable(result))

    def _read_body(self):
        """The request body; chunked bodies are refused (Lambda runtimes and
        the control client send Content-Length)."""
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            return self._fail(411, "LengthRequired", "send Content-Length, not a chunked body", close=True)
        length = self.headers.get("Content-Length") or "0"
        if not length.isdigit():
            return self._fail(400, "BadRequest", "bad Content-Length %r" % length, close=True)
        if int(length) > MAX_CONTROL_BODY:
            return self._fail(413, "RequestEntityTooLarge", "body of %s bytes is too large" % length, close=True)
        return self.rfile.read(int(length))

    def _fail(self, status, error_type, message, close=False):
        self.close_connection = self.close_connection or close
        self._json(status, {"errorMessage": message, "errorType": error_type})

    def _json(self, status, obj):
        data = json.dumps(obj).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def main():
    parser = argparse.ArgumentParser(description="Fake AWS Lambda Runtime API on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=0, help="port to bind (0 picks a free one)")
    parser.add_argument("--function-arn", default=DEFAULT_FUNCTION_ARN)
    args = parser.parse_args()
    api = FakeRuntimeAPI(port=args.port, function_arn=args.function_arn)
    api.start()
    print(json.dumps({"port": api.port, "address": api.address}), flush=True)
    try:
        while sys.stdin.buffer.read(65536):
            pass
    except KeyboardInterrupt:
        pass
    api.stop()


if __name__ == "__main__":
    main()
