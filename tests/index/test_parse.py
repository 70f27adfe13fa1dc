"""Parser edge cases, each with the exact expected range (0-based line, UTF-16 column)."""

from __future__ import annotations

import pytest

from ponder.index.notes import Range
from ponder.index.parsing.markdown import parse_note
from ponder.index.store.files import decode, read_note


def links(text: str, path: str = "a.md"):
    return [(l.kind, l.target, l.heading, l.block, l.alias, l.embed, l.range) for l in parse_note(path, text).links]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("see [[Note]] here", ("wiki", "Note", None, None, None, False, Range.of(0, 4, 0, 12))),
        ("[[Note#Some Heading]]", ("wiki", "Note", "Some Heading", None, None, False, Range.of(0, 0, 0, 21))),
        ("[[Note#^abc-1]]", ("wiki", "Note", None, "abc-1", None, False, Range.of(0, 0, 0, 15))),
        ("[[Note|alias text]]", ("wiki", "Note", None, None, "alias text", False, Range.of(0, 0, 0, 19))),
        ("[[Note#H|al]]", ("wiki", "Note", "H", None, "al", False, Range.of(0, 0, 0, 13))),
        ("x ![[image.png]]", ("wiki", "image.png", None, None, None, True, Range.of(0, 2, 0, 16))),
        ("[[#Local]]", ("wiki", "", "Local", None, None, False, Range.of(0, 0, 0, 10))),
        (
            "[t](dir/My%20Note.md#anchor)",
            ("markdown", "dir/My Note.md", "anchor", None, "t", False, Range.of(0, 0, 0, 28)),
        ),
        ("[t](<with space.md>)", ("markdown", "with space.md", None, None, "t", False, Range.of(0, 0, 0, 20))),
        (
            "[t](https://example.com/a#b)",
            ("url", "https://example.com/a#b", None, None, "t", False, Range.of(0, 0, 0, 28)),
        ),
        ("Ссылка на [[Заметка]] тут", ("wiki", "Заметка", None, None, None, False, Range.of(0, 10, 0, 21))),
        # an emoji is two UTF-16 units: the link starts at column 3, not 2
        ("🎉 [[Note]]", ("wiki", "Note", None, None, None, False, Range.of(0, 3, 0, 11))),
    ],
)
def test_link_forms(text, expected):
    assert links(text) == [expected]


def test_wikilink_target_range_excludes_anchor_and_alias():
    (link,) = parse_note("a.md", "ab [[Про ект#H|x]]").links
    assert link.target_range == Range.of(0, 5, 0, 12)


def test_links_in_code_are_not_links():
    text = "`[[no]]` and ``[[no2]]``\n```\n[[no3]]\n```\n    [[indented code]]\n\n[[yes]]\n"
    assert [l.target for l in parse_note("a.md", text).links] == ["yes"]


def test_nested_fence_keeps_inner_fence_as_code():
    text = "````md\n```pseudo\nFUNCTION f()\nEND\n```\n[[no]]\n````\n[[yes]]"
    note = parse_note("a.md", text)
    assert [l.target for l in note.links] == ["yes"]
    assert [(b.lang, b.range) for b in note.code_blocks] == [("md", Range.of(0, 0, 6, 4))]
    assert note.functions == []  # the inner pseudo fence is content of an md block


def test_unclosed_fence_is_reported_and_rest_is_code():
    note = parse_note("a.md", "# T\n```python\nx = 1\n[[not a link]]\n")
    assert note.links == []
    assert [(p.code, p.range) for p in note.problems] == [("unclosed-fence", Range.of(1, 0, 1, 9))]
    assert note.code_blocks[0].closed is False


