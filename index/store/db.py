"""The index on disk: one SQLite file (WAL, FTS5, sqlite-vec) keyed by content hash.

Only `index.vault.Vault` writes here. Per file it keeps the hash, mtime and size
(so an unchanged file is never read again), the parsed note without its text (so a
warm start needs no parse), its sentences and chunks, and embeddings keyed by the
chunk's text hash (so a renamed or reverted file re-uses them). A schema mismatch or
a corrupt file is rebuilt from scratch with a warning, never a crash.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import struct
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import sqlean as sqlite3
import sqlite_vec

from ponder.index.notes import Chunk, Note, Range
from ponder.index.parsing.claims import sentence_hash
from ponder.index.parsing.keys import link_key, note_keys, note_symbols
from ponder.index.parsing.positions import fold
from ponder.index.parsing.stems import content_stems
from ponder.index.store import dbfile
from ponder.index.store.codec import note_from_json, note_to_json
from ponder.index.store.schema import MIGRATIONS, SCHEMA, SCHEMA_VERSION

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class FileRow:
    id: int
    path: str
    kind: str  # note | asset | skipped
    hash: str | None
    mtime_ns: int
    size: int
    reason: str | None


@dataclass(frozen=True, slots=True)
class ChunkRow:
    id: int
    path: str
    heading_path: tuple[str, ...]
    text: str
    range: Range


CHANGES_KEPT = 4096
# how long a connection waits for another process's write lock (two servers and a CLI on one vault)
BUSY_TIMEOUT_MS = 5000


def connect(path: Path | str) -> sqlite3.Connection:
    """A connection that can load sqlite-vec (the stdlib sqlite3 often cannot)."""
    conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
    conn.enable_load_extension(True)
    sqlite_vec.load(conn)
    conn.enable_load_extension(False)
    return conn


class Store:
    """Owner of the index database connection.

    Opening never deletes or rewrites a file that is not provably Ponder's index (see
    `dbfile`); a damaged index is rebuilt with a warning; a read-only index folder degrades to an
    in-memory copy (`read_only`), so a session still works but saves nothing."""

    def __init__(self, path: Path, facts_codec=None):
        self.path = path
        self.warnings: list[str] = []
        self.read_only = False
        self._facts_codec = facts_codec or _NoFacts()
        self.conn = self._open()
        # every change to a file's rows bumps `generation` and records the path, so that a
        # reader caching what it read can tell what to read again (`changed_since`)
        self.generation = 0
        self._changed: list[str] = []  # the path of each generation, the last CHANGES_KEPT of them

    # --- lifecycle ----------------------------------------------------------------------

    def _open(self) -> sqlite3.Connection:
        default = dbfile.at_default_place(self.path)
        if default and dbfile.links_out(self.path):
            return self._in_memory(f"index {self.path} (or its folder) is a symbolic link", "absent")
        state = dbfile.inspect(self.path)  # IndexFileError: not a regular file, refused untouched
        if state in ("empty", "other") and not default:
            raise dbfile.IndexFileError(
                f"index database {self.path} is not an SQLite file (it may be a note); refusing to overwrite "
                "or delete it: point index.db_path at another file"
            )
        if state == "other":
            self._discard(f"index database {self.path} is unreadable (not an SQLite file); rebuilding")
            state = "absent"
        try:
            dbfile.make_folder(self.path.parent)
        except OSError as e:
            return self._in_memory(f"index folder {self.path.parent} cannot be created ({e.strerror or e})", state)
        if not dbfile.writable(self.path):
            return self._in_memory(f"index folder {self.path.parent} is read-only", state)
        if state == "sqlite":
            ours = dbfile.at_default_place(self.path)
            clean = dbfile.unchanged_since_close(self.path)  # before connecting: that makes a WAL
            try:
                conn = connect(self.path)
                try:
                    ours = dbfile.is_ponder_index(conn)
                    if not ours:
                        raise dbfile.IndexFileError(
                            f"index database {self.path} is an SQLite database but not a Ponder index; refusing "
                            "to overwrite or delete it: point index.db_path at another file"
                        )
                    conn.execute("PRAGMA journal_mode=WAL")
                    version = self._schema_version(conn)
                    while version in MIGRATIONS:
                        version += 1
                        _script(
                            conn,
                            MIGRATIONS[version - 1]
                            + f"\nUPDATE meta SET value='{version}' WHERE key='schema_version';",
                        )
                    if version == SCHEMA_VERSION:
                        if not clean:
                            dbfile.quick_check(conn)
                        self._pragmas(conn)
                        return conn
                except BaseException:
                    conn.close()
                    raise
                conn.close()
                self._discard(
                    f"index database was built by another version (schema version {version} != "
                    f"{SCHEMA_VERSION}); rebuilding"
                )
            except sqlite3.DatabaseError as e:
                if not dbfile.is_corruption(e):
                    raise
                if not ours:
                    raise dbfile.IndexFileError(
                        f"index database {self.path} is a damaged SQLite file Ponder cannot identify as its own "
                        f"({e}); refusing to delete it"
                    ) from e
                self._discard(f"index database {self.path} is damaged ({e}); rebuilding")
        return self._create(self.path)

    def _create(self, path: Path | str) -> sqlite3.Connection:
        conn = connect(path)
        if path != ":memory:":
            conn.execute("PRAGMA journal_mode=WAL")
        self._pragmas(conn)
        _script(conn, SCHEMA + f"\nINSERT INTO meta VALUES('schema_version', '{SCHEMA_VERSION}');")
        if path != ":memory:":
            try:
                os.chmod(path, 0o600)
            except OSError:
                pass
        return conn

    def _in_memory(self, why: str, state: str) -> sqlite3.Connection:
        """The session's index in memory: a copy of the stored one when it can be read, else empty."""
        self.read_only = True
        mem = None
        if state == "sqlite":
            try:
                disk = sqlite3.connect(f"file:{self.path}?mode=ro&immutable=1", uri=True)
                try:
                    if dbfile.is_ponder_index(disk) and self._schema_version(disk) == SCHEMA_VERSION:
                        mem = connect(":memory:")
                        disk.backup(mem)
                finally:
                    disk.close()
            except sqlite3.DatabaseError as e:
                log.debug("cannot copy the read-only index: %s", e)
                mem = None
        if mem is None:
            mem = self._create(":memory:")
        else:
            self._pragmas(mem)
        self._warn(f"{why}: the index is kept in memory for this session and not saved")
        return mem

    def rebuild(self, why: str) -> None:
        """Start over with an empty index after damage found in use (the file was opened as Ponder's)."""
        try:
            self.conn.close()
        except sqlite3.Error:
            pass
        if self.read_only:
            self._warn(f"in-memory index is damaged ({why}); starting it over")
            self.conn = self._create(":memory:")
        else:
            self._discard(f"index database {self.path} is damaged ({why}); rebuilding")
            self.conn = self._create(self.path)
        self.generation += CHANGES_KEPT + 1  # every cached reader reads again
        self._changed.clear()

    @staticmethod
    def _schema_version(conn: sqlite3.Connection) -> int | None:
        try:
            row = conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        except sqlite3.OperationalError:
            return None
        try:
            return int(row[0]) if row else None
        except ValueError:
            return None

    @staticmethod
    def _pragmas(conn: sqlite3.Connection) -> None:
        conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA temp_store=MEMORY")

    def _warn(self, warning: str) -> None:
        log.warning(warning)
        self.warnings.append(warning)

    def _discard(self, warning: str) -> None:
        """Delete the index file: only ever called once it is known to be Ponder's."""
        self._warn(warning)
        dbfile.remove_files(self.path)

    def close(self) -> None:
        self.conn.close()
        if not self.read_only:
            dbfile.stamp_clean_close(self.path)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """A write transaction, taking the write lock up front (see `_immediate`)."""
        with _immediate(self.conn):
            yield

    # --- meta ---------------------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        self.conn.execute("INSERT OR REPLACE INTO meta VALUES(?, ?)", (key, value))

    # --- files and notes ----------------------------------------------------------------

    def files(self, paths: list[str] | None = None) -> dict[str, FileRow]:
        """Every file's row, or only those of `paths` (a targeted update must not read 20k rows)."""
        if paths is None:
            rows = self.conn.execute("SELECT id, path, kind, hash, mtime_ns, size, reason FROM files")
        else:
            marks = ",".join("?" * len(paths))
            rows = (
                self.conn.execute(
                    f"SELECT id, path, kind, hash, mtime_ns, size, reason FROM files WHERE path IN ({marks})", paths
                )
                if paths
                else []
            )
        return {r[1]: FileRow(*r) for r in rows}

    def _upsert_file(
        self, path: str, kind: str, hash_: str | None, mtime_ns: int, size: int, reason: str | None
    ) -> int:
        row = self.conn.execute(
            "INSERT INTO files(path, kind, hash, mtime_ns, size, reason) VALUES(?,?,?,?,?,?) "
            "ON CONFLICT(path) DO UPDATE SET kind=excluded.kind, hash=excluded.hash, mtime_ns=excluded.mtime_ns, "
            "size=excluded.size, reason=excluded.reason RETURNING id",
            (path, kind, hash_, mtime_ns, size, reason),
        ).fetchone()
        return row[0]

    def touch(self, path: str, mtime_ns: int, size: int) -> None:
        """Record a new mtime for a file whose content hash did not change."""
        self.conn.execute("UPDATE files SET mtime_ns=?, size=? WHERE path=?", (mtime_ns, size, path))

    def _changed_path(self, path: str) -> None:
        self.generation += 1
        self._changed.append(path)
        if len(self._changed) > CHANGES_KEPT:
            del self._changed[: len(self._changed) - CHANGES_KEPT]

    def changed_since(self, generation: int) -> set[str] | None:
        """The paths whose rows changed after `generation`; None when too many to tell."""
        n = self.generation - generation
        if n < 0 or n > len(self._changed):
            return None
        return set(self._changed[len(self._changed) - n :]) if n else set()

    def put_note(
        self,
        note: Note,
        hash_: str,
        mtime_ns: int,
        size: int,
        chunks: list[Chunk],
        facts: list | None = None,
        fact_keys: list[tuple[int, int, int]] = (),
    ) -> None:
        file_id = self._upsert_file(note.path, "note", hash_, mtime_ns, size, None)
        self._clear_derived(file_id)
        self._changed_path(note.path)
        self.conn.execute(
            "INSERT INTO notes(file_id, title, aliases, summary) VALUES(?,?,?,?)",
            (file_id, note.title, json.dumps(note.aliases, ensure_ascii=False), note_to_json(note)),
        )
        self.conn.executemany("INSERT INTO keys VALUES(?,?,?)", [(file_id, k, v) for k, v in note_keys(note)])
        self.conn.executemany(
            "INSERT INTO link_targets VALUES(?,?,?,?)",
            [(file_id, link_key(l.target), l.kind, l.target) for l in note.links if l.kind != "url"],
        )
        self.conn.executemany(
            "INSERT INTO symbols VALUES(?,?,?,?,?,?)",
            [(file_id, kind, name, fold(name), detail, _range_json(r)) for kind, name, detail, r in note_symbols(note)],
        )
        # explicit ids let the rows and their FTS entries go in as two batches (one writer: no race)
        first = self.conn.execute("SELECT coalesce(max(id), 0) + 1 FROM sentences").fetchone()[0]
        rows = []
        stems = []
        for i, sent in enumerate(note.sentences):
            hp = json.dumps(note.heading_path(sent.heading), ensure_ascii=False)
            rows.append(
                (
                    first + i,
                    file_id,
                    i,
                    sent.kind,
                    hp,
                    sent.text,
                    _range_json(sent.range),
                    sentence_hash(sent.kind, sent.text),
                )
            )
            stems.append((first + i, " ".join(content_stems(sent.text.replace("`", "")))))
        self.conn.executemany(
            "INSERT INTO sentences(id, file_id, ord, kind, heading_path, text, range, hash) VALUES(?,?,?,?,?,?,?,?)",
            rows,
        )
        self.conn.executemany("INSERT INTO sentence_stems(rowid, stems) VALUES(?, ?)", stems)
        if facts:
            self.conn.execute("INSERT INTO facts VALUES(?, ?)", (file_id, self._facts_codec.dumps(facts)))
            self.conn.executemany(
                "INSERT INTO fact_keys VALUES(?,?,?,?)", [(k, file_id, i, flag) for k, i, flag in fact_keys]
            )
        first = self.conn.execute("SELECT coalesce(max(id), 0) + 1 FROM chunks").fetchone()[0]
        self.conn.executemany(
            "INSERT INTO chunks(id, file_id, ord, heading_path, text, range, hash) VALUES(?,?,?,?,?,?,?)",
            [
                (
                    first + i,
                    file_id,
                    c.ord,
                    json.dumps(list(c.heading_path), ensure_ascii=False),
                    c.text,
                    _range_json(c.range),
                    chunk_hash(c),
                )
                for i, c in enumerate(chunks)
            ],
        )
        self.conn.executemany(
            "INSERT INTO chunks_fts(rowid, heading_path, text) VALUES(?,?,?)",
            [(first + i, " > ".join(c.heading_path), c.text) for i, c in enumerate(chunks)],
        )

    def put_other(self, path: str, kind: str, mtime_ns: int, size: int, reason: str | None = None) -> None:
        """An asset (linkable, not parsed) or a skipped file (with the reason)."""
        file_id = self._upsert_file(path, kind, None, mtime_ns, size, reason)
        self._clear_derived(file_id)
        self._changed_path(path)

    def _clear_derived(self, file_id: int) -> None:
        ids = [r[0] for r in self.conn.execute("SELECT id FROM chunks WHERE file_id=?", (file_id,))]
        if ids:
            self.conn.executemany("DELETE FROM chunks_fts WHERE rowid=?", [(i,) for i in ids])
            self.conn.execute("DELETE FROM chunks WHERE file_id=?", (file_id,))
        sids = [r[0] for r in self.conn.execute("SELECT id FROM sentences WHERE file_id=?", (file_id,))]
        if sids:
            self.conn.executemany("DELETE FROM sentence_stems WHERE rowid=?", [(i,) for i in sids])
            self.conn.execute("DELETE FROM sentences WHERE file_id=?", (file_id,))
        self.conn.execute("DELETE FROM facts WHERE file_id=?", (file_id,))
        self.conn.execute("DELETE FROM fact_keys WHERE file_id=?", (file_id,))
        self.conn.execute("DELETE FROM keys WHERE file_id=?", (file_id,))
        self.conn.execute("DELETE FROM link_targets WHERE file_id=?", (file_id,))
        self.conn.execute("DELETE FROM symbols WHERE file_id=?", (file_id,))
        self.conn.execute("DELETE FROM notes WHERE file_id=?", (file_id,))

    def delete(self, path: str) -> None:
        row = self.conn.execute("SELECT id FROM files WHERE path=?", (path,)).fetchone()
        if row:
            self._clear_derived(row[0])
            self._changed_path(path)
            self.conn.execute("DELETE FROM files WHERE id=?", (row[0],))

    def catalog(self) -> list[tuple[str, list[str]]]:
        """(path, aliases) of every stored note: enough to resolve any link by name."""
        rows = self.conn.execute("SELECT f.path, n.aliases FROM notes n JOIN files f ON f.id=n.file_id")
        return [(p, [] if a == "[]" else json.loads(a)) for p, a in rows]  # most notes have no alias

    def asset_paths(self) -> list[str]:
        return [r[0] for r in self.conn.execute("SELECT path FROM files WHERE kind='asset'")]

    def load(self, path: str, outline: bool = False) -> Note | None:
        """The stored note at `path` (with `outline`, only its names, anchors and functions)."""
        row = self.conn.execute(
            "SELECT n.summary FROM notes n JOIN files f ON f.id=n.file_id WHERE f.path=?", (path,)
        ).fetchone()
        if row is None:
            return None
        try:
            return note_from_json(row[0], outline)
        except ValueError as e:  # a garbled row reads as a note not indexed yet, never as a crash
            log.warning("stored summary of %s is unreadable (%s); it is re-read on the next update", path, e)
            self._mark_stale(path)
            return None

    def titles(self, paths: list[str]) -> dict[str, str | None]:
        """The stored title of each of `paths` that is a note (None: it has none)."""
        out: dict[str, str | None] = {}
        for start in range(0, len(paths), 500):
            part = paths[start : start + 500]
            marks = ",".join("?" * len(part))
            out.update(
                self.conn.execute(
                    f"SELECT f.path, n.title FROM notes n JOIN files f ON f.id=n.file_id WHERE f.path IN ({marks})",
                    part,
                )
            )
        return out

    def paths_with_keys(self, kind: str, keys: Iterable[str]) -> list[str]:
        keys = list(keys)
        if not keys:
            return []
        marks = ",".join("?" * len(keys))
        rows = self.conn.execute(
            f"SELECT DISTINCT f.path FROM keys k JOIN files f ON f.id=k.file_id WHERE k.kind=? AND k.key IN ({marks})",
            (kind, *keys),
        )
        return [r[0] for r in rows]

    def link_targets(self, keys: Iterable[str], exclude: Iterable[str] = ()) -> list[tuple[str, str, str]]:
        """(source path, link kind, target as written) of every stored link whose target ends in
        one of `keys` (folded names), leaving out the notes in `exclude`."""
        keys = list(keys)
        if not keys:
            return []
        skip = set(exclude)
        rows = self.conn.execute(
            f"SELECT f.path, l.kind, l.target FROM link_targets l JOIN files f ON "
            f"f.id=l.file_id WHERE l.key IN ({','.join('?' * len(keys))})",
            keys,
        )
        return [r for r in rows if r[0] not in skip]

    def key_counts(self, kind: str) -> dict[str, int]:
        rows = self.conn.execute("SELECT key, count(*) FROM keys WHERE kind=? GROUP BY key", (kind,))
        return dict(rows.fetchall())

    def find_symbols(
        self, query: str, limit: int, exclude: Iterable[str] = ()
    ) -> list[tuple[str, str, str, str, Range]]:
        """(kind, name, detail, path, range) whose name contains `query` (folded), prefix matches first."""
        q = fold(query).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        skip = set(exclude)
        rows = self.conn.execute(
            "SELECT s.kind, s.name, s.detail, f.path, s.range FROM symbols s JOIN files f ON f.id=s.file_id "
            "WHERE s.key LIKE ? ESCAPE '\\' ORDER BY (s.key NOT LIKE ? ESCAPE '\\'), length(s.key) LIMIT ?",
            (f"%{q}%", f"{q}%", limit + len(skip) * 8),
        )
        out = [(k, n, d, p, Range.from_json(json.loads(r))) for k, n, d, p, r in rows if p not in skip]
        return out[:limit]

    def symbol_rows(self, paths: list[str] | None = None) -> list[tuple[str, str, str, str, str, str]]:
        """(path, kind, name, folded name, detail, range JSON) of every stored symbol (or of
        `paths`' only), a note's rows together and in the order `note_symbols` gave them."""
        sql = "SELECT f.path, s.kind, s.name, s.key, s.detail, s.range FROM symbols s JOIN files f ON f.id=s.file_id"
        if paths is None:
            return self.conn.execute(sql + " ORDER BY s.file_id, s.rowid").fetchall()
        out = []
        for start in range(0, len(paths), 500):
            part = paths[start : start + 500]
            out += self.conn.execute(
                f"{sql} WHERE f.path IN ({','.join('?' * len(part))}) ORDER BY s.file_id, s.rowid", part
            )
        return out

    def sentences(self, path: str) -> list[tuple[str, tuple[str, ...], str, Range]]:
        rows = self.conn.execute(
            "SELECT s.kind, s.heading_path, s.text, s.range FROM sentences s JOIN files f ON f.id=s.file_id "
            "WHERE f.path=? ORDER BY s.ord",
            (path,),
        )
        return [(k, tuple(json.loads(hp)), t, Range.from_json(json.loads(r))) for k, hp, t, r in rows]

    def all_facts(self) -> Iterator[tuple[str, list]]:
        """(path, facts) of every note that has any."""
        for path, blob in self.conn.execute(
            "SELECT f.path, x.facts FROM facts x JOIN files f ON f.id=x.file_id"
        ).fetchall():
            yield path, self._decode_facts(path, blob)

    def facts_for(self, path: str) -> list:
        row = self.conn.execute(
            "SELECT x.facts FROM facts x JOIN files f ON f.id=x.file_id WHERE f.path=?", (path,)
        ).fetchone()
        return self._decode_facts(path, row[0]) if row else []

    def _decode_facts(self, path: str, blob) -> list:
        try:
            return self._facts_codec.loads(path, blob)
        except ValueError as e:
            log.warning("stored facts of %s are unreadable (%s); they are re-derived on the next update", path, e)
            self._mark_stale(path)
            return []

    def _mark_stale(self, path: str) -> None:
        """Make the next update re-read `path` (its stat no longer matches)."""
        try:
            self.conn.execute("UPDATE files SET hash=NULL, mtime_ns=-1 WHERE path=?", (path,))
        except sqlite3.Error as e:
            log.debug("cannot mark %s stale: %s", path, e)

    def fact_key_counts(self, keys: list[int], cap: int) -> dict[int, int]:
        """How many facts are filed under each of these subject keys, counted up to `cap` + 1
        (a common key's thousands of rows are not walked); absent: none."""
        out: dict[int, int] = {}
        for k in keys:
            n = self.conn.execute(
                "SELECT count(*) FROM (SELECT 1 FROM fact_keys WHERE k=? LIMIT ?)", (k, cap + 1)
            ).fetchone()[0]
            if n:
                out[k] = n
        return out

    def fact_postings(self, keys: list[int]) -> list[tuple[int, str, int, int]]:
        """(key, path, position in the note's facts, name flag) of every fact filed under these keys."""
        out: list[tuple[int, str, int, int]] = []
        for start in range(0, len(keys), 500):
            part = keys[start : start + 500]
            out += self.conn.execute(
                f"SELECT x.k, f.path, x.ord, x.ident FROM fact_keys x JOIN files f ON f.id=x.file_id "
                f"WHERE x.k IN ({','.join('?' * len(part))}) ORDER BY x.k, f.path, x.ord",
                part,
            )
        return out

    def sentences_with_stems(
        self, required: str, any_of: Iterable[str], limit: int = 200
    ) -> list[tuple[str, str, Range]]:
        """(path, text, range) of sentences whose stems include `required` and any of `any_of`."""
        anyq = fts_any(any_of)
        if not anyq:
            return []
        try:
            rows = self.conn.execute(
                "SELECT f.path, s.text, s.range FROM sentence_stems t JOIN sentences s ON s.id=t.rowid "
                "JOIN files f ON f.id=s.file_id WHERE sentence_stems MATCH ? LIMIT ?",
                (f'"{required}" AND ({anyq})', limit),
            ).fetchall()
        except sqlite3.OperationalError as e:
            log.debug("stem query failed: %s", e)
            return []
        return [(p, t, Range.from_json(json.loads(r))) for p, t, r in rows]

    def sentence_count(self) -> int:
        return self.conn.execute("SELECT count(*) FROM sentences").fetchone()[0]

    def stem_sentence_counts(self, stems: Iterable[str]) -> dict[str, int]:
        """How many sentences hold each stem (for IDF weights)."""
        stems = list(dict.fromkeys(stems))
        self.conn.execute(
            "CREATE VIRTUAL TABLE IF NOT EXISTS temp.stem_vocab USING fts5vocab(main, 'sentence_stems', 'row')"
        )
        counts: dict[str, int] = {}
        for i in range(0, len(stems), 500):
            part = stems[i : i + 500]
            marks = ",".join("?" * len(part))
            counts.update(
                self.conn.execute(f"SELECT term, doc FROM temp.stem_vocab WHERE term IN ({marks})", part).fetchall()
            )
        return counts

    def files_sharing_stems(self, stems: Iterable[str], limit: int = 400) -> dict[str, float]:
        """Files whose sentences hold any of `stems`, scored by the sum of those sentences' BM25."""
        q = fts_any(stems)
        if not q:
            return {}
        try:
            rows = self.conn.execute(
                "SELECT f.path, -bm25(sentence_stems) FROM sentence_stems t JOIN sentences s ON s.id=t.rowid "
                "JOIN files f ON f.id=s.file_id WHERE sentence_stems MATCH ? ORDER BY bm25(sentence_stems) LIMIT ?",
                (q, limit),
            ).fetchall()
        except sqlite3.OperationalError as e:
            log.debug("stem query failed: %s", e)
            return {}
        out: dict[str, float] = {}
        for path, score in rows:
            out[path] = out.get(path, 0.0) + score
        return out

    def chunk_vectors(self, path: str) -> list[bytes]:
        """The stored vectors of a note's chunks (empty without embeddings)."""
        if not self._has_vec_table():
            return []
        rows = self.conn.execute(
            "SELECT e.embedding FROM chunks c JOIN files f ON f.id=c.file_id JOIN vectors x ON x.hash=c.hash "
            "JOIN vec_chunks e ON e.rowid=x.id WHERE f.path=? ORDER BY c.ord",
            (path,),
        )
        return [r[0] for r in rows]

    def ignored_pairs(self) -> set[str]:
        return {r[0] for r in self.conn.execute("SELECT key FROM ignored_pairs")}

    def set_ignored(self, key: str, a: str, b: str, ignored: bool) -> None:
        if ignored:
            self.conn.execute("INSERT OR REPLACE INTO ignored_pairs(key, a, b) VALUES(?,?,?)", (key, a, b))
        else:
            self.conn.execute("DELETE FROM ignored_pairs WHERE key=?", (key,))

    def counts(self) -> dict[str, int]:
        q = self.conn.execute
        return {
            "files": q("SELECT count(*) FROM files").fetchone()[0],
            "notes": q("SELECT count(*) FROM notes").fetchone()[0],
            "chunks": q("SELECT count(*) FROM chunks").fetchone()[0],
            "embedded": q("SELECT count(*) FROM vectors").fetchone()[0],
        }

    # --- embeddings ---------------------------------------------------------------------

    def ensure_vectors(self, model_id: str, dim: int) -> bool:
        """Make the vector table match the model; returns True when old vectors were dropped."""
        current = self.get_meta("embed_model")
        if current == f"{model_id}|{dim}" and self._has_vec_table():
            return False
        dropped = current is not None
        for table, ids in (("vec_chunks", "vectors"), ("vec_sentences", "sentence_vectors")):
            self.conn.execute(f"DROP TABLE IF EXISTS {table}")
            self.conn.execute(f"DELETE FROM {ids}")
            self.conn.execute(
                f"CREATE VIRTUAL TABLE {table} USING vec0(embedding float[{int(dim)}] distance_metric=cosine)"
            )
        self.set_meta("embed_model", f"{model_id}|{dim}")
        return dropped

    def _has_vec_table(self) -> bool:
        return self.conn.execute("SELECT 1 FROM sqlite_master WHERE name='vec_chunks'").fetchone() is not None

    def chunks_without_vectors(self) -> list[tuple[str, str]]:
        """(hash, text to embed) for each distinct chunk text with no vector yet."""
        rows = self.conn.execute(
            "SELECT c.hash, c.heading_path, c.text FROM chunks c LEFT JOIN vectors v ON v.hash=c.hash "
            "WHERE v.id IS NULL GROUP BY c.hash"
        )
        return [(h, Chunk(0, tuple(json.loads(hp)), t, Range.of(0, 0)).embed_text) for h, hp, t in rows]

    def put_vectors(self, items: Iterable[tuple[str, list[float] | bytes]]) -> None:
        for h, vec in items:
            vid = self.conn.execute("INSERT OR IGNORE INTO vectors(hash) VALUES(?) RETURNING id", (h,)).fetchone()
            if vid is None:
                continue
            blob = vec if isinstance(vec, bytes) else struct.pack(f"{len(vec)}f", *vec)
            self.conn.execute("INSERT INTO vec_chunks(rowid, embedding) VALUES(?, ?)", (vid[0], blob))

    def gc_vectors(self) -> int:
        """Drop vectors no chunk or sentence uses any more (after deletes and edits)."""
        n = 0
        for ids, table, owner in (
            ("vectors", "vec_chunks", "chunks"),
            ("sentence_vectors", "vec_sentences", "sentences"),
        ):
            dead = [
                r[0]
                for r in self.conn.execute(
                    f"SELECT v.id FROM {ids} v LEFT JOIN {owner} c ON c.hash=v.hash WHERE c.id IS NULL"
                )
            ]
            if dead and self._has_vec_table():
                self.conn.executemany(f"DELETE FROM {table} WHERE rowid=?", [(i,) for i in dead])
            self.conn.executemany(f"DELETE FROM {ids} WHERE id=?", [(i,) for i in dead])
            n += len(dead)
        return n

    def sentences_without_vectors(self) -> list[tuple[str, str]]:
        rows = self.conn.execute(
            "SELECT s.hash, s.text FROM sentences s LEFT JOIN sentence_vectors v ON v.hash=s.hash "
            "WHERE s.hash IS NOT NULL AND v.id IS NULL GROUP BY s.hash"
        )
        return rows.fetchall()

    def put_sentence_vectors(self, items: Iterable[tuple[str, bytes]]) -> None:
        for h, blob in items:
            vid = self.conn.execute(
                "INSERT OR IGNORE INTO sentence_vectors(hash) VALUES(?) RETURNING id", (h,)
            ).fetchone()
            if vid is not None:
                self.conn.execute("INSERT INTO vec_sentences(rowid, embedding) VALUES(?, ?)", (vid[0], blob))

    def sentence_vector(self, h: str) -> bytes | None:
        row = (
            self.conn.execute(
                "SELECT v.embedding FROM sentence_vectors x JOIN vec_sentences v ON v.rowid=x.id WHERE x.hash=?", (h,)
            ).fetchone()
            if self._has_vec_table()
            else None
        )
        return row[0] if row else None

    def similar_sentences(self, vec: bytes, k: int) -> list[tuple[str, str, Range, float]]:
        """(path, text, range, cosine similarity) of the sentences nearest to `vec`."""
        if not self._has_vec_table():
            return []
        rows = self.conn.execute(
            "SELECT f.path, s.text, s.range, n.distance FROM (SELECT rowid, distance FROM vec_sentences "
            "WHERE embedding MATCH ? AND k = ?) n JOIN sentence_vectors x ON x.id=n.rowid "
            "JOIN sentences s ON s.hash=x.hash JOIN files f ON f.id=s.file_id ORDER BY n.distance",
            (vec, k),
        )
        return [(p, t, Range.from_json(json.loads(r)), 1.0 - d) for p, t, r, d in rows]

    def definition_rows(
        self, path_words: Iterable[str], paths: Iterable[str] | None = None
    ) -> list[tuple[str, str, str, Range, str]]:
        """(path, heading, text, range, hash) of claims that may define a term: every claim of a
        glossary note (a path holding one of `path_words`; its heading names the term) and bold-term
        lines (`**Term** — ...`) anywhere."""
        path_words = list(path_words)
        where = (
            "s.hash IS NOT NULL AND (s.text LIKE '**%' OR ("
            + " OR ".join(["lower(f.path) LIKE ?"] * len(path_words))
            + "))"
        )
        args: list = [f"%{w}%" for w in path_words]
        if paths is not None:
            paths = list(paths)
            where += f" AND f.path IN ({','.join('?' * len(paths))})"
            args += paths
        rows = self.conn.execute(
            f"SELECT f.path, s.heading_path, s.text, s.range, s.hash FROM sentences s JOIN "
            f"files f ON f.id=s.file_id WHERE {where}",
            args,
        )
        out = []
        for p, hp, t, r, h in rows:
            heading = (json.loads(hp) or [""])[-1]
            out.append((p, heading, t, Range.from_json(json.loads(r)), h))
        return out

    def sentences_sharing_stems(self, stems: Iterable[str], k: int) -> list[tuple[str, str, Range, str]]:
        """(path, text, range, hash) of the `k` claims that best match `stems` by BM25."""
        q = fts_any(stems)
        if not q:
            return []
        try:
            rows = self.conn.execute(
                "SELECT f.path, s.text, s.range, s.hash FROM (SELECT rowid, bm25(sentence_stems) "
                "AS b FROM sentence_stems "
                "WHERE sentence_stems MATCH ? ORDER BY b LIMIT ?) m JOIN sentences s ON s.id=m.rowid "
                "JOIN files f ON f.id=s.file_id WHERE s.hash IS NOT NULL ORDER BY m.b",
                (q, k * 2),
            ).fetchall()
        except sqlite3.OperationalError as e:
            log.debug("stem query failed: %s", e)
            return []
        return [(p, t, Range.from_json(json.loads(r)), h) for p, t, r, h in rows][:k]

    def sentence_rows(self, path: str) -> list[tuple[str, str, Range, str | None]]:
        """(kind, text, range, hash) of a stored note's sentences."""
        rows = self.conn.execute(
            "SELECT s.kind, s.text, s.range, s.hash FROM sentences s JOIN files f ON "
            "f.id=s.file_id WHERE f.path=? ORDER BY s.ord",
            (path,),
        )
        return [(k, t, Range.from_json(json.loads(r)), h) for k, t, r, h in rows]

    # --- search -------------------------------------------------------------------------

    def fts(self, match: str, k: int) -> list[tuple[int, float]]:
        """(chunk id, bm25) best first; `match` is an FTS5 query."""
        try:
            rows = self.conn.execute(
                "SELECT rowid, bm25(chunks_fts, 0.5, 1.0) AS s FROM chunks_fts WHERE chunks_fts "
                "MATCH ? ORDER BY s LIMIT ?",
                (match, k),
            )
            return [(r[0], r[1]) for r in rows]
        except sqlite3.OperationalError as e:
            log.debug("fts query %r failed: %s", match, e)
            return []

    def knn(self, vec: bytes, k: int) -> list[tuple[int, float]]:
        """(chunk id, cosine distance) best first, one entry per chunk sharing a vector."""
        if not self._has_vec_table():
            return []
        rows = self.conn.execute(
            "SELECT c.id, v.distance FROM (SELECT rowid, distance FROM vec_chunks WHERE embedding MATCH ? AND k = ?) v "
            "JOIN vectors x ON x.id = v.rowid JOIN chunks c ON c.hash = x.hash ORDER BY v.distance",
            (vec, k),
        )
        return [(r[0], r[1]) for r in rows]

    def chunk_rows(self, ids: Iterable[int]) -> dict[int, ChunkRow]:
        ids = list(ids)
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = self.conn.execute(
            f"SELECT c.id, f.path, c.heading_path, c.text, c.range FROM chunks c JOIN files f "
            f"ON f.id=c.file_id WHERE c.id IN ({marks})",
            ids,
        )
        return {
            r[0]: ChunkRow(r[0], r[1], tuple(json.loads(r[2])), r[3], Range.from_json(json.loads(r[4]))) for r in rows
        }


