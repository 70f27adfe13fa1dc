"""Completion: note names and aliases after `[[`, headings after `[[Note#`, blocks after
`[[Note#^`, tags after `#`, pseudocode functions inside pseudocode, paths after `](`."""

from __future__ import annotations

from lsprotocol import types as t

from ponder.index import complete
from ponder.lsp.convert import completion_list


def register(server) -> None:
    options = t.CompletionOptions(trigger_characters=["[", "#", "^", "(", "/"], resolve_provider=False)

    @server.feature(t.TEXT_DOCUMENT_COMPLETION, options)
    async def completion(ls, params: t.CompletionParams):
        # The position is in the text the editor had when it asked, which the vault may not
        # hold when the job runs: a parse queued behind other work reads the editor's latest
        # text, typed after this request (`[[шард]]` where the request saw `[[]]`, and the item
        # added a second `]]`). So the line is read from the text of the request.
        asked = ls.text_asked(params.text_document.uri)

        def job(vault, conv, path, note):
            if asked is not None:
                conv = conv.with_text(path, asked)
            pos = conv.pos_in(path, params.position)
            return completion_list(conv, path, complete(vault.graph, note, conv.line(path, pos.line), pos), snippets)

        snippets = ls.client_has("text_document.completion.completion_item.snippet_support")

        return await ls.query_note(params.text_document.uri, job, t.TEXT_DOCUMENT_COMPLETION)
