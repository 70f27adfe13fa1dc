"""One running worker process, seen from the server: spawn, requests, notifications, kill.

The worker runs in its own process group (so a kill takes any children with it) and exits by
itself when its stdin closes. A death of the process fails every pending request with
`WorkerDied`; the client decides whether to restart.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import os
import signal
import sys
import time
from collections.abc import Callable
from typing import Any

from ponder.runtime import protocol as rpc

log = logging.getLogger("ponder.runtime")

WORKER_COMMAND = [sys.executable, "-m", "ponder.runtime.worker"]


class WorkerDied(Exception):
    """The worker process exited (crash, OOM kill, SIGKILL) with requests still pending."""


class WorkerProcess:
    def __init__(
        self, proc: asyncio.subprocess.Process, on_notification: Callable[[str, dict[str, Any]], None]
    ) -> None:
        self.proc = proc
        self.pid = proc.pid
        self._on_notification = on_notification
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._next_id = 0
        self._closing = False
        self.stderr_tail: collections.deque[str] = collections.deque(maxlen=40)
        self.killed_because: str | None = None
        self.last_heard = time.monotonic()  # any line on stdout: an answer, progress or a heartbeat
        self._readers = [
            asyncio.create_task(self._read_stdout(), name=f"worker-{self.pid}-stdout"),
            asyncio.create_task(self._read_stderr(), name=f"worker-{self.pid}-stderr"),
        ]

    @classmethod
    async def spawn(
        cls,
        on_notification: Callable[[str, dict[str, Any]], None],
        command: list[str] | None = None,
        env: dict[str, str] | None = None,
    ) -> WorkerProcess:
        proc = await asyncio.create_subprocess_exec(
            *(command or WORKER_COMMAND),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,
            env={**os.environ, **(env or {})},
            limit=64 * 1024 * 1024,
        )
        log.info("started model worker pid %d", proc.pid)
        return cls(proc, on_notification)

    @property
    def alive(self) -> bool:
        return self.proc.returncode is None and not self._closing and self.killed_because is None

    async def request(self, method: str, params: Any = None) -> Any:
        """Send a request and wait for its answer; raises RpcError or WorkerDied."""
        if not self.alive:
            raise WorkerDied(f"worker {self.pid} is not running")
        self._next_id += 1
        id_ = self._next_id
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[id_] = fut
        try:
            assert self.proc.stdin is not None
            self.proc.stdin.write(rpc.request(id_, method, params))
            await self.proc.stdin.drain()
        except (BrokenPipeError, ConnectionResetError) as exc:
            self._pending.pop(id_, None)
            raise WorkerDied(f"worker {self.pid}: pipe closed ({exc})") from exc
        return await fut

    def kill(self, why: str) -> None:
        """End a worker that cannot be asked (stopped, hung, speaking garbage): its pending
        requests fail with WorkerDied once the pipe closes, and the client restarts it."""
        if self.proc.returncode is None and self.killed_because is None:
            log.warning("killing model worker %d: %s", self.pid, why)
            self.killed_because = why
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.pid, signal.SIGKILL)

    async def watch(self, silence_s: float) -> None:
        """Kill the worker when it has said nothing for `silence_s` (it sends a heartbeat every
        couple of seconds, also while loading or generating)."""
        while self.proc.returncode is None and not self._closing:
            await asyncio.sleep(min(1.0, silence_s / 4))
            quiet = time.monotonic() - self.last_heard
            if quiet > silence_s and self.proc.returncode is None and not self._closing:
                self.kill(f"silent for {quiet:.0f} s (stopped or hung)")
                return

    def notify_cancel(self, job_id: str) -> None:
        """Ask the worker to stop a job without waiting for the acknowledgement."""
        if self.alive:
            task = asyncio.ensure_future(self.request("cancel", {"job_id": job_id}))
            task.add_done_callback(lambda t: t.cancelled() or t.exception())

    async def _read_stdout(self) -> None:
        assert self.proc.stdout is not None
        while True:
            try:
                line = await self.proc.stdout.readline()
            except (ValueError, asyncio.LimitOverrunError) as exc:  # a line over the reader's limit
                self.kill(f"it wrote a line over the 64 MB limit ({exc})")
                break
            if not line:
                break
            self.last_heard = time.monotonic()
            try:
                msg = rpc.decode(line)
            except ValueError:
                log.warning("worker %d wrote a non-protocol line: %r", self.pid, line[:200])
                continue
            if "method" in msg and "id" not in msg:
                if msg["method"] != "heartbeat":
                    self._on_notification(msg["method"], msg.get("params") or {})
                continue
            fut = self._pending.pop(msg.get("id"), None)  # type: ignore[arg-type]
            if fut is None:
                log.warning("worker %d answered an unknown request id %r; ignored", self.pid, msg.get("id"))
                continue
            if fut.done():
                continue
            if "error" in msg:
                err = msg["error"]
                fut.set_exception(
                    rpc.RpcError(err.get("code", rpc.BACKEND_ERROR), err.get("message", ""), err.get("data"))
                )
            else:
                fut.set_result(msg.get("result"))
        # a worker that closed its output but runs on says nothing more: the watchdog ends it
        code = await self.proc.wait()
        if not self._closing:
            log.warning("model worker %d exited with %s; last stderr: %s", self.pid, code, " | ".join(self.stderr_tail))
        for fut in self._pending.values():
            if not fut.done():
                fut.set_exception(WorkerDied(f"worker {self.pid} exited with code {code}"))
        self._pending.clear()

    async def _read_stderr(self) -> None:
        assert self.proc.stderr is not None
        while line := await self.proc.stderr.readline():
            text = line.decode(errors="replace").rstrip()
            self.stderr_tail.append(text if len(text) <= 300 else text[:300] + "…")  # a grammar is one huge line
            log.debug("%s", text)

    async def close(self, grace_s: float = 2.0) -> None:
        """Ask politely, then kill the whole process group; never leaves an orphan."""
        if self.proc.returncode is None and not self._closing:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.request("shutdown"), grace_s)
        self._closing = True
        if self.proc.stdin is not None:
            with contextlib.suppress(Exception):
                self.proc.stdin.close()
        try:
            await asyncio.wait_for(self.proc.wait(), grace_s)
        except TimeoutError:
            pass
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)
        await self.proc.wait()
        for reader in self._readers:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(reader, 1.0)
