"""Which other notes' diagnostics a change to one note can change: what to re-check after an
edit, a save or a file changed on disk."""

from __future__ import annotations

from ponder.index.graph.graph import Graph
from ponder.index.notes import Note
from ponder.index.parsing.keys import link_key
from ponder.index.parsing.positions import fold


def dependents(g: Graph, path: str) -> set[str]:
    """Notes whose diagnostics may change when `path` changes: its backlinks and its functions' callers."""
    out = {src for src, _ in g.backlinks(path)}
    note = g.notes.get(path)
    if note is not None:
        for fn in note.functions:
            out |= {p for p, _ in g.calls_to(fn.name)}
    return out


def affected_by_edit(g: Graph, old: Note | None, new: Note) -> set[str]:
    """Other notes whose diagnostics an edit of `new.path` can change: notes linking to it, when
    its names or anchors (headings, block ids, HTML ids) changed; callers and other definitions of the
    functions it defines, when those changed. Most keystrokes change neither, and listing the
    backlinks loads every linking note (~100 at 20k notes), so the lookup waits for a reason."""
    out: set[str] = set()
    if old is None or old.aliases != new.aliases or _anchors(old) != _anchors(new):
        names = {link_key(new.path)} | {fold(a) for a in (*new.aliases, *(old.aliases if old else ()))}
        out.update(g.linking(names))  # every note with a link by one of its names: a superset is fine
    before = {(fn.name, fn.signature) for fn in old.functions} if old else set()
    after = {(fn.name, fn.signature) for fn in new.functions}
    for name in {n for n, _ in before ^ after}:
        out |= {p for p, _ in g.calls_to(name)} | {p for p, _ in g.definitions(name)}
    out.discard(new.path)
    return out


def _anchors(note: Note) -> tuple:
    """Everything a link's `#part` resolves to: headings by text or id, block ids, HTML ids and
    quoted headings (`find_heading`, `find_anchor`)."""
    return (
        tuple((h.text, h.slug) for h in note.headings),
        tuple(b.id for b in note.block_ids),
        tuple((a.name, a.slug) for a in note.anchors),
    )
