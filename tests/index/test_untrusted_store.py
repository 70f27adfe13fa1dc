"""A vault is untrusted input, for the index file: `index.db_path` pointing at a note or a foreign
database, a tampered index that once ran pickles, damaged pages, a read-only or full disk, locks.

Each test asserts what must hold whatever the vault holds: no note changed, nothing outside the
vault and its `.ponder/` written, a clear message naming the file and the reason, the rest of the
vault indexed, in a bounded time.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import pickle
import stat
import subprocess
import threading
import time
from pathlib import Path

import pytest
import sqlean as sqlite3

from ponder.index.knowledge.fact_codec import facts_from_json, facts_to_json
from ponder.index.knowledge.facts import extract_facts
from ponder.index.notes import Note
from ponder.index.parsing.markdown import parse_note
from ponder.index.settings import EmbeddingSettings, IndexSettings
from ponder.index.store.codec import note_from_json, note_to_json
from ponder.index.store.db import Store
from ponder.index.store.dbfile import IndexFileError
from ponder.index.vault import Vault
from tests.conftest import write_vault

NOTES = {
    "требования.md": "# Требования\n\nТаймаут запроса — не более 30 с.\n\nСм. [[beta]].\n",
    "beta.md": "# Beta\n\nThe retry delay is 5 s.\n\nBack to [[требования]].\n",
}


def no_embed() -> EmbeddingSettings:
    return EmbeddingSettings(enabled=False)


def digest(root: Path) -> dict[str, str]:
    """Every file's hash under `root`, `.ponder/` left out: what 'no note changed' compares."""
    out = {}
    for p in sorted(root.rglob("*")):
        if ".ponder" in p.relative_to(root).parts or not p.is_file() or p.is_symlink():
            continue
        out[str(p.relative_to(root))] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


class Marker:
    """A pickle that creates a file when loaded: proof that a tampered index ran code."""

    path = ""

    def __reduce__(self):
        return (open, (self.path, "w"))


def payload(marker: Path) -> bytes:
    Marker.path = str(marker)
    return pickle.dumps(Marker())


# --- item 1: db_path at something that is not Ponder's --------------------------------------


def test_db_path_at_a_note_is_refused_and_the_note_kept(tmp_path):
    root = write_vault(tmp_path / "v", NOTES)
    os.chmod(root, 0o755)
    note = root / "требования.md"
    (root / "требования.md-wal").write_text("not a journal")  # a file that only looks like SQLite's
    before = digest(root)
    with pytest.raises(IndexFileError, match="требования.md.*not an SQLite file"):
        Vault(root, IndexSettings(db_path=str(note)), no_embed())
    assert digest(root) == before
    assert (root / "требования.md-wal").read_text() == "not a journal"
    assert stat.S_IMODE(os.stat(root).st_mode) == 0o755  # the vault folder is not chmodded


def test_db_path_at_a_foreign_sqlite_database_is_refused(tmp_path):
    root = write_vault(tmp_path / "v", NOTES)
    other = tmp_path / "photos.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE albums(name TEXT)")
    conn.execute("INSERT INTO albums VALUES('лето')")
    conn.commit()
    conn.close()
    before = other.read_bytes()
    with pytest.raises(IndexFileError, match="photos.db.*not a Ponder index"):
        Vault(root, IndexSettings(db_path=str(other)), no_embed())
    assert other.read_bytes() == before


def test_db_path_at_an_empty_file_or_a_fifo_is_refused_without_blocking(tmp_path):
    root = write_vault(tmp_path / "v", NOTES)
    empty = root / "пусто.md"
    empty.write_bytes(b"")
    with pytest.raises(IndexFileError, match="пусто.md"):
        Vault(root, IndexSettings(db_path=str(empty)), no_embed())
    assert empty.read_bytes() == b""
    fifo = tmp_path / "pipe.db"
    os.mkfifo(fifo)
    t = time.perf_counter()
    with pytest.raises(IndexFileError, match="pipe.db.*not a regular file"):
        Vault(root, IndexSettings(db_path=str(fifo)), no_embed())
    assert time.perf_counter() - t < 5


