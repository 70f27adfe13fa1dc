"""Contradictions judged by the local model in the background, shown on both sides.

After a note is opened or edited (debounced, and only once the vault's claims have
vectors) its candidate pairs are computed on the index thread. Verdicts already cached
show at once; at most `max_pairs_per_edit` new pairs are queued, the edited sentences'
first. One pair at a time goes to the model: open notes at OPEN_DOCUMENT priority (what
the user asks for still comes first), the vault sweep at BACKGROUND. A newer edit replaces
the note's pending pairs; a pair whose sentence is gone is dropped, and cancelled if it is
the one being judged. With `judge = "vault"` a sweep then judges every note's pairs with
cancellable `$/progress`, filling the cache so later opens are instant. Nothing here runs
inside a request: typing never waits for the model.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections import deque

from ponder.index import Candidate, Diagnostic, Vault
from ponder.lsp.llm.contradictions.judge import Judged, cached_verdict, judge_task, pairs_to_judge, run_verdict
from ponder.lsp.llm.contradictions.sweep import Sweep
from ponder.lsp.llm.contradictions.verdicts import Sentences, Verdicts, choose
from ponder.runtime.tasks import (
    JobCancelled,
    ModelError,
    ModelOutputError,
    Priority,
    WorkerUnavailable,
)

log = logging.getLogger(__name__)
DEBOUNCE_S = 0.5  # a pause in typing; the model's answer takes far longer anyway
_norm = " ".join


class Contradictions:
    """The scheduler: plans after edits, one model job at a time, the vault sweep (loop thread)."""

    def __init__(self, server):
        self.server = server
        self.verdicts = Verdicts()
        self.dirty: set[str] = set()
        self.timer: asyncio.TimerHandle | None = None
        self.pending: dict[str, deque[Candidate]] = {}  # open note -> pairs still to judge (each plan replaces them)
        self.touched: dict[str, int] = {}  # open note -> when it last changed (the latest is judged first)
        self.seen: dict[str, set[str]] = {}  # note -> its sentences at the last plan (what an edit changed)
        self.failed: set[str] = set()  # tasks the model could not answer: not retried this session
        self.sweep: Sweep | None = None
        self.inflight: tuple[Candidate, str, object, bool] | None = None  # pair, job id, client, from the sweep
        self.wake = asyncio.Event()
        self.pump: asyncio.Task | None = None
        self.paused: str | None = None  # why judging stopped: the model is unavailable (until its settings change)
        self.paused_for = None
        self.told: set[str] = set()
        self.stats = {"from_model": 0, "from_cache": 0, "failed": 0}
        self._ticks = itertools.count(1)
        self._planning = asyncio.Lock()  # one plan at a time: `seen` must follow the texts in order

    # --- state --------------------------------------------------------------------------

    @property
    def settings(self):
        return self.server.settings.contradictions

    def model_configured(self) -> bool:
        """A model chosen by the user: the bundled Gemma 270M proves plumbing but judges nothing
        well, and false alarms in the editor cost more than no judgement (it stays for `--semantic`)."""
        m = self.server.settings.model
        return m.backend != "llama_cpp" or bool(m.path)

    def active(self) -> bool:
        """Judging is wanted and possible (judge on, a configured model not known broken, embeddings on)."""
        if self.paused is not None and self.paused_for != self.server.settings.model:
            self.paused = None
        s = self.server.settings
        return self.settings.judge != "off" and self.model_configured() and s.embedding.enabled and self.paused is None

    def ready(self) -> bool:
        """The vault is indexed and its claims have vectors (candidates need them; never load the embedder here)."""
        s = self.server.session
        return s is not None and s.indexed and s.embedding_state == "done"

    def status(self) -> dict:
        sweep = self.sweep
        return {
            "judge": self.settings.judge,
            "pending": sum(len(q) for q in self.pending.values()) + (len(sweep.buffer) if sweep else 0),
            "judging": self.inflight is not None,
            "idle": not (self.dirty or self.inflight or sweep or any(self.pending.values())),
            "known": len(self.verdicts),
            **self.stats,
            "sweep": {"notes": sweep.planned, "total": sweep.total} if sweep else None,
            "paused": self.paused,
            "model_configured": self.model_configured(),
        }

    def provider(self, vault: Vault, path: str) -> list[Diagnostic]:
        """(index thread) the known contradictions of `path`, a diagnostics provider."""
        if self.settings.judge == "off" or not self.verdicts.touch(path):
            return []
        return self.verdicts.diagnostics(vault, path, set(self.server.open_paths()))

    # --- events from the server ---------------------------------------------------------

    def changed(self, path: str) -> None:
        """An open note's text changed (or it was opened): plan it after a pause in typing."""
        if self.settings.judge == "off":
            return
        self.touched[path] = next(self._ticks)
        self.dirty.add(path)
        self._debounce()

    def files_changed(self, paths: list[str]) -> None:
        """Notes changed on disk: the open notes' candidates may have moved, so they are planned
        again; in vault mode the changed notes join the sweep."""
        if not self.active():
            return
        open_paths = set(self.server.open_paths())
        self.dirty |= open_paths
        self._debounce()
        closed = [p for p in paths if p not in open_paths]
        if closed and self.settings.judge == "vault":
            if self.sweep is not None:
                self.sweep.add(closed)
            else:
                self.server.spawn(self._start_sweep(closed))

    def _debounce(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
        self.timer = asyncio.get_running_loop().call_later(DEBOUNCE_S, lambda: self.server.spawn(self._plan_dirty()))

    def closed(self, path: str) -> None:
        self.pending.pop(path, None)
        self.seen.pop(path, None)
        self.touched.pop(path, None)
        self.dirty.discard(path)

    async def indexed(self) -> None:
        """Indexing and embedding finished: judge the open notes, then (vault mode) sweep the rest."""
        if not self.active() or not self.ready():
            return
        self.dirty |= set(self.server.open_paths())
        await self._plan_dirty()
        if self.settings.judge == "vault":
            await self._start_sweep()

    def reconfigure(self, before) -> None:
        """Settings changed: verdicts of another model or other candidates are forgotten and judged again."""
        now = self.server.settings
        if (before.model, before.embedding, before.contradictions) == (now.model, now.embedding, now.contradictions):
            return
        if before.model != now.model:
            self.paused, self.told = None, set()
        stale = self.verdicts.clear()
        self.seen.clear()
        self.failed.clear()
        self._stop()
        if stale:
            self.server.events.findings_changed.emit(stale, False)
        self.server.spawn(self.indexed())

    # --- planning (what to judge) -----------------------------------------------------------

    def plan_note(
        self, vault: Vault, path: str, open_paths, per_note: int | None = None
    ) -> tuple[list[Judged], list[Candidate], set[str]]:
        """(index thread) `path`'s pairs whose sentences exist now (at most `per_note`, the most
        suspicious): the cached verdicts, the pairs still to judge, and the note's sentences."""
        s = self.settings
        where = Sentences(vault, open_paths)
        known: list[Judged] = []
        todo: list[Candidate] = []
        for c in pairs_to_judge(vault, [path], k=s.top_k, min_similarity=s.min_similarity, per_note=per_note):
            if where.range(c.a_path, c.a_text) is None or where.range(c.b_path, c.b_text) is None:
                continue  # the other side is open and its stored copy (where candidates come from) is stale
            task = judge_task(vault, c)
            value = cached_verdict(self.server.model.cached, task)
            if value is not None:
                known.append(Judged(c, value[0], value[1], True))
            elif task.input_hash() not in self.failed:
                todo.append(c)
        return known, todo, set(where.of(path))

    async def _plan_dirty(self) -> None:
        self.timer = None
        async with self._planning:
            await self._plan_dirty_now()

    async def _plan_dirty_now(self) -> None:
        if not self.active():
            self.dirty.clear()
            return
        if not self.ready():
            return  # kept: `indexed` plans them once the vectors exist
        open_paths = set(self.server.open_paths())
        paths, self.dirty = self.dirty, set()
        for path in sorted(paths & open_paths, key=lambda p: -self.touched.get(p, 0)):
            known, todo, texts = await self.server.query(
                lambda v, c, path=path: self.plan_note(v, path, open_paths), default=([], [], set())
            )
            fresh = texts - self.seen.get(path, set())
            self.seen[path] = texts
            self.learn(known)
            self.pending[path] = deque(choose(todo, path, fresh, self.settings.max_pairs_per_edit))
            if self.inflight is not None:  # the pair being judged lost its sentence: stop it
                c, job, client, _ = self.inflight
                if (c.a_path == path and _norm(c.a_text.split()) not in texts) or (
                    c.b_path == path and _norm(c.b_text.split()) not in texts
                ):
                    client.cancel(job)
        self._kick()

    def learn(self, judged: list[Judged]) -> None:
        """Take in verdicts; the notes on both sides of a changed one get their diagnostics again."""
        paths: set[str] = set()
        for j in judged:
            if j.cached:
                self.stats["from_cache"] += 1
            if self.verdicts.put(j):
                paths |= {j.a_path, j.b_path}
        if paths:
            self.server.events.findings_changed.emit(paths, False)

    async def _start_sweep(self, paths: list[str] | None = None) -> None:
        """Judge `paths` (default: every note) at BACKGROUND priority."""
        if self.sweep is not None or self.settings.judge != "vault" or not self.active() or not self.ready():
            return
        if paths is None:
            paths = await self.server.query(lambda v, c: sorted(v.graph.notes), default=[])
        self.sweep = Sweep(self, paths)
        await self.sweep.begin()
        self._kick()

    def _stop(self) -> None:
        """Drop every queued pair, the sweep and the job in flight."""
        self.pending.clear()
        if self.sweep is not None:
            self.sweep.end("stopped")
        if self.inflight is not None:
            _, job, client, _ = self.inflight
            client.cancel(job)

    # --- judging (one pair at a time) ----------------------------------------------------------

    def _kick(self) -> None:
        if self.pump is None or self.pump.done():
            self.pump = self.server.spawn(self._pump())
        self.wake.set()

    async def _next(self) -> tuple[Candidate, Priority, bool] | None:
        for path in sorted(self.pending, key=lambda p: -self.touched.get(p, 0)):
            if self.pending[path]:
                return self.pending[path].popleft(), Priority.OPEN_DOCUMENT, False
        if self.sweep is not None:
            c = await self.sweep.next()
            if c is not None:
                return c, Priority.BACKGROUND, True
        return None

    async def _pump(self) -> None:
        while True:
            self.wake.clear()
            item = await self._next() if self.active() else None
            if item is None:
                await self.wake.wait()
                continue
            try:
                await self._judge(*item)
            except Exception:  # never let one pair end the judging
                log.exception("judging a pair failed")
                await asyncio.sleep(1)

    async def _judge(self, c: Candidate, priority: Priority, from_sweep: bool) -> None:
        open_paths = set(self.server.open_paths())

        def prepare(vault: Vault, _conv):
            where = Sentences(vault, open_paths)
            if where.range(c.a_path, c.a_text) is None or where.range(c.b_path, c.b_text) is None:
                return None  # edited away since it was queued
            return judge_task(vault, c)

        task = await self.server.query(prepare)
        if task is None:
            return
        client = self.server.model.client()

        def track(job: str) -> None:
            self.inflight = (c, job, client, from_sweep)

        try:
            label, why, cached = await run_verdict(client, task, priority, track)
        except JobCancelled:
            return
        except WorkerUnavailable as e:
            return self._pause(e)
        except ModelError as e:  # a malformed answer (after the runtime's retry) or a backend error: skip the pair
            self.failed.add(task.input_hash())
            self.stats["failed"] += 1
            self._warn_once(
                "pair",
                f"Ponder: the model gave no verdict on a contradiction candidate ({e})",
                quiet=isinstance(e, ModelOutputError),
            )
            return
        except Exception as e:  # e.g. the model file is missing: the worker cannot start
            return self._pause(e)
        finally:
            self.inflight = None
        if from_sweep and self.sweep is not None:
            self.sweep.judged += 1
            self.sweep.report()
        if not cached:  # a hit in the runtime's own look-up is counted by `learn`
            self.stats["from_model"] += 1
        self.learn([Judged(c, label, why, cached)])

    def _pause(self, e: Exception) -> None:
        """The model cannot run: stop judging until its settings change; say so once."""
        self.paused, self.paused_for = str(e)[:300] or type(e).__name__, self.server.settings.model
        self._stop()
        self._warn_once(
            "paused", f"Ponder: contradictions are not being judged: the model is unavailable ({self.paused})."
        )

    def _warn_once(self, kind: str, message: str, quiet: bool = False) -> None:
        if kind in self.told:
            log.debug("%s", message)
            return
        self.told.add(kind)
        log.warning("%s", message)
        if not quiet:
            self.server.show(message)


def register(server) -> None:
    judge = Contradictions(server)
    server.status_providers["contradictions"] = judge.status
    server.events.document_changed.subscribe(lambda path, affected, opened: judge.changed(path))
    server.events.document_closed.subscribe(lambda path, affected: judge.closed(path))
    server.events.files_changed.subscribe(lambda changed, before: judge.files_changed(changed))
    # a plain subscriber must not return the spawned task: `emit` refuses awaitable results
    server.events.index_embedded.subscribe(lambda: server.spawn(judge.indexed()) and None)
    server.events.settings_changed.subscribe(judge.reconfigure)
    server.diagnostic_providers.append(judge.provider)
