"""Folding ranges: sections under headings, fenced blocks, front matter, pseudocode functions."""

from __future__ import annotations

from lsprotocol import types as t

from ponder.index.symbols import folding_ranges as folds
from ponder.index.text import split_lines

from ..convert import folding_ranges


def register(server) -> None:
    @server.feature(t.TEXT_DOCUMENT_FOLDING_RANGE)
    async def folding(ls, params: t.FoldingRangeParams):
        path = ls.path_of(params.text_document.uri)
        if path is None:
            return None

        def job(vault, conv):
            note = vault.graph.notes.get(path)
            if note is None:
                return None
            return folding_ranges(folds(note, split_lines(vault.read_text(path) or "")))

        return await ls.query(job, t.TEXT_DOCUMENT_FOLDING_RANGE)
