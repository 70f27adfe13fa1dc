"""The server's one model client, and what features need around it.

`ModelService` creates the `ModelClient` lazily (the worker starts on the first job), with
the result cache in the vault's index database, and closes it on shutdown or when the
model settings change. It also answers "is this task's result already cached?" without
queueing anything (a hover must never wait behind a running generation), and runs a
job with work-done progress that the user can cancel from the editor.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import threading
from pathlib import Path
from typing import Any

from lsprotocol import types as t

from ponder.runtime.backend import unavailable
from ponder.runtime.client import ModelClient
from ponder.runtime.protocol import Progress
from ponder.runtime.tasks import ModelError, Priority, Task, TaskResult, parse_output

log = logging.getLogger(__name__)
_tokens = itertools.count(1)


class ModelService:
    def __init__(self, server) -> None:
        self.server = server
        self.loop: asyncio.AbstractEventLoop | None = None
        self._client: ModelClient | None = None
        self._settings = None
        self._peek = None  # ResultCache for look-ups off the queue
        self._fingerprints: dict[
            str, str | bool
        ] = {}  # model settings (JSON) -> fingerprint ("" none, False computing)
        self._peek_lock = threading.Lock()
        self._missing: dict[str, str | None] = {}  # model settings (JSON) -> why it cannot run

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        """Remember the server's loop (index-thread code schedules model work onto it) and start
        computing the model's fingerprint (reading GGUF metadata) off the request path."""
        self.loop = loop
        self._fingerprint()

    def _fingerprint(self) -> str | None:
        """The fingerprint of the configured model once known; starts computing it in a thread otherwise."""
        from ponder.runtime.fingerprint import model_fingerprint

        settings = self.server.settings.model
        with self._peek_lock:
            fp = self._fingerprints.get(settings.model_dump_json())
        if fp is not None:
            return fp if isinstance(fp, str) else None

        def compute():
            try:
                value = model_fingerprint(settings)
            except Exception as e:  # a missing model file: nothing can be cached for it
                log.debug("no model fingerprint: %s", e)
                value = ""
            with self._peek_lock:
                self._fingerprints[settings.model_dump_json()] = value

        with self._peek_lock:
            self._fingerprints[settings.model_dump_json()] = False  # in progress
        if self.loop is not None:
            self.loop.call_soon_threadsafe(lambda: self.loop.run_in_executor(None, compute))
        return None

    def unavailable(self) -> str | None:
        """Why the configured model cannot run (not installed, no file), or None; remembered per
        settings. Features ask before they promise or start model work: a missing model is one
        clear message, not a worker's traceback."""
        key = self.server.settings.model.model_dump_json()
        if key not in self._missing:
            self._missing[key] = unavailable(self.server.settings.model)
        return self._missing[key]

    def _db_path(self) -> Path | None:
        s = self.server.session
        return s.vault.db_path if s is not None and s.vault is not None else None

    def client(self) -> ModelClient:
        """The client for the current settings (created on first use; the worker starts on the first job)."""
        settings = self.server.settings.model
        if self._client is not None and self._settings != settings:
            old, self._client = self._client, None
            self.server.spawn(old.close())
        if self._client is None:
            self._client = ModelClient(settings, cache_path=self._db_path())
            self._settings = settings
        return self._client

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.close()
        with self._peek_lock:
            if self._peek is not None:
                self._peek.close()
                self._peek = None

    def cached(self, task: Task) -> Any | None:
        """The cached value of `task` for the configured model, or None; any thread, never waits on the model."""
        db = self._db_path()
        fingerprint = self._fingerprint()
        if db is None or not db.exists() or not fingerprint:
            return None
        from ponder.runtime.cache import ResultCache

        with self._peek_lock:
            try:
                if self._peek is None:
                    self._peek = ResultCache(db)
                hit = self._peek.get(ResultCache.key(task.input_hash(), fingerprint))
            except Exception as e:  # a missing model file, a locked database: just "not cached"
                log.debug("cache look-up failed: %s", e)
                return None
        if hit is None:
            return None
        try:
            return parse_output(task.output, hit["text"]) if task.output is not None else hit["text"]
        except ValueError:
            return None

    async def run(self, task: Task, title: str, priority: Priority = Priority.INTERACTIVE) -> TaskResult:
        """Run `task` with cancellable work-done progress (tokens generated so far); ModelError at
        once when there is no model to run."""
        if (why := self.unavailable()) is not None:
            raise ModelError(why)
        progress = JobProgress(self.server, title)
        await progress.begin()
        try:
            return await self.client().run(
                task, priority=priority, on_progress=progress.report, cancel_event=progress.cancelled
            )
        finally:
            progress.end()


class JobProgress:
    """`$/progress` for one model job; the editor's cancel button sets `cancelled`."""

    def __init__(self, server, title: str) -> None:
        self.server = server
        self.title = title
        self.cancelled = asyncio.Event()
        self.enabled = server.client_has("window.work_done_progress")
        self.token = f"ponder/model/{next(_tokens)}"
        self._last = 0.0

    async def begin(self) -> None:
        if not self.enabled:
            return
        try:
            await self.server.work_done_progress.create_async(self.token)
        except Exception:
            self.enabled = False
            return
        loop = asyncio.get_running_loop()
        # pygls cancels this future on window/workDoneProgress/cancel.
        future = self.server.work_done_progress.tokens.get(self.token)
        if future is not None:
            future.add_done_callback(lambda f: f.cancelled() and loop.call_soon_threadsafe(self.cancelled.set))
        self.server.work_done_progress.begin(
            self.token, t.WorkDoneProgressBegin(title=self.title, cancellable=True, message="waiting for the model")
        )

    def report(self, p: Progress) -> None:
        if not self.enabled:
            return
        now = asyncio.get_running_loop().time()
        if p.phase == "tokens" and now - self._last < 0.2:
            return
        self._last = now
        msg = "prompt read" if p.phase == "prefill_done" else f"{p.tokens} tokens"
        self.server.work_done_progress.report(self.token, t.WorkDoneProgressReport(message=msg))

    def end(self) -> None:
        if self.enabled:
            self.server.work_done_progress.end(
                self.token, t.WorkDoneProgressEnd(message="cancelled" if self.cancelled.is_set() else "done")
            )
            self.server.work_done_progress.tokens.pop(self.token, None)
