"""Renames as plain edits: headings, notes (moved or renamed files) and pseudocode functions.

A rename answers with a `Change`: text edits (in the positions of the text the graph
holds) plus file moves. Links keep their style: a bare wikilink stays bare unless the
name becomes ambiguous, a path-style one gets the new path, a markdown link gets the
new relative path, URL-encoded.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from urllib.parse import quote

from ponder.index.editor.navigate import is_title, spot_at
from ponder.index.graph.graph import Graph, _stem, _strip_ext, find_heading
from ponder.index.notes import Heading, Link, Position, Range
from ponder.index.parsing.positions import (
    fold,
    slugify,
    split_lines,
    utf16_len,
    utf16_to_cp,
)


class RenameError(ValueError):
    """The rename cannot be done (nothing renameable here, bad name, target exists)."""


@dataclass(frozen=True, slots=True)
class TextEdit:
    path: str
    range: Range
    new_text: str


@dataclass
class Change:
    edits: list[TextEdit] = field(default_factory=list)
    moves: list[tuple[str, str]] = field(default_factory=list)  # (old path, new path)
    creates: list[tuple[str, str]] = field(default_factory=list)  # (path, initial text)

    def by_path(self) -> dict[str, list[TextEdit]]:
        out: dict[str, list[TextEdit]] = {}
        seen = set()
        for e in self.edits:
            if (e.path, e.range) in seen:
                continue
            seen.add((e.path, e.range))
            out.setdefault(e.path, []).append(e)
        return out


@dataclass(frozen=True, slots=True)
class Renameable:
    kind: str  # "heading" | "note" | "function"
    range: Range  # what the editor highlights
    placeholder: str
    path: str  # the note that owns the thing (target note for links)
    heading: Heading | None = None
    name: str | None = None


# --- where a link's parts are -------------------------------------------------------------


def anchor_range(link: Link) -> Range | None:
    """The heading/block part of a single-line link (after '#' or '#^'), or None."""
    if not (link.heading or link.block) or link.range.start.line != link.range.end.line:
        return None
    raw = link.raw
    after = utf16_to_cp(raw, link.target_range.end.character - link.range.start.character)
    i = raw.find("#", after)
    if i < 0:
        return None
    i += 1
    if link.block and raw[i : i + 1] == "^":
        i += 1
    stops = "|]" if link.kind == "wiki" else ")"
    j = i
    while j < len(raw) and raw[j] not in stops and not (link.kind == "markdown" and raw[j] in ' \t"'):
        j += 1
    base = link.range.start.character
    return Range.of(link.range.start.line, base + utf16_len(raw[:i]), link.range.start.line, base + utf16_len(raw[:j]))


def heading_text_range(h: Heading, line: str) -> Range:
    cp = line.find(h.text)
    if cp < 0:
        start = h.range.end.character - utf16_len(h.text)
        return Range.of(h.range.start.line, start, h.range.start.line, h.range.end.character)
    start = utf16_len(line[:cp])
    return Range.of(h.range.start.line, start, h.range.start.line, start + utf16_len(h.text))


def _line(texts, path: str, line: int) -> str:
    lines = split_lines(texts(path) or "")
    return lines[line] if line < len(lines) else ""


# --- what can be renamed here ---------------------------------------------------------------


def prepare(graph: Graph, path: str, pos: Position, texts) -> Renameable | None:
    note = graph.notes.get(path)
    if note is None:
        return None
    spot = spot_at(note, pos)
    if spot.kind in ("function", "call"):
        return Renameable("function", spot.range, spot.name, path, name=spot.name)
    if spot.kind == "link":
        link = spot.link
        res = graph.resolve(link, path)
        if res.path is None or res.path not in graph.notes:
            return None
        anchor = anchor_range(link)
        if anchor and anchor.contains(pos) and res.heading is not None:
            return Renameable("heading", anchor, res.heading.text, res.path, heading=res.heading)
        if not link.target:
            return None
        return Renameable("note", link.target_range, graph.notes[res.path].name, res.path)
    if spot.kind == "heading":
        h = spot.heading
        r = heading_text_range(h, _line(texts, path, h.range.start.line))
        if is_title(note, h):
            return Renameable("note", r, note.name, path, heading=h)
        return Renameable("heading", r, h.text, path, heading=h)
    return None


def rename(graph: Graph, path: str, pos: Position, new_name: str, texts) -> Change:
    what = prepare(graph, path, pos, texts)
    if what is None:
        raise RenameError("Nothing to rename here: place the cursor on a link, a heading or a pseudocode function")
    new_name = new_name.strip()
    if not new_name:
        raise RenameError("The new name is empty")
    if what.kind == "function":
        return rename_function(graph, what.name, new_name)
    if what.kind == "heading":
        return rename_heading(graph, what.path, what.heading, new_name, texts)
    change = rename_note(graph, what.path, new_name)
    if what.heading is not None:  # renamed through its title: the title follows
        r = heading_text_range(what.heading, _line(texts, what.path, what.heading.range.start.line))
        change.edits.insert(0, TextEdit(what.path, r, posixpath.basename(new_name)))
    return change


# --- the renames ----------------------------------------------------------------------------


def rename_function(graph: Graph, name: str, new_name: str) -> Change:
    if not new_name.replace("_", "a").isalnum():
        raise RenameError(f"'{new_name}' is not a valid pseudocode name")
    edits = [TextEdit(p, fn.name_range, new_name) for p, fn in graph.definitions(name)]
    edits += [TextEdit(p, c.range, new_name) for p, c in graph.calls_to(name)]
    return Change(edits)


def rename_heading(graph: Graph, path: str, heading: Heading, new_text: str, texts) -> Change:
    note = graph.notes[path]
    edits = [TextEdit(path, heading_text_range(heading, _line(texts, path, heading.range.start.line)), new_text)]
    for src, link in graph.backlinks(path):
        if not link.heading or find_heading(note, link.heading) != heading:
            continue
        r = anchor_range(link)
        if r is None:
            continue
        if link.kind == "markdown" or link.heading == heading.slug:
            edits.append(TextEdit(src, r, slugify(new_text)))
        else:
            edits.append(TextEdit(src, r, new_text))
    return Change(edits)


def new_note_path(old: str, new_name: str) -> str:
    """'Новое имя' keeps the folder; 'folder/name' is vault-relative; the extension is kept."""
    ext = old[len(_strip_ext(old)) :] or ".md"
    name = new_name.replace("\\", "/").strip("/")
    if not name.lower().endswith((".md", ".markdown", ".pseudo")):
        name += ext
    path = name if "/" in new_name else posixpath.join(posixpath.dirname(old), name)
    path = posixpath.normpath(path)
    if path.startswith("..") or path.startswith("/"):
        raise RenameError(f"'{new_name}' would leave the vault")
    return path


def rename_note(graph: Graph, path: str, new_name: str) -> Change:
    new = new_note_path(path, new_name)
    if new != path and (new in graph.notes or new in graph.assets):
        raise RenameError(f"'{new}' already exists")
    change = move_edits(graph, {path: new})
    change.moves.append((path, new))
    return change


def _wiki_text(graph: Graph, old_target: str, new: str, moved: dict[str, str]) -> str:
    keep_ext = old_target.lower().endswith((".md", ".markdown", ".pseudo"))
    bare = _stem(new)
    if "/" not in old_target.strip("/"):
        rivals = [p for p in graph.names().get(fold(bare), []) if p not in moved]
        if not rivals or min(rivals + [new], key=lambda p: (p.count("/"), len(p), p)) == new:
            return bare + (new[len(_strip_ext(new)) :] if keep_ext else "")
    return new if keep_ext else _strip_ext(new)


def written_target(link: Link) -> str:
    """The link's target exactly as written in the note (still URL-encoded for markdown links)."""
    if link.range.start.line != link.target_range.start.line or link.range.start.line != link.range.end.line:
        return link.target
    base = link.range.start.character
    a = utf16_to_cp(link.raw, link.target_range.start.character - base)
    b = utf16_to_cp(link.raw, link.target_range.end.character - base)
    return link.raw[a:b]


