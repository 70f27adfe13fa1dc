"""Grounded explanations of a passage: what it means in the context of the whole vault.

A passage is a pseudocode function, a pseudocode block, a glossary term or a sentence.
The prompt carries the passage, its note and heading path, the definitions of the
pseudocode functions it calls, and the top passages from hybrid search, each under a
`[[note#heading]]` handle the model is asked to cite; `render` turns those citations
back into links to the files. Everything here runs on the index thread and knows nothing
of the protocol except through the `uri_of` callback it is given.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from ponder.index import (
    Link,
    Note,
    Position,
    Range,
    SearchHit,
    Spot,
    Vault,
    fold,
    function_info,
    paragraph_lines,
    split_lines,
)
from ponder.runtime.tasks import Task

PROMPT_VERSION = 1
MAX_PASSAGE_CHARS = 1500
MAX_DEFINITIONS = 5
MAX_RELATED = 4
GLOSSARY_WORDS = ("glossary", "глоссарий", "термины", "terms")

SYSTEM = (
    "You explain a passage from the user's personal knowledge base (markdown notes and pseudocode, "
    "often in Russian) in the context of the rest of the notes. Use only the context you are given. "
    "Say what the passage means, what it relies on and what depends on it, in 2 to 5 sentences, in the "
    "language of the passage. Cite every note you rely on with its handle exactly as given, e.g. "
    "[[note#heading]]. Do not invent handles."
)


class Explanation(BaseModel):
    # Length limits are part of the grammar: a rambling model still closes its JSON in budget.
    explanation: str = Field(description="2 to 5 sentences with [[note#heading]] citations.", max_length=900)
    sources: list[Annotated[str, StringConstraints(max_length=120)]] = Field(
        default_factory=list, max_length=5, description="The handles cited, e.g. [[note#heading]]."
    )


PassageKind = Literal["function", "block", "term", "sentence"]


@dataclass(frozen=True)
class Passage:
    kind: PassageKind
    path: str
    range: Range
    text: str
    heading_path: tuple[str, ...]
    name: str = ""  # the function or term


@dataclass
class Context:
    passage: Passage
    handle: str  # the passage's own [[note#heading]]
    definitions: list[tuple[str, str, str]] = field(default_factory=list)  # (handle, signature, source)
    used_in: list[tuple[str, int]] = field(default_factory=list)  # (path, line) of calls, for functions
    related: list[tuple[str, SearchHit]] = field(default_factory=list)  # (handle, hit)


# --- finding the passage ----------------------------------------------------------------


def heading_index(note: Note, line: int) -> int | None:
    return max((i for i, h in enumerate(note.headings) if h.range.start.line <= line), default=None)


def _lines(vault: Vault, path: str) -> list[str]:
    return split_lines(vault.read_text(path) or "")


def _text(lines: list[str], start: int, end: int) -> str:
    return "\n".join(lines[start:end]).strip()[:MAX_PASSAGE_CHARS]


def function_passage(vault: Vault, name: str) -> Passage | None:
    """The (first) definition of pseudocode function `name`."""
    for path, fn in vault.graph.definitions(name):
        note = vault.note(path)
        lines = _lines(vault, path)
        hp = tuple(note.heading_path(heading_index(note, fn.range.start.line))) if note else ()
        return Passage(
            "function", path, fn.range, _text(lines, fn.range.start.line, fn.range.end.line + 1), hp, fn.name
        )
    return None


def block_passage(vault: Vault, note: Note, line: int) -> Passage | None:
    """The pseudocode block around `line` (a `.pseudo` file is one block)."""
    for b in note.code_blocks:
        if b.is_pseudo and b.range.start.line <= line <= b.range.end.line:
            lines = _lines(vault, note.path)
            hp = tuple(note.heading_path(heading_index(note, b.range.start.line)))
            return Passage("block", note.path, b.range, _text(lines, b.body_start, b.body_end), hp)
    return None


def _glossary_terms(vault: Vault) -> list[tuple[str, str, int]]:
    """(term, glossary note path, heading line) for every heading of a note named like a glossary."""
    out = []
    for path in vault.graph.notes:
        if not any(w in fold(path) for w in GLOSSARY_WORDS):
            continue
        note = vault.note(path)
        for h in note.headings if note else ():
            if h.level > 1:
                out.append((h.text, path, h.range.start.line))
    return out


def term_passage(vault: Vault, note: Note, pos: Position) -> Passage | None:
    """A glossary term written on the cursor's line, covering the cursor: its glossary section."""
    line = _lines(vault, note.path)[pos.line] if pos.line < len(_lines(vault, note.path)) else ""
    low = fold(line)
    for term, gpath, gline in sorted(_glossary_terms(vault), key=lambda x: -len(x[0])):
        key = fold(term)
        for m in re.finditer(re.escape(key), low):
            if m.start() <= pos.character <= m.end():
                gnote = vault.note(gpath)
                glines = _lines(vault, gpath)
                end = next((h.range.start.line for h in gnote.headings if h.range.start.line > gline), len(glines))
                hp = tuple(gnote.heading_path(heading_index(gnote, gline)))
                return Passage("term", gpath, Range.of(gline, 0, end, 0), _text(glines, gline, end), hp, term)
    return None


