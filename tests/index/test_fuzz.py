"""Fuzzing the parser and the fact extractor: random markdown, front matter and Unicode never
raise, never take long, and what they produce survives the store's JSON codecs unchanged.

A vault is untrusted input, and one bad note must not take the vault down, so `parse_note` and
`extract_facts` must be total. The budget is fixed and the run derandomized (the same cases in
CI every time, about a minute in all); each case has a deadline.
"""

from __future__ import annotations

import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ponder.index.knowledge.fact_codec import facts_from_json, facts_to_json
from ponder.index.knowledge.facts import extract_facts
from ponder.index.parsing.markdown import parse_note
from ponder.index.parsing.positions import line_count
from ponder.index.store.codec import note_from_json, note_to_json

# Files are decoded text: any code point but lone surrogates (NUL and controls included).
CHARS = st.characters(exclude_categories=("Cs",))
WORDS = st.sampled_from(
    "таймаут не более 30 с retry delay 5 s never MUST NOT удаляет сначала затем first then max_upload "
    "10 MB 90 % prod staging superseded since v0.3 📦 🚀 ё Ё ŝ 中文 \u200b \u0301 \x00 \t".split(" ")
)
PIECES = st.sampled_from(
    [
        "# ",
        "## ",
        "- ",
        "1. ",
        "> ",
        "| a | b |",
        "|---|---|",
        "```",
        "```pseudo",
        "~~~",
        "FUNCTION f(a, b)",
        "CALL g(x)",
        "END",
        "[[",
        "]]",
        "[[note#Heading|alias]]",
        "[text](path/to%20file.md)",
        "![[img.png]]",
        "#tag/sub",
        " ^block-1",
        "key: value",
        "---",
        "`code`",
        "<div>",
        "\r\n",
        "\r",
        "\n",
        "\\",
        "**bold**",
    ]
)
TEXT = st.lists(st.one_of(PIECES, WORDS, st.text(CHARS, max_size=12)), max_size=60).map(" ".join)
LINES = st.lists(st.one_of(TEXT, PIECES), max_size=40).map("\n".join)
YAML_BITS = st.sampled_from(
    [
        "title: Заметка",
        "aliases: [a, б]",
        "tags: x y #z",
        "a: &a [*a]",
        "b: &b x",
        "c: *b",
        "d: !!python/object/apply:os.system ['true']",
        "e: !!binary aGVsbG8=",
        "f: !!set {a, b}",
        "g: 2024-05-01",
        "h: {2024-05-01: x}",
        "i: [[[[[[",
        "j: .nan",
        "? [k]\n: v",
        "- list",
        "status: superseded",
        "'",
        '"',
        "  indented: 1",
        "\t",
    ]
)
FRONT = st.lists(st.one_of(YAML_BITS, TEXT), max_size=12).map(lambda xs: "---\n" + "\n".join(xs) + "\n---\n")
NOTE = st.tuples(
    st.one_of(st.just(""), FRONT), LINES, st.one_of(st.just(""), st.text(CHARS, min_size=2000, max_size=20000))
).map("".join)
PATH = st.sampled_from(["a.md", "папка/заметка.md", "x.pseudo", "emoji 📦.md"])

RUNS: dict[str, int] = {}
BUDGET = settings(
    max_examples=500,
    deadline=1000,  # ms per case: a note that takes longer is a hang in a 20k-note vault
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _finite(v: object, path: tuple[int, ...] = ()) -> bool:
    """No value contains itself (a YAML alias can make one; nothing can serialise it)."""
    if isinstance(v, (dict, list)):
        if id(v) in path:
            return False
        items = v.values() if isinstance(v, dict) else v
        return all(_finite(x, (*path, id(v))) for x in items)
    return True


def _check(path: str, text: str) -> None:
    t = time.perf_counter()
    note = parse_note(path, text)
    facts = extract_facts(note)
    assert time.perf_counter() - t < 1.0
    assert _finite(note.front_matter)
    lines = line_count(text)
    for x in [*note.links, *note.headings, *note.problems, *note.sentences]:
        assert 0 <= x.range.start.line <= x.range.end.line < lines + 1
    back = note_from_json(note_to_json(note))
    assert (back.links, back.headings, back.tags, back.problems) == (
        note.links,
        note.headings,
        note.tags,
        note.problems,
    )
    assert facts_from_json(path, facts_to_json(facts)) == facts
    outline = note_from_json(note_to_json(note), outline=True)  # what an opened note is compared with
    assert (outline.aliases, outline.headings, outline.block_ids, outline.functions) == (
        note.aliases,
        note.headings,
        note.block_ids,
        note.functions,
    )
    assert not outline.links


@BUDGET
@given(PATH, NOTE)
def test_random_notes_parse_and_round_trip(path, text):
    RUNS["notes"] = RUNS.get("notes", 0) + 1
    _check(path, text)


@BUDGET
@given(st.text(CHARS, max_size=3000))
def test_random_unicode_parses(text):
    RUNS["unicode"] = RUNS.get("unicode", 0) + 1
    _check("u.md", text)


@settings(BUDGET, max_examples=300)
@given(FRONT, LINES)
def test_random_front_matter_is_a_problem_never_an_error(front, body):
    RUNS["front matter"] = RUNS.get("front matter", 0) + 1
    note = parse_note("fm.md", front + body)
    assert isinstance(note.front_matter, dict)
    _check("fm.md", front + body)


def test_zz_report_fuzz_cases():
    """Runs last in this module (pytest keeps file order): prints how many cases ran."""
    print(f"fuzz cases run: {RUNS}")
