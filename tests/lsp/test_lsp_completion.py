"""Completion after `[[`, `[[Note#`, `[[Note#^`, `#`, `](` and inside pseudocode."""

from __future__ import annotations

import asyncio

import pytest
from conftest import capabilities  # at import time: later, `conftest` may name another folder's
from lsprotocol import types as t

VAULT = {
    "notes/Шардирование.md": "---\naliases: [Sharding]\n---\n# Шардирование\n\n## Ключи шардов\n\n## "
    "Ребалансировка\n\nабзац ^rebal\n",
    "notes/Ёлка.md": "# Ёлка\n#проект/ёлка #todo\n",
    "design/api.md": "# API\n",
    "pseudo/net.pseudo": "FUNCTION send_chunk(data, retries)\n    RETURN TRUE\nEND FUNCTION\n",
}


async def check_completion(start, text: str, expected: list[str], exact: bool = False, path: str = "cur.md"):
    s = await start({**VAULT, path: text})
    res = await s.client.text_document_completion_async(t.CompletionParams(s.doc(), s.vault.cursor))
    labels = [i.label for i in (res.items if res else [])]
    if exact:
        assert labels == expected
    else:
        for e in expected:
            assert e in labels, labels
    return s, res


@pytest.mark.parametrize(
    "text, expected",
    [
        ("see [[шард$0", ["Шардирование"]),
        ("see [[елк$0", ["Ёлка"]),  # ё == е
        ("see [[shar$0", ["Sharding"]),  # aliases
        ("see [[шрд$0", ["Шардирование"]),  # fuzzy subsequence
        ("see [[Шардирование#ключ$0", ["Ключи шардов"]),
        ("see [[Шардирование#^$0", ["rebal"]),
        ("tags #про$0", ["проект/ёлка"]),
        ("link [api](des$0", ["design/api.md"]),
    ],
    ids=["note", "yo", "alias", "fuzzy", "heading", "block", "tag", "md-path"],
)
async def test_completion(start, text, expected):
    await check_completion(start, text, expected)


async def test_completion_inserts_link_text_and_closes(start):
    s, res = await check_completion(start, "x [[шард$0 y", ["Шардирование"])
    item = next(i for i in res.items if i.label == "Шардирование")
    assert item.text_edit.new_text == "Шардирование]]"
    r = item.text_edit.range
    assert (r.start.character, r.end.character) == (4, 8)
    s, res = await check_completion(start, "x [[shar$0]] y", ["Sharding"])
    alias = next(i for i in res.items if i.label == "Sharding")
    assert alias.text_edit.new_text == "Шардирование|Sharding"  # `]]` already there


async def test_completion_markdown_path_relative_to_note(start):
    await check_completion(start, "link [api](../des$0", ["../design/api.md"], path="notes/cur.md")


async def test_completion_markdown_path_from_vault_root(start):
    # `/design/api.md` resolves from the vault root, so completion offers that form after `/`
    s, res = await check_completion(start, "link [api](/des$0", ["/design/api.md"], path="notes/cur.md")
    assert next(i for i in res.items if i.label == "/design/api.md").text_edit.new_text == "/design/api.md"


async def test_completion_pseudocode_functions_with_signatures(start):
    s, res = await check_completion(start, "# P\n\n```pseudo\nx <- sen$0\n```\n", ["send_chunk"])
    item = next(i for i in res.items if i.label == "send_chunk")
    assert item.detail == "send_chunk(data, retries)"
    assert item.kind == t.CompletionItemKind.Function


async def test_completion_after_emoji_uses_utf16_columns(start):
    s, res = await check_completion(start, "😀😀 [[шар$0", ["Шардирование"])
    r = res.items[0].text_edit.range
    assert (r.start.character, r.end.character) == (7, 10)


async def test_no_completion_in_plain_prose(start):
    await check_completion(start, "just words$0", [], exact=True)