@contextmanager
def _immediate(conn: sqlite3.Connection) -> Iterator[None]:
    """BEGIN IMMEDIATE: a deferred transaction that reads first and then writes cannot wait for
    another writer (SQLite answers "database is locked" at once, the busy timeout unused)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _script(conn: sqlite3.Connection, sql: str) -> None:
    """Run a DDL script as one write transaction (`executescript` commits whatever is open first,
    so the BEGIN goes inside the script)."""
    try:
        conn.executescript(f"BEGIN IMMEDIATE;\n{sql}\nCOMMIT;")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


class _NoFacts:
    """The codec of a store that is given no facts (a store opened without `Vault`)."""

    @staticmethod
    def dumps(facts: list) -> str:
        raise TypeError("this Store was opened without a facts codec")

    @staticmethod
    def loads(path: str, text) -> list:
        return []


def fts_any(terms: Iterable[str]) -> str:
    """Terms as an FTS5 OR query, each quoted (so punctuation and FTS keywords are harmless)."""
    return " OR ".join(f'"{t}"' for t in dict.fromkeys(terms) if t and '"' not in t)


def chunk_hash(chunk: Chunk) -> str:
    return hashlib.blake2b(chunk.embed_text.encode("utf-8"), digest_size=16).hexdigest()


def _range_json(r: Range) -> str:
    s, e = r.start, r.end
    return (
        f'{{"start":{{"line":{s.line},"character":{s.character}}},"end":{{"line":{e.line},"character":{e.character}}}}}'
    )
