"""Text positions: code points <-> UTF-16 units <-> UTF-8 bytes, per line.

LSP counts characters in UTF-16 code units by default; Python strings count code
points. Everything the index stores is UTF-16; the conversions live here.
"""

from __future__ import annotations

import re
import unicodedata

_LINE_SPLIT = re.compile(r"\r\n|\r|\n")


def split_lines(text: str) -> list[str]:
    """Lines without their terminators (CRLF, CR and LF all end a line)."""
    if "\r" not in text:
        return text.split("\n")  # the same lines, a tenth of the time
    return _LINE_SPLIT.split(text)


def line_count(text: str) -> int:
    """`len(split_lines(text))` without building the lines."""
    if "\r" not in text:
        return text.count("\n") + 1
    return len(split_lines(text))


def utf16_len(s: str) -> int:
    """Length of `s` in UTF-16 code units (astral characters count twice)."""
    if s.isascii():
        return len(s)
    return len(s.encode("utf-16-le")) >> 1


def cp_to_utf16(line: str, cp: int) -> int:
    """Code-point column -> UTF-16 column on one line."""
    return utf16_len(line[:cp])


def utf16_to_cp(line: str, u16: int) -> int:
    """UTF-16 column -> code-point column (clamped to the line)."""
    if line.isascii():
        return min(u16, len(line))
    n = 0
    for i, c in enumerate(line):
        if n >= u16:
            return i
        n += 2 if ord(c) > 0xFFFF else 1
    return len(line)


def utf16_to_utf8(line: str, u16: int) -> int:
    return len(line[: utf16_to_cp(line, u16)].encode("utf-8"))


def utf8_to_utf16(line: str, b: int) -> int:
    return utf16_len(line.encode("utf-8")[:b].decode("utf-8", errors="ignore"))


_SLUG_DROP = re.compile(r"[^\w\- ]", re.UNICODE)


def slugify(text: str) -> str:
    """GitHub-style heading anchor, Unicode-aware: 'Шардирование и ключи' -> 'шардирование-и-ключи'."""
    s = unicodedata.normalize("NFC", text).strip().lower()
    s = _SLUG_DROP.sub("", s)
    return s.replace(" ", "-")


def github_slugs(texts: list[str]) -> list[str]:
    """The ids GitHub gives a document's headings, in order: `slugify`, and a repeated slug
    gets `-1`, `-2`, ... (github-slugger: the suffixed form must itself be unused)."""
    seen: dict[str, int] = {}
    out = []
    for text in texts:
        base = slug = slugify(text)
        while slug in seen:
            seen[base] += 1
            slug = f"{base}-{seen[base]}"
        seen[slug] = 0
        out.append(slug)
    return out


def fold(text: str) -> str:
    """Case- and form-insensitive key for matching names: NFC + casefold, 'ё' == 'е'."""
    return unicodedata.normalize("NFC", text).casefold().replace("ё", "е").strip()
