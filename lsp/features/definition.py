"""Go to definition: link -> note / heading / block, embed -> target, pseudocode call -> definition."""

from __future__ import annotations

from lsprotocol import types as t

from ponder.index import navigate


def register(server) -> None:
    @server.feature(t.TEXT_DOCUMENT_DEFINITION)
    async def definition(ls, params: t.DefinitionParams):
        path = ls.path_of(params.text_document.uri)
        if path is None:
            return None

        def job(vault, conv):
            found = navigate.definition(vault.graph, path, conv.pos_in(path, params.position))
            return [conv.location(loc) for loc in found] or None

        return await ls.query(job, t.TEXT_DOCUMENT_DEFINITION)
