"""Completion candidates from the text before the cursor: note names, headings, block ids,
tags, pseudocode functions and markdown-link paths.

Matching is fuzzy and Cyrillic-aware (`fold`: casefold, NFC, ё = е): a prefix beats a
word start, which beats a substring, which beats a subsequence.
"""

from __future__ import annotations

import bisect
import itertools
import operator
import posixpath
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal
from urllib.parse import quote

from ponder.index.graph.graph import Graph
from ponder.index.notes import Note, Position, Range
from ponder.index.parsing.positions import fold, utf16_len, utf16_to_cp

ItemKind = Literal["note", "alias", "heading", "block", "tag", "function", "file"]
LIMIT = 200

_WIKI_BLOCK = re.compile(r"\[\[([^\[\]|#]*)#\^([^\[\]|#^]*)$")
_WIKI_HEADING = re.compile(r"\[\[([^\[\]|#]*)#([^\[\]|#^]*)$")
_WIKI_NOTE = re.compile(r"\[\[([^\[\]|#]*)$")
_MD_PATH = re.compile(r"\]\(([^()\s]*)$")
_TAG = re.compile(r"(?:^|[\s(,])#([\w/\-]*)$")
_WORD = re.compile(r"[A-Za-z_\u0400-\u04FF][\w]*$")


@dataclass(frozen=True, slots=True)
class Candidate:
    label: str
    kind: ItemKind
    insert: str  # replaces `replace`
    replace: Range
    detail: str = ""
    documentation: str = ""
    sort: str = ""
    filter: str = ""


@dataclass(frozen=True, slots=True)
class Completions:
    items: list[Candidate]
    incomplete: bool = False


def fuzzy_score(query: str, candidate: str) -> int | None:
    """Higher is better; None: no match. Both arguments already folded."""
    if not query:
        return 1
    if candidate.startswith(query):
        return 400 - min(len(candidate), 100)
    i = candidate.find(query)
    if i > 0:
        word_start = not candidate[i - 1].isalnum()
        return (300 if word_start else 200) - min(len(candidate), 100)
    pos = 0
    for ch in query:
        pos = candidate.find(ch, pos)
        if pos < 0:
            return None
        pos += 1
    return 100 - min(len(candidate), 100)


def filter_text(typed: str, label: str) -> str:
    """What a client filters an item by: it must start with what was typed, exactly as typed,
    or a client that filters by prefix (Neovim, case-sensitively) drops an item the server
    matched case-insensitively or fuzzily. A prefix match keeps the label's tail."""
    if not typed:
        return label
    if fold(label[: len(typed)]) == fold(typed):
        return typed + label[len(typed) :]
    return typed + label


def _rank(items: list[tuple[int, Candidate]], incomplete: bool = False, typed: str | None = None) -> Completions:
    items.sort(key=lambda x: (-x[0], x[1].label))
    out = [
        Candidate(
            c.label,
            c.kind,
            c.insert,
            c.replace,
            c.detail,
            c.documentation,
            f"{i:05d}",
            c.filter if typed is None else filter_text(typed, c.filter or c.label),
        )
        for i, (_, c) in enumerate(items[:LIMIT])
    ]
    return Completions(out, incomplete or len(items) > LIMIT)


def _in_pseudo(note: Note, line: int) -> bool:
    if note.path.lower().endswith(".pseudo"):
        return True
    return any(b.is_pseudo and b.body_start <= line < b.body_end for b in note.code_blocks)


