"""What the background judge knows: contradiction verdicts placed where their sentences stand now.

A verdict is about two texts, not two lines: it follows its sentences across line moves,
disappears when either text is gone (an edit re-judges that pair) and is hidden while the
user ignores the pair. Pure and thread-safe: the diagnostics provider reads it on the index
thread while the scheduler (`scheduler.py`) adds verdicts on the loop.
"""

from __future__ import annotations

import threading
from dataclasses import replace

from ponder.index import Candidate, Diagnostic, Range, Vault, pair_key
from ponder.lsp.llm.contradictions.judge import (
    Judged,
    contradiction_diagnostics,
    sentence_ranges,
)

_norm = " ".join


def pair_id(c: Candidate) -> tuple:
    return (pair_key(c.a_text, c.b_text), c.a_path, c.b_path)


def choose(todo: list[Candidate], path: str, fresh: set[str], limit: int) -> list[Candidate]:
    """What one edit of `path` queues: pairs touching a sentence the edit changed (`fresh`,
    normalised texts) first, then the rest in their given order (closest first); at most `limit`."""

    def touches(c: Candidate) -> bool:
        return (c.a_path == path and _norm(c.a_text.split()) in fresh) or (
            c.b_path == path and _norm(c.b_text.split()) in fresh
        )

    return sorted(todo, key=lambda c: not touches(c))[:limit]


class Sentences:
    """Where sentences stand now, each note looked up once per job (index thread)."""

    def __init__(self, vault: Vault, open_paths):
        self.vault, self.open_paths, self._notes = vault, open_paths, {}

    def of(self, path: str) -> dict[str, Range]:
        if path not in self._notes:
            self._notes[path] = sentence_ranges(self.vault, path, self.open_paths)
        return self._notes[path]

    def range(self, path: str, text: str) -> Range | None:
        return self.of(path).get(_norm(text.split()))


class Verdicts:
    """The contradictions known this session, by pair and by each side's path (the index thread
    reads them while the loop adds them)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._pairs: dict[tuple, Judged] = {}
        self._paths: dict[str, set[tuple]] = {}

    def put(self, j: Judged) -> bool:
        """Remember a contradiction, forget a pair judged otherwise; True when what is shown may change."""
        key = pair_id(j.pair)
        with self._lock:
            if j.label == "contradiction":
                self._pairs[key] = j
                for p in (j.a_path, j.b_path):
                    self._paths.setdefault(p, set()).add(key)
                return True
            if self._pairs.pop(key, None) is None:
                return False
            for p in (j.a_path, j.b_path):
                self._paths.get(p, set()).discard(key)
            return True

    def clear(self) -> set[str]:
        """Forget everything (another model, other candidates); returns the paths that showed some."""
        with self._lock:
            paths = {p for p, keys in self._paths.items() if keys}
            self._pairs.clear()
            self._paths.clear()
        return paths

    def __len__(self) -> int:
        return len(self._pairs)

    def touch(self, path: str) -> bool:
        """Whether `path` has a known contradiction (the provider's cheap first question)."""
        return bool(self._paths.get(path))

    def diagnostics(self, vault: Vault, path: str, open_paths) -> list[Diagnostic]:
        """`contradiction` warnings in `path`, placed where both sentences stand now; a pair whose
        sentence is gone, or that the user ignored, shows nothing."""
        with self._lock:
            found = [self._pairs[k] for k in self._paths.get(path, ())]
        if not found:
            return []
        ignored = vault.store.ignored_pairs()
        where = Sentences(vault, open_paths)
        out: list[Diagnostic] = []
        for j in found:
            c = j.pair
            a, b = where.range(c.a_path, c.a_text), where.range(c.b_path, c.b_text)
            if a is None or b is None or pair_key(c.a_text, c.b_text) in ignored:
                continue
            now = replace(j, pair=replace(c, a_range=a, b_range=b))
            out += [d for d in contradiction_diagnostics([now]) if d.path == path]
        return out
