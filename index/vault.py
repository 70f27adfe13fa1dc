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

from ponder.index.graph import checks
from ponder.index.graph.graph import Graph
from ponder.index.knowledge import findings
from ponder.index.knowledge.conflicts import Conflict
from ponder.index.knowledge.definitions import (
    GLOSSARY_WORDS,
    Definitions,
    open_definition_rows,
)
from ponder.index.knowledge.fact_codec import FactsCodec
from ponder.index.knowledge.fact_index import FactIndex, postings
from ponder.index.knowledge.facts import extract_facts, load_units
from ponder.index.knowledge.related_notes import Relatedness, missing_links
from ponder.index.notes import Diagnostic, Note, Problem, Range, SearchHit
from ponder.index.parsing.chunks import chunk_note
from ponder.index.parsing.markdown import parse_note
from ponder.index.parsing.markdown import warm_up as warm_up_parser
from ponder.index.settings import EmbeddingSettings, IndexSettings
from ponder.index.store.db import Store
from ponder.index.store.dbfile import is_corruption
from ponder.index.store.embed import Embedder
from ponder.index.store.files import FileInfo, decode, read_note, stat_file, walk
from ponder.index.store.search import hybrid_search

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]  # (phase, done, total)

COMMIT_EVERY = 500
# Bump when parsing, chunking or fact extraction changes what is derived from a file:
# every file is then re-derived once, although its content hash did not change.
DERIVED_VERSION = "2026-12-06.20"  # .20: summaries and facts stored as JSON, not pickles


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
        self.store = Store(self.db_path, FactsCodec())
        self.embedder = Embedder(self.embedding)
        self._graph: Graph | None = None
        self._facts: FactIndex | None = None
        self._facts_due: set[str] = set()  # open documents whose facts are not extracted yet
        self._definitions_due: set[str] = set()  # ...and whose term definitions are not read yet
        self._definitions: Definitions | None = None
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
    def definitions(self) -> Definitions:
        """Where the vault's terms are defined (glossary sections, bold-term lines)."""
        if self._definitions is None:
            self._definitions = Definitions(self.store)
            self._definitions_due = set(self._open)
        self._catch_up(
            self._definitions_due, lambda path, note: self._definitions.refresh(path, open_definition_rows(note))
        )
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

    def warm_up(self) -> None:
        """Load what the first check of an opened note would otherwise wait for (the units, the
        parser's first run)."""
        load_units()
        warm_up_parser()

    def open_notes(self) -> dict[str, Note]:
        """Every open document's parse, by path (a copy: safe to iterate while documents change)."""
        return dict(self._open)

    def note(self, path: str) -> Note | None:
        """The open document's note, else the stored summary (no text, no sentences)."""
        return self._open.get(path) or self.graph.notes.get(path)

    def read_text(self, path: str) -> str | None:
        """An open document's text, else the file's, decoded as the index reads it."""
        if path in self._open:
            return self._open[path].text
        res = read_note(self.root / path, self.settings.max_file_bytes, self.root)
        return res.text

    # --- updates ------------------------------------------------------------------------

    def update(self, progress: Progress | None = None, paths: list[str] | None = None) -> IndexReport:
        """Bring the index in line with the disk; `paths` limits the scan to those files. Damage
        to the index file found on the way is repaired: the index is rebuilt (a full scan) with a
        warning, not failed on every request until someone deletes `.ponder`."""
        try:
            return self._update(progress, paths)
        except Exception as e:
            if not self.recover(e):
                raise
            return self._update(progress, None)

    def recover(self, error: BaseException) -> bool:
        """Call with what a query raised: when SQLite reported the index damaged, start it over
        (empty until the next `update()`, which re-indexes every file) and return True; False
        for any other error. So a damaged page fails one request, not every request."""
        if not is_corruption(error):
            return False
        self.store.rebuild(str(error))
        self._graph = self._facts = self._definitions = None
        return True

    def _update(self, progress: Progress | None, paths: list[str] | None) -> IndexReport:
        t0 = time.perf_counter()
        report = IndexReport(warnings=list(self.store.warnings))
        self.store.warnings.clear()
        stored = self.store.files(paths)
        force = self.outdated  # derived by another version of Ponder: re-derive every note once
        if paths is None:
            unreadable: list[str] = []
            found, report.skipped = walk(self.root, self.settings, unreadable)
            on_disk = {f.path: f for f in found}
            # a folder that cannot be read now keeps what was indexed of it: no false broken links
            gone = [p for p in stored if p not in on_disk and not _under_any(p, unreadable)]
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
        scan_skipped = len(report.skipped)  # skipped by the scan: not among `on_disk`
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
        report.unchanged = len(on_disk) - report.parsed - (len(report.skipped) - scan_skipped)
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
        # what the scan skipped and is not a file is a folder it could not read: keep its notes
        folders = [p for p in known if p not in on_disk]
        gone = [p for p in stored if p not in known and not _under_any(p, folders)]
        return gone + [p for p, f in on_disk.items() if (force and f.is_note) or differs(stored.get(p), f)]

    def _stat(self, rel: str) -> FileInfo | None:
        """The file at `rel` as the scan would find it; None for a file the scan would skip (a
        link out of the vault, a FIFO) or that is gone."""
        info = stat_file(self.root, rel, tuple(e.lower() for e in self.settings.extensions))
        return info if isinstance(info, FileInfo) else None

    def _index_file(self, info: FileInfo, stored: dict, report: IndexReport) -> None:
        if not info.is_note:
            self.store.put_other(info.path, "asset", info.mtime_ns, info.size)
            if self._graph is not None:
                self._graph.add_asset(info.path)
            report.changed_paths.append(info.path)
            return
        res = read_note(self.root / info.path, self.settings.max_file_bytes, self.root)
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
        self.store.put_note(
            note, h, info.mtime_ns, info.size, chunk_note(note, self.settings.chunk_tokens), facts, postings(facts)
        )
        if self._facts is not None:
            self._facts.stored(info.path)
        if self._definitions is not None and info.path not in self._open:
            self._definitions.refresh(info.path, self.store.definition_rows(GLOSSARY_WORDS, [info.path]))
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

    def stored_outline(self, path: str) -> Note | None:
        """The indexed (disk) version of `path` with only what other notes depend on: names,
        anchors, functions (what an opened note's text is compared with)."""
        return self.store.load(path, outline=True)

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
            self._definitions.refresh(path, self.store.definition_rows(GLOSSARY_WORDS, [path]))

    # --- queries ------------------------------------------------------------------------

    def check(
        self, paths: list[str] | None = None, related_notes: bool = False, facts: bool = True
    ) -> list[Diagnostic]:
        """Structural diagnostics and (with `facts`) fact conflicts of `paths` (default: all); with
        `related_notes` also missing-link hints, which need vector searches (background speed, not
        per keystroke)."""
        g = self.graph
        targets = sorted(g.notes) if paths is None else paths
        if facts and len(targets) > 1000:
            self.facts.preload()  # one read of every note's facts beats a lookup per fact
        out: list[Diagnostic] = []
        for p in targets:
            out += checks.check_note(g, p, self.settings.pseudo_builtins)
        if facts:
            out += self.fact_conflicts(targets)
        if related_notes and self.settings.missing_links:
            rel = Relatedness(self)
            for p in targets:
                out += missing_links(self, p, rel)
        return sorted(out, key=lambda d: (d.path, d.range.start, d.code))

    # --- fact conflicts ----------------------------------------------------------------------

    def fact_conflicts(self, paths: list[str]) -> list[Diagnostic]:
        """`fact-conflict` diagnostics located in `paths`, each pointing at the other side."""
        return findings.fact_conflicts(self, paths)

    def conflicts_of(self, path: str) -> list[Conflict]:
        """Every fact conflict of `path`, certain or not (the judge settles the uncertain ones)."""
        return findings.conflicts_of(self, path)

    def ignore_pair(self, key: str, a: str = "", b: str = "", ignored: bool = True) -> None:
        """Persist (or undo) the user's choice to ignore one conflict pair."""
        with self.store.transaction():
            self.store.set_ignored(key, a, b, ignored)

    def search(self, query: str, k: int = 10) -> list[SearchHit]:
        return hybrid_search(self.store, self.embedder if self.embedding.enabled else None, query, k)


def _under_any(path: str, folders: list[str]) -> bool:
    return any(f in ("", ".") or path.startswith(f + "/") for f in folders)


def differs(row, info: FileInfo) -> bool:
    """The file's stat no longer matches what the store recorded (or it is new)."""
    return row is None or row.mtime_ns != info.mtime_ns or row.size != info.size


__all__ = ["Vault", "IndexReport", "decode"]
