"""Split a paragraph into sentences, keeping each sentence's exact start and end.

Facts and embeddings work per sentence; diagnostics point at one, so the ranges
must be exact even when a sentence wraps over lines or sits in a list item.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterator

# A boundary: terminal punctuation (optionally closed by quotes/brackets), whitespace,
# then something that can start a sentence (capital, digit, quote, markup), in either script.
_BOUNDARY = re.compile(r"(?<=[.!?…])[\"'»)\]*_]*\s+(?=[\"'«(\[*_`]*[A-ZА-ЯЁ0-9])")
# Abbreviations after which a period does not end a sentence (English and Russian).
_ABBREV = re.compile(
    r"(?:\b(?:e\.g|i\.e|etc|vs|cf|approx|incl|esp|Dr|Mr|Mrs|Ms|No|Fig|al|т\.е|т\.к|т\.д|т\.п|напр|см|др|пр|г|гг|ср|им|ок)\.)$",
    re.IGNORECASE,
)

Span = tuple[tuple[int, int], tuple[int, int], str]


def split_sentences(lines: list[str], start: int, end: int, strip_marker: Callable[[str], int]) -> Iterator[Span]:
    """Yield ((line, col), (line, col), text) per sentence in lines[start:end]; columns are code points."""
    pieces: list[str] = []
    offsets: list[int] = []  # offset in the joined text where each line's content starts
    origins: list[tuple[int, int]] = []  # (line, first column) of each piece
    pos = 0
    for ln in range(start, min(end, len(lines))):
        line = lines[ln]
        lead = strip_marker(line) if ln == start else _continuation_lead(line, strip_marker)
        content = line[lead:].rstrip()
        if not content:
            continue
        if pieces:
            pieces.append(" ")
            pos += 1
        offsets.append(pos)
        origins.append((ln, lead))
        pieces.append(content)
        pos += len(content)
    text = "".join(pieces)
    if not text.strip():
        return

    def where(i: int) -> tuple[int, int]:
        k = bisect.bisect_right(offsets, i) - 1
        ln, lead = origins[k]
        return ln, lead + (i - offsets[k])

    cut = 0
    for m in _BOUNDARY.finditer(text):
        if _ABBREV.search(text, max(cut, m.start() - 12), m.start()):
            continue
        yield from _piece(text, where, cut, m.start())
        cut = m.end()
    yield from _piece(text, where, cut, len(text))


def _continuation_lead(line: str, strip_marker: Callable[[str], int]) -> int:
    n = strip_marker(line)
    return n + (len(line) - n - len(line[n:].lstrip()))


def _piece(text: str, where, a: int, b: int) -> Iterator[Span]:
    while a < b and text[a].isspace():
        a += 1
    while b > a and text[b - 1].isspace():
        b -= 1
    if b <= a:
        return
    (le, ce) = where(b - 1)
    yield where(a), (le, ce + 1), text[a:b]
