"""The vault's link and symbol graph in memory: name resolution, backlinks, pseudocode symbols.

Holds one parsed `Note` (without its sentences) per file and the lookup tables that
navigation and checks need. Resolution follows Obsidian: a wikilink names a note
by file name or path suffix, case-insensitively, aliases included, shortest path
first; `./` and `../` are relative to the linking note; headings match by text or
slug; markdown links are paths relative to the note.
"""

from __future__ import annotations

import posixpath
from collections import defaultdict
from dataclasses import dataclass
from urllib.parse import unquote

from .model import Heading, Link, Note, PseudoCall, PseudoFunction
from .text import fold, slugify

NOTE_EXTENSIONS = (".md", ".markdown", ".pseudo")


def _stem(path: str) -> str:
    base = path.rsplit("/", 1)[-1]
    for ext in NOTE_EXTENSIONS:
        if base.lower().endswith(ext):
            return base[: -len(ext)]
    return base


def _strip_ext(path: str) -> str:
    low = path.lower()
    for ext in NOTE_EXTENSIONS:
        if low.endswith(ext):
            return path[: -len(ext)]
    return path


@dataclass(frozen=True, slots=True)
class Resolution:
    """Where a link points. `path` None: no such note/file; `anchor_ok` False: no such heading/block."""

    path: str | None
    heading: Heading | None = None
    block_line: int | None = None
    anchor_ok: bool = True