def complete(graph: Graph, note: Note, line_text: str, pos: Position) -> Completions:
    """`line_text` is the whole current line; `pos` the cursor (UTF-16 column)."""
    cp = utf16_to_cp(line_text, pos.character)
    before, after = line_text[:cp], line_text[cp:]
    closes = after.startswith("]]")

    def rng(typed: str) -> Range:
        return Range.of(pos.line, pos.character - utf16_len(typed), pos.line, pos.character)

    if _in_pseudo(note, pos.line):
        m = _WORD.search(before)
        return _functions(graph, m.group(0) if m else "", rng(m.group(0) if m else ""))
    if m := _WIKI_BLOCK.search(before):
        return _blocks(graph, note, m.group(1), m.group(2), rng(m.group(2)), closes)
    if m := _WIKI_HEADING.search(before):
        return _headings(graph, note, m.group(1), m.group(2), rng(m.group(2)), closes)
    if m := _WIKI_NOTE.search(before):
        return _notes(graph, note, m.group(1), rng(m.group(1)), closes)
    if m := _MD_PATH.search(before):
        return _paths(graph, note, m.group(1), rng(m.group(1)))
    if (m := _TAG.search(before)) and not re.match(r"^#+ ", before):
        return _tags(graph, m.group(1), rng(m.group(1)))
    return Completions([])


def link_name(graph: Graph, path: str) -> str:
    """The shortest wikilink text that resolves to `path`: its name, else its path without extension."""
    stem = path.rsplit("/", 1)[-1].rsplit(".", 1)[0] if "." in path.rsplit("/", 1)[-1] else path.rsplit("/", 1)[-1]
    cands = graph.names().get(fold(stem), [])
    best = min(cands, key=lambda p: (p.count("/"), len(p), p)) if cands else None
    if best == path:
        return stem
    return path.rsplit(".", 1)[0] if path.lower().endswith((".md", ".markdown")) else path


def _notes(graph: Graph, note: Note, typed: str, replace: Range, closes: bool) -> Completions:
    q = fold(typed)
    tail = "" if closes else "]]"
    names = graph.names()
    # rank on what the catalog knows: no stored note is loaded but those with a matching alias
    ranked: list[tuple[int, str, str, str | None]] = []  # (score, label, path, alias)
    for score, key in matching(q, list(names)):
        for p in names[key]:
            if p not in graph.notes:
                continue
            name = _note_name(p)
            if name.lower() == key or fold(name) == key:  # the first test is the cheap sufficient one
                ranked.append((score + 5, name, p, None))
                continue
            target = graph.notes.get(p)
            if target is not None:
                alias = next((a for a in target.aliases if fold(a) == key), key)
                ranked.append((score, alias, p, alias))
    ranked.sort(key=lambda x: (-x[0], x[1]))
    shown = ranked[: LIMIT + 1]
    titles = graph.titles([p for _, _, p, alias in shown if alias is None])
    out: list[tuple[int, Candidate]] = []
    for score, label, p, alias in shown:
        name = link_name(graph, p)
        if alias is not None:
            out.append(
                (score, Candidate(alias, "alias", f"{name}|{alias}{tail}", replace, f"alias of {p}", filter=alias))
            )
        elif p in titles:
            title = titles[p]
            out.append(
                (
                    score,
                    Candidate(label, "note", name + tail, replace, p, title if title != label else "", filter=label),
                )
            )
    return _rank(out, incomplete=len(ranked) > LIMIT, typed=typed)


def _note_name(path: str) -> str:
    """`Note.name` from the path alone."""
    base = path.rsplit("/", 1)[-1]
    return base.rsplit(".", 1)[0] if "." in base else base


def _target_note(graph: Graph, note: Note, typed: str) -> Note | None:
    if not typed.strip():
        return note
    from ponder.index.notes import Link

    fake = Link("wiki", typed, None, None, None, False, Range.of(0, 0), Range.of(0, 0), "")
    path = graph.resolve_note(fake, note.path)
    return graph.notes.get(path) if path else None


def _headings(graph: Graph, note: Note, typed_note: str, typed: str, replace: Range, closes: bool) -> Completions:
    target = _target_note(graph, note, typed_note)
    if target is None:
        return Completions([])
    q = fold(typed)
    tail = "" if closes else "]]"
    out = []
    for h in target.headings:
        score = fuzzy_score(q, fold(h.text))
        if score is not None:
            out.append(
                (
                    score,
                    Candidate(h.text, "heading", h.text + tail, replace, "#" * h.level + " " + h.text, filter=h.text),
                )
            )
    return _rank(out, typed=typed)


