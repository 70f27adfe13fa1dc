"""The server's handle on the model: a priority queue of typed tasks over one supervised worker.

One generation runs at a time. The worker starts lazily on the first job (or at `start()`),
is unloaded after `idle_unload_s`, and is restarted with backoff when it dies, re-running the
job that was in flight; a job the worker died on twice fails with `JobCrashed` (it is not run a
third time: a job that crashes llama.cpp would crash every fresh worker too), and after
`max_restarts` consecutive deaths the job fails with `WorkerUnavailable`. Results are cached
by (task input hash, model fingerprint).
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import inspect
import itertools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ponder.runtime import protocol as rpc
from ponder.runtime.cache import ResultCache
from ponder.runtime.fingerprint import model_fingerprint
from ponder.runtime.settings import ModelSettings
from ponder.runtime.tasks import (
    BackendFailure,
    JobCancelled,
    JobCrashed,
    LimitExceeded,
    ModelOutputError,
    Priority,
    Task,
    TaskResult,
    WorkerUnavailable,
    parse_output,
)
from ponder.runtime.worker_process import WorkerDied, WorkerProcess

log = logging.getLogger("ponder.runtime")

ProgressCallback = Callable[[rpc.Progress], Any]
CRASHES_PER_JOB = 2  # worker deaths one job may cause before it is failed instead of re-run


@dataclass(order=True)
class _Job:
    priority: int
    seq: int
    id: str = field(compare=False)
    task: Task = field(compare=False)
    future: asyncio.Future[TaskResult[Any]] = field(compare=False)
    on_progress: ProgressCallback | None = field(compare=False, default=None)
    cancelled: bool = field(compare=False, default=False)


class ModelClient:
    def __init__(
        self,
        settings: ModelSettings,
        cache_path: Path | None = None,
        *,
        worker_command: list[str] | None = None,
        worker_env: dict[str, str] | None = None,
    ) -> None:
        self.settings = settings
        self._cache = ResultCache(cache_path) if cache_path is not None else None
        self._command = worker_command
        self._env = worker_env
        self._queue: list[_Job] = []
        self._jobs: dict[str, _Job] = {}  # queued or running
        self._futures: dict[str, asyncio.Future[TaskResult[Any]]] = {}  # until `wait` collects them
        self._seq = itertools.count(1)
        self._wakeup = asyncio.Event()
        self._current: _Job | None = None
        self._worker: WorkerProcess | None = None
        self._worker_lock = asyncio.Lock()
        self._load_info: dict[str, Any] | None = None
        self._fingerprint: str | None = None
        self._dispatcher: asyncio.Task[None] | None = None
        self._idle_timer: asyncio.TimerHandle | None = None
        self._failures = 0
        self._closed = False
        self.events: list[str] = []  # worker deaths, restarts, give-ups: for status and the log
        self.restarts = 0

    # -- public API ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Start the dispatcher; with `eager_start`, also start and load the worker now."""
        if self._dispatcher is None:
            self._dispatcher = asyncio.create_task(self._dispatch(), name="ponder-model-dispatch")
        if self.settings.eager_start:
            await self._ensure_worker()

    def submit(
        self, task: Task, priority: Priority = Priority.INTERACTIVE, on_progress: ProgressCallback | None = None
    ) -> str:
        """Queue a task; returns the job id (for `cancel` and `wait`). `run` is submit + wait."""
        if self._closed:
            raise WorkerUnavailable("the model client is closed")
        if self._dispatcher is None:
            self._dispatcher = asyncio.create_task(self._dispatch(), name="ponder-model-dispatch")
        seq = next(self._seq)
        job = _Job(
            int(priority), seq, f"{task.name}-{seq}", task, asyncio.get_running_loop().create_future(), on_progress
        )
        self._jobs[job.id] = job
        self._futures[job.id] = job.future
        heapq.heappush(self._queue, job)
        self._wakeup.set()
        return job.id

    async def wait(self, job_id: str) -> TaskResult[Any]:
        future = self._futures[job_id]
        try:
            return await asyncio.shield(future)
        except asyncio.CancelledError:
            self.cancel(job_id)  # the caller's request was cancelled: stop the model work too
            raise
        finally:
            if future.done():
                self._futures.pop(job_id, None)

    async def run(
        self,
        task: Task,
        priority: Priority = Priority.INTERACTIVE,
        on_progress: ProgressCallback | None = None,
        cancel_event: asyncio.Event | None = None,
    ) -> TaskResult[Any]:
        job_id = self.submit(task, priority, on_progress)
        watcher = None
        if cancel_event is not None:
            watcher = asyncio.create_task(cancel_event.wait())
            watcher.add_done_callback(lambda t: t.cancelled() or self.cancel(job_id))
        try:
            return await self.wait(job_id)
        finally:
            if watcher is not None:
                watcher.cancel()

    def cancel(self, job_id: str) -> bool:
        """Cancel a queued or running job; False when it is unknown or already finished."""
        job = self._jobs.get(job_id)
        if job is None or job.future.done():
            return False
        job.cancelled = True
        if job is self._current:
            if self._worker is not None:
                self._worker.notify_cancel(job_id)
                # a worker that does not stop the job frees the queue by being restarted
                asyncio.get_running_loop().call_later(
                    self.settings.cancel_grace_s, self._stop_unless_done, job, self._worker
                )
        else:
            job.future.set_exception(JobCancelled(f"job {job_id} cancelled"))
            job.future.exception()  # mark retrieved: nobody may be waiting any more
        return True

    def _stop_unless_done(self, job: _Job, worker: WorkerProcess) -> None:
        if not job.future.done() and self._current is job and self._worker is worker:
            worker.kill(f"job {job.id} still running {self.settings.cancel_grace_s:.0f} s after its cancel")

    async def status(self) -> dict[str, Any]:
        worker: dict[str, Any] | None = None
        if self._worker is not None and self._worker.alive:
            with contextlib.suppress(Exception):
                worker = await asyncio.wait_for(self._worker.request("status"), 5.0)
        return {
            "backend": self.settings.backend,
            "worker": worker,
            "queued": sum(1 for j in self._queue if not j.future.done()),
            "running": self._current.id if self._current else None,
            "restarts": self.restarts,
            "events": self.events[-20:],
            "fingerprint": self._fingerprint,
        }

    async def close(self) -> None:
        self._closed = True
        if self._idle_timer is not None:
            self._idle_timer.cancel()
        for job in list(self._jobs.values()):
            self.cancel(job.id)
        if self._dispatcher is not None:
            self._dispatcher.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._dispatcher
        if self._current is not None and not self._current.future.done():
            self._current.future.set_exception(JobCancelled("the model client closed"))
        await self._stop_worker()
        if self._cache is not None:
            self._cache.close()

    @property
    def worker_pid(self) -> int | None:
        return self._worker.pid if self._worker is not None and self._worker.alive else None

    # -- dispatch -----------------------------------------------------------------------------

    async def _dispatch(self) -> None:
        while True:
            while not self._queue:
                self._wakeup.clear()
                await self._wakeup.wait()
            job = heapq.heappop(self._queue)
            if job.future.done():
                self._jobs.pop(job.id, None)
                continue
            if self._idle_timer is not None:
                self._idle_timer.cancel()
            self._current = job
            try:
                result = await self._execute(job)
                if not job.future.done():
                    job.future.set_result(result)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if not job.future.done():
                    job.future.set_exception(exc)
                    job.future.exception()
            finally:
                self._current = None
                self._jobs.pop(job.id, None)
            if not self._queue and self.settings.idle_unload_s > 0:
                self._idle_timer = asyncio.get_running_loop().call_later(
                    self.settings.idle_unload_s, lambda: asyncio.ensure_future(self._unload_if_idle())
                )

    async def _execute(self, job: _Job) -> TaskResult[Any]:
        task = job.task
        key = None
        if self._cache is not None:
            if self._fingerprint is None:
                self._fingerprint = await asyncio.to_thread(model_fingerprint, self.settings)
            key = ResultCache.key(task.input_hash(), self._fingerprint)
            hit = self._cache.get(key)
            if hit is not None:
                value = parse_output(task.output, hit["text"]) if task.output is not None else hit["text"]
                return TaskResult(value, hit["text"], True, hit["tokens"], hit["prompt_tokens"], 0.0)
        started = time.monotonic()
        budget = task.max_tokens
        attempts = 2 if task.output is not None else 1
        error = ""
        for attempt in range(1, attempts + 1):
            gen = await self._generate(job, budget)
            if task.output is None:
                value: Any = gen.text
            else:
                try:
                    value = parse_output(task.output, gen.text)
                except LimitExceeded as exc:
                    raise ModelOutputError(f"{task.name}: {exc}", gen.text) from exc
                except ValueError as exc:
                    error = f"{exc} (finish: {gen.finish_reason}, {gen.completion_tokens} tokens)"
                    log.info("job %s attempt %d: %s", job.id, attempt, error)
                    budget *= 2  # truncation is the usual cause: retry once with more room
                    continue
            if key is not None and self._cache is not None:
                self._cache.put(key, task.name, gen.text, gen.completion_tokens, gen.prompt_tokens)
            return TaskResult(
                value, gen.text, False, gen.completion_tokens, gen.prompt_tokens,
                time.monotonic() - started, gen.time_to_first_token_s, attempt,
            )  # fmt: skip
        raise ModelOutputError(
            f"{task.name}: no valid {task.output.__name__} after {attempts} attempts: {error}", gen.text
        )  # type: ignore[union-attr]

    async def _generate(self, job: _Job, max_tokens: int) -> rpc.GenerateResult:
        params = rpc.GenerateParams(
            job_id=job.id,
            messages=job.task.chat(),
            json_schema=job.task.json_schema(),
            max_tokens=max_tokens,
            temperature=job.task.temperature,
            stop=job.task.stop,
        )
        deaths = 0
        while True:
            if job.cancelled:
                raise JobCancelled(f"job {job.id} cancelled")
            worker = await self._ensure_worker()
            try:
                answer = await asyncio.wait_for(worker.request("generate", params), self.settings.job_timeout_s)
                result = rpc.GenerateResult.model_validate(answer)
                self._failures = 0
                return result
            except TimeoutError as exc:
                # alive (it still says so) but this answer never came: a lost or misnumbered reply
                worker.kill(f"it did not answer job {job.id} within {self.settings.job_timeout_s:.0f} s")
                await self._after_death(worker.killed_because or "no answer", worker)
                raise BackendFailure(
                    f"the model did not answer within {self.settings.job_timeout_s:.0f} s "
                    "(model.job_timeout_s); the worker was restarted"
                ) from exc
            except WorkerDied as exc:
                if worker.killed_because is not None and not job.cancelled:
                    # killed for silence or garbage: this job fails with why; the next one gets a new worker
                    await self._after_death(worker.killed_because, worker)
                    raise BackendFailure(f"the model worker was restarted: {worker.killed_because}") from exc
                deaths += 1
                await self._after_death(str(exc), worker, job if deaths >= CRASHES_PER_JOB else None)
            except rpc.RpcError as exc:
                if exc.code == rpc.CANCELLED:
                    raise JobCancelled(f"job {job.id} cancelled") from exc
                raise BackendFailure(exc.message) from exc

    async def _after_death(self, reason: str, worker: WorkerProcess, give_up: _Job | None = None) -> None:
        """Record a death; raise when `give_up` (the job it died on, again) or too many deaths in a row."""
        self._failures += 1
        self.events.append(f"{time.strftime('%H:%M:%S')} worker died: {reason}")
        await worker.close(grace_s=0.1)
        if self._worker is worker:
            self._worker = None
        if give_up is not None:
            tail = " | ".join(list(worker.stderr_tail)[-3:])
            msg = (
                f"the model worker crashed {CRASHES_PER_JOB} times running {give_up.task.name}; the job was "
                f"dropped, not re-run ({reason}; {tail})"
            )
            self.events.append(msg)
            raise JobCrashed(msg)
        if self._failures > self.settings.max_restarts:
            self._failures = 0
            tail = " | ".join(list(worker.stderr_tail)[-5:])
            msg = f"model worker died {self.settings.max_restarts + 1} times in a row; giving up ({reason}; {tail})"
            self.events.append(msg)
            raise WorkerUnavailable(msg)
        delay = self.settings.restart_backoff_s * 2 ** (self._failures - 1)
        self.events.append(f"restarting worker in {delay:.1f}s (attempt {self._failures})")
        log.warning("model worker died (%s); restarting in %.1fs", reason, delay)
        await asyncio.sleep(delay)
        self.restarts += 1

    async def _ensure_worker(self) -> WorkerProcess:
        async with self._worker_lock:
            while self._worker is None or not self._worker.alive:
                if self._closed:
                    raise WorkerUnavailable("the model client is closed")
                worker = await WorkerProcess.spawn(self._on_notification, self._command, self._env)
                try:
                    self._load_info = await asyncio.wait_for(
                        worker.request("load", {"settings": self.settings.model_dump(mode="json")}),
                        self.settings.load_timeout_s,
                    )
                    self._worker = worker
                    watchdog = asyncio.ensure_future(worker.watch(self.settings.worker_silence_s))
                    watchdog.add_done_callback(lambda t: t.cancelled() or t.exception())
                except rpc.RpcError as exc:  # the backend refused: retrying would not help
                    await worker.close()
                    raise WorkerUnavailable(f"model load failed: {exc.message}") from exc
                except (TimeoutError, WorkerDied) as exc:
                    await self._after_death(f"during load: {exc}", worker)
            return self._worker

    def _on_notification(self, method: str, params: dict[str, Any]) -> None:
        if method != "progress":
            return
        progress = rpc.Progress.model_validate(params)
        job = self._jobs.get(progress.job_id)
        if job is None or job.on_progress is None:
            return
        try:
            out = job.on_progress(progress)
            if inspect.isawaitable(out):
                asyncio.ensure_future(out)
        except Exception:
            log.exception("progress callback of %s failed", job.id)

    async def _unload_if_idle(self) -> None:
        if self._current is None and not self._queue and self._worker is not None:
            log.info("model idle for %.0fs: unloading", self.settings.idle_unload_s)
            self.events.append(f"{time.strftime('%H:%M:%S')} unloaded after idle")
            await self._stop_worker()

    async def _stop_worker(self) -> None:
        worker, self._worker = self._worker, None
        if worker is not None:
            await worker.close()