def test_front_matter_aliases_tags_and_other_keys():
    text = "---\ntitle: Заголовок\naliases: [Один, Two]\ntags: [a, b/c]\nstatus: accepted\n---\n# H\n"
    note = parse_note("n.md", text)
    assert note.title == "Заголовок"
    assert note.aliases == ["Один", "Two"]
    assert [t.name for t in note.tags] == ["a", "b/c"]
    assert note.front_matter["status"] == "accepted"
    assert note.front_matter_range == Range.of(0, 0, 5, 3)
    assert note.headings[0].range == Range.of(6, 0, 6, 3)


def test_broken_yaml_is_a_problem_and_the_rest_still_parses():
    text = "---\ntitle: [unclosed\nfoo: bar\n---\n# Heading\n[[Link]]\n"
    note = parse_note("n.md", text)
    assert [p.code for p in note.problems] == ["front-matter"]
    assert note.problems[0].range.start.line in (1, 2, 3)
    assert [h.text for h in note.headings] == ["Heading"]
    assert [l.target for l in note.links] == ["Link"]


def test_front_matter_that_is_not_a_mapping():
    note = parse_note("n.md", "---\n- a\n- b\n---\ntext")
    assert [p.code for p in note.problems] == ["front-matter"]


def test_tags_block_ids_and_headings():
    text = (
        "# Title #not-a-tag-in-heading?\nText #tag/sub and #тег, not a#b or #123 or "
        "[x](y#z).\nA paragraph ^para-1\n\nSetext\n======\n"
    )
    note = parse_note("a.md", text)
    assert [(t.name, t.range) for t in note.tags if t.range.start.line == 1] == [
        ("tag/sub", Range.of(1, 5, 1, 13)),
        ("тег", Range.of(1, 18, 1, 22)),
    ]
    assert [(b.id, b.range) for b in note.block_ids] == [("para-1", Range.of(2, 12, 2, 19))]
    assert [(h.level, h.text, h.slug) for h in note.headings] == [
        (1, "Title #not-a-tag-in-heading?", "title-not-a-tag-in-heading"),
        (1, "Setext", "setext"),
    ]


def test_heading_tree_and_slugs():
    note = parse_note("a.md", "# A\n## Ключ шарда\n### C\n## D ##\n")
    assert [(h.text, h.slug, h.parent) for h in note.headings] == [
        ("A", "a", None),
        ("Ключ шарда", "ключ-шарда", 0),
        ("C", "c", 1),
        ("D", "d", 0),
    ]


def test_pseudo_blocks_and_target_language():
    text = "intro\n```pseudo python\nFUNCTION f(a, b)\n    RETURN g(a) + LEN(b)\nEND FUNCTION\n```\n"
    note = parse_note("a.md", text)
    (block,) = note.code_blocks
    assert block.is_pseudo and block.target_language == "python"
    assert (block.body_start, block.body_end) == (2, 5)
    (fn,) = note.functions
    assert (fn.name, fn.signature, fn.range, fn.name_range) == (
        "f",
        "f(a, b)",
        Range.of(2, 0, 4, 12),
        Range.of(2, 9, 2, 10),
    )
    # LEN is a primitive by convention, RETURN a keyword: only g is a call
    assert [(c.name, c.range) for c in note.calls] == [("g", Range.of(3, 11, 3, 12)), ("LEN", Range.of(3, 18, 3, 21))]


def test_russian_pseudocode_file():
    text = (
        "ФУНКЦИЯ сумма(а, б)\n    ЕСЛИ а > 0 ТО\n        ВЕРНУТЬ сложить(а, б)\n    КОНЕЦ "
        "ЕСЛИ\nКОНЕЦ ФУНКЦИИ\n\nпроцедура печать(x)\n    вывести(x) // вызов(в "
        "комментарии)\nконец\n"
    )
    note = parse_note("p.pseudo", text)
    assert [(f.name, f.kind, f.params, f.range.start.line, f.range.end.line) for f in note.functions] == [
        ("сумма", "ФУНКЦИЯ", ("а", "б"), 0, 4),
        ("печать", "ПРОЦЕДУРА", ("x",), 6, 8),
    ]
    assert [c.name for c in note.calls] == ["сложить", "вывести"]


