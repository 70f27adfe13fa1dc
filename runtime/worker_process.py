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
        return self.proc.returncode is None and not self._closing

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

    def notify_cancel(self, job_id: str) -> None:
        """Ask the worker to stop a job without waiting for the acknowledgement."""
        if self.alive:
            task = asyncio.ensure_future(self.request("cancel", {"job_id": job_id}))
            task.add_done_callback(lambda t: t.cancelled() or t.exception())

    async def _read_stdout(self) -> None:
        assert self.proc.stdout is not None
        while line := await self.proc.stdout.readline():
            try:
                msg = rpc.decode(line)
            except ValueError:
                log.warning("worker %d wrote a non-protocol line: %r", self.pid, line[:200])
                continue
            if "method" in msg and "id" not in msg:
                self._on_notification(msg["method"], msg.get("params") or {})
                continue
            fut = self._pending.pop(msg.get("id"), None)  # type: ignore[arg-type]
            if fut is None or fut.done():
                continue
            if "error" in msg:
                err = msg["error"]
                fut.set_exception(
                    rpc.RpcError(err.get("code", rpc.BACKEND_ERROR), err.get("message", ""), err.get("data"))
                )
            else:
                fut.set_result(msg.get("result"))
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