def sentence_passage(vault: Vault, note: Note, pos: Position) -> Passage | None:
    """The sentence under the cursor, else its paragraph."""
    for s in note.sentences:
        if s.range.start.line <= pos.line <= s.range.end.line and (
            s.range.contains(pos) or s.range.start.line == s.range.end.line
        ):
            return Passage(
                "sentence", note.path, s.range, s.text[:MAX_PASSAGE_CHARS], tuple(note.heading_path(s.heading))
            )
    lines = _lines(vault, note.path)
    if pos.line >= len(lines) or not lines[pos.line].strip():
        return None
    start, end = paragraph_lines(lines, pos.line)
    hp = tuple(note.heading_path(heading_index(note, pos.line)))
    return Passage(
        "sentence", note.path, Range.of(start, 0, end - 1, len(lines[end - 1])), _text(lines, start, end), hp
    )


def selection_passage(vault: Vault, note: Note, rng: Range) -> Passage | None:
    """The selected text (UTF-16 columns), for `ponder.explain` with a range."""
    from ponder.index import utf16_to_cp

    lines = _lines(vault, note.path)
    if rng.start.line >= len(lines):
        return None
    end_line = min(rng.end.line, len(lines) - 1)
    part = lines[rng.start.line : end_line + 1]
    part[-1] = part[-1][: utf16_to_cp(part[-1], rng.end.character)] if rng.end.line <= end_line else part[-1]
    part[0] = part[0][utf16_to_cp(part[0], rng.start.character) :]
    text = "\n".join(part).strip()[:MAX_PASSAGE_CHARS]
    hp = tuple(note.heading_path(heading_index(note, rng.start.line)))
    return Passage("sentence", note.path, rng, text, hp) if text else None


def passage_for_hover(vault: Vault, note: Note, spot: Spot, pos: Position, sentences: bool) -> Passage | None:
    """Functions and glossary terms always; any sentence only when `sentences` (the modifier mode)."""
    if spot.kind in ("function", "call"):
        return function_passage(vault, spot.name)
    if spot.kind != "note":
        return None
    return term_passage(vault, note, pos) or (sentence_passage(vault, note, pos) if sentences else None)


def passage_at(vault: Vault, note: Note, spot: Spot, pos: Position) -> Passage | None:
    """For `ponder.explain`: the function, else the pseudocode block, else the term, else the sentence."""
    if spot.kind in ("function", "call"):
        p = function_passage(vault, spot.name)
        if p:
            return p
    return block_passage(vault, note, pos.line) or term_passage(vault, note, pos) or sentence_passage(vault, note, pos)


# --- context and prompt -----------------------------------------------------------------


def handle(vault: Vault, path: str, heading_path: tuple[str, ...] | list[str]) -> str:
    """`[[note#heading]]` naming a section; the path without extension when the name is ambiguous."""
    note = vault.note(path)
    name = note.name if note else path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    if len(vault.graph.names().get(fold(name), [])) > 1:
        name = path.rsplit(".", 1)[0]
    heading = heading_path[-1] if heading_path else ""
    if heading and note is not None and not any(h.text == heading for h in note.headings):
        heading = ""  # a chunk of a .pseudo file is "under" its file name, which is no heading
    return f"[[{name}#{heading}]]" if heading else f"[[{name}]]"


def gather(vault: Vault, p: Passage) -> Context:
    ctx = Context(p, handle(vault, p.path, p.heading_path))
    note = vault.note(p.path)
    own = p.name
    called = []
    for c in note.calls if note else ():
        if (
            p.range.start.line <= c.range.start.line <= p.range.end.line
            and fold(c.name) != fold(own)
            and c.name not in called
        ):
            called.append(c.name)
    for name in called[:MAX_DEFINITIONS]:
        for info in function_info(vault.graph, name, vault.read_text)[:1]:
            dnote = vault.note(info.path)
            hp = dnote.heading_path(heading_index(dnote, info.line)) if dnote else []
            ctx.definitions.append((handle(vault, info.path, hp), info.signature, info.source))
    if p.kind == "function":
        ctx.used_in = sorted({(path, c.range.start.line) for path, c in vault.graph.calls_to(p.name)})
    seen = {ctx.handle} | {h for h, _, _ in ctx.definitions}
    for hit in vault.search(p.text, k=MAX_RELATED * 3):
        if hit.path == p.path and hit.range.start.line <= p.range.end.line and hit.range.end.line >= p.range.start.line:
            continue  # the passage itself
        h = handle(vault, hit.path, hit.heading_path)
        if h in seen:
            continue
        seen.add(h)
        ctx.related.append((h, hit))
        if len(ctx.related) >= MAX_RELATED:
            break
    return ctx


