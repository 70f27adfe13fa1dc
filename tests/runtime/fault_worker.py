"""A worker that misbehaves on purpose, for the client's fault tests (run as a script).

FAULT_MODE picks how its first generation goes wrong: `wrong_id` answers with another id,
`huge_line` writes a line over the client's 64 MB limit, `deaf` ignores cancel and never
answers. It heartbeats like the real worker. Every later spawn (counted in FAULT_STATE) is a
well-behaved worker, so the tests can check that the next job runs."""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from pathlib import Path

state = Path(os.environ["FAULT_STATE"])
spawns = int(state.read_text()) if state.exists() else 0
state.write_text(str(spawns + 1))
mode = os.environ["FAULT_MODE"] if spawns == 0 else "good"
lock = threading.Lock()


def send(msg: dict) -> None:
    with lock:
        sys.stdout.write(json.dumps(msg) + "\n")
        sys.stdout.flush()


def heartbeat() -> None:
    while True:
        time.sleep(0.5)
        send({"jsonrpc": "2.0", "method": "heartbeat", "params": {}})


threading.Thread(target=heartbeat, daemon=True).start()
for line in sys.stdin:
    msg = json.loads(line)
    id_, method, params = msg.get("id"), msg.get("method"), msg.get("params") or {}
    if method == "load":
        send({"jsonrpc": "2.0", "id": id_, "result": {"model": "fault", "backend": "scripted", "load_s": 0.0}})
    elif method == "generate":
        result = {
            "job_id": params["job_id"],
            "text": "ok",
            "finish_reason": "stop",
            "prompt_tokens": 1,
            "completion_tokens": 1,
            "time_to_first_token_s": 0.0,
            "seconds": 0.0,
        }
        if mode == "good":
            send({"jsonrpc": "2.0", "id": id_, "result": result})
        elif mode == "wrong_id":
            send({"jsonrpc": "2.0", "id": id_ + 1000, "result": result})
        elif mode == "huge_line":
            with lock:
                sys.stdout.write(
                    '{"jsonrpc": "2.0", "method": "progress", "params": {"x": "' + "x" * (65 << 20) + '"}}\n'
                )
                sys.stdout.flush()
        # deaf: no answer at all, cancel ignored
    elif method == "shutdown":
        send({"jsonrpc": "2.0", "id": id_, "result": {}})
        break
    elif id_ is not None and method != "cancel":
        send({"jsonrpc": "2.0", "id": id_, "result": {}})