def _blocks(graph: Graph, note: Note, typed_note: str, typed: str, replace: Range, closes: bool) -> Completions:
    target = _target_note(graph, note, typed_note)
    if target is None:
        return Completions([])
    tail = "" if closes else "]]"
    out = []
    for b in target.block_ids:
        score = fuzzy_score(fold(typed), fold(b.id))
        if score is not None:
            out.append((score, Candidate(b.id, "block", b.id + tail, replace, f"line {b.line + 1}", filter=b.id)))
    return _rank(out, typed=typed)


def _tags(graph: Graph, typed: str, replace: Range) -> Completions:
    counts: dict[str, int] = {}
    for n in graph.notes.values():
        for t in n.tags:
            counts[t.name] = counts.get(t.name, 0) + 1
    q = fold(typed)
    out = []
    for name, count in counts.items():
        score = fuzzy_score(q, fold(name))
        if score is not None:
            out.append((score + min(count, 50), Candidate(name, "tag", name, replace, f"{count} uses", filter=name)))
    return _rank(out)


def _functions(graph: Graph, typed: str, replace: Range) -> Completions:
    q = fold(typed)
    out = []
    for key, defs in graph.all_functions().items():
        if not defs:
            continue
        score = fuzzy_score(q, key)
        if score is None:
            continue
        path, fn = defs[0]
        doc = f"{fn.kind} {fn.signature}\n\ndefined in {path}:{fn.range.start.line + 1}"
        out.append((score, Candidate(fn.name, "function", fn.name, replace, fn.signature, doc, filter=fn.name)))
    return _rank(out)


def _paths(graph: Graph, note: Note, typed: str, replace: Range) -> Completions:
    """Notes and files by path: relative to the note, or to the vault root after `/`."""
    q = fold(typed)
    rooted = typed.startswith("/")
    table = _path_table(graph, "" if rooted else posixpath.dirname(note.path), rooted)
    # a typed folder that exists narrows the search to it (as a shell completes a path): a
    # fuzzy scan of every path in a 20k-note vault is most of the request's time
    folder = q.rpartition("/")[0] + "/" if "/" in q.lstrip("/") else ""
    inside = table.keys.starting(folder) if folder else []
    if inside:
        matches = [(score, i) for i in inside if (score := fuzzy_score(q, table.keys.keys[i])) is not None]
    if not inside or not matches:
        matches = table.keys.matching(q)
    out = []
    for score, i in matches:
        rel, p = table.rels[i], table.paths[i]
        if p != note.path:
            out.append(
                (score, Candidate(rel, "note" if p in graph.notes else "file", quote(rel), replace, p, filter=rel))
            )
    return _rank(out)


class FoldedKeys:
    """Folded keys joined into one string, each after a newline, so that a fuzzy query
    scans them with a regex (C speed, every line pattern starting with a literal `\\n`)
    and scores only the keys that match."""

    def __init__(self, keys: list[str]):
        self.keys = keys
        self.blob = "\n" + "\n".join(keys)
        self.starts = list(itertools.accumulate(map(operator.add, map(len, keys), itertools.repeat(1)), initial=1))
        self.plain = self.blob.count("\n") == max(1, len(keys))  # no key holds a newline

    def _row(self, offset: int) -> int:
        return bisect.bisect_right(self.starts, offset) - 1

    def _lines(self, pattern: str) -> Iterator[int]:
        """Rows where `pattern` (which starts with the newline before a key) matches, in order."""
        return (self._row(m.start() + 1) for m in re.finditer(pattern, self.blob))

    def starting(self, q: str) -> list[int]:
        """Indices of the keys starting with `q`, in key order."""
        if not self.plain or "\n" in q:
            return [i for i, k in enumerate(self.keys) if k.startswith(q)]
        return list(self._lines(re.escape("\n" + q)))

    def containing(self, q: str) -> Iterator[int]:
        """Indices of the keys holding `q`, in key order."""
        if not self.plain or "\n" in q:
            yield from (i for i, k in enumerate(self.keys) if q in k)
            return
        last = -1
        for m in re.finditer(re.escape(q), self.blob):
            i = self._row(m.start())
            if i != last:
                last = i
                yield i

    def word_start(self, c: str) -> Iterator[int]:
        """Indices of the keys whose first `c` (one character) follows a character that is
        not alphanumeric, in key order: where `fuzzy_score` scores a word start."""
        if not self.plain or c == "\n":
            return (i for i, k in enumerate(self.keys) if (j := k.find(c)) > 0 and not k[j - 1].isalnum())
        e = re.escape(c)
        return self._lines(f"\\n[^{e}\\n]*(?<=[^\\w\\n]|_){e}")  # \\w: isalnum() or "_"

    def subsequent(self, q: str) -> Iterator[int]:
        """Indices of the keys holding `q`'s characters in order, in key order."""
        if not self.plain or "\n" in q:
            return (i for i, k in enumerate(self.keys) if fuzzy_score(q, k) is not None)
        return self._lines(subsequence_pattern(q))

    def matching(self, q: str) -> list[tuple[int, int]]:
        """(fuzzy_score, index) of every key that `q` fuzzy-matches, in key order."""
        if not q:
            return [(1, i) for i in range(len(self.keys))]
        return [(fuzzy_score(q, self.keys[i]), i) for i in self.subsequent(q)]


