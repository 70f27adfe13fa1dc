"""The block structure of a markdown note: headings, quotes, lists, fences, indented code, HTML
blocks, tables and paragraphs, each with its line span, and the reference definitions.

Two engines give the same blocks: markdown-it-pyrs (markdown-it in Rust, a wheel for CPython
3.11 and 3.12) where it is installed, else markdown-it-py. On a 70 KB note of long tables the
first takes 3 ms where the second takes 30, and an opened note waits for its parse before its
first diagnostics. `tests/index/test_blocks.py` holds them to the same blocks on every
construct the parse reads; `bench/parse_parity.py` does so on whole vaults.

Only block syntax is parsed: links, tags and ids are found in the prose lines with their exact
columns by `markdown.py`, so neither engine runs its inline rules.
"""

from __future__ import annotations

import os
import re
from bisect import bisect_right
from dataclasses import dataclass
from functools import lru_cache

from markdown_it import MarkdownIt
from markdown_it.rules_block import StateBlock
from markdown_it.rules_block import table as gfm_table

try:  # the fast engine is optional: no wheel for every Python, and the fallback gives the same blocks
    from markdown_it_pyrs import MarkdownIt as _RustMarkdownIt
except ImportError:  # pragma: no cover - depends on the platform
    _RustMarkdownIt = None

QUOTE_MARKER = re.compile(r"^(\s*(?:>\s?)+)")  # the quote markers before a line's text
# Quotes, lists and list items nested deeper than this are not parsed (markdown-it-py drops the rest
# of the note there; its default, 20, did so below ten levels of nested lists, which outliners
# reach). The Rust engine has no such limit and hands such notes to markdown-it-py.
MAX_NESTING = 100


class _TooDeep(Exception):
    pass


_BLOCK_RULES = ("blockquote", "code", "fence", "heading", "hr", "lheading", "list", "paragraph", "reference")


@dataclass(slots=True)
class Block:
    """One block event, in document order. `kind` is one of: heading (with `level` and, for an ATX
    heading, `text`: its inline source; a setext heading's lines are read from the note),
    quote_open / quote_close, list_open / list_close, table_open / table_close, row (a table
    row), paragraph (a paragraph, or a tight list item's text), fence (with `info` and `markup`,
    the fence's opening run), code (indented), html."""

    kind: str
    start: int = 0  # first line
    end: int = 0  # the line after the last
    level: int = 0
    text: str = ""
    info: str = ""
    markup: str = ""


@dataclass(slots=True)
class Blocks:
    blocks: list[Block]
    references: dict[str, int]  # normalized label -> line of its (first) definition


@lru_cache(maxsize=4096)
def normalize_label(label: str) -> str:
    """markdown-it's `normalizeReference`: case- and whitespace-insensitive (cached: a note of
    reference links uses each label many times)."""
    return " ".join(label.split()).lower().upper()


def engine() -> str:
    """The engine `parse` uses: "markdown-it-pyrs" or "markdown-it-py" (PONDER_MARKDOWN_ENGINE=py
    forces the second)."""
    if _RustMarkdownIt is not None and os.environ.get("PONDER_MARKDOWN_ENGINE", "") != "py":
        return "markdown-it-pyrs"
    return "markdown-it-py"


def parse(source: str, lines: list[str], engine_name: str | None = None) -> Blocks:
    """The blocks of `source`, which is `"\\n".join(lines)`. May raise on a parser bug; the
    caller turns that into a problem of the note."""
    if "\0" in source:  # as both engines do; done here so that byte offsets stay ours
        source = source.replace("\0", "\ufffd")
        lines = [ln.replace("\0", "\ufffd") for ln in lines]
    if (engine_name or engine()) == "markdown-it-pyrs":
        suspects = _where_engines_may_differ(source, lines)
        try:
            parsed = _from_tree(_rust().tree(source), source, lines)
        except _TooDeep:  # markdown-it-py drops what is nested deeper than MAX_NESTING: so as not to differ, it parses
            return _from_tokens(source)
        if not suspects or _all_in_code(suspects, parsed):
            return parsed
    return _from_tokens(source)


