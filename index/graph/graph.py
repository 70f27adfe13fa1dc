"""The vault's link and symbol graph: name resolution, backlinks, pseudocode symbols.

Resolution follows Obsidian: a wikilink names a note by file name or path suffix,
case-insensitively, aliases included, shortest path first; `./` and `../` are relative
to the linking note; headings match by text or slug; markdown links are paths relative
to the note.

A graph over a 20,000-note vault must answer in milliseconds right after start, so it
never loads every note: it keeps only the catalog (paths and aliases) in memory, loads a
note's parsed summary when a question needs it (LRU-cached), and asks its `NoteSource`
(the store) which notes mention a name. Notes `put()` into the graph (open documents,
or everything when there is no source) are held in memory and shadow the source.
"""

from __future__ import annotations

import itertools
import posixpath
from collections import OrderedDict, defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import NamedTuple, Protocol
from urllib.parse import unquote

from ponder.index.notes import Anchor, Heading, Link, Note, PseudoCall, PseudoFunction, Range
from ponder.index.parsing.keys import link_key, note_symbols
from ponder.index.parsing.positions import fold, slugify

NOTE_EXTENSIONS = (".md", ".markdown", ".pseudo")
CACHE_NOTES = 4096


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


class NoteSource(Protocol):
    """Where stored notes come from (implemented by `index.store.db.Store`)."""

    def catalog(self) -> list[tuple[str, list[str]]]: ...
    def asset_paths(self) -> list[str]: ...
    def load(self, path: str) -> Note | None: ...
    def titles(self, paths: list[str]) -> dict[str, str | None]: ...
    def paths_with_keys(self, kind: str, keys: Iterable[str]) -> list[str]: ...
    def link_targets(self, keys: Iterable[str], exclude: Iterable[str] = ()) -> list[tuple[str, str, str]]: ...
    def key_counts(self, kind: str) -> dict[str, int]: ...
    def find_symbols(
        self, query: str, limit: int, exclude: Iterable[str] = ()
    ) -> list[tuple[str, str, str, str, Range]]: ...


@dataclass(frozen=True, slots=True)
class Resolution:
    """Where a link points. `path` None: no such note/file; `anchor_ok` False: no such heading/block."""

    path: str | None
    heading: Heading | None = None
    block_line: int | None = None
    anchor_ok: bool = True


@dataclass(frozen=True, slots=True)
class Symbol:
    kind: str  # note | alias | heading | function
    name: str
    detail: str
    path: str
    range: Range


class NoteMap(Mapping[str, Note]):
    """`graph.notes`: every known note by path, loaded on first access."""

    def __init__(self, graph: Graph):
        self._g = graph

    def __getitem__(self, path: str) -> Note:
        note = self._g._get(path)
        if note is None:
            raise KeyError(path)
        return note

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._g._catalog))

    def __len__(self) -> int:
        return len(self._g._catalog)

    def __contains__(self, path: object) -> bool:
        return path in self._g._catalog


_GRAPHS = itertools.count()


class _LinkRef(NamedTuple):
    """What `resolve_note` reads of a link."""

    kind: str
    target: str


