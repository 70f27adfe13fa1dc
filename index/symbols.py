"""Outlines and symbol search: a note's heading tree with its pseudocode functions,
vault-wide symbols (notes, aliases, headings, functions), and folding ranges.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from .completion import fuzzy_score
from .graph import Graph
from .model import Note, Range
from .text import fold

SymbolKind = Literal["note", "alias", "heading", "function"]


@dataclass
class OutlineItem:
    name: str
    kind: SymbolKind
    detail: str
    range: Range  # the whole section / definition
    selection: Range  # the heading line / the name
    children: list["OutlineItem"] = field(default_factory=list)


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
        items.append(OutlineItem(h.text, "heading", "#" * h.level, Range.of(h.range.start.line, 0, max(end, h.range.start.line), 0), h.range))
    roots: list[OutlineItem] = []
    for i, h in enumerate(heads):
        (roots if h.parent is None else items[h.parent].children).append(items[i])
    for fn in note.functions:
        item = OutlineItem(fn.name, "function", fn.signature, fn.range, fn.name_range)
        owner = None
        for i, h in enumerate(heads):
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


class SymbolTable:
    """Every searchable name in the vault, folded once; rebuild when the graph changes."""

    def __init__(self, graph: Graph):
        self.rows: list[tuple[str, WorkspaceSymbol]] = []
        for path, note in graph.notes.items():
            self.rows.append((fold(note.name), WorkspaceSymbol(note.name, "note", path, Range.of(0, 0), path)))
            if note.title and fold(note.title) != fold(note.name):
                self.rows.append((fold(note.title), WorkspaceSymbol(note.title, "note", path, Range.of(0, 0), path)))
            for a in note.aliases:
                self.rows.append((fold(a), WorkspaceSymbol(a, "alias", path, Range.of(0, 0), note.name)))
            for h in note.headings:
                self.rows.append((fold(h.text), WorkspaceSymbol(h.text, "heading", path, h.range, note.name)))
            for fn in note.functions:
                self.rows.append((fold(fn.name), WorkspaceSymbol(fn.signature, "function", path, fn.name_range, note.name)))
        self.blob = "\n".join(k for k, _ in self.rows)

    def search(self, query: str, limit: int = 200) -> list[WorkspaceSymbol]:
        q = fold(query)
        if not q:
            return [s for _, s in self.rows[:limit]]
        scored = []
        if q in self.blob:  # cheap pre-check: substring hits first
            for key, sym in self.rows:
                if q in key:
                    scored.append((fuzzy_score(q, key), sym))
        if len(scored) < limit and len(q) <= 24:
            first = q[0]
            for key, sym in self.rows:
                if first in key and q not in key:
                    s = fuzzy_score(q, key)
                    if s is not None:
                        scored.append((s, sym))
        scored.sort(key=lambda x: (-x[0], len(x[1].name), x[1].path))
        return [s for _, s in scored[:limit]]


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
