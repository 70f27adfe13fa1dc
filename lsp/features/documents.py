"""Text synchronisation: open documents are parsed from the editor's text, not the disk.

Each change re-parses only that note (coalesced: a queued parse reads the latest text
when it runs) and schedules diagnostics for it and the notes that depend on it.
"""

from __future__ import annotations

from urllib.parse import unquote

from lsprotocol import types as t

from ponder.index.mentions import link_key
from ponder.index.model import Note
from ponder.index.text import fold
from ponder.index.vault import Vault

from .diagnostics import DEBOUNCE_S


def dependents(vault: Vault, path: str) -> set[str]:
    """Notes whose diagnostics may change when `path` changes: its backlinks and its functions' callers."""
    g = vault.graph
    out = {src for src, _ in g.backlinks(path)}
    note = g.notes.get(path)
    if note is not None:
        for fn in note.functions:
            out |= {p for p, _ in g.calls_to(fn.name)}
    return out


def affected_by_edit(vault: Vault, old: Note | None, new: Note) -> set[str]:
    """Other notes whose diagnostics an edit of `new.path` can change: notes linking to it, when
    its names or anchors (headings, block ids) changed; callers and other definitions of the
    functions it defines, when those changed. Most keystrokes change neither, and listing the
    backlinks loads every linking note (~100 at 20k notes), so the lookup waits for a reason."""
    g = vault.graph
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
    return tuple(h.text for h in note.headings), tuple(b.id for b in note.block_ids)


def register(server) -> None:
    queued: set[str] = set()

    async def sync(ls, uri: str, opened: bool = False) -> None:
        path = ls.path_of(uri)
        if path is None or ls.session is None or path in queued:
            return
        queued.add(path)

        def job(vault: Vault, _conv) -> set[str]:
            queued.discard(path)
            doc = ls.workspace.text_documents.get(unquote(uri))  # pygls keys open documents by the unquoted URI
            if doc is None:
                return set()
            # the notes on the other side of its conflicts follow from its own diagnostics
            # (`Diagnostics.publish`), not from a lookup on every keystroke
            old = vault.graph.notes.get(path)
            note = vault.open_document(path, doc.source)
            ls.session.versions[path] = doc.version
            ls.session.changed()
            return affected_by_edit(vault, old, note)

        try:
            affected = await ls.query(job, default=set())
        finally:
            queued.discard(path)
        if ls.diagnostics is not None:
            ls.diagnostics.schedule({path} | affected, delay=0 if opened else DEBOUNCE_S)
        if ls.contradictions is not None:
            ls.contradictions.changed(path)  # the model's judgement, debounced and in the background

    @server.feature(t.TEXT_DOCUMENT_DID_OPEN)
    async def did_open(ls, params: t.DidOpenTextDocumentParams) -> None:
        await sync(ls, params.text_document.uri, opened=True)  # no typing to wait for

    @server.feature(t.TEXT_DOCUMENT_DID_CHANGE)
    async def did_change(ls, params: t.DidChangeTextDocumentParams) -> None:
        await sync(ls, params.text_document.uri)

    @server.feature(t.TEXT_DOCUMENT_DID_SAVE)
    async def did_save(ls, params: t.DidSaveTextDocumentParams) -> None:
        path = ls.path_of(params.text_document.uri)
        if path is not None and ls.session is not None:
            # the store follows the disk; the open overlay keeps the editor's text
            await ls.query(lambda v, c: v.update(paths=[path]))

    @server.feature(t.TEXT_DOCUMENT_DID_CLOSE)
    async def did_close(ls, params: t.DidCloseTextDocumentParams) -> None:
        path = ls.path_of(params.text_document.uri)
        if path is None or ls.session is None:
            return

        def job(vault: Vault, _conv) -> set[str]:
            before = dependents(vault, path)
            vault.close_document(path)
            vault.update(paths=[path])
            ls.session.versions.pop(path, None)
            ls.session.changed()
            return before | dependents(vault, path)

        affected = await ls.query(job, default=set())
        if ls.contradictions is not None:
            ls.contradictions.closed(path)
        if ls.diagnostics is not None:
            ls.diagnostics.closed(path)
            ls.diagnostics.schedule(affected | {path})
