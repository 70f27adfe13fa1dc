"""What a note mentions and defines, as folded names: the keys cross-note questions use.

The store indexes these per note, so "which notes link to X" or "who calls f" is one
SQL lookup instead of a scan of every note.
"""

from __future__ import annotations

from functools import lru_cache

from ponder.index.notes import Note, Range
from ponder.index.parsing.positions import fold


@lru_cache(maxsize=1 << 16)  # a backlink count tests every link of every linking note
def link_key(target: str) -> str:
    """The folded name a link target ends in: '../x/My Note.md' -> 'my note'; '' for the same note."""
    base = target.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
    for ext in (".md", ".markdown", ".pseudo"):
        if base.lower().endswith(ext):
            base = base[: -len(ext)]
            break
    return fold(base)


def note_keys(note: Note) -> set[tuple[str, str]]:
    """(kind, folded name) a note refers to or defines: `link`, `call`, `def`, `tag`."""
    out: set[tuple[str, str]] = set()
    for link in note.links:
        if link.kind != "url":
            out.add(("link", link_key(link.target)))
    out.update(("call", fold(c.name)) for c in note.calls)
    out.update(("def", fold(f.name)) for f in note.functions)
    out.update(("tag", t.name) for t in note.tags)
    return out


def note_symbols(note: Note) -> list[tuple[str, str, str, Range]]:
    """(kind, name, detail, range) for workspace-symbol search."""
    whole = Range.of(0, 0)
    out = [("note", note.title or note.name, note.path, whole)]
    if note.name != note.title:
        out.append(("note", note.name, note.path, whole))
    out += [("alias", a, note.title, whole) for a in note.aliases]
    out += [("heading", h.text, " > ".join(note.heading_path(h.parent)), h.range) for h in note.headings]
    out += [("function", f.name, f.signature, f.name_range) for f in note.functions]
    return out