def explain_task(ctx: Context, max_tokens: int = 400) -> Task:
    p = ctx.passage
    what = {
        "function": f"pseudocode function `{p.name}`",
        "block": "pseudocode block",
        "term": f"glossary term “{p.name}”",
        "sentence": "passage",
    }[p.kind]
    parts = [f"The {what} from {ctx.handle} (section: {' > '.join(p.heading_path) or '—'}):\n{p.text}"]
    if ctx.definitions:
        parts.append(
            "Definitions of the functions it calls:\n"
            + "\n\n".join(f"{h} {sig}:\n{src}" for h, sig, src in ctx.definitions)
        )
    if ctx.used_in:
        parts.append(
            f"It is called {len(ctx.used_in)} time(s), in: " + ", ".join(sorted({path for path, _ in ctx.used_in}))
        )
    if ctx.related:
        parts.append(
            "Related passages from other notes:\n" + "\n".join(f"{h}: {hit.snippet}" for h, hit in ctx.related)
        )
    parts.append("Explain the passage. Answer with the JSON object.")
    return Task(
        name="explain",
        messages=[{"role": "system", "content": SYSTEM}, {"role": "user", "content": "\n\n".join(parts)}],
        output=Explanation,
        version=PROMPT_VERSION,
        max_tokens=max_tokens,
        temperature=0.0,
    )


# --- rendering --------------------------------------------------------------------------

WIKILINK = re.compile(r"\[\[([^\]\|#^]*)(?:#([^\]\|^]+))?(?:\^([^\]\|]+))?(?:\|([^\]]+))?\]\]")


def render_citations(vault: Vault, from_path: str, text: str, uri_of: Callable[[str, int], str]) -> str:
    """`[[note#heading]]` -> `[note › heading](file:///…#L12)`; a citation that resolves nowhere stays as text."""

    def link(m: re.Match) -> str:
        target, heading, block, alias = (m.group(i) for i in range(1, 5))
        target = (target or "").strip()
        lk = Link("wiki", target, heading, block, alias, False, Range.of(0, 0), Range.of(0, 0), m.group(0))
        res = vault.graph.resolve(lk, from_path) if target else None
        if res is None or res.path is None:
            return m.group(0)
        line = res.heading.range.start.line if res.heading else (res.block_line or 0)
        label = alias or (f"{target} › {heading}" if heading else target)
        return f"[{label}]({uri_of(res.path, line)})"

    return WIKILINK.sub(link, text)


def render(vault: Vault, ctx: Context, value: Explanation, uri_of: Callable[[str, int], str], note: str = "") -> str:
    """The model's explanation as hover markdown, with its citations as file links."""
    body = render_citations(vault, ctx.passage.path, value.explanation.strip(), uri_of)
    cited = [
        render_citations(vault, ctx.passage.path, s, uri_of)
        for s in value.sources
        if s.strip() and s not in value.explanation
    ]
    out = f"**Explanation** _(local model{note})_\n\n{body}"
    if cited:
        out += "\n\nSources: " + " · ".join(cited)
    return out


def _label(handle: str) -> str:
    return handle[2:-2].replace("#", " › ")


def render_index(vault: Vault, ctx: Context, uri_of: Callable[[str, int], str]) -> str:
    """What the index knows without the model: the term's definition, where a function is used, related passages."""
    parts = []
    p = ctx.passage
    if p.kind == "term":
        parts.append(f"**{p.name}** — [{_label(ctx.handle)}]({uri_of(p.path, p.range.start.line)})\n\n{p.text}")
    if ctx.related:
        lines = [
            f"- [{_label(h)}]({uri_of(hit.path, hit.range.start.line)}): "
            f"{render_citations(vault, hit.path, hit.snippet, uri_of)}"
            for h, hit in ctx.related
        ]
        parts.append("**Related passages**\n\n" + "\n".join(lines))
    return "\n\n".join(parts)


def callout(value: Explanation) -> str:
    """The explanation as an Obsidian-style callout (citations stay wikilinks in the note)."""
    lines = value.explanation.strip().splitlines() or [""]
    return "> [!note] Explanation (Ponder)\n" + "\n".join(f"> {ln}".rstrip() for ln in lines) + "\n"
