"""Lambda execution environments for moto_stack.py, without Docker.

moto's Lambda invoke needs Docker, so `LambdaFunction.invoke` is replaced
for the stack's functions: an invoke goes to an idle environment (one
`BIN lambda` worker long-polling its own fake Runtime API) or starts a new
one (a cold start) up to the function's concurrency limit, and beyond it
fails with 429 TooManyRequestsException, which Step Functions retries. Each
invoke writes Lambda's START/END/REPORT lines to the function's log group,
with the request id the worker received. A new MemorySize retires the
function's environments, as on AWS.
"""

import base64
import json
import math
import os
import signal
import sys
import threading
import time
import uuid
from collections import Counter

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import fake_runtime_api  # noqa: E402
from lambda_env import Environment, LogWriter, Spawner  # noqa: E402

from moto.awslambda.exceptions import LambdaClientError  # noqa: E402
from moto.awslambda.models import LambdaFunction  # noqa: E402

DEFAULT_CONCURRENCY = 10  # per function when no ReservedConcurrentExecutions is set


class TooManyRequests(LambdaClientError):
    """Lambda's throttle: HTTP 429, retried by the state machine."""
    code = 429

    def __init__(self, function_name, limit):
        super().__init__("TooManyRequestsException", f"Rate Exceeded. (function {function_name}, "
                         f"concurrency limit {limit})")


class _Starting:
    """Holds a concurrency slot while an environment starts."""
    retired = False


class FunctionPool:
    """The execution environments of one function."""

    def __init__(self, name, arn, log_group, binary, worker_env, spawner, logs, handler):
        self.name, self.arn, self.log_group, self.binary = name, arn, log_group, binary
        self.handler = handler
        self.worker_env_for = worker_env  # (pool, environment) -> the worker's env dict
        self.spawner, self.logs = spawner, logs
        self.lock = threading.Lock()
        self.idle = []
        self.busy = set()
        self.all = set()
        self.invokes = 0
        self.cold_starts = 0
        self.function_timeout = 900

    def worker_env(self, environment):
        return self.worker_env_for(self, environment)

    def alive(self):
        with self.lock:
            return sum(1 for e in self.all if not e.dead)

    def retire_all(self):
        """New configuration: idle environments go now, busy ones after their invoke."""
        with self.lock:
            idle, self.idle = self.idle, []
            for environment in self.busy:
                environment.retired = True
        for environment in idle:
            self._discard(environment)

    def stop(self):
        with self.lock:
            everything = list(self.all)
            self.idle = []
        for environment in everything:
            environment.kill()

    def _discard(self, environment):
        if environment.exit_grace_s > 0:  # let it read the reply to its /init/error and exit
            threading.Thread(target=environment.kill, args=(environment.exit_grace_s,), daemon=True).start()
        else:
            environment.kill()
        with self.lock:
            self.all.discard(environment)

    def acquire(self, function, limit):
        """An idle environment, or a new one; TooManyRequests at the limit."""
        with self.lock:
            if len(self.busy) >= limit:
                raise TooManyRequests(self.name, limit)
            while self.idle:
                environment = self.idle.pop()
                if not environment.dead:
                    self.busy.add(environment)
                    return environment
                self.all.discard(environment)
            placeholder = _Starting()
            self.busy.add(placeholder)
        try:
            environment = Environment(self, int(function.memory_size))
        finally:
            with self.lock:
                self.busy.discard(placeholder)
        with self.lock:
            environment.retired = placeholder.retired  # a configuration update while it started
            self.busy.add(environment)
            self.all.add(environment)
        return environment

    def release(self, environment):
        with self.lock:
            self.busy.discard(environment)
            keep = not (environment.dead or environment.retired)
            if keep:
                self.idle.append(environment)
        if not keep:
            self._discard(environment)


