"""An HTTP/1.1 proxy on 127.0.0.1 that forwards to an upstream (moto) and
injects faults into the next N requests, to test a client's retries.

Faults (stdin command `fault MODE COUNT`, or --fault MODE:COUNT at start):
  slowdown  503 with an S3 SlowDown error document
  error500  500 with an S3 InternalError document
  throttle  503 with a Throttling error document
  expired   400 with an ExpiredToken error document (must not be retried)
  reset     the connection is reset (RST) before any response
  short     upstream's response head with its Content-Length, half the
            body, then the connection is closed
  resetbody as short, but ends with a reset
Other stdin commands: `stats` (JSON counts), `clear`. Each command gets
one JSON line on stdout. Prints {"endpoint": ...} first and runs until
stdin closes. Requests are forwarded byte for byte (request target and
Host unchanged), so signatures made for the proxy's address verify.
"""

import argparse
import http.client
import os
import socket
import struct
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness_common  # noqa: E402

MODES = {"slowdown", "error500", "throttle", "expired", "reset", "short", "resetbody"}
ERRORS = {
    "slowdown": (503, "SlowDown", "Please reduce your request rate."),
    "error500": (500, "InternalError", "We encountered an internal error. Please try again."),
    "throttle": (503, "Throttling", "Rate exceeded."),
    "expired": (400, "ExpiredToken", "The provided token has expired."),
}
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "proxy-connection", "upgrade", "te"}


class FaultState:
    def __init__(self):
        self.lock = threading.Lock()
        self.queue = []  # modes still to inject, in order
        self.requests = 0
        self.faults = 0

    def take(self):
        with self.lock:
            self.requests += 1
            if self.queue:
                self.faults += 1
                return self.queue.pop(0)
            return None


STATE = FaultState()
UPSTREAM = ("127.0.0.1", 0)


class ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):
        pass

    def handle_one(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        mode = STATE.take()
        if mode == "reset":
            return self.reset()
        if mode in ERRORS:
            return self.send_error_document(*ERRORS[mode])
        status, reason, headers, payload = self.forward(body)
        if mode in ("short", "resetbody") and len(payload) > 1:
            self.send_head(status, reason, headers, len(payload))
            self.wfile.write(payload[: len(payload) // 2])
            self.wfile.flush()
            return self.reset() if mode == "resetbody" else self.close()
        self.send_head(status, reason, headers, len(payload))
        if self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = handle_one

    def forward(self, body):
        connection = http.client.HTTPConnection(*UPSTREAM, timeout=60)
        try:
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
            connection.request(self.command, self.path, body=body or None, headers=headers)
            response = connection.getresponse()
            payload = response.read()
            return response.status, response.reason, response.getheaders(), payload
        finally:
            connection.close()

    def send_head(self, status, reason, headers, length):
        self.send_response_only(status, reason)
        for name, value in headers:
            if name.lower() not in HOP_BY_HOP and name.lower() != "content-length":
                self.send_header(name, value)
        self.send_header("Content-Length", str(length))
        self.end_headers()

    def send_error_document(self, status, code, message):
        document = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
                    f"<Message>{message}</Message><RequestId>fault-proxy</RequestId></Error>").encode()
        self.send_head(status, None, [("Content-Type", "application/xml")], len(document))
        if self.command != "HEAD":
            self.wfile.write(document)

    def reset(self):
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close()

    def close(self):
        self.close_connection = True
        try:
            self.wfile.flush()
        except OSError:
            pass
        self.connection.close()


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        """A fault closes sockets under the handler on purpose: stay quiet."""
        if not isinstance(sys.exc_info()[1], (OSError, ValueError)):
            super().handle_error(request, client_address)


def parse_fault(text):
    mode, _, count = text.partition(":")
    if mode not in MODES or not count.isdigit():
        raise ValueError(f"bad fault '{text}': expected MODE:COUNT with MODE in {sorted(MODES)}")
    return [mode] * int(count)


def handle_command(line):
    words = line.split()
    try:
        if words[0] == "fault" and len(words) == 3:
            faults = parse_fault(f"{words[1]}:{words[2]}")
            with STATE.lock:
                STATE.queue.extend(faults)
        elif words[0] == "clear":
            with STATE.lock:
                STATE.queue.clear()
        elif words[0] != "stats":
            raise ValueError(f"unknown command '{line}'")
        with STATE.lock:
            harness_common.reply({"ok": True, "requests": STATE.requests, "faults": STATE.faults,
                                  "pending": len(STATE.queue)})
    except ValueError as error:
        harness_common.reply({"ok": False, "error": str(error)})


def main():
    global UPSTREAM
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--upstream", required=True, help="e.g. http://127.0.0.1:5000")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--fault", action="append", default=[], metavar="MODE:COUNT")
    args = parser.parse_args()
    upstream = urlsplit(args.upstream)
    if upstream.scheme != "http" or not upstream.hostname or not upstream.port:
        parser.error(f"--upstream '{args.upstream}' must be http://HOST:PORT")
    UPSTREAM = (upstream.hostname, upstream.port)
    for fault in args.fault:
        STATE.queue.extend(parse_fault(fault))
    server = QuietServer((harness_common.HOST, args.port), ProxyHandler)
    harness_common.start_daemon(server.serve_forever)
    harness_common.announce({"endpoint": f"http://{harness_common.HOST}:{server.server_address[1]}"})
    harness_common.serve_until_stdin_closes(handle_command)
    server.shutdown()


if __name__ == "__main__":
    main()
