"""Finding and reading the vault's files: ignore rules, size limits, bad bytes.

This is the I/O edge of the index: it turns whatever lies on disk into text or a
clear reason why a file was skipped, and never raises for a single bad file.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from ponder.index.settings import IndexSettings


@dataclass(frozen=True, slots=True)
class FileInfo:
    path: str  # vault-relative, posix
    mtime_ns: int
    size: int
    is_note: bool


@dataclass(frozen=True, slots=True)
class ReadResult:
    text: str | None
    skip_reason: str | None = None
    warning: str | None = None  # e.g. invalid UTF-8 replaced


class IgnoreRules:
    """gitignore-style patterns (a useful subset: globs, `/` anchoring, trailing `/`, `!` negation)."""

    def __init__(self, patterns: list[str]):
        self._rules: list[tuple[bool, bool, bool, re.Pattern]] = []
        for p in patterns:
            self.add(p)

    def add(self, pattern: str, base: str = "") -> None:
        p = pattern.strip()
        if not p or p.startswith("#"):
            return
        negate = p.startswith("!")
        if negate:
            p = p[1:]
        dir_only = p.endswith("/")
        p = p.strip("/") if dir_only else p
        anchored = "/" in p.lstrip("/") or pattern.strip().lstrip("!").startswith("/")
        p = p.lstrip("/")
        if base:
            p, anchored = f"{base}/{p}", True
        self._rules.append((negate, dir_only, anchored, re.compile(_glob_regex(p))))

    def ignored(self, rel: str, is_dir: bool) -> bool:
        result = False
        name = rel.rsplit("/", 1)[-1]
        for negate, dir_only, anchored, rx in self._rules:
            if dir_only and not is_dir:
                continue
            if rx.match(rel) if anchored else (rx.match(name) or rx.match(rel)):
                result = not negate
        return result


def _glob_regex(glob: str) -> str:
    """gitignore glob -> regex: `**` crosses folders, `*` and `?` stay inside one."""
    out, i = [], 0
    while i < len(glob):
        c = glob[i]
        if glob.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
            continue
        if glob.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[" and "]" in glob[i + 1 :]:
            j = glob.index("]", i + 1)
            out.append("[" + glob[i + 1 : j].replace("!", "^", 1) + "]")
            i = j
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out) + r"\Z"


def walk(
    root: Path, settings: IndexSettings, unreadable: list[str] | None = None
) -> tuple[list[FileInfo], list[tuple[str, str]]]:
    """All files under `root` not ignored, plus (path, reason) for what was skipped: files over the
    size limit, names that are not UTF-8, links leading out of the vault, FIFOs, devices, sockets
    and folders that cannot be read. A vault is untrusted input: nothing outside `root` is read.
    The vault-relative path of each folder that could not be read goes to `unreadable` (its
    stored files are not gone: they must not turn into broken links)."""
    rules = IgnoreRules(settings.ignore)
    exts = tuple(e.lower() for e in settings.extensions)
    files: list[FileInfo] = []
    skipped: list[tuple[str, str]] = []
    stack = [("", root)]
    while stack:
        rel_dir, abs_dir = stack.pop()
        if settings.use_gitignore:
            _read_gitignore(abs_dir, rel_dir, rules)
        try:
            with os.scandir(abs_dir) as it:
                entries = list(it)
        except OSError as e:
            skipped.append((rel_dir or ".", f"cannot read folder: {e.strerror or e}"))
            if unreadable is not None:
                unreadable.append(rel_dir)
            continue
        for entry in entries:
            rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
            if not _utf8(rel):
                skipped.append((safe_name(rel), "file name is not valid UTF-8"))
                continue
            try:
                is_link = entry.is_symlink()
                is_dir = entry.is_dir(follow_symlinks=False)
                if rules.ignored(rel, is_dir or (is_link and entry.is_dir())):
                    continue
                if is_dir:
                    stack.append((rel, Path(entry.path)))
                    continue
                st = entry.stat(follow_symlinks=False)
            except OSError as e:
                skipped.append((rel, f"cannot read: {e.strerror or e}"))
                continue
            if is_link:
                info = stat_file(root, rel, exts)
                if isinstance(info, str):
                    skipped.append((rel, info))
                elif info is not None:
                    files.append(info)
                continue
            if not stat.S_ISREG(st.st_mode):
                skipped.append((rel, f"not a regular file ({_kind(st.st_mode)})"))
                continue
            files.append(FileInfo(rel, st.st_mtime_ns, st.st_size, entry.name.lower().endswith(exts)))
    files.sort(key=lambda f: f.path)
    return files, skipped


def _read_gitignore(abs_dir: Path, rel_dir: str, rules: IgnoreRules) -> None:
    """Add a folder's `.gitignore` rules; an unreadable or odd one is ignored (only a regular file
    is read: a FIFO named `.gitignore` must not block the scan)."""
    gi = abs_dir / ".gitignore"
    try:
        st = os.lstat(gi)
        if not stat.S_ISREG(st.st_mode) or st.st_size > 1_000_000:
            return
        for line in gi.read_text("utf-8", errors="replace").splitlines():
            rules.add(line, rel_dir)
    except OSError:
        pass


def stat_file(root: Path, rel: str, exts: tuple[str, ...]) -> FileInfo | str | None:
    """The file at vault-relative `rel` if it may be indexed: a regular file whose real path is
    inside `root` (which must be resolved). A reason (str) when it must be skipped; None when there
    is no such file."""
    p = root / rel
    try:
        real = Path(os.path.realpath(p))
        st = os.stat(p)
    except OSError:
        return None
    if not _inside(real, root):
        what = "folder" if stat.S_ISDIR(st.st_mode) else "file"
        return f"symbolic link to a {what} outside the vault ({real}); not read"
    if stat.S_ISDIR(st.st_mode):
        return "symbolic link to a folder; not followed" if p.is_symlink() else None
    if not stat.S_ISREG(st.st_mode):
        return f"not a regular file ({_kind(st.st_mode)})"
    if not _utf8(rel):
        return "file name is not valid UTF-8"
    return FileInfo(rel, st.st_mtime_ns, st.st_size, rel.lower().endswith(exts))


def _inside(real: Path, root: Path) -> bool:
    return real == root or root in real.parents


def _utf8(name: str) -> bool:
    """Names with bytes that are not UTF-8 come from `os.scandir` as lone surrogates, which no
    store, protocol or terminal can carry."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def safe_name(name: str) -> str:
    """A printable form of a name that is not valid UTF-8 (bad bytes as U+FFFD)."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISFIFO, "FIFO"),
        (stat.S_ISSOCK, "socket"),
        (stat.S_ISCHR, "character device"),
        (stat.S_ISBLK, "block device"),
        (stat.S_ISDIR, "folder"),
    ):
        if test(mode):
            return name
    return "special file"


def read_note(path: Path, max_bytes: int, root: Path | None = None) -> ReadResult:
    """Read a note as text: binary and oversized files are skipped, invalid UTF-8 replaced and
    reported. Only a regular file is read (opened without blocking, checked before reading: a FIFO
    or `/proc/kmsg` must not hang the index) and, given the vault's resolved `root`, only one whose
    real path is inside it."""
    if root is not None and not _inside(Path(os.path.realpath(path)), root):
        return ReadResult(None, "symbolic link to a file outside the vault; not read")
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    except OSError as e:
        return ReadResult(None, f"cannot read: {e.strerror or e}")
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return ReadResult(None, f"not a regular file ({_kind(st.st_mode)})")
        if st.st_size > max_bytes:
            return ReadResult(None, f"larger than the size limit ({st.st_size:,} > {max_bytes:,} bytes)")
        with os.fdopen(fd, "rb", closefd=False) as f:
            data = f.read(max_bytes + 1)
    except OSError as e:
        return ReadResult(None, f"cannot read: {e.strerror or e}")
    finally:
        os.close(fd)
    if len(data) > max_bytes:
        return ReadResult(None, f"larger than the size limit (> {max_bytes:,} bytes)")
    return decode(data)


def decode(data: bytes) -> ReadResult:
    if b"\x00" in data[:8192]:
        return ReadResult(None, "binary file (contains NUL bytes)")
    try:
        return ReadResult(data.decode("utf-8"))
    except UnicodeDecodeError as e:
        text = data.decode("utf-8", errors="replace")
        return ReadResult(text, warning=f"invalid UTF-8 at byte {e.start}; undecodable bytes shown as U+FFFD")
