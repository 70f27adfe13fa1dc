"""Note summaries as JSON, for the store: data a tampered index can garble but never run.

The store once pickled its rows, so a `.ponder/index.db` dropped into a vault could run code on
load. Each type has an explicit pair of functions writing compact arrays (field order fixed
here), which `json` reads about as fast as pickle read the objects. A row that does not decode
raises `ValueError`; the store treats it as a stale row, never as a crash.
"""

from __future__ import annotations

import datetime as _dt
import json
import math

from ponder.index.notes import (
    Anchor,
    BlockId,
    CodeBlock,
    Heading,
    Link,
    Note,
    Position,
    Problem,
    PseudoCall,
    PseudoFunction,
    Range,
    Tag,
)

MAX_DEPTH = 64  # front matter nested deeper than this is cut (a YAML bomb must not blow the stack)


def range_to(r: Range) -> list[int]:
    return [r.start.line, r.start.character, r.end.line, r.end.character]


# Positions are immutable values and a vault repeats them (a link's range and its target's end,
# facts of one line): decoding shares them, which halves the cost of a range (a frozen
# dataclass's constructor is most of a summary's load time). Bounded: cleared when full.
_POSITIONS: dict[tuple, Position] = {}
_POSITIONS_KEPT = 200_000


def _position(line, character) -> Position:
    key = (line, character)
    p = _POSITIONS.get(key)
    if p is None:
        if len(_POSITIONS) >= _POSITIONS_KEPT:
            _POSITIONS.clear()
        p = _POSITIONS[key] = Position(int(line), int(character))  # int(): a tampered row fails here
    return p


def range_from(a: list) -> Range:
    return Range(_position(a[0], a[1]), _position(a[2], a[3]))


def plain(v: object, depth: int = 0) -> object:
    """Front matter as plain JSON types: string keys, dates as ISO strings, sets and tuples as
    lists, anything else (bytes, odd YAML tags) as its `str`; non-finite floats as strings."""
    if v is None or isinstance(v, (bool, int, str)):
        return v
    if isinstance(v, float):
        return v if math.isfinite(v) else str(v)
    if depth >= MAX_DEPTH:
        return None
    if isinstance(v, dict):
        return {
            str(k) if not isinstance(k, (_dt.date, _dt.datetime)) else k.isoformat(): plain(x, depth + 1)
            for k, x in v.items()
        }
    if isinstance(v, (list, tuple, set, frozenset)):
        items = sorted(v, key=repr) if isinstance(v, (set, frozenset)) else v
        return [plain(x, depth + 1) for x in items]
    if isinstance(v, (_dt.date, _dt.datetime, _dt.time)):
        return v.isoformat()
    return str(v)


def _link_to(x: Link) -> list:
    return [
        x.kind,
        x.target,
        x.heading,
        x.block,
        x.alias,
        x.embed,
        range_to(x.range),
        range_to(x.target_range),
        x.raw,
        x.ref,
        x.checked,
    ]


def _link_from(a: list) -> Link:
    return Link(a[0], a[1], a[2], a[3], a[4], bool(a[5]), range_from(a[6]), range_from(a[7]), a[8], a[9], bool(a[10]))


def _anchor_to(x: Anchor) -> list:
    return [x.name, x.slug, range_to(x.range)]


def _anchor_from(a: list) -> Anchor:
    return Anchor(a[0], a[1], range_from(a[2]))


def _heading_to(x: Heading) -> list:
    return [x.level, x.text, x.slug, range_to(x.range), x.parent]


def _heading_from(a: list) -> Heading:
    return Heading(int(a[0]), a[1], a[2], range_from(a[3]), None if a[4] is None else int(a[4]))


def _block_to(x: BlockId) -> list:
    return [x.id, range_to(x.range), x.line]


def _block_from(a: list) -> BlockId:
    return BlockId(a[0], range_from(a[1]), int(a[2]))


def _tag_to(x: Tag) -> list:
    return [x.name, range_to(x.range)]


def _tag_from(a: list) -> Tag:
    return Tag(a[0], range_from(a[1]))


def _code_to(x: CodeBlock) -> list:
    return [x.info, x.lang, range_to(x.range), x.body_start, x.body_end, x.closed]


def _code_from(a: list) -> CodeBlock:
    return CodeBlock(a[0], a[1], range_from(a[2]), int(a[3]), int(a[4]), bool(a[5]))


def _function_to(x: PseudoFunction) -> list:
    return [x.name, x.kind, list(x.params), x.signature, range_to(x.range), range_to(x.name_range), x.block]


def _function_from(a: list) -> PseudoFunction:
    return PseudoFunction(a[0], a[1], tuple(a[2]), a[3], range_from(a[4]), range_from(a[5]), int(a[6]))


def _call_to(x: PseudoCall) -> list:
    return [x.name, range_to(x.range), x.block]


def _call_from(a: list) -> PseudoCall:
    return PseudoCall(a[0], range_from(a[1]), int(a[2]))


def _problem_to(x: Problem) -> list:
    return [x.code, x.message, range_to(x.range), x.severity]


def _problem_from(a: list) -> Problem:
    return Problem(a[0], a[1], range_from(a[2]), a[3])


def note_to_json(note: Note) -> str:
    """A note's summary (everything but its text and sentences) as JSON text."""
    fmr = note.front_matter_range
    return json.dumps(
        {
            "path": note.path,
            "title": note.title,
            "fm": plain(note.front_matter),
            "fmr": None if fmr is None else range_to(fmr),
            "aliases": list(note.aliases),
            "tags": [_tag_to(x) for x in note.tags],
            "headings": [_heading_to(x) for x in note.headings],
            "links": [_link_to(x) for x in note.links],
            "blocks": [_block_to(x) for x in note.block_ids],
            "anchors": [_anchor_to(x) for x in note.anchors],
            "code": [_code_to(x) for x in note.code_blocks],
            "functions": [_function_to(x) for x in note.functions],
            "calls": [_call_to(x) for x in note.calls],
            "problems": [_problem_to(x) for x in note.problems],
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )


def note_from_json(text: str | bytes, outline: bool = False) -> Note:
    """The summary `note_to_json` wrote; `ValueError` when the text is not one. With `outline`, only
    what other notes depend on: its names, anchors and functions (a fifth of the time on a note of
    many links)."""
    try:
        d = json.loads(text)
        fm = d["fm"]
        if not isinstance(fm, dict):
            raise ValueError("front matter is not a mapping")
        # what other notes depend on (`affected_by_edit`): read alone for an opened note's outline
        names = dict(
            path=str(d["path"]),
            title=str(d["title"]),
            text="",
            aliases=[str(a) for a in d["aliases"]],
            headings=[_heading_from(a) for a in d["headings"]],
            block_ids=[_block_from(a) for a in d["blocks"]],
            anchors=[_anchor_from(a) for a in d["anchors"]],
            functions=[_function_from(a) for a in d["functions"]],
        )
        if outline:
            return Note(**names)
        return Note(
            **names,
            front_matter=fm,
            front_matter_range=None if d["fmr"] is None else range_from(d["fmr"]),
            tags=[_tag_from(a) for a in d["tags"]],
            links=[_link_from(a) for a in d["links"]],
            code_blocks=[_code_from(a) for a in d["code"]],
            calls=[_call_from(a) for a in d["calls"]],
            problems=[_problem_from(a) for a in d["problems"]],
        )
    except (KeyError, IndexError, TypeError, AttributeError, RecursionError) as e:
        raise ValueError(f"not a stored note summary: {e!r}") from e
