"""Find references: backlinks to a note, heading or block; calls of a pseudocode function."""

from __future__ import annotations

from lsprotocol import types as t

from ponder.index import navigate


def register(server) -> None:
    @server.feature(t.TEXT_DOCUMENT_REFERENCES)
    async def references(ls, params: t.ReferenceParams):
        path = ls.path_of(params.text_document.uri)
        if path is None:
            return None
        include = bool(params.context and params.context.include_declaration)

        def job(vault, conv):
            found = navigate.references(vault.graph, path, conv.pos_in(path, params.position), include)
            return [conv.location(loc) for loc in found]

        return await ls.query(job, t.TEXT_DOCUMENT_REFERENCES)
