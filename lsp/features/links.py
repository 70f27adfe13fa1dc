"""Document links: every resolvable link in a note, clickable (headings jump to their line)."""

from __future__ import annotations

from lsprotocol import types as t

from ponder.index import navigate
from ponder.lsp.convert import document_links


def register(server) -> None:
    @server.feature(t.TEXT_DOCUMENT_DOCUMENT_LINK, t.DocumentLinkOptions(resolve_provider=False))
    async def links(ls, params: t.DocumentLinkParams):
        def job(vault, conv, path, note):
            return document_links(conv, path, navigate.document_links(vault.graph, note))

        return await ls.query_note(params.text_document.uri, job, t.TEXT_DOCUMENT_DOCUMENT_LINK)
