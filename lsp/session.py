"""`Session`: the vault on its own thread, and the background work around it.

The `Vault` (and its SQLite connection) is created, used and closed on one dedicated
thread; handlers `await session.run(fn)` where `fn(vault)` asks or changes it. Jobs run
in submission order, so an edit submitted before a request is seen by it. Embedding
(the slow CPU part) runs on a second thread and only hands vectors back to the index
thread to store. A request whose awaiting coroutine is cancelled marks its ticket:
a job that has not started is skipped, and long jobs can call `checkpoint()`.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import threading
import time
from collections.abc import Callable, Generator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from ponder.index import (
    EmbeddingSettings,
    IndexFileError,
    IndexSettings,
    SymbolRows,
    SymbolTable,
    Vault,
    describe_store_error,
    walk,
)

log = logging.getLogger(__name__)
T = TypeVar("T")

BATCH = 200  # files parsed per index-thread job: requests queued meanwhile wait at most one batch
SLOW_JOB_MS = float(os.environ.get("PONDER_SLOW_JOB_MS", "20"))  # jobs logged with their time (debug; info from 100 ms)
HEAP_FULL_QUIET_S = 10.0  # `keep_heap` collects the frozen objects too only after this much quiet,
HEAP_FULL_EVERY_S = 600.0  # ...and at most this often
HEAP_BUSY_S = 5.0  # `keep_heap` freezes (without a walk) what a session busy this long made since its last tidy
_NEVER = 1 << 30  # a threshold no count reaches
IDLE_S = 0.3  # idle work (`run_steps`) waits until no other job was asked for this long
EMBED_BATCH = 64


class Cancelled(Exception):
    """The request this job serves was cancelled."""


_current = threading.local()


def checkpoint() -> None:
    """Raise `Cancelled` if the request the current job serves was cancelled."""
    ev = getattr(_current, "ticket", None)
    if ev is not None and ev.is_set():
        raise Cancelled()


def _tidy_heap(full: bool) -> None:
    """Collect what is not frozen (with `full`, everything), then freeze what survived."""
    if full:
        gc.unfreeze()
    gc.collect()
    gc.freeze()


def _debug_delays() -> dict[str, float]:
    """PONDER_DEBUG_SLOW="workspace/symbol=3000,...": a test hook that makes a method slow (ms)."""
    out = {}
    for part in os.environ.get("PONDER_DEBUG_SLOW", "").split(","):
        name, _, ms = part.partition("=")
        if name and ms.isdigit():
            out[name.strip()] = int(ms) / 1000
    return out


Progress = Callable[[str, int, int], None]


class Session:
    def __init__(
        self,
        root: Path,
        index: IndexSettings,
        embedding: EmbeddingSettings,
        tell: Callable[[str], None] | None = None,
    ):
        self.root = Path(root)
        self.tell = tell or (lambda message: log.warning("%s", message))  # a message for the user
        self.index_settings = index
        self.embedding_settings = embedding
        self._index = ThreadPoolExecutor(1, thread_name_prefix="ponder-index")
        self._embed = ThreadPoolExecutor(1, thread_name_prefix="ponder-embed")
        self.vault: Vault | None = None
        self.generation = 0  # bumped on every change to the graph
        self.versions: dict[str, int | None] = {}  # open path -> version of the text the vault holds
        self.indexed = False
        self.embedding_state = "idle"
        self._symbols: tuple[tuple[int, int], SymbolTable] | None = None
        self._stored_symbols: tuple[int, SymbolRows] | None = None  # (store generation, rows)
        self._changed_symbols: tuple[int, SymbolRows] | None = None
        self._delays = _debug_delays()
        self.closed = False
        self.last_active = 0.0  # when the last job that was not idle work was asked for
        self._keeping_heap = False

    # --- running jobs -------------------------------------------------------------------

    def delayed(self, method: str | None) -> bool:
        """Whether the test hook PONDER_DEBUG_SLOW slows `method` down."""
        return bool(method and self._delays.get(method))

    async def run(self, fn: Callable[..., T], *args: Any, method: str | None = None, idle: bool = False) -> T:
        """Run `fn(vault, *args)` on the index thread; cancelling the awaiter cancels the job.
        Every job but an `idle` one counts as activity, which idle work waits out."""
        if not idle:
            self.last_active = time.monotonic()
        ticket = threading.Event()
        delay = self._delays.get(method or "", 0.0)

        def job():
            if ticket.is_set():
                raise Cancelled()
            _current.ticket = ticket
            t0 = time.perf_counter()
            try:
                end = time.monotonic() + delay
                while time.monotonic() < end:
                    checkpoint()
                    time.sleep(0.01)
                return fn(self.vault, *args)
            except Exception as e:
                # a damaged index fails this request and is started over, not every request after
                if self.vault is not None and self.vault.recover(e):
                    self.tell(f"Ponder: {describe_store_error(e)}; re-indexing the vault")
                raise
            finally:
                _current.ticket = None
                ms = (time.perf_counter() - t0) * 1000
                if ms >= SLOW_JOB_MS:  # what held the index thread (and every request queued behind it)
                    log.log(
                        logging.INFO if ms >= 100 else logging.DEBUG,
                        "index-thread job %s took %.0f ms",
                        method or getattr(fn, "__qualname__", fn),
                        ms,
                    )

        fut = asyncio.get_running_loop().run_in_executor(self._index, job)
        try:
            return await asyncio.shield(fut)
        except asyncio.CancelledError:
            ticket.set()
            raise

    async def run_steps(self, start: Callable[[Vault], Generator[None, None, T]]) -> T:
        """Run a long computation on the index thread one step per job, at idle priority:
        `start(vault)` makes a generator whose every `next` is a short step and whose return
        value is the result. Background work (missing-link hints: ~0.1 s a note at 20k notes)
        runs while the editor is quiet and holds up a request for at most one step."""
        gen = await self.run(start, idle=True)

        def step(_vault) -> tuple[bool, Any]:
            try:
                next(gen)
            except StopIteration as stop:
                return True, stop.value
            return False, None

        while True:
            # idle priority: a step starts only once no request or edit came for IDLE_S, so a
            # burst of typing or requests never queues behind one
            while (quiet := time.monotonic() - self.last_active) < IDLE_S:
                await asyncio.sleep(IDLE_S - quiet)
            done, value = await self.run(step, idle=True)
            if done:
                return value

    def changed(self) -> None:
        """Call (on the index thread) after anything that changes the graph."""
        self.generation += 1

    def symbols(self) -> SymbolTable:
        """The workspace symbol table for the current graph (index thread only): the store's
        rows with the open documents overlaid."""
        store = self.vault.store
        if self._symbols is None or self._symbols[0] != (self.generation, store.generation):
            self._symbols = (
                (self.generation, store.generation),
                SymbolTable(self.vault.graph, self._store_layers(store)),
            )
        return self._symbols[1]

    def _store_layers(self, store) -> list[SymbolRows]:
        """All stored rows, read once (about 0.4 s at 20k notes), and the rows of the notes
        changed since, read again on every change until there are many of them."""
        changed = None if self._stored_symbols is None else store.changed_since(self._stored_symbols[0])
        if changed is None or len(changed) > 2000:
            self._stored_symbols = (store.generation, SymbolRows.of_store(store.symbol_rows()))
            self._changed_symbols = None
            return [self._stored_symbols[1]]
        if not changed:
            return [self._stored_symbols[1]]
        if self._changed_symbols is None or self._changed_symbols[0] != store.generation:
            paths = sorted(changed)
            self._changed_symbols = (store.generation, SymbolRows.of_store(store.symbol_rows(paths), covers=changed))
        return [self._stored_symbols[1], self._changed_symbols[1]]

    # --- lifecycle ----------------------------------------------------------------------

    async def open(self) -> None:
        def make(_):
            try:
                self.vault = Vault(self.root, self.index_settings, self.embedding_settings)
            except IndexFileError as e:
                # a configured index path that is not Ponder's (a note, a FIFO): never touch it
                self.tell(f"Ponder: {e}; using the vault's own .ponder/index.db instead")
                self.index_settings = self.index_settings.model_copy(update={"db_path": None})
                self.vault = Vault(self.root, self.index_settings, self.embedding_settings)
            for warning in self.vault.store.warnings:
                self.tell(f"Ponder: {warning}")

        await self.run(make)

    async def close(self) -> None:
        self.closed = True

        def shut(vault):
            if vault is not None:
                vault.close()

        try:
            await self.run(shut)
        finally:
            self._index.shutdown(wait=False, cancel_futures=True)
            self._embed.shutdown(wait=False, cancel_futures=True)

    # --- background indexing -------------------------------------------------------------

    async def index(self, progress: Progress, on_batch: Callable[[list[str]], Any] | None = None) -> int:
        """Bring the index in line with the disk in small jobs; returns how many files changed.

        The graph is loaded from the store first (a warm start answers from it at once),
        then changed files are re-parsed in batches of `BATCH`.
        """
        loop = asyncio.get_running_loop()
        found, skipped = await loop.run_in_executor(None, walk, self.root, self.index_settings)
        on_disk = {f.path: f for f in found}
        known = set(on_disk) | {p for p, _ in skipped}

        def plan(vault: Vault) -> list[str]:
            _ = vault.graph  # warm start: load what the store knows
            return vault.stale_paths(on_disk, known)

        todo = await self.run(plan)
        progress("parse", 0, len(todo))
        for start in range(0, len(todo), BATCH):
            if self.closed:
                return 0
            part = todo[start : start + BATCH]

            def step(vault: Vault, part=part) -> list[str]:
                report = vault.update(paths=part)
                if report.changed_paths:
                    self.changed()
                return report.changed_paths

            changed = await self.run(step)
            progress("parse", min(start + BATCH, len(todo)), len(todo))
            if on_batch and changed:
                await on_batch(changed)
        if not self.closed:
            await self.run(lambda v: v.outdated and v.mark_derived_current())
        self.indexed = True
        return len(todo)

    async def keep_heap(self) -> None:
        """Keep the cycle collector's pauses out of requests, until the session closes.

        A full collection walks every long-lived object: over a loaded index, its caches and
        models that took 60-130 ms on rfcs, and it struck whichever check or request ran at the
        time (an opened note's first diagnostics went from ~10 to ~70 ms). So what survives is
        frozen out of later collections (`gc.freeze`): once no job was asked for `IDLE_S` after
        any activity, the objects made since are collected and frozen too (a few ms, while
        nobody waits); after `HEAP_FULL_QUIET_S` of quiet, at most every `HEAP_FULL_EVERY_S`,
        the frozen ones are collected as well, so garbage cycles among them are not kept.

        Python's own full collections are off meanwhile: they walk everything made since the last
        freeze, and a user who opens note after note is never quiet for `IDLE_S`; on rfcs they
        struck the opened notes' checks every few seconds, 20-180 ms each (75,000-340,000 objects
        made by the fact checks since the freeze). Young collections run as before; what survives
        them is collected and frozen at the next quiet moment, and a session busy for
        `HEAP_BUSY_S` without one has it frozen as it is (no walk, no pause: a garbage cycle among
        those objects waits for the next full tidy), so no later tidy walks more than that."""
        if self._keeping_heap:
            return
        self._keeping_heap = True
        thresholds = gc.get_threshold()
        # Python's full collections come every 10th middle one (~70,000 allocations), whatever runs
        gc.set_threshold(thresholds[0], thresholds[1], _NEVER)
        tidied_at, tidied, full_at = -1.0, time.monotonic(), -HEAP_FULL_EVERY_S
        try:
            while not self.closed:
                now = time.monotonic()
                quiet = now - self.last_active
                full = quiet >= HEAP_FULL_QUIET_S and now - full_at >= HEAP_FULL_EVERY_S
                if full or (self.last_active != tidied_at and quiet >= IDLE_S):
                    tidied_at, tidied = self.last_active, now
                    full_at = now if full else full_at
                    try:
                        await self.run(lambda _vault, full=full: _tidy_heap(full), idle=True)
                    except (Cancelled, RuntimeError):  # closing: the index thread is gone
                        return
                elif self.last_active != tidied_at and now - tidied >= HEAP_BUSY_S:
                    tidied = now
                    gc.freeze()  # constant time: it moves the generations' lists into the frozen one
                await asyncio.sleep(IDLE_S / 2)
        finally:
            gc.set_threshold(*thresholds)

    async def embed(self, progress: Progress) -> int:
        """Fill in missing vectors: encode on the embedding thread, store on the index thread."""
        if not self.embedding_settings.enabled:
            return 0
        loop = asyncio.get_running_loop()
        self.embedding_state = "running"
        # load the model on the embedding thread, not the index thread (seconds of CPU)
        await loop.run_in_executor(self._embed, self.vault.embedder.load)
        chunks = await self.run(lambda v: v.pending_embeddings())
        claims = await self.run(lambda v: v.pending_sentence_embeddings())  # for contradiction candidates
        total = len(chunks) + len(claims)
        progress("embed", 0, total)
        done = 0
        try:
            for todo, store in ((chunks, "store_embeddings"), (claims, "store_sentence_embeddings")):
                for start in range(0, len(todo), EMBED_BATCH):
                    if self.closed:
                        return done
                    part = todo[start : start + EMBED_BATCH]
                    encoder = self.vault.embedder  # thread-safe by contract
                    vecs = await loop.run_in_executor(self._embed, encoder.encode, [t for _, t in part])
                    await self.run(
                        lambda v, part=part, vecs=vecs, store=store: getattr(v, store)([h for h, _ in part], vecs)
                    )
                    done += len(part)
                    progress("embed", done, total)
            self.embedding_state = "done"
        except Exception:
            self.embedding_state = "failed"
            raise
        return done