def test_only_a_folder_ponder_creates_is_made_private(tmp_path):
    root = write_vault(tmp_path / "v", NOTES)
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    os.chmod(shared, 0o755)
    v = Vault(root, IndexSettings(db_path=str(shared / "index.db")), no_embed())
    v.update()
    v.close()
    assert stat.S_IMODE(os.stat(shared).st_mode) == 0o755
    v = Vault(root, embedding=no_embed())
    assert v.update().parsed == 2
    v.close()
    assert stat.S_IMODE(os.stat(root / ".ponder").st_mode) == 0o700


def test_a_ponder_own_index_is_reused_and_a_garbled_default_one_rebuilt(tmp_path):
    root = write_vault(tmp_path / "v", NOTES)
    db = tmp_path / "elsewhere" / "index.db"
    Vault(root, IndexSettings(db_path=str(db)), no_embed()).update()
    v = Vault(root, IndexSettings(db_path=str(db)), no_embed())  # its own file: opened, not refused
    assert v.update().parsed == 0
    v.close()


def test_a_symlinked_ponder_folder_keeps_the_index_in_memory(tmp_path):
    root = write_vault(tmp_path / "v", NOTES)
    outside = tmp_path / "outside"
    outside.mkdir()
    (root / ".ponder").symlink_to(outside, target_is_directory=True)
    v = Vault(root, embedding=no_embed())
    r = v.update()
    assert r.parsed == 2 and v.store.read_only
    assert any("symbolic link" in w and "in memory" in w for w in r.warnings)
    assert list(outside.iterdir()) == []
    v.close()


# --- item 4: no pickles ------------------------------------------------------------------------

RICH = """---
title: Хранилище
aliases: [store, склад]
tags: [db, "#ops"]
created: 2024-03-01
nested: {2024-05-01: date key, list: [1, 2.5, null, true]}
---
# Хранилище 📦

Таймаут — 30 с; retries at most 5 times. Never delete the WAL while running. ^blk

| key | value |
|-----|-------|
| max_upload | 10 MB |

See [[beta#Retry|the retry]] and [doc](docs/a b.md) #tag/sub, [the spec][spec].

<a id="якорь"></a>

[spec]: https://example.org/spec

```pseudo
FUNCTION sync(a, b)
  CALL upload(a)
END
```

```text
an unclosed fence: a parse problem
"""


def test_every_field_of_a_stored_type_is_encoded():
    from ponder.index.knowledge import fact_codec
    from ponder.index.store import codec

    note = parse_note("склад/хранилище.md", RICH)
    samples = [
        (codec._link_to, note.links[0]),
        (codec._heading_to, note.headings[0]),
        (codec._block_to, note.block_ids[0]),
        (codec._anchor_to, note.anchors[0]),
        (codec._tag_to, note.tags[0]),
        (codec._code_to, note.code_blocks[0]),
        (codec._function_to, note.functions[0]),
        (codec._problem_to, codec.Problem("c", "m", note.links[0].range)),
        (fact_codec.fact_to, extract_facts(note)[0]),
        (fact_codec.quantity_to, next(f.quantity for f in extract_facts(note) if f.quantity)),
    ]
    for encode, obj in samples:
        expected = len(dataclasses.fields(obj)) - (1 if type(obj).__name__ == "Fact" else 0)  # path
        assert len(encode(obj)) == expected, type(obj).__name__


def test_summaries_and_facts_round_trip_through_json():
    note = parse_note("склад/хранилище.md", RICH)
    back = note_from_json(note_to_json(note))
    for f in dataclasses.fields(Note):  # a field added to Note must be added to store/codec.py
        if f.compare and f.name not in ("text", "front_matter"):  # sentences are split from the text
            assert getattr(back, f.name) == getattr(note, f.name), f.name
            assert getattr(note, f.name) or f.name in ("calls",), f"RICH should exercise {f.name}"
    assert back.front_matter["created"] == "2024-03-01"
    assert back.front_matter["nested"]["2024-05-01"] == "date key"
    facts = extract_facts(note)
    assert facts and facts_from_json(note.path, facts_to_json(facts)) == facts


