"""Outlines and symbol search: a note's heading tree with its pseudocode functions,
vault-wide symbols (notes, aliases, headings, functions), and folding ranges.
"""

from __future__ import annotations

import itertools
import json
import posixpath
from dataclasses import dataclass, field
from typing import Literal

from ponder.index.editor.completion import FoldedKeys, fuzzy_score
from ponder.index.graph.graph import Graph
from ponder.index.notes import Note, Range
from ponder.index.parsing.positions import fold

SymbolKind = Literal["note", "alias", "heading", "function"]


@dataclass
class OutlineItem:
    name: str
    kind: SymbolKind
    detail: str
    range: Range  # the whole section / definition
    selection: Range  # the heading line / the name
    children: list[OutlineItem] = field(default_factory=list)


def section_end(heads: list, i: int, line_count: int) -> int:
    """Last line of heading `i`'s section: before the next heading of the same or a higher level."""
    for later in heads[i + 1 :]:
        if later.level <= heads[i].level:
            return later.range.start.line - 1
    return line_count - 1


def outline(note: Note, line_count: int) -> list[OutlineItem]:
    """Headings nested by level, each spanning its section; functions inside their section."""
    items: list[OutlineItem] = []
    heads = note.headings
    for i, h in enumerate(heads):
        end = section_end(heads, i, line_count)
        items.append(
            OutlineItem(
                h.text,
                "heading",
                "#" * h.level,
                Range.of(h.range.start.line, 0, max(end, h.range.start.line), 0),
                h.range,
            )
        )
    roots: list[OutlineItem] = []
    for i, h in enumerate(heads):
        (roots if h.parent is None else items[h.parent].children).append(items[i])
    for fn in note.functions:
        item = OutlineItem(fn.name, "function", fn.signature, fn.range, fn.name_range)
        owner = None
        for i, _h in enumerate(heads):
            if items[i].range.start.line <= fn.range.start.line <= items[i].range.end.line:
                owner = items[i]  # the innermost: later headings are deeper or siblings
        (owner.children if owner else roots).append(item)
    for it in _walk(roots):
        it.children.sort(key=lambda c: c.range.start)
    roots.sort(key=lambda c: c.range.start)
    return roots


def _walk(items):
    for it in items:
        yield it
        yield from _walk(it.children)


@dataclass(frozen=True, slots=True)
class WorkspaceSymbol:
    name: str
    kind: SymbolKind
    path: str
    range: Range
    container: str


# (folded key, name, kind, path, range or its JSON from the store, container)
_Row = tuple[str, str, str, str, "Range | str", str]


def _note_rows(note: Note) -> list[_Row]:
    whole = Range.of(0, 0)
    rows: list[_Row] = [(fold(note.name), note.name, "note", note.path, whole, note.path)]
    if note.title and fold(note.title) != fold(note.name):
        rows.append((fold(note.title), note.title, "note", note.path, whole, note.path))
    rows += [(fold(a), a, "alias", note.path, whole, note.name) for a in note.aliases]
    rows += [(fold(h.text), h.text, "heading", note.path, h.range, note.name) for h in note.headings]
    rows += [(fold(fn.name), fn.signature, "function", note.path, fn.name_range, note.name) for fn in note.functions]
    return rows


