"""Folding ranges: sections under headings, fenced blocks, front matter, pseudocode functions."""

from __future__ import annotations

from lsprotocol import types as t

from ponder.index import folding_ranges as folds
from ponder.index import split_lines
from ponder.lsp.convert import folding_ranges


def register(server) -> None:
    @server.feature(t.TEXT_DOCUMENT_FOLDING_RANGE)
    async def folding(ls, params: t.FoldingRangeParams):
        def job(vault, conv, path, note):
            return folding_ranges(folds(note, split_lines(vault.read_text(path) or "")))

        return await ls.query_note(params.text_document.uri, job, t.TEXT_DOCUMENT_FOLDING_RANGE, local=True)
