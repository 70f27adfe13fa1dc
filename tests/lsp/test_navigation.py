"""Definition, references, hover, document links, symbols and folding over tiny inline vaults."""

from __future__ import annotations

import pytest
from lsprotocol import types as t

PSEUDO = """# Загрузчик 🚀

```pseudo
FUNCTION upload(chunk, retries)
    RETURN send(chunk)
END FUNCTION
```
"""
SEND = """// transport
FUNCTION send(data)
    RETURN TRUE
END FUNCTION

PROCEDURE main()
    send(1)
END PROCEDURE
"""


def where(s, locs) -> list[tuple[str, int, int]]:
    return sorted((s.vault.path(l.uri), l.range.start.line, l.range.start.character) for l in locs or [])


async def check_definition(start, files, expected):
    s = await start(files)
    res = await s.client.text_document_definition_async(t.DefinitionParams(s.doc(), s.vault.cursor))
    assert where(s, res) == expected


async def check_references(start, files, expected, include_declaration=False):
    s = await start(files)
    res = await s.client.text_document_references_async(
        t.ReferenceParams(
            text_document=s.doc(), position=s.vault.cursor, context=t.ReferenceContext(include_declaration)
        )
    )
    assert where(s, res) == expected


async def check_hover(start, files, *contains, absent=()):
    s = await start(files)
    h = await s.client.text_document_hover_async(t.HoverParams(s.doc(), s.vault.cursor))
    assert h is not None, "no hover"
    for c in contains:
        assert c in h.contents.value, h.contents.value
    for a in absent:
        assert a not in h.contents.value, h.contents.value
    return h


@pytest.mark.parametrize(
    "files, expected",
    [
        ({"a.md": "x [[Заме$0тка]]", "notes/Заметка.md": "# Заметка\n"}, [("notes/Заметка.md", 0, 0)]),
        ({"a.md": "x [[b#Раздел 😀 д$0ва]]", "b.md": "# B\n\n## Раздел 😀 два\n"}, [("b.md", 2, 0)]),
        ({"a.md": "x ![[b#^bl$0k]]", "b.md": "# B\n\npara ^blk\n"}, [("b.md", 2, 5)]),
        ({"a.md": "x [t](sub/c.md$0)", "sub/c.md": "# C\n"}, [("sub/c.md", 0, 0)]),
        ({"u.md": PSEUDO.replace("send(chunk)", "se$0nd(chunk)"), "t.pseudo": SEND}, [("t.pseudo", 1, 9)]),
        ({"a.md": "x [[nowhere$0]]"}, []),
    ],
    ids=["wikilink-cyrillic", "heading-emoji", "embed-block", "markdown-path", "pseudo-call-other-file", "broken"],
)
async def test_definition(start, files, expected):
    await check_definition(start, files, expected)


@pytest.mark.parametrize(
    "files, expected, decl",
    [
        (
            {"b.md": "# B$0\n", "a.md": "[[b]] and [[B|x]]", "c.md": "[see](b.md)"},
            [("a.md", 0, 0), ("a.md", 0, 10), ("c.md", 0, 0)],
            False,
        ),
        (
            {"b.md": "# B\n\n## Раз$0дел\n", "a.md": "[[b#Раздел]] [[b]]", "c.md": "[x](b.md#раздел)"},
            [("a.md", 0, 0), ("c.md", 0, 0)],
            False,
        ),
        ({"b.md": "text ^bl$0k\n", "a.md": "[[b#^blk]] [[b#^other]]"}, [("a.md", 0, 0)], False),
        (
            {"u.md": PSEUDO, "t.pseudo": SEND.replace("FUNCTION send", "FUNCTION se$0nd")},
            [("t.pseudo", 1, 9), ("t.pseudo", 6, 4), ("u.md", 4, 11)],
            True,
        ),
        ({"a.md": "[[b$0]] x", "b.md": "# B", "c.md": "[[b]]"}, [("a.md", 0, 0), ("c.md", 0, 0)], False),
    ],
    ids=["note", "heading", "block", "pseudo-function", "via-link"],
)
async def test_references(start, files, expected, decl):
    await check_references(start, files, expected, decl)


async def test_hover_link_preview_strips_front_matter(start):
    files = {
        "a.md": "see [[b$0]]",
        "b.md": "---\ntitle: Бэ\nsecret: 42\n---\n\n# B\n\nпервый абзац\n",
        "c.md": "[[b]] [[b#B]]",
    }
    await check_hover(start, files, "**Бэ**", "`b.md`", "3 backlinks", "первый абзац", absent=("secret",))


