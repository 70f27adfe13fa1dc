"""Syntax met in real vaults (Obsidian's help, GitHub-rendered RFC repositories) that a
structural check must read right: each case says what must be reported and what must stay
silent. The fixture text is written for these tests; only the syntax matches the real notes."""

from __future__ import annotations

from ponder.index.graph.checks import check_note
from ponder.index.graph.graph import Graph
from ponder.index.notes import Range
from ponder.index.parsing.markdown import parse_note


def vault(files: dict[str, str | None]) -> Graph:
    g = Graph()
    for path, text in files.items():
        if text is None:
            g.add_asset(path)
        else:
            g.put(parse_note(path, text))
    return g


def codes(g: Graph, path: str) -> list[tuple[str, int]]:
    return [(d.code, d.range.start.line) for d in check_note(g, path)]


# --- escaped alias bar in tables ----------------------------------------------------------------

TABLE = """# Планы
| Вид | Описание |
|---|---|
| [[Доска\\|доска]] | a [[Доска#^карточка-1\\|card]] and ![[схема.png\\|120]] |
| [[Нет такой\\|x]] | a stale link in a table is still reported |
"""


def test_escaped_pipe_is_the_alias_bar_not_part_of_the_name():
    note = parse_note("Планы.md", TABLE)
    got = [(l.target, l.block, l.alias, l.embed) for l in note.links]
    assert got == [
        ("Доска", None, "доска", False),
        ("Доска", "карточка-1", "card", False),
        ("схема.png", None, "120", True),
        ("Нет такой", None, "x", False),
    ]
    # the rename range covers the name only, never the backslash
    assert note.links[0].target_range == Range.of(3, 4, 3, 9)


def test_escaped_pipe_links_resolve_and_a_missing_one_is_still_reported():
    g = vault({"Планы.md": TABLE, "Доска.md": "# Доска\nПервая карточка ^карточка-1\n", "img/схема.png": None})
    # ^карточка-1 is not a block id (Latin letters, digits and dashes only): that report is true
    assert codes(g, "Планы.md") == [("broken-link", 3), ("broken-link", 4)]
    g = vault({"Планы.md": TABLE.replace("карточка-1", "card-1"), "Доска.md": "# Доска\nCard one ^card-1\n"})
    g.add_asset("img/схема.png")
    assert codes(g, "Планы.md") == [("broken-link", 4)]


# --- fences and headings inside blockquotes and callouts ------------------------------------------

QUOTED = """# Styling
> [!tip] Snippet
> ```css
> .theme-dark { color: red; }
> ```

> Nested quote:
> > ```js
> > let x = [[not a link]];
> > ```
> > ## Quoted heading

- item with code
  ```py
  x = 1
  ```

After the quotes [[Real link]] is prose.

> ## Prior art
> quoted template text

## Prior art
"""


def test_fences_in_callouts_and_nested_quotes_are_closed_and_the_rest_is_prose():
    note = parse_note("Styling.md", QUOTED)
    assert note.problems == []
    assert [cb.closed for cb in note.code_blocks] == [True, True, True]
    assert [cb.body_end - cb.body_start for cb in note.code_blocks] == [1, 1, 1]  # the `> ``` ` line is no body
    assert [l.target for l in note.links] == ["Real link"]


def test_headings_inside_quotes_are_anchors_not_the_notes_outline():
    note = parse_note("Styling.md", QUOTED)
    assert [h.text for h in note.headings] == ["Styling", "Prior art"]
    assert [a.name for a in note.anchors] == ["Quoted heading", "Prior art"]
    g = vault(
        {"Styling.md": QUOTED, "Real link.md": "# R\n[q](Styling.md#quoted-heading) [[Styling#Quoted heading]]\n"}
    )
    assert codes(g, "Styling.md") == []  # the quoted "Prior art" does not duplicate the real one
    assert codes(g, "Real link.md") == []  # GitHub gives a quoted heading an id: a link to it works


def test_a_fence_quote_ended_by_its_container_is_not_unclosed():
    note = parse_note("a.md", "> ```\n> code\n\nprose [[x]]\n")
    assert note.problems == []
    assert [l.target for l in note.links] == ["x"]


def test_a_real_unclosed_fence_is_still_reported():
    note = parse_note("a.md", "# A\n> quote\n\n```python\nx = 1\n[[code]]\n")
    assert [(p.code, p.range.start.line) for p in note.problems] == [("unclosed-fence", 3)]
    note = parse_note("a.md", "> ```python\n> x = 1\n")  # a quoted fence open at the end of the note
    assert [p.code for p in note.problems] == ["unclosed-fence"]


def test_a_backtick_in_a_backtick_fence_info_string_makes_no_fence():
    note = parse_note("a.md", "``` not`a fence\n[[Still prose]]\n")
    assert note.code_blocks == [] and note.problems == []
    assert [l.target for l in note.links] == ["Still prose"]
    note = parse_note("a.md", "~~~ info`ok\ncode [[no]]\n~~~\n")  # allowed for tildes
    assert note.links == [] and note.code_blocks[0].closed


# --- markdown links by bare name, folders -------------------------------------------------------


def test_markdown_link_by_bare_file_name_resolves_like_a_wikilink():
    g = vault(
        {
            "Docs/Intro.md": "![a](screen-dark.png#right) [n](Setup.md) [gone](Missing.md) [dir](../Attachments/)",
            "Guides/Setup.md": "# Setup\n",
            "Attachments/screen-dark.png": None,
        }
    )
    diags = check_note(g, "Docs/Intro.md")
    assert [d.data["target"] for d in diags] == ["Missing.md"]


