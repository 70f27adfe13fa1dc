"""Finding and reading the vault's files: ignore rules, size limits, bad bytes.

This is the I/O edge of the index: it turns whatever lies on disk into text or a
clear reason why a file was skipped, and never raises for a single bad file.
"""

from __future__ import annotations

import os
import re
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


def walk(root: Path, settings: IndexSettings) -> tuple[list[FileInfo], list[tuple[str, str]]]:
    """All files under `root` not ignored, plus (path, reason) for files skipped by size."""
    rules = IgnoreRules(settings.ignore)
    exts = tuple(e.lower() for e in settings.extensions)
    files: list[FileInfo] = []
    skipped: list[tuple[str, str]] = []
    stack = [("", root)]
    while stack:
        rel_dir, abs_dir = stack.pop()
        if settings.use_gitignore:
            gi = abs_dir / ".gitignore"
            if gi.is_file():
                try:
                    for line in gi.read_text("utf-8", errors="replace").splitlines():
                        rules.add(line, rel_dir)
                except OSError:
                    pass
        try:
            entries = list(os.scandir(abs_dir))
        except OSError as e:
            skipped.append((rel_dir or ".", f"cannot read folder: {e.strerror}"))
            continue
        for entry in entries:
            rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
                if rules.ignored(rel, is_dir):
                    continue
                if is_dir:
                    stack.append((rel, Path(entry.path)))
                    continue
                if not entry.is_file():
                    continue
                st = entry.stat()
            except OSError:
                continue
            is_note = entry.name.lower().endswith(exts)
            files.append(FileInfo(rel, st.st_mtime_ns, st.st_size, is_note))
    files.sort(key=lambda f: f.path)
    return files, skipped


def read_note(path: Path, max_bytes: int) -> ReadResult:
    """Read a note as text: binary and oversized files are skipped, invalid UTF-8 replaced and reported."""
    try:
        size = path.stat().st_size
        if size > max_bytes:
            return ReadResult(None, f"larger than the size limit ({size:,} > {max_bytes:,} bytes)")
        data = path.read_bytes()
    except OSError as e:
        return ReadResult(None, f"cannot read: {e.strerror or e}")
    return decode(data)


def decode(data: bytes) -> ReadResult:
    if b"\x00" in data[:8192]:
        return ReadResult(None, "binary file (contains NUL bytes)")
    try:
        return ReadResult(data.decode("utf-8"))
    except UnicodeDecodeError as e:
        text = data.decode("utf-8", errors="replace")
        return ReadResult(text, warning=f"invalid UTF-8 at byte {e.start}; undecodable bytes shown as U+FFFD")