async def test_names_with_spaces_are_inserted_whole(start):
    """Neovim inserts a plain-text edit only up to its first space: items are snippets (to a
    client that supports them) whose whole text replaces what was typed after `[[`, closing
    `]]` included, and whose filterText starts with what was typed, as typed."""
    files = {
        "Внутренние ссылки.md": "# Внутренние ссылки\n\n## Как это работает\n",
        "Cost $5 {draft}.md": "# Cost\n",
        "cur.md": "see [[внутр$0\n",
    }
    s = await start(files)
    s.open("cur.md")
    res = await s.client.text_document_completion_async(t.CompletionParams(s.doc(), s.vault.cursor))
    item = next(i for i in res.items if i.label == "Внутренние ссылки")
    assert item.insert_text_format == t.InsertTextFormat.Snippet
    assert item.text_edit.new_text == "Внутренние ссылки]]"
    assert (item.text_edit.range.start.character, item.text_edit.range.end.character) == (6, 11)
    assert item.filter_text == "внутренние ссылки"  # what was typed, then the label's tail

    s.change("cur.md", 2, [(t.Range(t.Position(0, 0), t.Position(0, 11)), "see [[Внутренние ссылки#как]]")])
    res = await s.client.text_document_completion_async(t.CompletionParams(s.doc(), t.Position(0, 27)))
    item = next(i for i in res.items if i.label == "Как это работает")
    assert item.text_edit.new_text == "Как это работает" and item.filter_text == "как это работает"

    s.change("cur.md", 3, [(t.Range(t.Position(0, 0), t.Position(0, 29)), "see [[cost")])
    res = await s.client.text_document_completion_async(t.CompletionParams(s.doc(), t.Position(0, 10)))
    item = next(i for i in res.items if i.label == "Cost $5 {draft}")
    assert item.text_edit.new_text == "Cost \\$5 {draft\\}]]"  # a snippet that expands to the name


async def test_plain_text_edits_for_clients_without_snippets(start):
    caps = capabilities()
    caps.text_document.completion.completion_item.snippet_support = False
    s = await start({"Внутренние ссылки.md": "# В\n", "cur.md": "see [[ссыл$0\n"}, caps=caps)
    res = await s.client.text_document_completion_async(t.CompletionParams(s.doc(), s.vault.cursor))
    item = next(i for i in res.items if i.label == "Внутренние ссылки")
    assert item.insert_text_format in (None, t.InsertTextFormat.PlainText)
    assert item.text_edit.new_text == "Внутренние ссылки]]" and item.filter_text == "ссылВнутренние ссылки"


async def test_completion_reads_the_text_the_request_was_sent_for(start):
    """An edit typed after the request (VS Code sends one per key while the answer is on its way)
    must not change the answer: with the index thread busy, the parse of `[[]]` runs only after
    `шард` was typed into it, and the item then closed a link that was already closed (`]]]]`,
    seen in code-server)."""
    s = await start({**VAULT, "cur.md": "# Cur\n\nСм. \n"}, env={"PONDER_DEBUG_SLOW": "workspace/symbol=1500"})
    s.open("cur.md")
    await s.client.text_document_document_symbol_async(t.DocumentSymbolParams(s.doc("cur.md")))  # after the open
    busy = asyncio.ensure_future(s.client.workspace_symbol_async(t.WorkspaceSymbolParams(query="x")))
    await asyncio.sleep(0.3)  # the slow job holds the index thread
    s.change("cur.md", 2, [(t.Range(t.Position(2, 4), t.Position(2, 4)), "[[]]")])
    # sent now, between the two edits (pytest-lsp's `send_request_async` sends when awaited)
    asked = asyncio.wrap_future(
        s.client.protocol.send_request(
            t.TEXT_DOCUMENT_COMPLETION, t.CompletionParams(s.doc("cur.md"), t.Position(2, 6))
        )
    )
    s.change("cur.md", 3, [(t.Range(t.Position(2, 6), t.Position(2, 6)), "шард")])
    res = await asyncio.wait_for(asked, 10)
    await busy
    item = next(i for i in res.items if i.label == "Шардирование")
    assert item.text_edit.new_text == "Шардирование"  # `]]` follows the cursor in the text asked about
    r = item.text_edit.range
    assert (r.start.line, r.start.character, r.end.character) == (2, 6, 6)
