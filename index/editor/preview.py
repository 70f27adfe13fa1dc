"""Short previews of notes, sections and pseudocode definitions, for hover.

Each function returns markdown-ready plain text (front matter stripped, capped in
size) built from a note and its text; nothing here knows about the protocol.
"""

from __future__ import annotations

from dataclasses import dataclass

from ponder.index.graph.graph import Graph
from ponder.index.notes import Heading, Note
from ponder.index.parsing.positions import split_lines

MAX_LINES = 30
MAX_CHARS = 1500


def _cap(lines: list[str], max_lines: int = MAX_LINES, max_chars: int = MAX_CHARS) -> str:
    while lines and not lines[0].strip():
        lines = lines[1:]
    while lines and not lines[-1].strip():
        lines = lines[:-1]
    out, size, cut = [], 0, False
    for ln in lines:
        if len(out) >= max_lines or size + len(ln) > max_chars:
            cut = True
            break
        out.append(ln)
        size += len(ln) + 1
    if cut:
        out.append("…")
    return "\n".join(out)


def section_lines(note: Note, lines: list[str], heading: Heading | None) -> tuple[int, int]:
    """[start, end) lines of the section under `heading` (the whole body when None)."""
    if heading is None:
        start = note.front_matter_range.end.line + 1 if note.front_matter_range else 0
        return start, len(lines)
    start = heading.range.start.line
    end = len(lines)
    for h in note.headings:
        if h.range.start.line > start and h.level <= heading.level:
            end = h.range.start.line
            break
    return start, end


def paragraph_lines(lines: list[str], line: int) -> tuple[int, int]:
    """[start, end) of the paragraph (run of non-blank lines) around `line`."""
    start = line
    while start > 0 and lines[start - 1].strip():
        start -= 1
    end = line + 1
    while end < len(lines) and lines[end].strip():
        end += 1
    return start, end


def note_preview(note: Note, text: str, heading: Heading | None = None, block_line: int | None = None) -> str:
    """The target of a link as it would read: a block's paragraph, a heading's section, or the note."""
    lines = split_lines(text)
    if block_line is not None and block_line < len(lines):
        start, end = paragraph_lines(lines, block_line)
    else:
        start, end = section_lines(note, lines, heading)
    return _cap(lines[start:end])


@dataclass(frozen=True, slots=True)
class FunctionInfo:
    name: str
    signature: str
    kind: str
    path: str
    line: int
    source: str  # the definition's text (capped)
    used_in: list[tuple[str, int]]  # (path, line) of calls
    calls: int


def function_info(graph: Graph, name: str, texts) -> list[FunctionInfo]:
    """Every definition of `name` with its text and where it is called; `texts(path)` gives a file's text."""
    calls = graph.calls_to(name)
    used = sorted({(p, c.range.start.line) for p, c in calls})
    out = []
    for path, fn in graph.definitions(name):
        text = texts(path) or ""
        lines = split_lines(text)
        src = _cap(lines[fn.range.start.line : fn.range.end.line + 1], max_lines=25)
        out.append(FunctionInfo(fn.name, fn.signature, fn.kind, path, fn.range.start.line, src, used, len(calls)))
    return out