def _relative(from_note: str, to_path: str) -> str:
    rel = posixpath.relpath(to_path, posixpath.dirname(from_note) or ".")
    return quote(rel, safe="/#")


def move_edits(graph: Graph, moves: dict[str, str]) -> Change:
    """Edits that keep every link working once each note `old` is at `moves[old]`."""
    edits: list[TextEdit] = []
    for old, new in moves.items():
        for src, link in graph.backlinks(old):
            if not link.target or link.ref is not None:
                continue  # [[#heading]] inside the note itself; `[text][ref]` (its definition is a link too)
            src_after = moves.get(src, src)
            if link.kind == "markdown":
                text = _relative(src_after, new) if not link.target.startswith("/") else "/" + quote(new, safe="/")
            elif link.target.startswith(("./", "../")):
                text = posixpath.relpath(new, posixpath.dirname(src_after) or ".")
                text = text if text.startswith("../") else "./" + text
                text = _strip_ext(text) if not link.target.lower().endswith((".md", ".pseudo", ".markdown")) else text
            else:
                text = _wiki_text(graph, link.target, new, moves)
            if text != written_target(link):
                edits.append(TextEdit(src, link.target_range, text))
        # relative links inside a moved note must follow it to its new folder
        note = graph.notes.get(old)
        if note is None or posixpath.dirname(old) == posixpath.dirname(new):
            continue
        for link in note.links:
            if link.kind == "url" or not link.target or link.ref is not None:
                continue
            relative = (
                link.kind == "markdown" and not link.target.startswith("/") or link.target.startswith(("./", "../"))
            )
            if not relative:
                continue
            dst = graph.resolve_note(link, old)
            if dst is None or dst in moves:
                continue  # broken stays broken; moved targets were handled above
            if link.kind == "markdown":
                edits.append(TextEdit(old, link.target_range, _relative(new, dst)))
            else:
                text = posixpath.relpath(dst, posixpath.dirname(new) or ".")
                text = text if text.startswith("../") else "./" + text
                edits.append(TextEdit(old, link.target_range, _strip_ext(text)))
    return Change(edits)


def notes_under(graph: Graph, folder: str) -> list[str]:
    prefix = folder.rstrip("/") + "/"
    return sorted(p for p in graph.notes if p.startswith(prefix))
