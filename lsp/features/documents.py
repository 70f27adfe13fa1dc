"""Text synchronisation: open documents are parsed from the editor's text, not the disk.

Each change re-parses only that note (coalesced: a queued parse reads the latest text
when it runs) and schedules diagnostics for it and the notes that depend on it.
"""

from __future__ import annotations

from urllib.parse import unquote

from lsprotocol import types as t

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
            before = dependents(vault, path)
            old = vault.graph.notes.get(path)
            note = vault.open_document(path, doc.source)
            ls.session.versions[path] = doc.version
            ls.session.changed()
            # Links into this note only change target when its names do; recomputing
            # backlinks after every keystroke would cost a pass over the whole vault.
            if old is None or old.aliases != note.aliases:
                before |= dependents(vault, path)
            else:
                g = vault.graph
                for fn in note.functions:
                    before |= {p for p, _ in g.calls_to(fn.name)}
            return before

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
