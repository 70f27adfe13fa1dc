"""What is under the cursor, where it is defined, and who refers to it.

Plain functions over a `Graph`: the language server's definition, references and
document-link features are thin wrappers around these.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ponder.index.graph.graph import Graph, find_heading
from ponder.index.notes import (
    BlockId,
    Heading,
    Link,
    Note,
    Position,
    PseudoCall,
    PseudoFunction,
    Range,
    Tag,
)
from ponder.index.parsing.positions import fold

SpotKind = Literal["link", "heading", "function", "call", "block", "tag", "note"]


@dataclass(frozen=True, slots=True)
class Location:
    path: str
    range: Range


@dataclass(frozen=True, slots=True)
class Spot:
    """The thing at a position in a note. `kind == "note"`: nothing in particular (the note itself)."""

    kind: SpotKind
    range: Range
    link: Link | None = None
    heading: Heading | None = None
    function: PseudoFunction | None = None
    call: PseudoCall | None = None
    block: BlockId | None = None
    tag: Tag | None = None

    @property
    def name(self) -> str | None:
        """The pseudocode name for function/call spots."""
        if self.function:
            return self.function.name
        return self.call.name if self.call else None


def spot_at(note: Note, pos: Position) -> Spot:
    for link in note.links:
        if link.range.contains(pos):
            return Spot("link", link.range, link=link)
    for fn in note.functions:
        if fn.name_range.contains(pos):
            return Spot("function", fn.name_range, function=fn)
    for call in note.calls:
        if call.range.contains(pos):
            return Spot("call", call.range, call=call)
    for b in note.block_ids:
        if b.range.contains(pos):
            return Spot("block", b.range, block=b)
    for t in note.tags:
        if t.range.contains(pos) and t.range.start.line == t.range.end.line:
            return Spot("tag", t.range, tag=t)
    for h in note.headings:
        if h.range.start.line == pos.line:
            return Spot("heading", h.range, heading=h)
    return Spot("note", Range.of(pos.line, pos.character))


def is_title(note: Note, h: Heading) -> bool:
    """A level-1 heading that names the note (its file name or title) stands for the note itself."""
    return h.level == 1 and fold(h.text) in (fold(note.name), fold(note.title or ""))


def block_range(note: Note, line: int) -> Range:
    b = next((b for b in note.block_ids if b.line == line), None)
    return b.range if b else Range.of(line, 0)


def link_target(graph: Graph, path: str, link: Link) -> Location | None:
    """Where following `link` from note `path` lands: the heading, the block, or the top of the note."""
    if link.kind == "url":
        return None
    res = graph.resolve(link, path)
    if res.path is None:
        return None
    note = graph.notes.get(res.path)
    if res.heading is not None:
        return Location(res.path, res.heading.range)
    if res.block_line is not None and note is not None:
        return Location(res.path, block_range(note, res.block_line))
    return Location(res.path, Range.of(0, 0))


def definition(graph: Graph, path: str, pos: Position) -> list[Location]:
    note = graph.notes.get(path)
    if note is None:
        return []
    spot = spot_at(note, pos)
    if spot.kind == "link":
        loc = link_target(graph, path, spot.link)
        return [loc] if loc else []
    if spot.kind in ("call", "function"):
        return [Location(p, fn.name_range) for p, fn in graph.definitions(spot.name)]
    return []


def _links_to_heading(graph: Graph, path: str, heading: Heading) -> list[Location]:
    target = graph.notes.get(path)
    out = []
    for src, link in graph.backlinks(path):
        if link.heading and target is not None and find_heading(target, link.heading) == heading:
            out.append(Location(src, link.range))
    return out


def references(graph: Graph, path: str, pos: Position, include_declaration: bool = False) -> list[Location]:
    """Backlinks to the note, heading or block under the cursor; calls of a pseudocode function."""
    note = graph.notes.get(path)
    if note is None:
        return []
    spot = spot_at(note, pos)
    out: list[Location] = []
    if spot.kind in ("call", "function"):
        if include_declaration:
            out += [Location(p, fn.name_range) for p, fn in graph.definitions(spot.name)]
        out += [Location(p, c.range) for p, c in graph.calls_to(spot.name)]
        return out
    if spot.kind == "link":
        res = graph.resolve(spot.link, path)
        if res.path is None:
            return []
        if res.heading is not None:
            return _links_to_heading(graph, res.path, res.heading)
        if spot.link.block:
            return [Location(s, l.range) for s, l in graph.backlinks(res.path) if l.block == spot.link.block]
        return [Location(s, l.range) for s, l in graph.backlinks(res.path)]
    if spot.kind == "heading" and is_title(note, spot.heading):
        return [Location(s, l.range) for s, l in graph.backlinks(path)]
    if spot.kind == "heading":
        out = _links_to_heading(graph, path, spot.heading)
        if include_declaration:
            out.insert(0, Location(path, spot.heading.range))
        return out
    if spot.kind == "block":
        return [Location(s, l.range) for s, l in graph.backlinks(path) if l.block == spot.block.id]
    if spot.kind == "tag":
        key = fold(spot.tag.name)
        return [
            Location(p, t.range)
            for p, n in sorted(graph.notes.items())
            for t in n.tags
            if fold(t.name) == key and t.range.start.line == t.range.end.line
        ]
    return [Location(s, l.range) for s, l in graph.backlinks(path)]


@dataclass(frozen=True, slots=True)
class DocumentLink:
    range: Range
    path: str | None  # vault-relative target, or None for a URL
    url: str | None
    line: int | None  # the target heading's / block's line


def document_links(graph: Graph, note: Note) -> list[DocumentLink]:
    out = []
    for link in note.links:
        if link.kind == "url":
            out.append(DocumentLink(link.range, None, link.target, None))
            continue
        loc = link_target(graph, note.path, link)
        if loc is None:
            continue
        line = loc.range.start.line if (link.heading or link.block) else None
        out.append(DocumentLink(link.range, loc.path, None, line))
    return out
