"""Execution environments for lambda_pool.py: one `BIN lambda` worker per
environment, long-polling its own fake Runtime API, spawned so that it can
never outlive the harness, with its output in its CloudWatch log stream.
"""

import ctypes
import datetime
import math
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import deque

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import fake_runtime_api  # noqa: E402

from moto.logs.models import logs_backends  # noqa: E402

RUNTIME_VERSION = "provided:al2023.v1\tRuntime Version ARN: arn:aws:lambda:us-east-1::runtime:moto-stack-harness"


class Spawner:
    """Starts every worker from one thread that lives as long as the harness:
    PR_SET_PDEATHSIG fires when the *thread* that forked a child exits, and
    moto's request threads end after each request."""

    def __init__(self):
        self._jobs = deque()
        self._ready = threading.Condition()
        threading.Thread(target=self._run, name="worker-spawner", daemon=True).start()

    def popen(self, argv, env):
        box = {"done": threading.Event()}
        with self._ready:
            self._jobs.append((argv, env, box))
            self._ready.notify()
        box["done"].wait()
        if "error" in box:
            raise box["error"]
        return box["process"]

    def _run(self):
        while True:
            with self._ready:
                while not self._jobs:
                    self._ready.wait()
                argv, env, box = self._jobs.popleft()
            parent = os.getpid()
            try:
                box["process"] = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                                  stderr=subprocess.STDOUT, preexec_fn=lambda: _die_with(parent))
            except OSError as error:
                box["error"] = error
            box["done"].set()


_PRCTL = ctypes.CDLL("libc.so.6", use_errno=True).prctl  # resolved before any fork
_PR_SET_PDEATHSIG = 1


def _die_with(parent):
    """In the child, before exec: SIGKILL when the harness (its spawner
    thread) goes away; nothing here may take a lock the fork copied."""
    _PRCTL(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    if os.getppid() != parent:  # the harness died between fork and prctl
        os._exit(1)


class _EnvironmentAPI(fake_runtime_api.FakeRuntimeAPI):
    """A Runtime API that also notes the worker's first poll (the end of its
    init) and each delivery (an invoke is then in the worker's hands)."""

    def __init__(self, **kwargs):
        super().__init__(control=False, **kwargs)
        self.first_poll = None
        self.delivered = threading.Event()

    def next_invocation(self):
        if self.first_poll is None:
            self.first_poll = time.monotonic()
        invocation = super().next_invocation()
        if invocation is not None:
            self.delivered.set()
        return invocation

    def kill_during(self, request_id, kill):
        """Runs kill() while request_id is in the worker's hands and fails the
        invocation as "stopped" in the same step, so an answer racing the
        kill cannot turn it into a success. False if it was already answered."""
        with self._lock:
            invocation = self._in_flight.get(request_id)
            if invocation is None:
                return False
            kill()
            self._retire(invocation, {"status": "stopped"})
            return True


def max_memory_used_mb(pid):
    """VmHWM of a process in MB (Lambda's Max Memory Used), or None."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(math.ceil(int(line.split()[1]) / 1024.0))
    except (OSError, ValueError, IndexError):
        pass
    return None


class Environment:
    """One execution environment: a worker process and its Runtime API."""

    def __init__(self, pool, memory_mb):
        self.pool = pool
        self.memory_mb = memory_mb
        self.api = _EnvironmentAPI(function_arn=pool.arn)
        self.api.start()
        day = datetime.datetime.now(datetime.timezone.utc).strftime("%Y/%m/%d")
        self.stream = f"{day}/[$LATEST]{uuid.uuid4().hex}"
        pool.logs.create_stream(pool.log_group, self.stream)
        pool.logs.put(pool.log_group, self.stream, [f"INIT_START Runtime Version: {RUNTIME_VERSION}"])
        self.cold = True
        self.retired = False
        self.dead = False
        self.spawned = time.monotonic()
        try:
            self.process = pool.spawner.popen([pool.binary, "lambda"], pool.worker_env(self))
        except BaseException:
            self.api.stop()
            raise
        self.last_hwm = None
        self.exit_grace_s = 0.0  # set when the runtime is expected to exit by itself
        threading.Thread(target=self._read_output, name=f"out-{pool.name}", daemon=True).start()
        threading.Thread(target=self._watch, name=f"watch-{pool.name}", daemon=True).start()

    def _read_output(self):
        """The worker's stdout/stderr go to its log stream, as on Lambda."""
        for raw in iter(self.process.stdout.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip("\n")
            self.pool.logs.put(self.pool.log_group, self.stream, [line])
        self.process.stdout.close()

    def _watch(self):
        """A runtime that exits fails its in-flight invoke (Runtime.ExitError)."""
        self.process.wait()
        self.dead = True
        self.api.stop()

    def hwm(self):
        value = max_memory_used_mb(self.process.pid)
        if value is not None:
            self.last_hwm = value
        return self.last_hwm

    def kill(self, grace_s=0.0):
        """SIGKILL the worker (after grace_s for it to exit by itself)."""
        self.dead = True
        if grace_s > 0:
            try:
                self.process.wait(grace_s)
            except subprocess.TimeoutExpired:
                pass
        if self.process.poll() is None:
            try:
                self.process.send_signal(signal.SIGKILL)
            except OSError:
                pass
        self.api.stop()

    def exit_description(self):
        try:
            code = self.process.wait(5)
        except subprocess.TimeoutExpired:
            return "unknown"
        if code < 0:
            name = signal.Signals(-code).name[3:].lower()
            return f"signal: {'killed' if name == 'kill' else name}"
        return f"exit status {code}"


class LogWriter:
    """Writes events into moto's CloudWatch Logs backend, one writer at a time."""

    def __init__(self, account, region):
        self.backend = logs_backends[account][region]
        self.lock = threading.Lock()

    def create_stream(self, group, stream):
        with self.lock:
            self.backend.create_log_stream(group, stream)

    def put(self, group, stream, messages, timestamps=None):
        now = int(time.time() * 1000)
        stamps = timestamps or [now] * len(messages)
        events = [{"timestamp": t, "message": m} for t, m in zip(stamps, messages)]
        with self.lock:
            self.backend.put_log_events(group, stream, events)
