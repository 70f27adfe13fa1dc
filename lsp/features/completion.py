"""Completion: note names and aliases after `[[`, headings after `[[Note#`, blocks after
`[[Note#^`, tags after `#`, pseudocode functions inside pseudocode, paths after `](`."""

from __future__ import annotations

from lsprotocol import types as t

from ponder.index import complete, split_lines
from ponder.lsp.convert import completion_list


def register(server) -> None:
    options = t.CompletionOptions(trigger_characters=["[", "#", "^", "(", "/"], resolve_provider=False)

    @server.feature(t.TEXT_DOCUMENT_COMPLETION, options)
    async def completion(ls, params: t.CompletionParams):
        def job(vault, conv, path, note):
            lines = split_lines(vault.read_text(path) or "")
            pos = conv.pos_in(path, params.position)
            line = lines[pos.line] if pos.line < len(lines) else ""
            return completion_list(conv, path, complete(vault.graph, note, line, pos), snippets)

        snippets = ls.client_has("text_document.completion.completion_item.snippet_support")

        return await ls.query_note(params.text_document.uri, job, t.TEXT_DOCUMENT_COMPLETION)