# Where the engines were seen to read a text differently (searches of millions of generated texts;
# none of 45,000 real notes differ), markdown-it-py parses: an empty list item right after a
# paragraph or a quote (a lazy continuation line to the Rust engine), a list item right under a
# quote, `<!x` declarations (an HTML block to markdown-it-py only), a reference label over two
# lines or a definition line ending in `\`, and a table delimiter row under a line unless both
# have a pipe, are in the same quote, the row is no list item and the header no lazy continuation
# of a quote (a table, a setext underline, an item or text); a row of dashes alone (a setext
# underline, a rule) is read alike unless the line above has a pipe. Inside a fence or indented
# code (as the Rust engine found them) none of this matters: no generated text differs there. On
# rfcs 4 of 654 notes go to markdown-it-py (17 before these two refinements), on obsidian-help's
# ten languages 4 of 6,289, on tldr none. The patterns start with the newline
# before their line (the text is searched with one put in front), so the regex engine skips from
# newline to newline instead of trying every position. `_ITEM_BREAKS`: an empty list item, or a
# list item on the line after a quote's.
_ITEM_BREAKS = re.compile(
    r"\n(?:[ \t>]*(?:[-*+]|\d{1,9}[.)])[ \t]*(?=\n|\Z)|[ \t]*>[^\n]*\n[ \t]*(?:[-*+]|\d{1,9}[.)])(?=[ \t\n]|\Z))"
)
_DELIMITER_ROW = re.compile(r"\n[ \t>]*[|:-][ \t|:-]*(?=\n|\Z)")
_DASHES = re.compile(r"[ \t>]*-[ \t-]*")  # a delimiter row of dashes alone
_ITEM_START = re.compile(r"[ \t>]*-[ \t]")  # `- |`: a list item to markdown-it-py
_UNESCAPED_PIPE = re.compile(r"(?<!\\)\|")


def _where_engines_may_differ(source: str, lines: list[str]) -> list[tuple[int, int]]:
    """The (first, last) lines of each construct the engines may read differently."""
    found: list[tuple[int, int]] = []  # the source offsets of a construct's first and last character
    if "<!" in source:
        found += [(m.start(), m.start()) for m in re.finditer(r"<![A-Za-z]", source)]
    at = source.find("]:")
    while at >= 0:  # a definition's label that began on a line above, or a line ending in `\`
        line_start = source.rfind("\n", 0, at) + 1
        end = source.find("\n", at)
        if "[" not in source[line_start:at] or (source[end - 1] if end > 0 else source[-1]) == "\\":
            found.append((line_start, at))
        at = source.find("]:", at + 2)
    text = "\n" + source  # text offset i + 1 is source offset i: a match's line starts at source m.start()
    found += [(m.start(), m.end() - 2) for m in _ITEM_BREAKS.finditer(text)]
    if "-" in source:
        ln, counted = 0, 0  # the row's line index (the text has one newline more), counted as rows come
        for m in _DELIMITER_ROW.finditer(text):
            row = m.group(0)[1:]
            if "-" not in row:
                continue
            ln += text.count("\n", counted, m.start())
            counted = m.start()
            above = lines[ln - 1] if ln else ""
            if not above.strip():
                continue
            pipe_above = _UNESCAPED_PIPE.search(above)
            other_quote = above.lstrip().startswith(">") != row.lstrip().startswith(">")
            if _DASHES.fullmatch(row):
                suspect = bool(pipe_above) or other_quote
            else:
                suspect = (
                    "|" not in row
                    or not pipe_above
                    or _ITEM_START.match(row)
                    or other_quote
                    or (not row.lstrip().startswith(">") and _lazy_in_quote(lines, ln - 1))
                )
            if suspect:
                found.append((m.start(), m.start()))
    if not found:
        return []
    out, line, counted = [], 0, 0
    for offset in sorted({o for pair in found for o in pair}):
        line += source.count("\n", counted, offset)
        counted = offset
        out.append((offset, line))
    line_of = dict(out)
    return [(line_of[a], line_of[b]) for a, b in found]


def _lazy_in_quote(lines: list[str], ln: int) -> bool:
    """Whether line `ln` (no quote marker of its own) may continue a quoted paragraph lazily: the
    non-blank lines right above it lead up to a quoted one."""
    for i in range(ln - 1, -1, -1):
        above = lines[i].lstrip(" \t")
        if not above:
            return False
        if above.startswith(">"):
            return True
    return False


def _all_in_code(spans: list[tuple[int, int]], parsed: Blocks) -> bool:
    """Whether every line of `spans` is in a fence's body or in indented code."""
    code: list[tuple[int, int]] = []
    for b in parsed.blocks:
        if b.kind == "fence":
            code.append((b.start + 1, b.end))  # the closing line is no body, but reads alike: nothing follows it
        elif b.kind == "code":
            code.append((b.start, b.end))
    if not code:
        return False
    starts = [a for a, _ in code]
    for first, last in spans:
        i = bisect_right(starts, first) - 1
        if i < 0 or last >= code[i][1]:
            return False
    return True