def test_markdown_link_to_an_existing_folder_is_not_broken_but_to_a_missing_one_is():
    g = vault({"README.md": "[t](guides/templates/) [u](guides) [v](nowhere/)", "guides/templates/a.md": "# A\n"})
    assert [d.data["target"] for d in check_note(g, "README.md")] == ["nowhere/"]


# --- reference-style links -------------------------------------------------------------------------

REFS = """# Proposal
Follows [the earlier design][early] and [Sharding] and [sharding][] and [web], [see][gone].
A [bracketed aside] and [^1] are plain text. `[early]` in code is not a use.

[early]: 0007-early-design.md "the first take"
[Sharding]: #sharding
[web]: https://example.org/spec
[stale]: #no-such-section
[gone]: #renamed-section
[^1]: a footnote, not a link definition

## Sharding
"""


def test_reference_definitions_and_uses_are_links():
    note = parse_note("text/0100-proposal.md", REFS)
    got = [(l.kind, l.target, l.heading, l.ref, l.range.start.line) for l in note.links]
    assert got == [
        ("markdown", "0007-early-design.md", None, "EARLY", 1),
        ("markdown", "", "sharding", "SHARDING", 1),
        ("markdown", "", "sharding", "SHARDING", 1),
        ("url", "https://example.org/spec", None, "WEB", 1),
        ("markdown", "", "renamed-section", "GONE", 1),
        ("markdown", "0007-early-design.md", None, None, 4),
        ("markdown", "", "sharding", None, 5),
        ("url", "https://example.org/spec", None, None, 6),
        ("markdown", "", "no-such-section", None, 7),
        ("markdown", "", "renamed-section", None, 8),
    ]


def test_reference_targets_are_checked_once_at_the_definition_if_used():
    g = vault({"text/0100-proposal.md": REFS, "text/0007-early-design.md": "# Early\n"})
    # `[gone]` is used: its stale anchor is reported once, on the definition; `[stale]` is used
    # nowhere, renders nothing and is left alone
    assert codes(g, "text/0100-proposal.md") == [("broken-link", 8)]
    # a use counts as a link to the target (backlinks), the definition too
    assert len(g.backlinks("text/0007-early-design.md")) == 2
    g = vault({"text/0100-proposal.md": REFS})
    assert codes(g, "text/0100-proposal.md") == [("broken-link", 4), ("broken-link", 8)]


# --- citations in brackets -----------------------------------------------------------------------


def test_bracketed_citation_text_is_no_wikilink():
    text = "See [[1]](https://example.org/paper) and [[原文]] (https://example.org/zh) or [[版本]]（https://example.org/b）.\n"
    note = parse_note("a.md", text)
    assert [(l.kind, l.target, l.alias) for l in note.links] == [
        ("url", "https://example.org/paper", "[1]"),
        ("url", "https://example.org/zh", None),
        ("url", "https://example.org/b", None),
    ]


def test_a_wikilink_followed_by_parenthesised_prose_stays_a_wikilink():
    # `(not a url)` has a space: no link destination, so `[[Other]]` is not a link's text either
    note = parse_note("a.md", "Read [[Заметка]] (the long version) and [[Other]](not a url)\n")
    assert [l.target for l in note.links] == ["Заметка", "Other"]


# --- anchors: HTML ids, {#id}, GitHub duplicate suffixes, C# vs C++ -------------------------------

ANCHORS = """# Traits
<a id="coherence"></a>
Text with <span id="7">a numbered point</span> and <a name=old-name></a>.
`<a id="in-code">` is code.

#### Backtracking { #backtrack }

## Example
first
## Example
second

## C#
## C++
"""


def test_heading_attribute_id_is_the_anchor_and_not_in_the_text():
    note = parse_note("t.md", ANCHORS)
    h = next(h for h in note.headings if h.level == 4)
    assert (h.text, h.slug) == ("Backtracking", "backtrack")
    assert [a.name for a in note.anchors] == ["coherence", "7", "old-name"]


def test_html_ids_github_suffixes_and_heading_ids_resolve():
    links = "[a](t.md#coherence) [b](t.md#7) [c](t.md#old-name) [d](t.md#backtrack) [e](t.md#example-1) [f](t.md#c-1)"
    bad = " [g](t.md#in-code) [h](t.md#example-2)"
    g = vault({"t.md": ANCHORS, "u.md": links + bad})
    assert [d.data["heading"] for d in check_note(g, "u.md")] == ["in-code", "example-2"]


def test_duplicate_heading_compares_texts_not_slugs():
    # "C#" and "C++" share GitHub's base slug but are different headings; "Example" twice is real
    g = vault({"t.md": ANCHORS})
    assert [(d.code, d.data["heading"]) for d in check_note(g, "t.md")] == [("duplicate-heading", "Example")]


# --- block id straight after an embed -------------------------------------------------------------


def test_block_id_right_after_an_embed_is_a_block_id():
    note = parse_note("a.md", "![[history.png]]^history-image\nword^notid\n")
    assert [(b.id, b.line) for b in note.block_ids] == [("history-image", 0)]
    g = vault({"a.md": "![[history.png]]^history-image\n", "b.md": "![[a#^history-image]]", "history.png": None})
    assert codes(g, "b.md") == []


def test_heading_slug_uses_the_rendered_text_of_inline_links_and_tags():
    text = "# Guide - [Book](https://example.org/b) - [List](https://example.org/l)\n## A <code>tag</code>\n"
    text += "## Why `[dep.<name>]` and `Box<T>`?\n"  # inside code spans `<name>` is text, not a tag
    note = parse_note("r.md", text)
    assert [h.slug for h in note.headings] == ["guide---book---list", "a-tag", "why-depname-and-boxt"]
