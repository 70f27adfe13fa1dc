"""The index file on disk: is it Ponder's, is it sound, may it be written, may it be deleted.

`index.db_path` can point anywhere (a typo, a shared config, a hostile vault), so the store
never deletes or rewrites a file it cannot prove is its own: an SQLite database holding
Ponder's `meta` and `files` tables, or a damaged SQLite file at the default
`.ponder/index.db` (Ponder's folder by convention). Anything else is refused with
`IndexFileError` naming the file and why.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import sqlean as sqlite3

SQLITE_MAGIC = b"SQLite format 3\x00"
DEFAULT_FOLDER = ".ponder"
DEFAULT_NAME = "index.db"
# SQLite's primary result codes for a damaged file (SQLITE_CORRUPT, SQLITE_NOTADB)
_CORRUPT_CODES = {11, 26}
_FULL_CODE = 13  # SQLITE_FULL
_READONLY_CODE = 8  # SQLITE_READONLY


class IndexFileError(Exception):
    """The index path holds something Ponder must not touch; the message says what and why."""


def at_default_place(path: Path) -> bool:
    """`.ponder/index.db`: a file there is Ponder's by convention, even when too damaged to tell."""
    return path.name == DEFAULT_NAME and path.parent.name == DEFAULT_FOLDER


def inspect(path: Path) -> str:
    """ "absent", "empty", "sqlite" (by its header) or "other"; `IndexFileError` for what is not a
    regular file (a FIFO, a folder, a device), which is never opened (a FIFO would block)."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return "absent"
    except OSError as e:
        raise IndexFileError(f"index database {path} cannot be inspected: {e.strerror or e}") from e
    if not stat.S_ISREG(st.st_mode):
        raise IndexFileError(f"index database {path} is not a regular file; refusing to use it")
    if st.st_size == 0:
        return "empty"
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        try:
            head = os.read(fd, len(SQLITE_MAGIC))
        finally:
            os.close(fd)
    except OSError as e:
        raise IndexFileError(f"index database {path} cannot be read: {e.strerror or e}") from e
    return "sqlite" if head == SQLITE_MAGIC else "other"


def links_out(path: Path) -> bool:
    """The default index or its folder is a symbolic link: writing there would write wherever a
    vault's author pointed it."""
    return path.is_symlink() or path.parent.is_symlink()


def is_ponder_index(conn: sqlite3.Connection) -> bool:
    """The database has Ponder's bookkeeping tables and a schema version (may raise on damage)."""
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if not {"meta", "files"} <= tables:
        return False
    return conn.execute("SELECT 1 FROM meta WHERE key='schema_version'").fetchone() is not None


def is_corruption(e: BaseException) -> bool:
    """An SQLite error that means the file is damaged (not a lock, not a full disk)."""
    if not isinstance(e, sqlite3.DatabaseError):
        return False
    code = getattr(e, "sqlite_errorcode", None)
    if code is not None and (code & 0xFF) in _CORRUPT_CODES:
        return True
    msg = str(e).lower()
    return "malformed" in msg or "not a database" in msg or "quick_check" in msg


def is_disk_full(e: BaseException) -> bool:
    code = getattr(e, "sqlite_errorcode", None)
    return (code is not None and (code & 0xFF) == _FULL_CODE) or "disk is full" in str(e).lower()


def is_read_only(e: BaseException) -> bool:
    code = getattr(e, "sqlite_errorcode", None)
    return (code is not None and (code & 0xFF) == _READONLY_CODE) or "readonly" in str(e).lower()


def writable(path: Path) -> bool:
    """Whether the index (and the journal files beside it) can be written; a read-only mount says
    no even to root."""
    folder = path.parent
    if not os.access(folder, os.W_OK | os.X_OK):
        return False
    return not path.exists() or os.access(path, os.W_OK)


def make_folder(folder: Path) -> None:
    """Create the index folder private to the user; a folder that already exists is not Ponder's
    to chmod (it may be the vault itself, or `/tmp`)."""
    if folder.exists():
        return
    folder.mkdir(parents=True, exist_ok=True)
    try:
        os.chmod(folder, 0o700)
    except OSError:
        pass


def remove_files(path: Path) -> None:
    """Delete the index and its WAL journal files (call only for a file proven to be Ponder's)."""
    for suffix in ("", "-wal", "-shm", ".checked"):
        p = Path(f"{path}{suffix}")
        try:
            if suffix and not stat.S_ISREG(os.lstat(p).st_mode):
                continue
            os.remove(p)
        except FileNotFoundError:
            pass


def quick_check(conn: sqlite3.Connection) -> None:
    """Raise `sqlite3.DatabaseError` when SQLite finds the file damaged (pages, not indexes: cheap)."""
    row = conn.execute("PRAGMA quick_check(1)").fetchone()
    if row is None or row[0] != "ok":
        raise sqlite3.DatabaseError(f"database disk image is malformed (quick_check: {row and row[0]})")


def describe_store_error(e: BaseException) -> str | None:
    """One line for a failure of the index file a user can act on; None for any other error."""
    if isinstance(e, IndexFileError):
        return str(e)
    if not isinstance(e, sqlite3.Error):
        return None
    if is_disk_full(e):
        return f"the index cannot be written: the disk is full ({e}); free some space or point index.db_path elsewhere"
    if is_read_only(e):
        return f"the index cannot be written: it is read-only ({e})"
    if "locked" in str(e).lower() or "busy" in str(e).lower():
        return f"the index is locked by another Ponder process for too long ({e}); try again"
    if is_corruption(e):
        return f"the index is damaged ({e}); run `ponder index` again to rebuild it, or delete .ponder"
    return f"the index database failed: {e}"


# A full `quick_check` reads every page (~0.4 s per 150 MB here): skipped when the file is exactly
# as the last clean close left it. The stamp holds the file's inode, size and mtime in ns, which
# nobody shipping a vault can predict after a checkout; anything that touched the file since
# (another program, a crash with a WAL left over, a copy) makes the next open check it.


def _stamp_file(path: Path) -> Path:
    return Path(f"{path}.checked")


def _stat_key(path: Path) -> str | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return f"{st.st_ino} {st.st_size} {st.st_mtime_ns}"


def unchanged_since_close(path: Path) -> bool:
    """The index is as Ponder left it at its last clean close (the stamp is used up: any write
    from now on changes the file, and a crash must leave it unstamped)."""
    stamp = _stamp_file(path)
    try:
        st = os.lstat(stamp)
        if not stat.S_ISREG(st.st_mode) or st.st_size > 100:
            return False
        key = stamp.read_text("ascii", errors="replace").strip()
        os.remove(stamp)
    except OSError:
        return False
    return key == _stat_key(path) and not Path(f"{path}-wal").exists()


def stamp_clean_close(path: Path) -> None:
    """Record the closed index's identity; nothing when another connection keeps a WAL open."""
    key = _stat_key(path)
    if key is None or Path(f"{path}-wal").exists():
        return
    try:
        _stamp_file(path).write_text(key, "ascii")
    except OSError:
        pass