class LambdaStack:
    """The hook: routes invokes of the stack's functions to their pools."""

    def __init__(self, account, region, binary, worker_env):
        self.account, self.region, self.binary = account, region, binary
        self.worker_env = worker_env
        self.spawner = Spawner()
        self.logs = LogWriter(account, region)
        self.pools = {}
        self.throttled = 0
        self.fail_ranks = set()
        self.lock = threading.Lock()
        self.faults = Counter()

    def add_function(self, handler, name, log_group):
        arn = f"arn:aws:lambda:{self.region}:{self.account}:function:{name}"
        self.pools[name] = FunctionPool(name, arn, log_group, self.binary, self.worker_env, self.spawner,
                                        self.logs, handler)

    def install(self):
        """Replaces moto's Docker invoke and hooks configuration updates."""
        stack = self
        original_invoke = LambdaFunction.invoke
        original_update = LambdaFunction.update_configuration

        def invoke(function, body, request_headers, response_headers):
            pool = stack.pools.get(function.function_name)
            if pool is None:
                return original_invoke(function, body, request_headers, response_headers)
            return stack.invoke(pool, function, body, request_headers, response_headers)

        def update_configuration(function, config_updates):
            before = (function.memory_size, json.dumps(function.environment_vars, sort_keys=True),
                      function.timeout)
            result = original_update(function, config_updates)
            after = (function.memory_size, json.dumps(function.environment_vars, sort_keys=True),
                     function.timeout)
            pool = stack.pools.get(function.function_name)
            if pool is not None and before != after:
                pool.retire_all()
            return result

        LambdaFunction.invoke = invoke
        LambdaFunction.update_configuration = update_configuration

    def stats(self):
        return {
            "invokes": {name: pool.invokes for name, pool in self.pools.items()},
            "cold_starts": {name: pool.cold_starts for name, pool in self.pools.items()},
            "environments_alive": {name: pool.alive() for name, pool in self.pools.items()},
            "throttled": self.throttled,
            "faults_injected": sum(self.faults.values()),
        }

    def stop(self):
        for pool in self.pools.values():
            pool.stop()

    def _limit(self, function):
        reserved = function.reserved_concurrency
        return int(reserved) if reserved not in (None, "") else DEFAULT_CONCURRENCY

    def _faulted(self, pool, body):
        if pool.handler != "rank" or not self.fail_ranks:
            return False
        try:
            rank = json.loads(body).get("rank")
        except (ValueError, AttributeError, TypeError):
            return False
        return isinstance(rank, int) and rank in self.fail_ranks

    def invoke(self, pool, function, body, request_headers, response_headers):
        if isinstance(body, bytes):
            body = body.decode("utf-8")
        body = body or "{}"
        try:
            environment = pool.acquire(function, self._limit(function))
        except TooManyRequests:
            with self.lock:
                self.throttled += 1
            raise
        cold = environment.cold
        environment.cold = False
        with pool.lock:
            pool.invokes += 1
            pool.cold_starts += 1 if cold else 0
        request_id = str(uuid.uuid4())
        timeout_s = pool.function_timeout = int(function.timeout or 3)
        try:
            environment.api.delivered.clear()
            if self._faulted(pool, body):
                with self.lock:
                    self.faults[pool.name] += 1
                threading.Thread(target=self._kill_mid_invoke, args=(environment, request_id), daemon=True).start()
            result = environment.api.invoke(body.encode("utf-8"), request_id=request_id,
                                            deadline_ms=fake_runtime_api.now_ms() + timeout_s * 1000)
            payload, error_line = self._outcome(environment, result, request_id, timeout_s)
            self._report(pool, environment, result, request_id, cold, error_line, request_headers,
                         response_headers)
        finally:
            pool.release(environment)
        response_headers["x-amz-executed-version"] = "$LATEST"
        if error_line is not None:
            response_headers["x-amz-function-error"] = "Unhandled"
        return payload

    def _kill_mid_invoke(self, environment, request_id):
        """fail-rank: the runtime dies as soon as it holds the event."""
        def kill():
            environment.hwm()
            if environment.process.poll() is None:
                environment.process.send_signal(signal.SIGKILL)
        if environment.api.delivered.wait(environment.pool.function_timeout + 60):
            environment.api.kill_during(request_id, kill)

    def _outcome(self, environment, result, request_id, timeout_s):
        """(payload bytes, error line for the log or None) of one invoke."""
        status = result.get("status")
        if status == "response":
            return result.get("body") or b"", None
        if status in ("error", "init_error"):
            if status == "init_error":  # the runtime exits after reporting it; the environment is gone
                environment.retired, environment.exit_grace_s = True, 2.0
            body = result.get("body") or b""
            parsed = result.get("errorBody")
            if not isinstance(parsed, dict):
                parsed = {"errorMessage": body.decode("utf-8", "replace"),
                          "errorType": result.get("errorType") or "Runtime.Unknown"}
                body = json.dumps(parsed).encode("utf-8")
            line = f"{parsed.get('errorType', 'Error')}: {parsed.get('errorMessage', '')}"
            return body, line
        if status == "timeout":
            environment.kill()
            message = f"{time.strftime('%Y-%m-%dT%H:%M:%S')}Z {request_id} Task timed out after {timeout_s:.2f} seconds"
            return json.dumps({"errorType": "Sandbox.Timedout", "errorMessage": message}).encode("utf-8"), message
        # "stopped": the runtime process went away mid-invoke.
        environment.kill()
        message = f"RequestId: {request_id} Error: Runtime exited with error: {environment.exit_description()}"
        body = json.dumps({"errorType": "Runtime.ExitError", "errorMessage": message}).encode("utf-8")
        return body, f"{message}\nRuntime.ExitError"

    def _report(self, pool, environment, result, request_id, cold, error_line, request_headers,
                response_headers):
        """START / END / REPORT in the function's log group (and the Tail log)."""
        timing = result.get("timing") or {}
        duration = timing.get("nextToAnswerMs")
        if duration is None:
            duration = timing.get("totalMs") or 0.0
        used = environment.hwm() or 0
        report = (f"REPORT RequestId: {request_id}\tDuration: {duration:.2f} ms\t"
                  f"Billed Duration: {max(1, int(math.ceil(duration)))} ms\t"
                  f"Memory Size: {environment.memory_mb} MB\tMax Memory Used: {used} MB")
        if cold and environment.api.first_poll is not None:
            report += f"\tInit Duration: {(environment.api.first_poll - environment.spawned) * 1000.0:.2f} ms"
        end_wall = int(time.time() * 1000)
        started_wall = min(end_wall, int(end_wall - duration))  # when the worker got the event
        lines = [f"START RequestId: {request_id} Version: $LATEST"]
        stamps = [started_wall]
        if error_line is not None:
            lines.append(error_line)
            stamps.append(end_wall)
        lines += [f"END RequestId: {request_id}", report]
        stamps += [end_wall, end_wall]
        pool.logs.put(pool.log_group, environment.stream, lines, stamps)
        if str(request_headers.get("X-Amz-Log-Type", "")).lower() == "tail":
            text = "\n".join(lines) + "\n"
            response_headers["x-amz-log-result"] = base64.b64encode(text.encode("utf-8")[-4096:]).decode("ascii")
