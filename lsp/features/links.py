"""Document links: every resolvable link in a note, clickable (headings jump to their line)."""

from __future__ import annotations

from lsprotocol import types as t

from ponder.index import navigate

from ..convert import document_links


def register(server) -> None:
    @server.feature(t.TEXT_DOCUMENT_DOCUMENT_LINK, t.DocumentLinkOptions(resolve_provider=False))
    async def links(ls, params: t.DocumentLinkParams):
        path = ls.path_of(params.text_document.uri)
        if path is None:
            return None

        def job(vault, conv):
            note = vault.graph.notes.get(path)
            return document_links(conv, path, navigate.document_links(vault.graph, note)) if note else None

        return await ls.query(job, t.TEXT_DOCUMENT_DOCUMENT_LINK)
