"""Text synchronisation: open documents are parsed from the editor's text, not the disk.

Each change re-parses only that note (coalesced: a queued parse reads the latest text
when it runs) and schedules diagnostics for it and the notes that depend on it.
"""

from __future__ import annotations

from lsprotocol import types as t

from ponder.index import Vault, affected_by_edit, dependents


def register(server) -> None:
    queued: set[str] = set()

    async def sync(ls, uri: str, opened: bool = False) -> None:
        path = ls.path_of(uri)
        if path is None or ls.session is None or path in queued:
            return
        queued.add(path)

        def job(vault: Vault, conv) -> tuple[set[str], list]:
            queued.discard(path)
            doc = ls.open_document(uri)
            if doc is None:
                return set(), []
            # the notes on the other side of its conflicts follow from its own diagnostics
            # (`Diagnostics.publish`), not from a lookup on every keystroke; a note just opened is
            # compared with its stored outline (names, anchors, functions: all that others use)
            old = vault.stored_outline(path) if opened else vault.graph.notes.get(path)
            note = vault.open_document(path, doc.source)
            ls.session.versions[path] = doc.version
            ls.session.changed()
            then = [f(vault, conv, path) for f in ls.opened_followers] if opened else []
            return affected_by_edit(vault.graph, old, note), then

        try:
            affected, then = await ls.query(job, default=(set(), []))
        finally:
            queued.discard(path)
        for follow in then:
            if follow is not None:
                follow()
        ls.events.document_changed.emit(path, affected, opened)

    @server.feature(t.TEXT_DOCUMENT_DID_OPEN)
    async def did_open(ls, params: t.DidOpenTextDocumentParams) -> None:
        await ls.adopt_root(params.text_document.uri)
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
            before = dependents(vault.graph, path)
            vault.close_document(path)
            vault.update(paths=[path])
            ls.session.versions.pop(path, None)
            ls.session.changed()
            return before | dependents(vault.graph, path)

        affected = await ls.query(job, default=set())
        ls.events.document_closed.emit(path, affected)
