"""The vault sweep of the background contradiction judge (`judge = "vault"`).

Every note's candidate pairs at BACKGROUND priority, one note planned at a time on the index
thread, so requests and open notes' pairs always get in between; `$/progress` that the
editor can cancel, which stops the sweep and its pair in flight, never the server. Each note
gives at most `sweep_pairs_per_note` pairs (its most suspicious), and the pairs of every
`CHUNK` notes planned are judged most suspicious first, so the model's first hours go to the
likeliest contradictions of the whole vault rather than to the alphabetically first notes.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import deque
from typing import TYPE_CHECKING

from lsprotocol import types as t

from ponder.index import Candidate
from ponder.lsp.llm.contradictions.judge import suspicion

if TYPE_CHECKING:
    from ponder.lsp.llm.contradictions.scheduler import Contradictions

_sweeps = itertools.count(1)
CHUNK = 32  # notes planned before their pairs are ordered by suspicion and judged


class Sweep:
    """Every note's pairs at BACKGROUND priority, one note planned at a time, with cancellable progress."""

    def __init__(self, owner: Contradictions, paths: list[str]):
        self.owner = owner
        self.paths = deque(paths)
        self.total = len(paths)
        self.planned = 0
        self.judged = 0
        self.buffer: deque[Candidate] = deque()
        self.token = f"ponder/contradictions/{next(_sweeps)}"
        self.enabled = owner.server.client_has("window.work_done_progress")
        self.over = False

    async def begin(self) -> None:
        if not self.enabled:
            return
        wdp = self.owner.server.work_done_progress
        try:
            await wdp.create_async(self.token)
        except Exception:
            self.enabled = False
            return
        loop = asyncio.get_running_loop()
        future = wdp.tokens.get(self.token)  # pygls cancels it on window/workDoneProgress/cancel
        if future is not None:
            future.add_done_callback(lambda f: f.cancelled() and loop.call_soon_threadsafe(self.cancel))
        wdp.begin(
            self.token,
            t.WorkDoneProgressBegin(
                title="Ponder: judging contradictions", cancellable=True, percentage=0, message=f"0/{self.total} notes"
            ),
        )

    async def next(self) -> Candidate | None:
        while not self.buffer:
            if self.over:
                return None
            if not self.paths:
                self.end(f"{self.judged} pairs judged")
                return None
            chunk: list[Candidate] = []
            cap = self.owner.settings.sweep_pairs_per_note
            for _ in range(min(CHUNK, len(self.paths))):
                path = self.paths.popleft()
                open_paths = set(self.owner.server.open_paths())
                known, todo, _ = await self.owner.server.query(
                    lambda v, c, path=path, open_paths=open_paths, cap=cap: self.owner.plan_note(
                        v, path, open_paths, cap
                    ),
                    default=([], [], set()),
                )
                if self.over:
                    return None
                self.owner.learn(known)
                chunk += todo
                self.planned += 1
                self.report()
            self.buffer.extend(sorted(chunk, key=suspicion, reverse=True))
        return self.buffer.popleft()

    def add(self, paths: list[str]) -> None:
        new = [p for p in paths if p not in self.paths]
        self.paths.extend(new)
        self.total += len(new)

    def report(self) -> None:
        if self.enabled and not self.over:
            pct = int(100 * self.planned / self.total) if self.total else 100
            msg = f"{self.planned}/{self.total} notes, {self.judged} pairs judged"
            self.owner.server.work_done_progress.report(
                self.token, t.WorkDoneProgressReport(message=msg, percentage=pct)
            )

    def cancel(self) -> None:
        """The editor's cancel button: stop the sweep (and its pair in flight), not the server."""
        if self.over:
            return
        inflight = self.owner.inflight
        if inflight is not None and inflight[3]:
            inflight[2].cancel(inflight[1])
        self.end("cancelled")

    def end(self, message: str) -> None:
        if self.over:
            return
        self.over = True
        self.buffer.clear()
        self.paths.clear()
        if self.owner.sweep is self:
            self.owner.sweep = None
        if self.enabled:
            self.owner.server.work_done_progress.end(self.token, t.WorkDoneProgressEnd(message=message))
            self.owner.server.work_done_progress.tokens.pop(self.token, None)
