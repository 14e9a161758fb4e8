"""Shared pieces of the loopback AWS test harness: one JSON line on stdout
for the test that spawned us, and a lifetime tied to our stdin so a crashed
test (whose pipe closes) never leaves a server running."""

import json
import sys
import threading

HOST = "127.0.0.1"


def announce(info: dict) -> None:
    """Print the one JSON line the spawning test waits for."""
    sys.stdout.write(json.dumps(info, sort_keys=True) + "\n")
    sys.stdout.flush()


def reply(info: dict) -> None:
    """Answer one stdin command with one JSON line."""
    announce(info)


def serve_until_stdin_closes(handle_line=None) -> None:
    """Block until stdin reaches EOF; pass each line to handle_line."""
    for line in sys.stdin:
        line = line.strip()
        if line and handle_line is not None:
            handle_line(line)


def start_daemon(target, *args) -> threading.Thread:
    thread = threading.Thread(target=target, args=args, daemon=True)
    thread.start()
    return thread
