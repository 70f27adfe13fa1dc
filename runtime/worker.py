"""`ponder worker`: the separate process that owns the model.

It reads JSON-RPC requests line by line from stdin and answers on stdout. Load and generate
run on one model thread (one job at a time); cancel, status and shutdown are answered at once
by the reading thread. The worker exits when stdin closes, so it never outlives its parent.
Protocol output goes to a private copy of fd 1; fd 1 itself is pointed at stderr so that no
library print (Python or C) can corrupt the protocol stream.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, BinaryIO

from pydantic import ValidationError

from ponder.runtime import protocol as rpc
from ponder.runtime.backend import Backend, BackendError, Cancelled, make_backend

log = logging.getLogger("ponder.worker")

AUDIT_ENV = "PONDER_AUDIT_SOCKETS"
_AUDITED = {"socket.connect", "socket.getaddrinfo", "socket.bind", "socket.sendto"}


def install_socket_audit(path: str) -> None:
    """Record every socket event of this process to `path` (the privacy test reads it)."""
    sink = open(path, "a", encoding="utf-8")

    def hook(event: str, args: tuple[Any, ...]) -> None:
        if event in _AUDITED:  # the server's format (lsp/server.py): event, target, address family
            try:
                target = args[1] if event != "socket.getaddrinfo" else args[0]
                sink.write(f"{event}\t{target!r}\t{getattr(args[0], 'family', '')}\n")
            except Exception:
                sink.write(f"{event}\t?\n")
            sink.flush()

    sys.addaudithook(hook)


class Worker:
    """Dispatches requests; owns the backend and the per-job cancel events."""

    def __init__(self, out: BinaryIO) -> None:
        self._out = out
        self._write_lock = threading.Lock()
        self._model_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="model")
        self._backend: Backend | None = None
        self._load_info: rpc.LoadResult | None = None
        self._cancel: dict[str, threading.Event] = {}
        self._running: str | None = None
        self._last: dict[str, Any] = {}

    def send(self, data: bytes) -> None:
        with self._write_lock:
            self._out.write(data)
            self._out.flush()

    def progress(self, p: rpc.Progress) -> None:
        self.send(rpc.notification("progress", p))

    # -- dispatch (reader thread) ------------------------------------------------------------

    def handle(self, line: bytes) -> bool:
        """Handle one line; False means: shut down."""
        try:
            msg = rpc.decode(line)
        except ValueError as exc:
            self.send(rpc.error_response(None, rpc.RpcError(-32700, f"parse error: {exc}")))
            return True
        id_, method, params = msg.get("id"), msg.get("method"), msg.get("params") or {}
        try:
            if method == "load":
                p = rpc.LoadParams.model_validate(params)
                self._model_thread.submit(self._guarded, id_, self._load, p)
            elif method == "generate":
                g = rpc.GenerateParams.model_validate(params)
                self._cancel[g.job_id] = threading.Event()
                self._model_thread.submit(self._guarded, id_, self._generate, g)
            elif method == "cancel":
                c = rpc.CancelParams.model_validate(params)
                event = self._cancel.get(c.job_id)
                if event is not None:
                    event.set()
                self.send(rpc.response(id_, {"cancelled": event is not None}))
            elif method == "status":
                self.send(rpc.response(id_, self.status()))
            elif method == "shutdown":
                for event in list(self._cancel.values()):
                    event.set()
                self.send(rpc.response(id_, {}))
                return False
            else:
                raise rpc.RpcError(rpc.METHOD_NOT_FOUND, f"unknown method {method!r}")
        except ValidationError as exc:
            self.send(rpc.error_response(id_, rpc.RpcError(rpc.INVALID_PARAMS, str(exc))))
        except rpc.RpcError as exc:
            self.send(rpc.error_response(id_, exc))
        return True

    def status(self) -> dict[str, Any]:
        info: dict[str, Any] = {
            "pid": os.getpid(),
            "loaded": self._backend is not None,
            "running_job": self._running,
            "rss_bytes": _rss_bytes(),
            "last_job": self._last,
        }
        if self._load_info is not None:
            info.update(self._load_info.model_dump(mode="json"))
        if self._backend is not None:
            info["backend_status"] = self._backend.status()
        return info

    # -- model thread -------------------------------------------------------------------------

    def _guarded(self, id_: Any, fn: Any, params: Any) -> None:
        try:
            self.send(rpc.response(id_, fn(params)))
        except Cancelled:
            self.send(rpc.error_response(id_, rpc.RpcError(rpc.CANCELLED, "cancelled")))
        except rpc.RpcError as exc:
            self.send(rpc.error_response(id_, exc))
        except BackendError as exc:
            log.error("%s", exc)
            self.send(rpc.error_response(id_, rpc.RpcError(rpc.BACKEND_ERROR, str(exc))))
        except Exception as exc:  # one failing job must not take the worker down
            log.exception("job failed")
            self.send(rpc.error_response(id_, rpc.RpcError(rpc.BACKEND_ERROR, f"{type(exc).__name__}: {exc}")))

    def _load(self, p: rpc.LoadParams) -> rpc.LoadResult:
        if self._backend is not None:
            self._backend.close()
            self._backend = None
        backend = make_backend(p.settings)
        self._load_info = backend.load()
        self._backend = backend
        log.info("loaded %s (%s) in %.1fs", self._load_info.model, self._load_info.backend, self._load_info.load_s)
        return self._load_info

    def _generate(self, g: rpc.GenerateParams) -> rpc.GenerateResult:
        cancelled = self._cancel[g.job_id]
        try:
            if cancelled.is_set():
                raise Cancelled
            if self._backend is None:
                raise rpc.RpcError(rpc.NOT_LOADED, "no model loaded; send `load` first")
            self._running = g.job_id
            result = self._backend.generate(g, cancelled, self.progress)
            self._last = {
                "job_id": g.job_id,
                "prompt_tokens": result.prompt_tokens,
                "prompt_tokens_evaluated": result.prompt_tokens_evaluated,
                "completion_tokens": result.completion_tokens,
                "time_to_first_token_s": result.time_to_first_token_s,
                "seconds": result.seconds,
                "tokens_per_s": result.tokens_per_s,
            }
            return result
        finally:
            self._running = None
            self._cancel.pop(g.job_id, None)

    def close(self) -> None:
        if self._backend is not None:
            self._backend.close()


def _rss_bytes() -> int:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return 0


def _protocol_stream() -> BinaryIO:
    """Keep fd 1 for the protocol privately; point fd 1 (and sys.stdout) at stderr."""
    out = os.fdopen(os.dup(1), "wb", buffering=0)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return out


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="ponder worker", description="The model worker (JSON-RPC on stdin/stdout).")
    parser.add_argument("--log-level", default=os.environ.get("PONDER_WORKER_LOG", "INFO"))
    args = parser.parse_args(argv)
    if os.environ.get(AUDIT_ENV):
        install_socket_audit(os.environ[AUDIT_ENV])
    logging.basicConfig(
        stream=sys.stderr, level=args.log_level.upper(), format="ponder-worker[%(process)d] %(levelname)s %(message)s"
    )
    worker = Worker(_protocol_stream())
    threading.Thread(target=_heartbeat, args=(worker,), name="heartbeat", daemon=True).start()
    stdin = sys.stdin.buffer
    started = time.monotonic()
    log.info("worker ready")
    try:
        for line in stdin:
            if line.strip() and not worker.handle(line):
                break
    except KeyboardInterrupt:
        pass
    log.info("worker exiting after %.1fs", time.monotonic() - started)
    # Leave at once: a running generation thread must not keep an orphaned process alive.
    sys.stderr.flush()
    os._exit(0)


HEARTBEAT_S = 2.0  # the client kills a worker it has not heard from for `worker_silence_s`


def _heartbeat(worker: Worker) -> None:
    """Say "alive" every HEARTBEAT_S, also while loading or generating: a worker that is stopped
    (SIGSTOP), deadlocked or swapped to death says nothing, and the client can tell."""
    while True:
        time.sleep(HEARTBEAT_S)
        try:
            worker.send(rpc.notification("heartbeat", {"running": worker._running}))
        except (OSError, ValueError):
            return


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