def test_method_calls_strings_and_comments_are_not_calls():
    note = parse_note(
        "p.pseudo", 'FUNCTION f()\n  x <- obj.method(1)\n  LOG "call(me)"\n  # helper(2)\n  y <- real(3)\nEND\n'
    )
    assert [c.name for c in note.calls] == ["real"]


def test_sentences_have_exact_ranges():
    text = (
        "# H\n\nFirst one. Second\nwraps here! Третье предложение.\n\n- item with e.g. "
        "abbreviation. Next sentence.\n\n| a | b |\n|---|---|\n| 1 | 2 |\n"
    )
    note = parse_note("a.md", text)
    got = [(s.kind, s.text, s.range) for s in note.sentences]
    assert got == [
        ("sentence", "First one.", Range.of(2, 0, 2, 10)),
        ("sentence", "Second wraps here!", Range.of(2, 11, 3, 11)),
        ("sentence", "Третье предложение.", Range.of(3, 12, 3, 31)),
        ("item", "item with e.g. abbreviation.", Range.of(5, 2, 5, 30)),
        ("item", "Next sentence.", Range.of(5, 31, 5, 45)),
        ("row", "| a | b |", Range.of(7, 0, 7, 9)),
        ("row", "| 1 | 2 |", Range.of(9, 0, 9, 9)),
    ]
    assert all(s.heading == 0 for s in note.sentences)


def test_crlf_and_bom():
    note = parse_note("a.md", "\ufeff# Title\r\nSee [[Other]].\r\n")
    assert note.headings[0].range == Range.of(0, 0, 0, 7)
    assert note.links[0].range == Range.of(1, 4, 1, 13)


def test_invalid_utf8_is_replaced_and_reported():
    res = decode("ok [[Link]] \xff\xfe bad".encode("latin-1"))
    assert res.text is not None and "\ufffd" in res.text
    assert res.warning and "invalid UTF-8" in res.warning


def test_binary_and_oversized_files_are_skipped(tmp_path):
    (tmp_path / "bin.md").write_bytes(b"\x00\x01\x02abc")
    (tmp_path / "big.md").write_text("x" * 2000)
    assert "binary" in (read_note(tmp_path / "bin.md", 10_000).skip_reason or "")
    assert "size limit" in (read_note(tmp_path / "big.md", 1000).skip_reason or "")


def test_title_falls_back_to_h1_then_file_name():
    assert parse_note("dir/my note.md", "# Real Title\n").title == "Real Title"
    assert parse_note("dir/my note.md", "no heading").title == "my note"


def test_warm_up_note_runs_every_path_of_the_parse():
    """`warm_up` parses this note so that a user's first opened note does not pay for the
    parser's first run: it must keep reaching every kind of thing the parse finds."""
    from ponder.index.parsing.markdown import _WARM_UP_NOTE

    note = parse_note("warm-up.md", _WARM_UP_NOTE)
    kinds = {(l.kind, l.ref is not None) for l in note.links}
    assert {("wiki", False), ("markdown", False), ("url", False), ("url", True)} <= kinds, kinds
    assert note.aliases == ["Warm"] and [t.name for t in note.tags][-1] == "tag"
    assert [b.id for b in note.block_ids] == ["block"] and [f.name for f in note.functions] == ["f"]
    assert [h.text for h in note.headings] == ["Warm up", "Lists and quotes"]
    assert {a.slug for a in note.anchors} >= {"anchor"}
    assert [c.lang for c in note.code_blocks] == ["pseudo"] and note.sentences and not note.problems


def test_vault_warm_up_leaves_the_vault_as_it_was(tmp_path):
    from ponder.index import Vault

    (tmp_path / "a.md").write_text("# A\n", "utf-8")
    v = Vault(tmp_path)
    v.update()
    v.warm_up()
    assert sorted(v.graph.notes) == ["a.md"] and v.open_notes() == {}
