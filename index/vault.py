"""`Vault`: the one owner of a vault's index — scanning, incremental updates, queries.

Everything that changes the index goes through here: `update()` brings the store in
line with the disk (only files whose mtime/size changed are read, only files whose
hash changed are parsed), `embed()` fills in missing vectors, and `open_document()` /
`close_document()` overlay an editor's unsaved text on the in-memory graph. Callers
that need concurrency (the language server) run a Vault on one thread of their own.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from . import checks, related
from .chunks import chunk_note
from .conflicts import FactIndex, conflict_diagnostic, pair_key, postings, prohibition_clash
from .facts import Fact, extract_facts
from .embed import Embedder
from .files import FileInfo, decode, read_note, walk
from .graph import Graph
from .model import Diagnostic, Note, Problem, Range, SearchHit
from .stems import content_stems
from .parse import parse_note
from .search import hybrid_search
from .settings import EmbeddingSettings, IndexSettings
from .store import Store
from .text import fold

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]  # (phase, done, total)

COMMIT_EVERY = 500
# Bump when parsing, chunking or fact extraction changes what is derived from a file:
# every file is then re-derived once, although its content hash did not change.
DERIVED_VERSION = "2026-11-28.5"


@dataclass
class IndexReport:
    files: int = 0
    notes: int = 0
    assets: int = 0
    parsed: int = 0
    unchanged: int = 0
    deleted: int = 0
    embedded: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0
    embed_seconds: float = 0.0
    changed_paths: list[str] = field(default_factory=list)


def content_hash(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


class Vault:
    def __init__(
        self,
        root: Path | str,
        settings: IndexSettings | None = None,
        embedding: EmbeddingSettings | None = None,
    ):
        self.root = Path(root).resolve()
        self.settings = settings or IndexSettings()
        self.embedding = embedding or EmbeddingSettings()
        db = Path(self.settings.db_path) if self.settings.db_path else Path(".ponder/index.db")
        self.db_path = db if db.is_absolute() else self.root / db
        self.store = Store(self.db_path)
        self.embedder = Embedder(self.embedding)
        self._graph: Graph | None = None
        self._facts: FactIndex | None = None
        self._facts_due: set[str] = set()  # open documents whose facts are not extracted yet
        self._definitions_due: set[str] = set()  # ...and whose term definitions are not read yet
        self._definitions: related.Definitions | None = None
        self._open: dict[str, Note] = {}

    def close(self) -> None:
        self.store.close()

    # --- the graph ----------------------------------------------------------------------

    @property
    def graph(self) -> Graph:
        """The store's notes (loaded on demand, never re-parsed), with open documents overlaid."""
        if self._graph is None:
            g = Graph(self.store)
            for note in self._open.values():
                g.put(note)
            self._graph = g
        return self._graph

    @property
    def facts(self) -> FactIndex:
        """Every note's facts by subject: the store's, looked up by key as needed, with open
        documents' facts held in memory over them."""
        if self._facts is None:
            self._facts = FactIndex(self.store)
            self._facts_due = set(self._open)
        self._catch_up(self._facts_due, lambda path, note: self._facts.put(path, extract_facts(note)))
        return self._facts

    @property
    def definitions(self) -> "related.Definitions":
        """Where the vault's terms are defined (glossary sections, bold-term lines)."""
        if self._definitions is None:
            self._definitions = related.Definitions(self.store)
            self._definitions_due = set(self._open)
        self._catch_up(self._definitions_due, lambda path, note: self._definitions.refresh(path, _definition_rows(note)))
        return self._definitions

    def _catch_up(self, due: set[str], apply: Callable[[str, Note], object]) -> None:
        """Derive what an overlay needs from the open documents edited since it was last asked
        for (`open_document` only marks them: a keystroke must not pay for every overlay)."""
        for path in due:
            note = self._open.get(path)
            if note is not None:
                apply(path, note)
        due.clear()

    def open_note(self, path: str) -> Note | None:
        """The parse of an open document, or None (safe to read from another thread: replaced,
        never changed)."""
        return self._open.get(path)

    def note(self, path: str) -> Note | None:
        """The open document's note, else the stored summary (no text, no sentences)."""
        return self._open.get(path) or self.graph.notes.get(path)

    def read_text(self, path: str) -> str | None:
        """An open document's text, else the file's, decoded as the index reads it."""
        if path in self._open:
            return self._open[path].text
        res = read_note(self.root / path, self.settings.max_file_bytes)
        return res.text

    # --- updates ------------------------------------------------------------------------

    def update(self, progress: Progress | None = None, paths: list[str] | None = None) -> IndexReport:
        """Bring the index in line with the disk; `paths` limits the scan to those files."""
        t0 = time.perf_counter()
        report = IndexReport(warnings=list(self.store.warnings))
        self.store.warnings.clear()
        stored = self.store.files(paths)
        force = self.outdated  # derived by another version of Ponder: re-derive every note once
        if paths is None:
            found, report.skipped = walk(self.root, self.settings)
            on_disk = {f.path: f for f in found}
            gone = [p for p in stored if p not in on_disk]
        else:
            on_disk, gone = {}, []
            for p in paths:
                info = self._stat(p)
                if info is None:
                    if p in stored:
                        gone.append(p)
                else:
                    on_disk[p] = info
        if force:
            stored = {p: r for p, r in stored.items() if r.kind != "note"}
        with self.store.transaction():
            for p in gone:
                self.store.delete(p)
                self._graph_remove(p)
                report.deleted += 1
                report.changed_paths.append(p)
        changed = [f for f in on_disk.values() if differs(stored.get(f.path), f)]
        report.files = len(on_disk)
        for start in range(0, len(changed), COMMIT_EVERY):
            with self.store.transaction():
                for i, info in enumerate(changed[start : start + COMMIT_EVERY], start):
                    if progress:
                        progress("parse", i, len(changed))
                    self._index_file(info, stored, report)
        if progress:
            progress("parse", len(changed), len(changed))
        if paths is None and force:
            self.mark_derived_current()
        report.unchanged = len(on_disk) - report.parsed - len(report.skipped)
        if paths is None:  # counting a large index costs tens of milliseconds: not per edit
            report.notes = self.store.counts()["notes"]
        report.assets = sum(1 for f in on_disk.values() if not f.is_note)
        if paths is None:
            report.skipped += [(p, r.reason or "") for p, r in self.store.files().items() if r.kind == "skipped"]
        report.skipped = sorted(set(report.skipped))
        report.seconds = time.perf_counter() - t0
        return report

    @property
    def outdated(self) -> bool:
        """The stored notes were derived by another version of the parser or extractors."""
        return self.store.get_meta("derived_version") != DERIVED_VERSION

    def mark_derived_current(self) -> None:
        """Call after every note was re-derived (a full `update()` does it itself)."""
        with self.store.transaction():
            self.store.set_meta("derived_version", DERIVED_VERSION)

    def stale_paths(self, on_disk: dict[str, FileInfo], known: set[str]) -> list[str]:
        """Paths an update must touch: gone from disk, new, changed, or derived by an older Ponder."""
        stored = self.store.files()
        force = self.outdated
        gone = [p for p in stored if p not in known]
        return gone + [p for p, f in on_disk.items() if (force and f.is_note) or differs(stored.get(p), f)]

    def _stat(self, rel: str) -> FileInfo | None:
        p = self.root / rel
        try:
            st = p.stat()
        except OSError:
            return None
        if not p.is_file():
            return None
        is_note = p.name.lower().endswith(tuple(e.lower() for e in self.settings.extensions))
        return FileInfo(rel, st.st_mtime_ns, st.st_size, is_note)

    def _index_file(self, info: FileInfo, stored: dict, report: IndexReport) -> None:
        if not info.is_note:
            self.store.put_other(info.path, "asset", info.mtime_ns, info.size)
            if self._graph is not None:
                self._graph.add_asset(info.path)
            report.changed_paths.append(info.path)
            return
        res = read_note(self.root / info.path, self.settings.max_file_bytes)
        if res.text is None:
            self.store.put_other(info.path, "skipped", info.mtime_ns, info.size, res.skip_reason)
            self._graph_remove(info.path)
            report.skipped.append((info.path, res.skip_reason or "unreadable"))
            return
        h = content_hash(res.text.encode("utf-8"))
        prev = stored.get(info.path)
        if prev is not None and prev.hash == h and prev.kind == "note":
            self.store.touch(info.path, info.mtime_ns, info.size)
            return
        note = self._parse(info.path, res.text, res.warning)
        facts = extract_facts(note)
        self.store.put_note(note, h, info.mtime_ns, info.size, chunk_note(note, self.settings.chunk_tokens), facts, postings(facts))
        if self._facts is not None:
            self._facts.stored(info.path)
        if self._definitions is not None and info.path not in self._open:
            self._definitions.refresh(info.path, self.store.definition_rows([info.path]))
        report.parsed += 1
        report.changed_paths.append(info.path)
        if self._graph is not None:
            self._graph.refresh(note)

    @staticmethod
    def _parse(path: str, text: str, warning: str | None = None) -> Note:
        note = parse_note(path, text)
        if warning:
            note.problems.insert(0, Problem("encoding", f"File is not valid UTF-8: {warning}", Range.of(0, 0)))
        return note

    def _graph_remove(self, path: str) -> None:
        if self._facts is not None:
            self._facts.stored(path)
        if path in self._open:
            return
        if self._graph is not None:
            self._graph.remove(path)
        if self._definitions is not None:
            self._definitions.refresh(path, [])

    # --- embeddings ---------------------------------------------------------------------

    def pending_embeddings(self) -> list[tuple[str, str]]:
        """(chunk hash, text) still to embed; resets vectors when the model changed."""
        if not self.embedding.enabled:
            return []
        with self.store.transaction():
            self.store.ensure_vectors(self.embedder.model_id, self.embedder.dim)
            self.store.gc_vectors()
        return self.store.chunks_without_vectors()

    def store_embeddings(self, hashes: list[str], vectors) -> None:
        """Write vectors computed by `self.embedder.encode` (which may run on another thread)."""
        with self.store.transaction():
            self.store.put_vectors((h, v.tobytes()) for h, v in zip(hashes, vectors))

    def pending_sentence_embeddings(self) -> list[tuple[str, str]]:
        """(sentence hash, text) of claims still to embed (call after `pending_embeddings`)."""
        return self.store.sentences_without_vectors() if self.embedding.enabled else []

    def store_sentence_embeddings(self, hashes: list[str], vectors) -> None:
        with self.store.transaction():
            self.store.put_sentence_vectors((h, v.tobytes()) for h, v in zip(hashes, vectors))

    def embed(self, progress: Progress | None = None, batch: int = 256) -> int:
        """Embed every chunk and claim sentence with no vector yet; returns how many were embedded."""
        chunks = self.pending_embeddings()
        sentences = self.pending_sentence_embeddings()
        total = len(chunks) + len(sentences)
        done = 0
        for todo, put in ((chunks, self.store_embeddings), (sentences, self.store_sentence_embeddings)):
            for start in range(0, len(todo), batch):
                part = todo[start : start + batch]
                if progress:
                    progress("embed", done, total)
                put([h for h, _ in part], self.embedder.encode([t for _, t in part]))
                done += len(part)
        if progress:
            progress("embed", total, total)
        return total

    # --- open documents -----------------------------------------------------------------

    def open_document(self, path: str, text: str) -> Note:
        """Overlay an editor's text for `path` (parsed now; the store keeps the disk's version)."""
        note = self._parse(path, text)
        self._open[path] = note
        if self._graph is not None:
            self._graph.put(note)
        self._facts_due.add(path)  # not on every keystroke: when the (debounced) checks ask
        self._definitions_due.add(path)
        return note

    def close_document(self, path: str) -> None:
        if self._open.pop(path, None) is None:
            return
        if self._graph is not None:
            self._graph.unpin(path)
        self._facts_due.discard(path)
        if self._facts is not None:
            self._facts.remove(path)
        self._definitions_due.discard(path)
        if self._definitions is not None:
            self._definitions.refresh(path, self.store.definition_rows([path]))

    # --- queries ------------------------------------------------------------------------

    def check(self, paths: list[str] | None = None, related_notes: bool = False) -> list[Diagnostic]:
        """Structural diagnostics and fact conflicts of `paths` (default: all); with `related_notes`
        also missing-link hints, which need vector searches (background speed, not per keystroke)."""
        g = self.graph
        targets = sorted(g.notes) if paths is None else paths
        if len(targets) > 1000:
            self.facts.preload()  # one read of every note's facts beats a lookup per fact
        out: list[Diagnostic] = []
        for p in targets:
            out += checks.check_note(g, p, self.settings.pseudo_builtins)
        out += self.fact_conflicts(targets)
        if related_notes and self.settings.missing_links:
            rel = related.Relatedness(self)
            for p in targets:
                out += related.missing_links(self, p, rel)
        return sorted(out, key=lambda d: (d.path, d.range.start, d.code))

    # --- fact conflicts ----------------------------------------------------------------------

    def fact_conflicts(self, paths: list[str]) -> list[Diagnostic]:
        """`fact-conflict` diagnostics located in `paths`, each pointing at the other side."""
        fi = self.facts
        ignored = self.store.ignored_pairs()
        out: list[Diagnostic] = []
        for path in paths:
            for c in fi.conflicts_of(path):
                out.append(conflict_diagnostic(c.a, c.b.path, c.b.range, c.b.text, c.why))
            out += self._prohibition_conflicts(path)
        return [d for d in _dedupe_diags(out) if not d.data or d.data.get("pair") not in ignored]

    def _sentences_of(self, path: str) -> list[tuple[str, Range]]:
        note = self._open.get(path)
        if note is not None:
            return [(s.text, s.range) for s in note.sentences]
        return [(t, r) for _, _, t, r in self.store.sentences(path)]

    def _prohibition_conflicts(self, path: str) -> list[Diagnostic]:
        fi = self.facts
        out: list[Diagnostic] = []
        # this note's prohibitions against statements anywhere
        for p in (f for f in fi.facts_of(path) if f.kind == "prohibition" and f.verb):
            for other_path, text, rng in self._statements_with(p):
                if other_path == path and rng == p.range:
                    continue
                why = prohibition_clash(p, frozenset(content_stems(text.replace("`", ""))), text)
                if why:
                    out.append(conflict_diagnostic(p, other_path, rng, text, why))
        # this note's statements against prohibitions elsewhere (looked up by verb)
        sentences = [(text, rng, frozenset(content_stems(text.replace("`", "")))) for text, rng in self._sentences_of(path)]
        prohibitions = fi.prohibitions_of(set().union(*(s for _, _, s in sentences)))
        for text, rng, stems in sentences:
            for verb in stems:
                for p in prohibitions.get(verb, ()):
                    if p.path == path:
                        continue
                    why = prohibition_clash(p, stems, text)
                    if why:
                        here = Fact(path=path, range=rng, text=text, kind="statement", stems=stems, local=stems)
                        out.append(conflict_diagnostic(here, p.path, p.range, p.text, why))
        return out

    def _statements_with(self, p: Fact) -> list[tuple[str, str, Range]]:
        """Sentences (stored and open) that use the prohibited verb and a word near it."""
        near = sorted(p.local - {p.verb})
        rows = [r for r in self.store.sentences_with_stems(p.verb, near) if r[0] not in self._open]
        for path, note in self._open.items():
            for s in note.sentences:
                stems = set(content_stems(s.text.replace("`", "")))
                if p.verb in stems and stems & set(near):
                    rows.append((path, s.text, s.range))
        return rows

    def ignore_pair(self, key: str, a: str = "", b: str = "", ignored: bool = True) -> None:
        """Persist (or undo) the user's choice to ignore one conflict pair."""
        with self.store.transaction():
            self.store.set_ignored(key, a, b, ignored)

    def search(self, query: str, k: int = 10) -> list[SearchHit]:
        return hybrid_search(self.store, self.embedder if self.embedding.enabled else None, query, k)


def _dedupe_diags(items: list[Diagnostic]) -> list[Diagnostic]:
    seen: set[tuple] = set()
    out = []
    for d in items:
        k = (d.path, d.range, d.related[0].path if d.related else None, d.related[0].range if d.related else None)
        if k not in seen:
            seen.add(k)
            out.append(d)
    return out


def differs(row, info: FileInfo) -> bool:
    """The file's stat no longer matches what the store recorded (or it is new)."""
    return row is None or row.mtime_ns != info.mtime_ns or row.size != info.size


__all__ = ["Vault", "IndexReport", "decode"]


def _definition_rows(note: Note) -> list[tuple[str, str, str, Range, str]]:
    """An open document's possible definitions, as `Store.definition_rows` gives stored ones."""
    from .store import GLOSSARY_WORDS, sentence_hash

    glossary = any(w in fold(note.path) for w in GLOSSARY_WORDS)
    out = []
    for s in note.sentences:
        h = sentence_hash(s.kind, s.text)
        if h and (glossary or s.text.startswith("**")):
            out.append((note.path, (note.heading_path(s.heading) or [""])[-1], s.text, s.range, h))
    return out
