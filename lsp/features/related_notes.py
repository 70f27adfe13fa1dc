"""`missing-link` hints for the notes the editor shows: notes about the same thing that link
neither way (see `index.related_notes.Relatedness`).

The hints come from the whole index and change slowly, so they are neither computed on
every keystroke nor inside the diagnostics pass (about 0.1 s per note at 20k notes, which a
request arriving meanwhile would wait for): the provider answers from the last computation,
and when that is missing or out of date it queues the note for a background job of its own,
which re-publishes the note's diagnostics when done. A note's hints are recomputed when its
text changed and the last computation is older than `RECOMPUTE_S`, or older than `TTL_S` in
any case. In between, the last hints are reused, minus targets the note now links (so
"Link [[...]]" clears its hint at once) and kept inside the note's lines.
The quick fix lives in `code_actions`.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Generator
from dataclasses import replace

from ponder.index import Diagnostic, Range, Vault, related_notes

log = logging.getLogger(__name__)
RECOMPUTE_S = 10.0
DUE_KEPT = 8  # notes waiting for hints at most (the most recently opened or edited)
TTL_S = 120.0


class RelatedNotes:
    def __init__(self, server) -> None:
        self.server = server
        self._cache: dict[str, tuple[str, float, list[Diagnostic]]] = {}  # path -> (text hash, when, hints)
        # notes whose hints the background job is to recompute, most recently asked last; only
        # the last few are kept: an editor restoring 200 tabs opens them all, the user reads one
        self._due: dict[str, None] = {}
        self._running = False
        # IDF weights shared by the computations: (the store they come from, since when, weights),
        # renewed every TTL_S and by a restart (another store)
        self._idf: tuple[object, float, related_notes.Idf] | None = None

    def provider(self, vault: Vault, path: str) -> list[Diagnostic]:
        """(index thread) the note's missing-link hints as last computed; queues a recomputation
        when they are missing or out of date."""
        if not vault.settings.missing_links or path.endswith(".pseudo") or vault.open_note(path) is None:
            return []  # a suggestion while writing: whole-vault hints are `ponder check`'s
        text = vault.read_text(path) or ""
        now = time.monotonic()
        hit = self._cache.get(path)
        if not (hit and now - hit[1] < TTL_S and (hit[0] == _digest(text) or now - hit[1] < RECOMPUTE_S)):
            self._due.pop(path, None)
            self._due[path] = None
            while len(self._due) > DUE_KEPT:
                del self._due[next(iter(self._due))]
            self.server.soon(self._start)
        if not hit:
            return []
        last_line = max(0, text.count("\n"))
        return [_clamp(d, last_line) for d in hit[2] if not related_notes.linked(vault, path, d.data["target"])]

    def _start(self) -> None:
        if not self._running and self._due:
            self._running = True
            self.server.spawn(self._drain())

    async def _drain(self) -> None:
        """Recompute the queued notes, each in short index-thread steps (requests run between
        them), then have their diagnostics sent again."""
        try:
            while self._due and self.server.session is not None and not self.server.session.closed:
                path = self._due.popitem()[0]
                if await self.server.session.run_steps(lambda v, path=path: self._compute(v, path)):
                    self.server.events.findings_changed.emit({path}, False)
        except RuntimeError:  # the session closed under us (restart, shutdown)
            pass
        finally:
            self._running = False

    def _compute(self, vault: Vault, path: str) -> Generator[None, None, bool]:
        """(index thread, in steps) the note's hints, cached; False when the note is gone."""
        if vault is None or path not in vault.graph.notes:
            self._cache.pop(path, None)
            return False
        digest = _digest(vault.read_text(path) or "")  # of the text the hints were computed for
        try:
            if self._idf is None or self._idf[0] is not vault.store or time.monotonic() - self._idf[1] > TTL_S:
                self._idf = (vault.store, time.monotonic(), related_notes.Idf())
            found = yield from related_notes.missing_links_steps(vault, path, idf=self._idf[2])
        except Exception:  # a hint must never cost the note its other diagnostics
            log.exception("missing-link hints for %s failed", path)
            found = []
        self._cache[path] = (digest, time.monotonic(), found)
        return True


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=12).hexdigest()


def _clamp(d: Diagnostic, last_line: int) -> Diagnostic:
    """A reused hint whose line the edit removed points at the note's start instead."""
    return d if d.range.end.line <= last_line else replace(d, range=Range.of(0, 0))


def register(server) -> None:
    server.diagnostic_providers.append(RelatedNotes(server).provider)