class Graph:
    """Notes by path plus the indexes derived from them; rebuilt incrementally per note."""

    def __init__(self, extensions: tuple[str, ...] = NOTE_EXTENSIONS) -> None:
        self.notes: dict[str, Note] = {}
        self.assets: set[str] = set()
        self._by_name: dict[str, list[str]] = defaultdict(list)  # folded stem / alias -> paths
        self._by_path: dict[str, str] = {}  # folded path without extension -> path
        self._assets_folded: dict[str, str] = {}
        self._functions: dict[str, list[tuple[str, PseudoFunction]]] = defaultdict(list)
        self._backlinks: dict[str, list[tuple[str, Link]]] | None = None
        self._calls: dict[str, list[tuple[str, PseudoCall]]] | None = None

    # --- updates ------------------------------------------------------------------------

    def put(self, note: Note) -> None:
        if note.path in self.notes:
            self.remove(note.path)
        self.notes[note.path] = note
        self._by_path[fold(_strip_ext(note.path))] = note.path
        for key in {fold(_stem(note.path)), *(fold(a) for a in note.aliases)}:
            self._by_name[key].append(note.path)
        for fn in note.functions:
            self._functions[fold(fn.name)].append((note.path, fn))
        self._backlinks = self._calls = None

    def remove(self, path: str) -> None:
        note = self.notes.pop(path, None)
        if note is None:
            self.assets.discard(path)
            self._assets_folded.pop(fold(path), None)
            return
        self._by_path.pop(fold(_strip_ext(path)), None)
        for key in {fold(_stem(path)), *(fold(a) for a in note.aliases)}:
            lst = self._by_name.get(key)
            if lst and path in lst:
                lst.remove(path)
                if not lst:
                    del self._by_name[key]
        for fn in note.functions:
            lst2 = self._functions.get(fold(fn.name))
            if lst2:
                lst2[:] = [x for x in lst2 if x[0] != path]
                if not lst2:
                    del self._functions[fold(fn.name)]
        self._backlinks = self._calls = None

    def add_asset(self, path: str) -> None:
        self.assets.add(path)
        self._assets_folded[fold(path)] = path

    # --- resolution ---------------------------------------------------------------------

    def resolve_note(self, link: Link, from_path: str) -> str | None:
        """The path a link's note part points at, or None."""
        target = link.target.strip().replace("\\", "/")
        if not target:
            return from_path
        if link.kind == "markdown":
            return self._resolve_path(target, from_path)
        if target.startswith(("./", "../")):
            return self._resolve_path(target, from_path)
        key = fold(_strip_ext(target))
        if "/" not in key:
            cands = self._by_name.get(key)
            if cands:
                return min(cands, key=lambda p: (p.count("/"), len(p), p))
        else:
            key = key.lstrip("/")
            exact = self._by_path.get(key)
            if exact:
                return exact
            stem = key.rsplit("/", 1)[-1]
            cands = [p for p in self._by_name.get(stem, ()) if fold(_strip_ext(p)).endswith("/" + key)]
            if cands:
                return min(cands, key=lambda p: (p.count("/"), len(p), p))
        return self._resolve_asset(target, from_path)

    def _resolve_path(self, target: str, from_path: str) -> str | None:
        base = posixpath.dirname(from_path)
        joined = posixpath.normpath(target.lstrip("/") if target.startswith("/") else posixpath.join(base, target))
        if joined.startswith(".."):
            return None
        for cand in (joined, joined + ".md"):
            if cand in self.notes or cand in self.assets:
                return cand
        folded = fold(_strip_ext(joined))
        if folded in self._by_path and (joined.lower().endswith(NOTE_EXTENSIONS) or "." not in joined.rsplit("/", 1)[-1]):
            return self._by_path[folded]
        return self._assets_folded.get(fold(joined))

    def _resolve_asset(self, target: str, from_path: str) -> str | None:
        if "." not in target.rsplit("/", 1)[-1]:
            return None
        rel = self._resolve_path(target, from_path)
        if rel:
            return rel
        key = fold(target)
        cands = [p for k, p in self._assets_folded.items() if k == key or k.endswith("/" + key)]
        return min(cands, key=lambda p: (p.count("/"), len(p))) if cands else None

    def resolve(self, link: Link, from_path: str) -> Resolution:
        path = self.resolve_note(link, from_path)
        if path is None:
            return Resolution(None)
        note = self.notes.get(path)
        if note is None:  # an asset: anchors cannot be checked
            return Resolution(path)
        if link.heading:
            h = find_heading(note, link.heading)
            return Resolution(path, heading=h, anchor_ok=h is not None)
        if link.block:
            line = next((b.line for b in note.block_ids if b.id == link.block), None)
            return Resolution(path, block_line=line, anchor_ok=line is not None)
        return Resolution(path)

    # --- queries ------------------------------------------------------------------------

    def backlinks(self, path: str) -> list[tuple[str, Link]]:
        """Links from any note that resolve to `path` (anchors not checked)."""
        if self._backlinks is None:
            index: dict[str, list[tuple[str, Link]]] = defaultdict(list)
            for src, note in self.notes.items():
                for link in note.links:
                    if link.kind == "url":
                        continue
                    dst = self.resolve_note(link, src)
                    if dst:
                        index[dst].append((src, link))
            self._backlinks = index
        return self._backlinks.get(path, [])

    def definitions(self, name: str) -> list[tuple[str, PseudoFunction]]:
        return list(self._functions.get(fold(name), ()))

    def all_functions(self) -> dict[str, list[tuple[str, PseudoFunction]]]:
        return self._functions

    def calls_to(self, name: str) -> list[tuple[str, PseudoCall]]:
        if self._calls is None:
            index: dict[str, list[tuple[str, PseudoCall]]] = defaultdict(list)
            for src, note in self.notes.items():
                for c in note.calls:
                    index[fold(c.name)].append((src, c))
            self._calls = index
        return self._calls.get(fold(name), [])

    def names(self) -> dict[str, list[str]]:
        """Folded note names and aliases -> paths (for completion and fuzzy fixes)."""
        return self._by_name


def find_heading(note: Note, wanted: str) -> Heading | None:
    """A heading by its text (case-insensitive) or its slug."""
    w = fold(unquote(wanted))
    ws = slugify(unquote(wanted))
    for h in note.headings:
        if fold(h.text) == w:
            return h
    for h in note.headings:
        if h.slug == ws or h.slug == w:
            return h
    return None