async def test_hover_heading_section_is_capped(start):
    body = "\n".join(f"строка {i}" for i in range(200))
    files = {"a.md": "[[b#Длинный$0]]", "b.md": f"# B\n\n## Длинный\n\n{body}\n\n## Next\n\nnot shown\n"}
    h = await check_hover(start, files, "строка 0", "…", absent=("not shown", "строка 150"))
    assert len(h.contents.value) < 2500


async def test_hover_pseudocode(start):
    files = {"u.md": PSEUDO.replace("send(chunk)", "s$0end(chunk)"), "t.pseudo": SEND}
    await check_hover(start, files, "`send(data)`", "t.pseudo:2", "RETURN TRUE", "Used 2 times", "u.md:5")


async def test_hover_broken_link(start):
    await check_hover(start, {"a.md": "[[nope$0]]"}, "No note or file named `nope`")


async def test_document_links(start):
    s = await start({"a.md": "[[b]] [[b#H]] [x](https://e.org) [[gone]]$0", "b.md": "# B\n\n## H\n"})
    res = await s.client.text_document_document_link_async(t.DocumentLinkParams(s.doc()))
    targets = sorted(l.target for l in res)
    uri = s.vault.uri("b.md")
    assert targets == sorted([uri, uri + "#L3", "https://e.org"])


async def test_document_symbols_tree_with_functions(start):
    s = await start({"u.md": PSEUDO + "\n## Детали\n\ntext$0\n\n### Глубже\n"})
    res = await s.client.text_document_document_symbol_async(t.DocumentSymbolParams(s.doc()))
    assert [x.name for x in res] == ["Загрузчик 🚀"]
    top = res[0]
    assert [c.name for c in top.children] == ["upload", "Детали"]
    assert top.children[0].kind == t.SymbolKind.Function
    assert [c.name for c in top.children[1].children] == ["Глубже"]
    # the emoji counts as two UTF-16 units
    assert top.selection_range.end.character == len("# Загрузчик ") + 2


async def test_document_symbols_of_an_open_note_follow_each_edit(start):
    """An open note's outline is answered on the loop when the vault has its current text;
    asked right after an edit, it must still be the edited text's outline."""
    s = await start({"e.md": "# Один\n"})
    s.open("e.md")
    uri = t.TextDocumentIdentifier(s.vault.uri("e.md"))
    res = await s.client.text_document_document_symbol_async(t.DocumentSymbolParams(uri))
    assert [x.name for x in res] == ["Один"]
    for v in range(2, 12):
        s.change("e.md", v, [(t.Range(t.Position(v - 1, 0), t.Position(v - 1, 0)), f"# H{v} 🚀\n")])
        res = await s.client.text_document_document_symbol_async(t.DocumentSymbolParams(uri))
        assert [x.name for x in res][-1] == f"H{v} 🚀", v
        assert res[-1].selection_range.end.character == len(f"# H{v} ") + 2


async def test_workspace_symbols(start):
    s = await start({"a.md": "---\naliases: [Шардирование]\n---\n# Ключи\n", "b.pseudo": SEND, "c.md": "# Other$0\n"})
    res = await s.client.workspace_symbol_async(t.WorkspaceSymbolParams(query="шард"))
    assert [(x.name, x.kind) for x in res] == [("Шардирование", t.SymbolKind.Key)]
    res = await s.client.workspace_symbol_async(t.WorkspaceSymbolParams(query="send"))
    assert ("send(data)", t.SymbolKind.Function) in [(x.name, x.kind) for x in res]
    res = await s.client.workspace_symbol_async(t.WorkspaceSymbolParams(query="клчи"))  # fuzzy
    assert "Ключи" in [x.name for x in res]


async def test_folding_ranges(start):
    text = "---\na: 1\n---\n# A\n\ntext\n\n```pseudo\nFUNCTION f()\n    RETURN 1\nEND FUNCTION\n```\n\n## B\n\nmore$0\n"
    s = await start({"a.md": text})
    res = await s.client.text_document_folding_range_async(t.FoldingRangeParams(s.doc()))
    spans = {(f.start_line, f.end_line) for f in res}
    assert {(0, 2), (3, 15), (7, 11), (8, 10), (13, 15)} <= spans