def test_a_tampered_index_runs_no_code_and_is_reread(tmp_path):
    root = write_vault(tmp_path / "v", NOTES)
    marker = tmp_path / "pwned"
    v = Vault(root, embedding=no_embed())
    v.update()
    v.close()
    conn = sqlite3.connect(root / ".ponder" / "index.db")
    conn.execute("UPDATE notes SET summary=?", (payload(marker),))
    conn.execute("UPDATE facts SET facts=?", (payload(marker),))
    conn.commit()
    conn.close()
    v = Vault(root, embedding=no_embed())
    assert v.store.load("beta.md") is None
    assert v.store.facts_for("beta.md") == []
    assert v.check() is not None
    assert not marker.exists()
    assert v.update().parsed == 2  # the garbled rows are re-derived
    assert v.store.load("beta.md").title == "Beta"
    assert not marker.exists()
    v.close()


def test_pickled_rows_of_schema_8_are_dropped_unread(tmp_path):
    root = write_vault(tmp_path / "v", NOTES)
    marker = tmp_path / "pwned"
    Vault(root, embedding=no_embed()).update()
    conn = sqlite3.connect(root / ".ponder" / "index.db")
    conn.execute("UPDATE notes SET summary=?", (payload(marker),))
    conn.execute("UPDATE meta SET value='8' WHERE key='schema_version'")
    conn.commit()
    conn.close()
    v = Vault(root, embedding=no_embed())
    assert v.store.counts()["notes"] == 0
    assert v.update().parsed == 2
    assert not marker.exists()
    v.close()


# --- item 13: damage, locks, read-only and full disks -----------------------------------------


def many_notes(n: int) -> dict[str, str]:
    return {
        f"n{i:03}.md": f"# Note {i}\n\n" + f"Заметка {i} about the retention window of {i} days. " * 20 + "\n"
        for i in range(n)
    }


def test_garbage_in_the_middle_of_the_index_is_rebuilt_on_open(tmp_path):
    root = write_vault(tmp_path / "v", {**NOTES, **many_notes(60)})
    v = Vault(root, embedding=no_embed())
    v.update()
    v.close()
    db = root / ".ponder" / "index.db"
    assert db.stat().st_size > 8 * 4096
    time.sleep(0.05)  # past the file system's timestamp tick: the write must change the mtime
    with open(db, "r+b") as f:  # the header page stays valid
        f.seek(2 * 4096)
        f.write(os.urandom(4 * 4096))
    before = digest(root)
    v = Vault(root, embedding=no_embed())
    r = v.update()
    assert any("damaged" in w and "index.db" in w for w in r.warnings), r.warnings
    assert r.parsed == 62 and not [d for d in v.check() if d.code == "broken-link"]
    assert digest(root) == before
    v.close()


def test_a_clean_close_skips_the_full_check_and_anything_else_does_not(tmp_path, monkeypatch):
    from ponder.index.store import dbfile

    checks = []
    real = dbfile.quick_check
    monkeypatch.setattr(dbfile, "quick_check", lambda conn: checks.append(1) or real(conn))
    root = write_vault(tmp_path / "v", NOTES)
    first = Vault(root, embedding=no_embed())
    first.update()
    first.store.conn.close()  # closed without `close()`, as by a crash: no stamp
    v = Vault(root, embedding=no_embed())
    assert len(checks) == 1
    v.close()
    v = Vault(root, embedding=no_embed())
    assert len(checks) == 1  # as the last clean close left it
    v.update()
    v.close()
    time.sleep(0.05)
    db = root / ".ponder" / "index.db"
    with open(db, "r+b") as f:  # someone else wrote to it
        f.seek(db.stat().st_size - 10)
        f.write(b"x")
    Vault(root, embedding=no_embed()).close()
    assert len(checks) == 2


