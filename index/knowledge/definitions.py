"""Term definitions: where the vault defines its terms (glossary notes' sections, bold-term lines),
so that a claim using a term can be compared with the term's definition."""

from __future__ import annotations

import re

from ponder.index.notes import Note, Range
from ponder.index.parsing.claims import sentence_hash
from ponder.index.parsing.positions import fold
from ponder.index.parsing.stems import content_stems

GLOSSARY_WORDS = (
    "glossar",
    "glossary",
    "terms",
    "terminolog",
    "vocabular",
    "глоссари",
    "термин",
    "словарь",
    "определени",
)


_BOLD_TERM = re.compile(r"^\*\*([^*]{2,60})\*\*\s*(?:[—–:-]|это\b|is\b|are\b)")


class Definitions:
    """Where terms are defined: the sections of glossary notes (the heading names the term) and
    bold-term lines (`**Chunk** — ...`). A claim that uses a term is worth comparing with the
    term's definition even when the two sentences share little else: "the snapshot is updated
    in place" against "a committed snapshot never changes"."""

    def __init__(self, store) -> None:
        self.store = store
        self.by_path: dict[str, list[tuple[tuple[str, ...], str, Range, str]]] = {}
        for row in store.definition_rows(GLOSSARY_WORDS):
            self._add(*row)
        self._by_stem: dict[str, list[tuple[tuple[str, ...], str, str, Range, str]]] | None = None

    def _add(self, path: str, heading: str, text: str, rng: Range, h: str) -> None:
        m = _BOLD_TERM.match(text)
        term = m.group(1) if m else heading
        if not m and (not any(w in fold(path) for w in GLOSSARY_WORDS) or any(w in fold(term) for w in GLOSSARY_WORDS)):
            return  # a glossary note's own title section defines nothing
        stems = tuple(content_stems(term))
        if stems and len(stems) <= 4:
            self.by_path.setdefault(path, []).append((stems, text, rng, h))
            self._by_stem = None

    def refresh(self, path: str, rows: list[tuple[str, str, str, Range, str]]) -> None:
        """Replace `path`'s definitions (rows as `Store.definition_rows` gives them)."""
        self.by_path.pop(path, None)
        self._by_stem = None
        for row in rows:
            self._add(*row)

    def used_in(self, stems: list[str], path: str, limit: int = 3) -> list[tuple[str, str, Range, str]]:
        """(path, text, range, hash) of the definitions of terms that a claim with `stems` uses,
        outside `path`; the rarest terms first."""
        if self._by_stem is None:
            idx: dict[str, list] = {}
            for p, items in self.by_path.items():
                for term, text, rng, h in items:
                    idx.setdefault(term[0], []).append((term, p, text, rng, h))
            self._by_stem = idx
        have = set(stems)
        hits = []
        for st in have:
            for term, p, text, rng, h in self._by_stem.get(st, ()):
                if p != path and set(term) <= have:
                    hits.append((p, text, rng, h))
        return hits[: limit * 4]


def open_definition_rows(note: Note) -> list[tuple[str, str, str, Range, str]]:
    """An open document's possible definitions, as `Store.definition_rows` gives stored ones."""
    glossary = any(w in fold(note.path) for w in GLOSSARY_WORDS)
    out = []
    for s in note.sentences:
        h = sentence_hash(s.kind, s.text)
        if h and (glossary or s.text.startswith("**")):
            out.append((note.path, (note.heading_path(s.heading) or [""])[-1], s.text, s.range, h))
    return out
