"""Related statements and notes: contradiction candidates for the model, missing-link hints.

Both come from sentence vectors (claims of five words or more): a sentence's nearest
neighbours in other notes (or far away in the same long note) are the pairs worth a
model's judgement; two notes whose statements are close but that link neither way
deserve a `missing-link` hint. Unlinked mentions of a note's title or alias count too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .model import Diagnostic, Range, Related
from .store import sentence_hash
from .text import fold

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")  # daily notes: a date in prose rarely means that day's note

if TYPE_CHECKING:
    from .vault import Vault


@dataclass(frozen=True, slots=True)
class Candidate:
    a_path: str
    a_text: str
    a_range: Range
    b_path: str
    b_text: str
    b_range: Range
    similarity: float

    def key(self) -> tuple:
        return tuple(sorted([(self.a_path, self.a_range.start.line), (self.b_path, self.b_range.start.line)]))


def _claims(vault: "Vault", path: str) -> list[tuple[str, Range, bytes | None]]:
    """(text, range, vector) of a note's claim sentences; open documents are embedded on the fly."""
    out = []
    note = vault._open.get(path)
    rows = [(s.kind, s.text, s.range, sentence_hash(s.kind, s.text)) for s in note.sentences] if note else vault.store.sentence_rows(path)
    missing: list[int] = []
    for kind, text, rng, h in rows:
        if h is None:
            continue
        out.append([text, rng, vault.store.sentence_vector(h)])
        if out[-1][2] is None:
            missing.append(len(out) - 1)
    if missing and vault.embedding.enabled:
        vecs = vault.embedder.encode([out[i][0] for i in missing])
        for i, v in zip(missing, vecs):
            out[i][2] = v.tobytes()
    return [(t, r, v) for t, r, v in out]


def candidates(vault: "Vault", path: str, k: int = 10, min_similarity: float = 0.55) -> list[Candidate]:
    """For each claim in `path`, its `k` nearest claims elsewhere above `min_similarity`."""
    out: list[Candidate] = []
    for text, rng, vec in _claims(vault, path):
        if vec is None:
            continue
        got = 0
        for p, t, r, sim in vault.store.similar_sentences(vec, k + 8):
            if p == path and (abs(r.start.line - rng.start.line) <= 3 or p in vault._open):
                continue  # itself or its neighbours; an open note's stored copy is stale
            if sim < min_similarity:
                break
            out.append(Candidate(path, text, rng, p, t, r, sim))
            got += 1
            if got >= k:
                break
    return out


def _linked(vault: "Vault", a: str, b: str) -> bool:
    g = vault.graph
    for src, dst in ((a, b), (b, a)):
        note = g.notes.get(src)
        if note and any(l.kind != "url" and g.resolve_note(l, src) == dst for l in note.links):
            return True
    return False


def missing_links(vault: "Vault", path: str, min_similarity: float = 0.8, max_hints: int = 3) -> list[Diagnostic]:
    """`missing-link` hints for `path`: notes it talks with (close claims, or a mention of their
    title) that it does not link and that do not link it."""
    if path.endswith(".pseudo"):
        return []  # a .pseudo file cannot hold a link
    best: dict[str, tuple[float, Candidate | None]] = {}
    for c in candidates(vault, path, k=3, min_similarity=min_similarity):
        if c.b_path == path or c.b_path.endswith(".pseudo"):
            continue
        if c.similarity > best.get(c.b_path, (0.0, None))[0]:
            best[c.b_path] = (c.similarity, c)
    for other, (line, rng) in unlinked_mentions(vault, path).items():
        best.setdefault(other, (1.0, None))
    out = []
    for other, (sim, c) in sorted(best.items(), key=lambda kv: -kv[1][0]):
        if _linked(vault, path, other):
            continue
        target = vault.graph.notes.get(other)
        title = target.title if target else other
        where = c.a_range if c else Range.of(0, 0)
        related = (Related(other, c.b_range if c else Range.of(0, 0), "a related statement" if c else "mentioned here by title"),)
        why = f"a close statement at {other}:{c.b_range.start.line + 1}" if c else "it is mentioned by name"
        out.append(
            Diagnostic(path, where, "hint", "missing-link", f"Related note '{title}' is not linked ({why})", related,
                       {"target": other, "title": title})
        )
        if len(out) >= max_hints:
            break
    return out


def unlinked_mentions(vault: "Vault", path: str) -> dict[str, tuple[int, Range]]:
    """Other notes whose title or alias (two words, or 6+ letters) appears in `path`'s prose unlinked."""
    note = vault.note(path)
    text = vault.read_text(path) or ""
    if note is None or not text:
        return {}
    names = vault.graph.names()
    skip_lines = {l.range.start.line for l in note.links}
    if note.front_matter_range:
        skip_lines.update(range(note.front_matter_range.end.line + 1))
    for b in note.code_blocks:
        skip_lines.update(range(b.range.start.line, b.range.end.line + 1))
    out: dict[str, tuple[int, Range]] = {}
    for i, line in enumerate(text.splitlines()):
        if i in skip_lines:
            continue
        words = re.findall(r"[\w][\w'-]*", fold(line))
        for n in range(1, 5):
            for j in range(len(words) - n + 1):
                key = " ".join(words[j : j + n])
                # one-word names count only when distinctive (ADR-002-chunk-size), not 'monitoring'
                if (n == 1 and not re.search(r"[-_\d]", key)) or key not in names or _DATE.fullmatch(key):
                    continue
                for other in names[key]:
                    if other != path:
                        out.setdefault(other, (i, Range.of(i, 0, i, len(line))))
    return out
