"""Document symbols (heading tree + pseudocode functions) and workspace symbols."""

from __future__ import annotations

from lsprotocol import types as t

from ponder.index import line_count, outline
from ponder.lsp.convert import document_symbols, workspace_symbols


def register(server) -> None:
    @server.feature(t.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
    async def document_symbol(ls, params: t.DocumentSymbolParams):
        def job(vault, conv, path, note):
            return document_symbols(conv, path, outline(note, line_count(vault.read_text(path) or "")))

        return await ls.query_note(params.text_document.uri, job, t.TEXT_DOCUMENT_DOCUMENT_SYMBOL, local=True)

    @server.feature(t.WORKSPACE_SYMBOL)
    async def workspace_symbol(ls, params: t.WorkspaceSymbolParams):
        def job(vault, conv):
            return workspace_symbols(conv, ls.session.symbols().search(params.query))

        return await ls.query(job, t.WORKSPACE_SYMBOL, default=[])