class Graph:
    """Catalog in memory, notes on demand; `put` pins a note, `refresh` follows the source."""

    def __init__(self, source: NoteSource | None = None) -> None:
        self.source = source
        self.notes = NoteMap(self)
        self.assets: set[str] = set()
        self._catalog: dict[str, list[str]] = {}  # path -> aliases
        self._pinned: dict[str, Note] = {}
        self._pinned_links: dict[str, dict[str, list[tuple[str, str]]]] = {}  # path -> link key -> (kind, target)
        self._cache: OrderedDict[str, Note] = OrderedDict()
        self._by_name: dict[str, list[str]] = defaultdict(list)  # folded stem / alias -> paths
        self._by_path: dict[str, str] = {}  # folded path without extension -> path
        self._assets_folded: dict[str, str] = {}
        self._folders: dict[str, int] = defaultdict(int)  # folded folder -> notes and assets under it
        # (this graph, how many times a note or asset path came or went): not changed by edits
        self.paths_version = (next(_GRAPHS), 0)
        if source is not None:
            for path, aliases in source.catalog():
                self._catalog_add(path, aliases)
            for a in source.asset_paths():
                self.add_asset(a)

    # --- catalog and notes ----------------------------------------------------------------

    def _paths_changed(self) -> None:
        self.paths_version = (self.paths_version[0], self.paths_version[1] + 1)

    def _catalog_add(self, path: str, aliases: list[str]) -> None:
        if path not in self._catalog:
            self._paths_changed()
        self._catalog_drop(path, replacing=True)
        self._catalog[path] = list(aliases)
        self._count_folders(path, 1)
        stripped = _strip_ext(path)  # its last part is _stem(path): the extension has no "/"
        self._by_path[fold(stripped)] = path
        stem_key = fold(stripped.rsplit("/", 1)[-1])
        for key in {stem_key, *(fold(a) for a in aliases)} if aliases else (stem_key,):
            self._by_name[key].append(path)

    def _catalog_drop(self, path: str, replacing: bool = False) -> None:
        aliases = self._catalog.pop(path, None)
        if aliases is None:
            return
        if not replacing:
            self._paths_changed()
        self._count_folders(path, -1)
        self._by_path.pop(fold(_strip_ext(path)), None)
        for key in {fold(_stem(path)), *(fold(a) for a in aliases)}:
            lst = self._by_name.get(key)
            if lst and path in lst:
                lst.remove(path)
                if not lst:
                    del self._by_name[key]

    def _get(self, path: str) -> Note | None:
        note = self._pinned.get(path)
        if note is not None:
            return note
        note = self._cache.get(path)
        if note is not None:
            self._cache.move_to_end(path)
            return note
        if self.source is None or path not in self._catalog:
            return None
        note = self.source.load(path)
        if note is not None:
            self._cache[path] = note
            if len(self._cache) > CACHE_NOTES:
                self._cache.popitem(last=False)
        return note

    def titles(self, paths: list[str]) -> dict[str, str | None]:
        """`notes[p].title` for each known note of `paths`, without loading stored notes."""
        out: dict[str, str | None] = {}
        ask = []
        for p in paths:
            note = self._pinned.get(p) or self._cache.get(p)
            if note is not None:
                out[p] = note.title
            elif p in self._catalog:
                ask.append(p)
        if ask and self.source is not None:
            stored = self.source.titles(ask)
            out.update((p, stored[p]) for p in ask if p in stored)
        return out

    def pinned(self) -> list[Note]:
        """The notes held in memory (`put`), which shadow the source's versions."""
        return list(self._pinned.values())

    def put(self, note: Note) -> None:
        """Hold `note` in memory; it shadows the source's version until `unpin`."""
        self._pinned[note.path] = note
        by_key: dict[str, list[tuple[str, str]]] = {}
        for l in note.links:
            if l.kind != "url":
                by_key.setdefault(link_key(l.target), []).append((l.kind, l.target))
        self._pinned_links[note.path] = by_key
        self._cache.pop(note.path, None)
        self._catalog_add(note.path, note.aliases)

    def refresh(self, note: Note) -> None:
        """The source now has a new version of `note` (a pinned one keeps shadowing it)."""
        self._cache.pop(note.path, None)
        if self.source is None:
            self.put(note)
        elif note.path not in self._pinned:
            self._catalog_add(note.path, note.aliases)

    def unpin(self, path: str) -> None:
        """Back to the source's version (or gone, if the source has none)."""
        self._pinned.pop(path, None)
        self._pinned_links.pop(path, None)
        self._cache.pop(path, None)
        stored = self.source.load(path) if self.source is not None else None
        if stored is None:
            self._catalog_drop(path)
        else:
            self._catalog_add(path, stored.aliases)

    def remove(self, path: str) -> None:
        self._pinned.pop(path, None)
        self._pinned_links.pop(path, None)
        self._cache.pop(path, None)
        if path in self._catalog:
            self._catalog_drop(path)
        elif path in self.assets:
            self.assets.discard(path)
            self._assets_folded.pop(fold(path), None)
            self._count_folders(path, -1)
            self._paths_changed()

    def _count_folders(self, path: str, delta: int) -> None:
        parts = fold(path).split("/")[:-1]
        for i in range(1, len(parts) + 1):
            key = "/".join(parts[:i])
            self._folders[key] += delta
            if self._folders[key] <= 0:
                del self._folders[key]

    def is_folder(self, link: Link, from_path: str) -> bool:
        """A markdown link to a folder that holds notes or files (GitHub shows its listing)."""
        target = link.target.strip().replace("\\", "/").rstrip("/")
        if link.kind != "markdown" or not target:
            return False
        base = posixpath.dirname(from_path)
        joined = posixpath.normpath(target.lstrip("/") if target.startswith("/") else posixpath.join(base, target))
        return joined in ("", ".") or fold(joined) in self._folders

    def add_asset(self, path: str) -> None:
        if path not in self.assets:
            self._paths_changed()
            self._count_folders(path, 1)
        self.assets.add(path)
        self._assets_folded[fold(path)] = path

    def _mentioning(self, kind: str, keys: Iterable[str]) -> list[str]:
        """Paths of notes whose `kind` keys include any of `keys`: the source's plus every pinned note."""
        keys = list(keys)
        found = set(self.source.paths_with_keys(kind, keys)) if self.source is not None else set()
        found.difference_update(self._pinned)
        found.update(self._pinned)
        return sorted(p for p in found if p in self._catalog)

    # --- resolution -----------------------------------------------------------------------

    def resolve_note(self, link: Link, from_path: str) -> str | None:
        """The path a link's note part points at, or None."""
        target = link.target.strip().replace("\\", "/")
        if not target:
            return from_path
        if target.startswith(("./", "../")):
            return self._resolve_path(target, from_path)
        if link.kind == "markdown":
            # A path relative to the note, else (Obsidian, "shortest path") a name or path suffix
            # anywhere in the vault: `[t](Target.md)`, `![](image.png)` in another folder.
            return self._resolve_path(target, from_path) or self._resolve_name(target, from_path)
        return self._resolve_name(target, from_path)

    def _resolve_name(self, target: str, from_path: str) -> str | None:
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
            if cand in self._catalog or cand in self.assets:
                return cand
        folded = fold(_strip_ext(joined))
        if folded in self._by_path and (
            joined.lower().endswith(NOTE_EXTENSIONS) or "." not in joined.rsplit("/", 1)[-1]
        ):
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
            return Resolution(path, heading=h, anchor_ok=h is not None or find_anchor(note, link.heading) is not None)
        if link.block:
            line = next((b.line for b in note.block_ids if b.id == link.block), None)
            return Resolution(path, block_line=line, anchor_ok=line is not None)
        return Resolution(path)

    # --- queries --------------------------------------------------------------------------

    def backlinks(self, path: str) -> list[tuple[str, Link]]:
        """Links from any note that resolve to `path` (anchors not checked)."""
        keys = self._names(path)
        out: list[tuple[str, Link]] = []
        wanted = keys | {""}
        for src in sorted(p for p in {*self._mentioning("link", keys), path} if p in self._catalog):
            note = self.notes.get(src)
            for link in note.links if note else ():
                if link.kind != "url" and link_key(link.target) in wanted and self.resolve_note(link, src) == path:
                    out.append((src, link))
        return out

    def _names(self, path: str) -> set[str]:
        """The folded names a link can reach `path` by: its file name and its aliases."""
        return {fold(_stem(path)), *(fold(a) for a in self._catalog.get(path, ()))}

    def linking(self, names: Iterable[str]) -> list[str]:
        """Notes with a link whose target ends in one of these folded names (whether it resolves
        here or not): what may link to a note under those names."""
        return self._mentioning("link", names)

    def backlink_count(self, path: str) -> int:
        """`len(backlinks(path))` from the stored link targets, without loading the linking
        notes (a hover at 20k notes would load ~100 of them)."""
        keys = self._names(path)
        rows: list[tuple[str, str, str]] = []
        if self.source is not None:
            rows = [r for r in self.source.link_targets(keys, exclude=self._pinned) if r[0] in self._catalog]
        for src, by_key in self._pinned_links.items():
            rows += [(src, kind, target) for k in keys for kind, target in by_key.get(k, ())]
        own = self.notes.get(path)  # and its links to itself ([[#heading]])
        n = sum(1 for l in (own.links if own else ()) if l.kind != "url" and not link_key(l.target))
        return n + sum(1 for src, kind, target in rows if self.resolve_note(_LinkRef(kind, target), src) == path)

    def definitions(self, name: str) -> list[tuple[str, PseudoFunction]]:
        key = fold(name)
        return [
            (p, fn)
            for p in self._mentioning("def", [key])
            for fn in (self.notes[p].functions if p in self.notes else ())
            if fold(fn.name) == key
        ]

    def calls_to(self, name: str) -> list[tuple[str, PseudoCall]]:
        key = fold(name)
        return [
            (p, c)
            for p in self._mentioning("call", [key])
            for c in (self.notes[p].calls if p in self.notes else ())
            if fold(c.name) == key
        ]

    def all_functions(self) -> dict[str, list[tuple[str, PseudoFunction]]]:
        """Every pseudocode definition by folded name (loads the notes that define any)."""
        keys = set(self.source.key_counts("def")) if self.source is not None else set()
        for note in self._pinned.values():
            keys.update(fold(f.name) for f in note.functions)
        out: dict[str, list[tuple[str, PseudoFunction]]] = {}
        for k in sorted(keys):
            defs = self.definitions(k)
            if defs:
                out[k] = defs
        return out

    def tags(self) -> dict[str, int]:
        """Tag -> number of notes using it."""
        counts = dict(self.source.key_counts("tag")) if self.source is not None else {}
        for note in self._pinned.values():
            for t in {t.name for t in note.tags}:
                counts[t] = counts.get(t, 0) + 1
        return counts

    def find_symbols(self, query: str, limit: int = 200) -> list[Symbol]:
        """Notes, aliases, headings and functions whose name contains `query` (case-insensitive)."""
        q = fold(query)
        out: list[Symbol] = []
        for note in self._pinned.values():
            out += [Symbol(k, n, d, note.path, r) for k, n, d, r in note_symbols(note) if q in fold(n)]
        if self.source is not None:
            out += [Symbol(*row) for row in self.source.find_symbols(query, limit, exclude=self._pinned)]
        out.sort(key=lambda s: (not fold(s.name).startswith(q), len(s.name)))
        return out[:limit]

    def names(self) -> dict[str, list[str]]:
        """Folded note names and aliases -> paths (for completion and fuzzy fixes)."""
        return self._by_name


def find_anchor(note: Note, wanted: str) -> Anchor | None:
    """An HTML id or a quoted heading `wanted` names (by text, case-insensitive, or by id/slug)."""
    w = fold(unquote(wanted))
    ws = slugify(unquote(wanted))
    return next((a for a in note.anchors if fold(a.name) == w or a.slug in (ws, w, wanted)), None)


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
