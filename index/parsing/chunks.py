"""Split a note into embedding chunks that follow its structure.

A chunk is a heading section (front matter and fences' markup excluded), split at
blank lines, then at line ends, until it fits the embedding window. Each chunk keeps
its exact range and its heading path, which prefixes the text that is embedded.
"""

from __future__ import annotations

from ponder.index.notes import Chunk, Note, Range
from ponder.index.parsing.positions import split_lines, utf16_len


def _tokens(text: str) -> int:
    """A cheap token estimate (sub-word models split ~1.3 pieces per word)."""
    return int(len(text.split()) * 1.3) + 1


def chunk_note(note: Note, max_tokens: int = 200) -> list[Chunk]:
    lines = split_lines(note.text[1:] if note.text.startswith("\ufeff") else note.text)
    first = note.front_matter_range.end.line + 1 if note.front_matter_range else 0
    starts = sorted({h.range.start.line for h in note.headings if h.range.start.line >= first})
    bounds = [first, *[s for s in starts if s > first], len(lines)]
    chunks: list[Chunk] = []
    heading_at = {h.range.start.line: i for i, h in enumerate(note.headings)}
    for a, b in zip(bounds, bounds[1:]):
        section_heading = heading_at.get(a)
        if section_heading is None:
            # text before the first heading belongs to no heading; after it, to the heading above
            above = [i for i, h in enumerate(note.headings) if h.range.start.line < a]
            section_heading = above[-1] if above else None
        path = tuple(note.heading_path(section_heading)) or (note.title,)
        if a in heading_at and note.headings[heading_at[a]].range.end.line == a:
            a += 1  # the heading's own line is already the chunk's prefix
        for s, e in _split(lines, a, b, max_tokens):
            text = "\n".join(lines[s:e]).strip()
            if not text:
                continue
            while s < e and not lines[s].strip():
                s += 1
            while e > s and not lines[e - 1].strip():
                e -= 1
            chunks.append(Chunk(len(chunks), path, text, Range.of(s, 0, e - 1, utf16_len(lines[e - 1]))))
    return chunks


def _split(lines: list[str], a: int, b: int, max_tokens: int) -> list[tuple[int, int]]:
    """Line spans within [a, b) each under max_tokens: whole, else by paragraphs, else by lines."""
    if _tokens(" ".join(lines[a:b])) <= max_tokens:
        return [(a, b)]
    paras: list[tuple[int, int]] = []
    s = a
    for i in range(a, b):
        if not lines[i].strip():
            if i > s:
                paras.append((s, i))
            s = i + 1
    if s < b:
        paras.append((s, b))
    out: list[tuple[int, int]] = []
    cur_s, cur_tokens = None, 0
    for ps, pe in paras:
        t = _tokens(" ".join(lines[ps:pe]))
        if t > max_tokens:
            if cur_s is not None:
                out.append((cur_s, ps))
                cur_s, cur_tokens = None, 0
            out.extend(_by_lines(lines, ps, pe, max_tokens))
            continue
        if cur_s is not None and cur_tokens + t > max_tokens:
            out.append((cur_s, ps))
            cur_s, cur_tokens = None, 0
        if cur_s is None:
            cur_s = ps
        cur_tokens += t
    if cur_s is not None:
        out.append((cur_s, b))
    return out


def _by_lines(lines: list[str], a: int, b: int, max_tokens: int) -> list[tuple[int, int]]:
    out, s, t = [], a, 0
    for i in range(a, b):
        lt = _tokens(lines[i])
        if i > s and t + lt > max_tokens:
            out.append((s, i))
            s, t = i, 0
        t += lt
    out.append((s, b))
    return out