def test_damage_found_in_use_rebuilds_with_a_warning(tmp_path, monkeypatch):
    root = write_vault(tmp_path / "v", NOTES)
    v = Vault(root, embedding=no_embed())
    v.update()
    real = Store.files
    calls = []

    def damaged(self, paths=None):
        if not calls:
            calls.append(1)
            raise sqlite3.DatabaseError("database disk image is malformed")
        return real(self, paths)

    monkeypatch.setattr(Store, "files", damaged)
    (root / "beta.md").write_text("# Beta\n\nChanged.\n", encoding="utf-8")
    r = v.update(paths=["beta.md"])
    assert any("damaged" in w and "malformed" in w for w in r.warnings), r.warnings
    assert r.parsed == 2 and v.store.load("beta.md") is not None
    v.close()


def test_a_query_that_meets_damage_starts_the_index_over(tmp_path):
    root = write_vault(tmp_path / "v", NOTES)
    v = Vault(root, embedding=no_embed())
    v.update()
    assert not v.recover(sqlite3.OperationalError("database is locked"))
    assert v.recover(sqlite3.DatabaseError("database disk image is malformed"))
    r = v.update()
    assert r.parsed == 2 and any("damaged" in w for w in r.warnings)
    assert v.search("retry", 3)
    v.close()


def test_a_second_writer_waits_for_the_lock_instead_of_failing(tmp_path):
    root = write_vault(tmp_path / "v", NOTES)
    a = Vault(root, embedding=no_embed())
    a.update()
    b = Vault(root, embedding=no_embed())
    b.store.load("beta.md")  # a reader with an older snapshot, as a second server is
    held = threading.Event()

    def hold():
        with a.store.transaction():
            a.store.set_meta("probe", "1")
            held.set()
            time.sleep(1.0)

    t = threading.Thread(target=hold)
    t.start()
    held.wait(5)
    (root / "beta.md").unlink()  # a delete reads before it writes: the case a deferred BEGIN fails
    r = b.update()  # waits up to the busy timeout (5 s) instead of "database is locked"
    t.join()
    assert r.deleted == 1
    a.close()
    b.close()


def test_a_read_only_index_folder_degrades_to_memory(tmp_path, monkeypatch):
    root = write_vault(tmp_path / "v", NOTES)
    Vault(root, embedding=no_embed()).update()
    db = root / ".ponder" / "index.db"
    stored = db.read_bytes()
    from ponder.index.store import dbfile

    monkeypatch.setattr(dbfile, "writable", lambda path: False)
    v = Vault(root, embedding=no_embed())
    assert v.store.read_only and v.store.counts()["notes"] == 2  # the stored index, copied
    (root / "beta.md").write_text("# Beta\n\nChanged [[nowhere]].\n", encoding="utf-8")
    r = v.update()
    assert r.parsed == 1 and any("read-only" in w for w in r.warnings)
    assert [d.code for d in v.check(["beta.md"]) if d.code == "broken-link"] == ["broken-link"]
    v.close()
    assert db.read_bytes() == stored


def test_a_read_only_mount_degrades_to_memory(tmpfs):
    root = write_vault(tmpfs / "v", NOTES)
    Vault(root, embedding=no_embed()).update()
    before = digest(root)
    r = subprocess.run(["mount", "-o", "remount,ro", str(tmpfs)], capture_output=True)
    if r.returncode != 0:
        pytest.skip("cannot remount read-only")
    t = time.perf_counter()
    v = Vault(root, embedding=no_embed())
    report = v.update()
    assert v.store.read_only and any("read-only" in w for w in report.warnings)
    assert v.store.counts()["notes"] == 2 and v.check() is not None
    v.close()
    assert digest(root) == before and time.perf_counter() - t < 10


def test_a_full_disk_is_a_clear_error_and_keeps_the_notes(tmp_path, tmpfs):
    from ponder.index.store.dbfile import describe_store_error

    root = write_vault(tmp_path / "v", many_notes(300))
    before = digest(root)
    v = Vault(root, IndexSettings(db_path=str(tmpfs / "idx" / "index.db")), no_embed())
    with pytest.raises(sqlite3.OperationalError) as e:
        v.update()
    assert "disk is full" in describe_store_error(e.value)
    v.close()
    assert digest(root) == before