class SymbolRows:
    """Symbol rows with their folded keys joined into one string, so that a query scans
    them with `re` (C speed) instead of a Python loop over every row. The scan order is
    the result order within a score tier (key length capped at 100, name length, path),
    so a scan can stop once a tier holds enough. `covers`: the paths these rows stand
    for (rows of the same paths in layers below are hidden)."""

    def __init__(self, rows: list[_Row], covers: set[str] | None = None):
        self.rows = rows  # insertion order (an empty query lists the first ones)
        self.ranked = sorted(rows, key=lambda r: (min(len(r[0]), 100), len(r[1]), r[3]))
        self.keys = FoldedKeys([r[0] for r in self.ranked])
        self.covers = covers if covers is not None else {r[3] for r in rows}

    @classmethod
    def of_notes(cls, notes) -> SymbolRows:
        notes = list(notes)
        return cls([row for note in notes for row in _note_rows(note)], {n.path for n in notes})

    @classmethod
    def of_store(cls, stored, covers: set[str] | None = None) -> SymbolRows:
        """From the store's symbol rows `(path, kind, name, key, detail, range JSON)`, a
        note's rows together (`Store.symbol_rows`): the same rows `of_notes` makes from the
        notes, without loading a single note."""
        rows: list[_Row] = []
        for path, group in itertools.groupby(stored, key=lambda r: r[0]):
            name = posixpath.basename(path)
            name = name.rsplit(".", 1)[0] if "." in name else name
            rows.append((fold(name), name, "note", path, "", path))
            first = True
            for _, kind, sname, key, detail, rng in group:
                if kind == "note":
                    if first and sname != name and key != fold(name):  # the title, stored first
                        rows.append((key, sname, "note", path, "", path))
                    first = False
                elif kind == "function":
                    rows.append((key, detail, "function", path, rng, name))
                else:
                    rows.append((key, sname, kind, path, rng, name))
        return cls(rows, covers)

    def best(self, q: str, limit: int, hidden: set[str]) -> list[tuple[int, _Row]]:
        """The `limit` best (fuzzy_score, row) for `q` (not empty), rows of `hidden` paths
        left out. Scores fall in tiers that never overlap (prefix, word-start substring,
        other substring, subsequence), and within a tier the scan order is the result
        order, so each tier is read only as far as it is needed."""

        def shown(i: int) -> _Row | None:
            row = self.ranked[i]
            return None if row[3] in hidden else row

        prefix = [r for i in self.keys.starting(q) if (r := shown(i))]
        if len(prefix) >= limit:
            return [(fuzzy_score(q, r[0]), r) for r in prefix[:limit]]
        out = [(fuzzy_score(q, r[0]), r) for r in prefix]
        words, others = [], []
        complete = len(q) == 1  # nearly every key holds one letter: find the word starts by regex
        if complete:
            for i in self.keys.word_start(q):
                if (row := shown(i)) is not None:
                    words.append((fuzzy_score(q, row[0]), row))
                    if len(out) + len(words) >= limit:
                        break
        if len(out) + len(words) < limit:
            counted = {id(r) for _, r in words}
            for i in self.keys.containing(q):
                row = shown(i)
                if row is None or row[0].startswith(q) or id(row) in counted:
                    continue
                score = fuzzy_score(q, row[0])
                (words if score >= 200 else others).append((score, row))
                if len(out) + len(words) + (len(others) if complete else 0) >= limit:
                    break
        out += words
        if len(out) < limit:
            out += others
        if len(out) < limit and len(q) <= 24:
            need = limit - len(out)
            for i in self.keys.subsequent(q):
                row = shown(i)
                if row is not None and q not in row[0]:
                    out.append((fuzzy_score(q, row[0]), row))
                    need -= 1
                    if not need:
                        break
        return out


class SymbolTable:
    """Every searchable name in the vault, folded once; rebuild when the graph changes.

    With `stored` (layers of the store's rows, `SymbolRows.of_store`, each hiding the rows
    of the paths it covers in the layers below) the notes the graph holds in memory
    (open documents) are overlaid on top and no stored note is loaded; without it every
    note of the graph is read."""

    def __init__(self, graph: Graph, stored: list[SymbolRows] | None = None):
        layers = (
            [SymbolRows.of_notes(graph.notes.values())]
            if stored is None
            else [*stored, SymbolRows.of_notes(graph.pinned())]
        )
        self.parts: list[tuple[SymbolRows, set[str]]] = []  # (rows, paths hidden by the layers above)
        above: set[str] = set()
        for layer in reversed(layers):
            self.parts.insert(0, (layer, above))
            above = above | layer.covers

    def search(self, query: str, limit: int = 200) -> list[WorkspaceSymbol]:
        q = fold(query)
        if not q:
            rows = (r for part, hidden in self.parts for r in part.rows if r[3] not in hidden)
            return [_symbol(r) for r in itertools.islice(rows, limit)]
        if "\n" in q:
            return []
        scored = [x for part, hidden in self.parts for x in part.best(q, limit, hidden)]
        scored.sort(key=lambda x: (-x[0], len(x[1][1]), x[1][3]))
        return [_symbol(r) for _, r in scored[:limit]]


def _symbol(row: _Row) -> WorkspaceSymbol:
    _, name, kind, path, rng, container = row
    if isinstance(rng, str):
        rng = Range.from_json(json.loads(rng)) if rng else Range.of(0, 0)
    return WorkspaceSymbol(name, kind, path, rng, container)


@dataclass(frozen=True, slots=True)
class Fold:
    start: int
    end: int
    kind: Literal["region", "comment", "imports"]


def folding_ranges(note: Note, lines: list[str]) -> list[Fold]:
    """Front matter, sections (without their trailing blank lines), fences, pseudocode functions."""
    line_count = len(lines)
    out: list[Fold] = []
    if note.front_matter_range and note.front_matter_range.end.line > note.front_matter_range.start.line:
        out.append(Fold(note.front_matter_range.start.line, note.front_matter_range.end.line, "comment"))
    heads = note.headings
    for i, h in enumerate(heads):
        end = section_end(heads, i, line_count)
        while end > h.range.start.line and not lines[end].strip():
            end -= 1
        if end > h.range.start.line:
            out.append(Fold(h.range.start.line, end, "region"))
    for b in note.code_blocks:
        if b.range.end.line > b.range.start.line:
            out.append(Fold(b.range.start.line, b.range.end.line, "region"))
    for fn in note.functions:
        if fn.range.end.line > fn.range.start.line:
            out.append(Fold(fn.range.start.line, fn.range.end.line, "region"))
    return sorted(set(out), key=lambda f: (f.start, f.end))
