"""`missing-link` hints for the notes the editor shows: notes about the same thing that link
neither way (see `index.related.Relatedness`).

The hint is computed from the index, not per keystroke: a note's result is kept while its
text is unchanged, for at most `TTL_S` seconds (other notes' edits change it only slowly).
The quick fix ("link [[Other]]") lives in `code_actions`.
"""

from __future__ import annotations

import hashlib
import logging
import time

from ponder.index import related
from ponder.index.model import Diagnostic
from ponder.index.vault import Vault

log = logging.getLogger(__name__)
TTL_S = 120.0


class RelatedNotes:
    def __init__(self, server) -> None:
        self.server = server
        self._cache: dict[str, tuple[str, float, list[Diagnostic]]] = {}

    def provider(self, vault: Vault, path: str) -> list[Diagnostic]:
        """(index thread) the note's missing-link hints."""
        if not vault.settings.missing_links or path.endswith(".pseudo"):
            return []
        text = vault.read_text(path) or ""
        key = hashlib.blake2b(text.encode("utf-8"), digest_size=12).hexdigest()
        hit = self._cache.get(path)
        now = time.monotonic()
        if hit and hit[0] == key and now - hit[1] < TTL_S:
            return hit[2]
        try:
            found = related.missing_links(vault, path)
        except Exception:  # a hint must never cost the note its other diagnostics
            log.exception("missing-link hints for %s failed", path)
            found = []
        self._cache[path] = (key, now, found)
        return found


def register(server) -> None:
    server.related_notes = RelatedNotes(server)
    server.diagnostic_providers.append(server.related_notes.provider)