# --- markdown-it-py --------------------------------------------------------------------

_CELL_TOKENS = frozenset({"th_open", "th_close", "td_open", "td_close", "inline"})


class _Discarded:
    """What a table cell's token would have been: written to, never read."""

    attrs: dict | None = None
    map: list | None = None
    content = ""
    children: list | None = None


_DISCARDED = _Discarded()


def _table_rows(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    """markdown-it's GFM table rule, the same tables found, without the tokens of each cell
    (only a row's lines are read here): half its time on a note of long tables."""
    if silent:
        return gfm_table(state, start, end, True)
    push = state.push

    def lean(kind: str, tag: str, nesting: int):
        return _DISCARDED if kind in _CELL_TOKENS else push(kind, tag, nesting)

    state.push = lean
    try:
        return gfm_table(state, start, end, False)
    finally:
        del state.push


# the core inline pass, a third of markdown-it's time, is switched off
_MD = (
    MarkdownIt("commonmark", {"html": True, "maxNesting": MAX_NESTING}).enable("table").disable(["inline", "text_join"])
)
_MD.block.ruler.at("table", _table_rows, {"alt": ["paragraph", "reference"]})

_SIMPLE = {
    "blockquote_open": "quote_open",
    "blockquote_close": "quote_close",
    "bullet_list_open": "list_open",
    "ordered_list_open": "list_open",
    "bullet_list_close": "list_close",
    "ordered_list_close": "list_close",
    "table_open": "table_open",
    "table_close": "table_close",
}
_SPANS = {"tr_open": "row", "paragraph_open": "paragraph", "code_block": "code", "html_block": "html"}


def _from_tokens(source: str) -> Blocks:
    env: dict = {}
    tokens = _MD.parse(source, env)
    out: list[Block] = []
    for i, tok in enumerate(tokens):
        t = tok.type
        if t in _SIMPLE:
            out.append(Block(_SIMPLE[t]))
        elif not tok.map:
            continue
        elif t in _SPANS:
            out.append(Block(_SPANS[t], tok.map[0], tok.map[1]))
        elif t == "heading_open":
            a, b = tok.map
            out.append(Block("heading", a, b, int(tok.tag[1]), tokens[i + 1].content if b - a == 1 else ""))
        elif t == "fence":
            out.append(Block("fence", tok.map[0], tok.map[1], info=tok.info, markup=tok.markup))
    refs = {label: d["map"][0] for label, d in (env.get("references") or {}).items() if d.get("map")}
    return Blocks(out, refs)


# --- markdown-it-pyrs --------------------------------------------------------------------

_RUST = None


def _rust():
    global _RUST
    if _RUST is None:
        md = _RustMarkdownIt("zero")
        for rule in (*_BLOCK_RULES, "html_block", "table"):
            md.enable(rule)
        _RUST = md
    return _RUST


_QUOTE_OPEN, _QUOTE_CLOSE = Block("quote_open"), Block("quote_close")  # never changed: shared
_LIST_OPEN, _LIST_CLOSE = Block("list_open"), Block("list_close")
_TABLE_OPEN, _TABLE_CLOSE = Block("table_open"), Block("table_close")
_PARAGRAPH, _LIST, _ITEM, _QUOTE, _HEADING, _FENCE, _SPAN, _DEFINITION, _TABLE, _WALK = range(10)
_NODE_KINDS = {
    "paragraph": _PARAGRAPH,
    "text": _PARAGRAPH,  # a tight list item's text
    "list_item": _ITEM,
    "bullet_list": _LIST,
    "ordered_list": _LIST,
    "blockquote": _QUOTE,
    "heading": _HEADING,
    "lheading": _HEADING,
    "fence": _FENCE,
    "code_block": _SPAN,
    "html_block": _SPAN,
    "trow": _SPAN,
    "definition": _DEFINITION,
    "table": _TABLE,
    "thead": _WALK,
    "tbody": _WALK,
    "root": _WALK,
}
_SPAN_KINDS = {"code_block": "code", "html_block": "html", "trow": "row"}


def _from_tree(root, source: str, lines: list[str]) -> Blocks:
    """Walk the Rust engine's tree into the blocks markdown-it-py's tokens give. Its source map
    is in UTF-8 bytes; its tight list items hold their text without a paragraph."""
    starts = []
    pos = 0
    if source.isascii():
        for ln in lines:
            starts.append(pos)
            pos += len(ln) + 1
    else:
        for ln in lines:
            starts.append(pos)
            pos += (len(ln) if ln.isascii() else len(ln.encode("utf-8"))) + 1

    # ...nor, inside a quote, a last line of only quote markers and spaces
    quote_end = len(lines) - 1 if not lines[-1].strip(" \t>") else len(lines)
    tabs = source.encode("utf-8") if "\t" in source else None  # byte offsets where a tab may be
    out: list[Block] = []
    add = out.append
    refs: dict[str, int] = {}
    kinds = _NODE_KINDS

    def walk(node, container_end: int, level: int, quotes: int) -> None:
        """`level`: markdown-it-py's nesting level where the node's block starts (a quote adds one,
        a list and its item one each)."""
        name = node.name
        kind = kinds.get(name)
        if kind == _PARAGRAPH:
            a, b = node.srcmap
            first = bisect_right(starts, a) - 1
            if tabs is not None and b"\t" in tabs[starts[first] : b]:
                # its source map's end is off after a tab (its indentation's too): its lines are its
                # text's lines (slower: the text's meta is converted for Python)
                text = node if name == "text" else node.children[0]
                add(Block("paragraph", first, first + text.meta["content"].count("\n") + 1))
            else:
                add(Block("paragraph", first, max(first + 1, bisect_right(starts, b - 1))))
            return
        if kind == _ITEM:
            # markdown-it-py's unclosed fence in a list item runs over blank lines until a line that
            # ends the item, so only a quote (whose end is a line without `>`) bounds it
            kids = node.children
            if kids and level + 1 >= MAX_NESTING:
                raise _TooDeep
            for c in kids:
                walk(c, container_end, level + 1, quotes)
            return
        if kind == _LIST:
            add(_LIST_OPEN)
            for c in node.children:
                walk(c, container_end, level + 1, quotes)
            add(_LIST_CLOSE)
            return
        if kind is None or kind == _WALK:  # root, hr, a table's head and body
            for c in node.children:
                walk(c, container_end, level, quotes)
            return
        a, b = node.srcmap
        first = bisect_right(starts, a) - 1
        end = max(first + 1, bisect_right(starts, b - 1))
        if kind == _QUOTE:
            kids = node.children
            if kids and level + 1 >= MAX_NESTING:
                raise _TooDeep
            add(_QUOTE_OPEN)
            for c in kids:
                walk(c, min(end, quote_end), level + 1, quotes + 1)
            add(_QUOTE_CLOSE)
        elif kind == _HEADING:
            kids = node.children
            text = kids[0].meta["content"] if kids and end - first == 1 else ""
            add(Block("heading", first, end, node.meta["level"], text))
        elif kind == _FENCE:
            meta = node.meta
            markup = meta["marker"] * meta["marker_len"]
            if end - first < 2 or not closes_fence(lines[end - 1], markup, quotes):
                # markdown-it-py's unclosed fence takes the blank lines up to its container's end
                end = max(first + 1, min(end, container_end))
                while end < container_end and _blank_within(lines[end], quotes):
                    end += 1
            add(Block("fence", first, end, info=meta["info"], markup=markup))
        elif kind == _SPAN:
            add(Block(_SPAN_KINDS[name], first, end))
        elif kind == _DEFINITION:
            label = normalize_label(node.meta["label"])
            if label not in refs:
                refs[label] = first
        elif kind == _TABLE:
            add(_TABLE_OPEN)
            for c in node.children:
                walk(c, container_end, level, quotes)
            add(_TABLE_CLOSE)

    # markdown-it-py counts no last line of only spaces (or none) after the last newline
    walk(root, len(lines) - 1 if not lines[-1].strip(" \t") else len(lines), 0, 0)
    return Blocks(out, refs)


def _within(line: str, quotes: int) -> str:
    """`line` without the markers of the `quotes` quotes it is in (as many as it has of them)."""
    for _ in range(quotes):
        rest = line.lstrip(" \t")
        if not rest.startswith(">"):
            break
        line = rest[1:]
    return line


def _blank_within(line: str, quotes: int) -> bool:
    """Whether `line` is blank inside `quotes` quotes."""
    return not _within(line, quotes).strip(" \t")


def closes_fence(line: str, markup: str, quotes: int) -> bool:
    """Whether `line`, inside `quotes` quotes, closes a fence opened by `markup`."""
    last = _within(line, quotes).strip()
    return bool(markup) and last.startswith(markup) and set(last) <= {markup[0]}
