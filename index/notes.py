"""The vault as plain data: what a parse produces and what checks report.

Positions are LSP's: 0-based line, character counted in UTF-16 code units.
`index.parsing.positions` converts to UTF-8 byte offsets or code points when needed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal


@dataclass(frozen=True, slots=True, order=True)
class Position:
    line: int
    character: int


@dataclass(frozen=True, slots=True, order=True)
class Range:
    start: Position
    end: Position

    @staticmethod
    def of(line: int, start: int, end_line: int | None = None, end: int | None = None) -> Range:
        """Shorthand: `Range.of(3, 4, 3, 9)`; `Range.of(3, 4)` is empty at (3, 4)."""
        return Range(
            Position(line, start), Position(line if end_line is None else end_line, start if end is None else end)
        )

    def contains(self, pos: Position) -> bool:
        return self.start <= pos <= self.end

    def to_json(self) -> dict:
        return {
            "start": {"line": self.start.line, "character": self.start.character},
            "end": {"line": self.end.line, "character": self.end.character},
        }

    @staticmethod
    def from_json(d: dict) -> Range:
        return Range(
            Position(d["start"]["line"], d["start"]["character"]), Position(d["end"]["line"], d["end"]["character"])
        )


LinkKind = Literal["wiki", "markdown", "url"]


@dataclass(frozen=True, slots=True)
class Link:
    """A reference from a note to a note, heading, block or file.

    `target` is the note part as written (decoded for markdown links), `heading`
    and `block` the anchor parts. `range` covers the whole link syntax,
    `target_range` the part a rename rewrites.
    """

    kind: LinkKind
    target: str
    heading: str | None
    block: str | None
    alias: str | None
    embed: bool
    range: Range
    target_range: Range
    raw: str
    # A reference-style use (`[text][label]`, `[label][]`, `[label]`): the normalized label. Its
    # target is the definition's; the definition (`[label]: target`, a link with `ref` None) is
    # where the target is written, so it alone is rewritten and reported.
    ref: str | None = None
    # Whether a broken target is reported here: not at a use (its definition is), nor at a
    # definition that nothing uses (it renders nothing, so no reader can follow it).
    checked: bool = True


@dataclass(frozen=True, slots=True)
class Heading:
    level: int
    text: str
    slug: str
    range: Range
    parent: int | None  # index of the enclosing heading in Note.headings


@dataclass(frozen=True, slots=True)
class BlockId:
    id: str
    range: Range  # the `^id` marker
    line: int


@dataclass(frozen=True, slots=True)
class Anchor:
    """A place a `#fragment` can point at that is not a heading of the note's outline: an HTML
    `id` / `<a name>`, or a heading inside a blockquote or callout (quoted text, not the note's own
    structure; GitHub still gives it an id, so a link to it is not broken)."""

    name: str  # the id as written, or the quoted heading's text
    slug: str  # what a markdown fragment matches (the id itself, or the heading's slug)
    range: Range


@dataclass(frozen=True, slots=True)
class Tag:
    name: str  # without '#', e.g. "a/b"
    range: Range


@dataclass(frozen=True, slots=True)
class CodeBlock:
    """A fenced block. `lang` is the first word of the info string."""

    info: str
    lang: str
    range: Range  # from the opening fence to the closing fence (inclusive)
    body_start: int  # first line of content
    body_end: int  # line after the last line of content
    closed: bool

    @property
    def is_pseudo(self) -> bool:
        return self.lang.lower() in ("pseudo", "pseudocode", "псевдокод")

    @property
    def target_language(self) -> str | None:
        """`pseudo python` -> "python"."""
        parts = self.info.split()
        return parts[1].lower() if self.is_pseudo and len(parts) > 1 else None


@dataclass(frozen=True, slots=True)
class PseudoFunction:
    name: str
    kind: str  # FUNCTION / PROCEDURE / ALGORITHM (as written, upper-cased)
    params: tuple[str, ...]
    signature: str  # "name(a, b)"
    range: Range  # definition header to END
    name_range: Range
    block: int  # index into Note.code_blocks, -1 for a whole .pseudo file


@dataclass(frozen=True, slots=True)
class PseudoCall:
    name: str
    range: Range  # the name only
    block: int


SentenceKind = Literal["sentence", "item", "row", "heading", "code"]


@dataclass(frozen=True, slots=True)
class Sentence:
    """A unit of prose for fact extraction and embeddings: a sentence, list item or table row."""

    text: str
    range: Range
    kind: SentenceKind
    heading: int | None  # index of the enclosing heading


Severity = Literal["error", "warning", "information", "hint"]


@dataclass(frozen=True, slots=True)
class Problem:
    """Something wrong with one note found while parsing it (never an exception)."""

    code: str
    message: str
    range: Range
    severity: Severity = "warning"


@dataclass(slots=True)
class Note:
    """One parsed file. A pure function of (path, text): see `index.parsing.markdown.parse_note`."""

    path: str  # vault-relative posix path
    title: str
    text: str
    front_matter: dict[str, Any] = field(default_factory=dict)
    front_matter_range: Range | None = None
    aliases: list[str] = field(default_factory=list)
    tags: list[Tag] = field(default_factory=list)
    headings: list[Heading] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    block_ids: list[BlockId] = field(default_factory=list)
    anchors: list[Anchor] = field(default_factory=list)
    code_blocks: list[CodeBlock] = field(default_factory=list)
    functions: list[PseudoFunction] = field(default_factory=list)
    calls: list[PseudoCall] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    # The prose split into sentences, done on first use: an opened note's first diagnostics need
    # its links and headings, and splitting a long note's prose takes as long as the rest of its
    # parse. `split` gives them (set by the parse), `_sentences` keeps them.
    split: Callable[[], list[Sentence]] | None = field(default=None, repr=False, compare=False)
    _sentences: list[Sentence] | None = field(default=None, repr=False, compare=False)

    @property
    def sentences(self) -> list[Sentence]:
        """Paragraph sentences, list items, table rows and pseudocode lines, in order."""
        out = self._sentences
        if out is None:
            split = self.split
            out = split() if split is not None else []
            self._sentences = out  # another thread may have split too: the same sentences
            self.split = None
        return out

    @property
    def name(self) -> str:
        """The file name without extension: what a wikilink names."""
        base = self.path.rsplit("/", 1)[-1]
        return base.rsplit(".", 1)[0] if "." in base else base

    def heading_path(self, index: int | None) -> list[str]:
        out: list[str] = []
        while index is not None:
            h = self.headings[index]
            out.append(h.text)
            index = h.parent
        return out[::-1]


@dataclass(frozen=True, slots=True)
class Related:
    path: str
    range: Range
    message: str


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """A finding on one note, in the form the CLI and the LSP layer both publish."""

    path: str
    range: Range
    severity: Severity
    code: str
    message: str
    related: tuple[Related, ...] = ()
    data: dict[str, Any] | None = None

    def to_json(self) -> dict:
        return {
            "file": self.path,
            "range": self.range.to_json(),
            "severity": self.severity,
            "code": self.code,
            "message": self.message,
            "related": [{"file": r.path, "range": r.range.to_json(), "message": r.message} for r in self.related],
            **({"data": self.data} if self.data else {}),
        }


@dataclass(frozen=True, slots=True)
class Chunk:
    """A piece of a note sized for the embedding model, prefixed by its heading path."""

    ord: int
    heading_path: tuple[str, ...]
    text: str
    range: Range

    @property
    def embed_text(self) -> str:
        prefix = " > ".join(self.heading_path)
        return f"{prefix}\n{self.text}" if prefix else self.text


@dataclass(frozen=True, slots=True)
class SearchHit:
    path: str
    range: Range
    heading_path: tuple[str, ...]
    snippet: str
    score: float