def subsequence_pattern(q: str) -> str:
    """A regex for the newline before each key holding `q`'s characters in order:
    `\\n[^a\\n]*a[^b\\n]*b…`. A gap cannot hold the next character, so a key is tried
    once, without backtracking."""
    out = "\\n"
    for c in q:
        e = re.escape(c)
        out += f"[^{e}\\n]*{e}"
    return out


@dataclass
class _PathTable:
    rels: list[str]  # as inserted
    paths: list[str]
    keys: FoldedKeys  # fold(rel)


# The index thread asks for path completions from one note after another: the tables of
# the last few folders are kept while the vault's paths stay the same (an edit to a note
# does not change them; building a table for 20k paths costs ~20 ms).
_path_tables: dict[tuple[str, bool], _PathTable] = {}
_path_tables_for: tuple[int, int] = (-1, -1)  # the graph's paths_version


def _path_table(graph: Graph, base: str, rooted: bool) -> _PathTable:
    global _path_tables_for
    if graph.paths_version != _path_tables_for:
        _path_tables.clear()
        _path_tables_for = graph.paths_version
    table = _path_tables.get((base, rooted))
    if table is None:
        if len(_path_tables) >= 8:
            _path_tables.pop(next(iter(_path_tables)))
        table = _path_tables[(base, rooted)] = _make_path_table(list(graph.notes) + sorted(graph.assets), base, rooted)
    return table


def _make_path_table(paths: list[str], base: str, rooted: bool) -> _PathTable:
    by_dir: dict[str, list[str]] = {}
    for p in paths:
        d, _, b = p.rpartition("/")
        by_dir.setdefault(d, []).append(b)
    rels: list[str] = []
    keys: list[str] = []
    ordered: list[str] = []
    for d, bases in by_dir.items():
        if rooted:
            prefix = f"/{d}/" if d else "/"
        else:
            rd = posixpath.relpath(d or ".", base or ".")
            prefix = "" if rd == "." else rd + "/"
        rels += [prefix + b for b in bases]
        keys += [fold(prefix + b) for b in bases]
        ordered += [f"{d}/{b}" if d else b for b in bases]
    return _PathTable(rels, ordered, FoldedKeys(keys))


_last_keys: FoldedKeys | None = None


def matching(q: str, keys: list[str]) -> list[tuple[int, str]]:
    """(fuzzy_score, key) of every key that `q` fuzzy-matches, in key order (the joined
    keys are kept while the same keys come back, as the vault's names do)."""
    global _last_keys
    if _last_keys is None or _last_keys.keys != keys:
        _last_keys = FoldedKeys(keys)
    return [(score, keys[i]) for score, i in _last_keys.matching(q)]
