"""`missing-link` hints for the notes the editor shows: notes about the same thing that link
neither way (see `index.related.Relatedness`).

The hints come from the whole index and change slowly, so they are not recomputed on every
keystroke (that cost ~0.1 s per edit at 20k notes, on the diagnostics path): a note's hints
are recomputed when its text changed and the last computation is older than `RECOMPUTE_S`,
or older than `TTL_S` in any case. In between, the last hints are reused, minus targets the
note now links (so "Link [[...]]" clears its hint at once) and kept inside the note's lines.
The quick fix lives in `code_actions`.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import replace

from ponder.index import related
from ponder.index.model import Diagnostic, Range
from ponder.index.vault import Vault

log = logging.getLogger(__name__)
RECOMPUTE_S = 10.0
TTL_S = 120.0


class RelatedNotes:
    def __init__(self, server) -> None:
        self.server = server
        self._cache: dict[str, tuple[str, float, list[Diagnostic]]] = {}  # path -> (text hash, when, hints)

    def provider(self, vault: Vault, path: str) -> list[Diagnostic]:
        """(index thread) the note's missing-link hints."""
        if not vault.settings.missing_links or path.endswith(".pseudo"):
            return []
        text = vault.read_text(path) or ""
        key = hashlib.blake2b(text.encode("utf-8"), digest_size=12).hexdigest()
        now = time.monotonic()
        hit = self._cache.get(path)
        if hit and now - hit[1] < TTL_S and (hit[0] == key or now - hit[1] < RECOMPUTE_S):
            last_line = max(0, text.count("\n"))
            return [_clamp(d, last_line) for d in hit[2] if not related.linked(vault, path, d.data["target"])]
        try:
            found = related.missing_links(vault, path)
        except Exception:  # a hint must never cost the note its other diagnostics
            log.exception("missing-link hints for %s failed", path)
            found = []
        self._cache[path] = (key, now, found)
        return found


def _clamp(d: Diagnostic, last_line: int) -> Diagnostic:
    """A reused hint whose line the edit removed points at the note's start instead."""
    return d if d.range.end.line <= last_line else replace(d, range=Range.of(0, 0))


def register(server) -> None:
    server.related_notes = RelatedNotes(server)
    server.diagnostic_providers.append(server.related_notes.provider)
