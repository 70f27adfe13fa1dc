"""Parse one note: a pure function from (path, text) to a `Note` with exact ranges.

`blocks.parse` gives the block structure (headings, fences, paragraphs, list items,
table rows, each with its line span; markdown-it-pyrs or markdown-it-py); links, tags and
block ids are found inside the prose lines with their exact columns, after code spans are
masked. Nothing here
raises on a bad note: problems are returned in `Note.problems`.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

import yaml

from ponder.index.notes import (
    Anchor,
    BlockId,
    CodeBlock,
    Heading,
    Link,
    Note,
    Position,
    Problem,
    Range,
    Sentence,
    Tag,
)
from ponder.index.parsing import blocks as block_parser
from ponder.index.parsing import front_matter
from ponder.index.parsing.blocks import QUOTE_MARKER, Block, normalize_label
from ponder.index.parsing.positions import cp_to_utf16, github_slugs, slugify, split_lines, utf16_len
from ponder.index.parsing.pseudo import parse_pseudocode
from ponder.index.parsing.sentences import split_sentences

PSEUDO_EXTENSIONS = (".pseudo",)

_WIKI = re.compile(r"(!?)\[\[([^\[\]\n]+?)\]\]")
# `[[1]](https://…)`, `[[全文]] (url)`, `[[x]]（url）`: bracketed text right before a parenthesised
# URL is the text of a citation, not a note name (CommonMark reads the first as a link with text `[1]`).
_CITATION_AFTER = re.compile(r"\s*[(（]\s*<?[a-zA-Z][a-zA-Z0-9+.-]*://")
# Inside a table the alias bar is escaped, `[[Note\|alias]]`; the backslash is not part of the name.
_ALIAS_BAR = re.compile(r"\\?\|")
# The patterns are written for Python's matcher, which tries a pattern at every position of a
# line: a lookahead for the first character lets it skip to the candidates (`(?=[!\[])`), a
# literal first lets it search for that (`_TAG`), and possessive repeats (`*+`, `++`) never give
# back what cannot end differently (each character of a label has one way to be read). 1.2 to
# 2.3 times faster on link-heavy lines; the same matches on every line of the real vaults.
_MDLINK = re.compile(
    r"(?=[!\[])(!?)\[((?:[^\[\]\n]++|\[[^\[\]\n]*+\])*+)\]\(\s*(<[^>\n]+>|[^)\s]+)(?:\s+(?:\"[^\"\n]*\"|'[^'\n]*'))?\s*\)"
)
_BARE_URL = re.compile(r"(?=[<a-zA-Z])<?\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s<>()\[\]（）]+>?")
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
_DRIVE = re.compile(r"^[a-zA-Z]:[\\/]")  # `C:\notes\x.md`: a path, not a scheme
_TAG = re.compile(r"#(?<![\w/#&\\]#)([^\W\d_][\w/\-]*|\d+[^\W\d][\w/\-]*|_[\w/\-]+)")
# `text ^id` ends a block; so does `![[image.png]]^id` straight after an embed (Obsidian's help
# vault itself links to such an id).
_BLOCK_ID = re.compile(r"(?:^|\s|(?<=\]\]))\^([A-Za-z0-9][A-Za-z0-9-]*)\s*$")
# `#### Title { #id }` (kramdown / pandoc / mdBook heading attributes): the id is the anchor.
_HEADING_ATTR = re.compile(r"\s*\{\s*#([^\s{}]+)(?:\s+[^{}]*)?\}\s*$")
# `<a id="x">`, `<a name="x">`, `<span id=x>`, `<h2 id='x'>`: HTML ids are fragment targets.
_HTML_ID = re.compile(r"""<[a-zA-Z][a-zA-Z0-9]*\b[^<>]*?\s(?:id|name)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'<>`=]+))""")
# A reference definition `[label]: destination "title"` (markdown-it says which lines are one).
_REF_DEF = re.compile(r"^((?:\s*>)*\s{0,3})\[((?:[^\[\]\\]|\\.)+)\]:[ \t]*(<[^<>\n]*>|\S+)")
# A reference use: `[text][label]`, `[label][]`, or a bare `[label]` (not followed by `(`, `[` or `:`).
_REF_USE = re.compile(r"(!?)\[((?:[^\[\]\\\n]++|\\.|\[[^\[\]\n]*+\])*+)\](?:\[((?:[^\[\]\\\n]++|\\.)*+)\]|(?![(\[:]))")
_CODE_SPAN = re.compile(r"(`+)(.+?)(?<!`)\1(?!`)")
# What GitHub's slug sees of inline markup: a link's or image's text, not its destination; no tags.
_RENDERED_LINK = re.compile(r"!?\[((?:[^\[\]\n]|\[[^\[\]\n]*\])*)\]\([^)\n]*\)")
_HTML_TAG = re.compile(r"</?[a-zA-Z][^<>]*>")
_ATX_TRAIL = re.compile(r"\s+#+\s*$")
_ATX_START = re.compile(r"#+\s")
_LIST_MARKER = re.compile(r"^(\s*(?:[-*+]|\d{1,9}[.)])\s+(?:\[[ xX]\]\s+)?)")


# Every construct the parse handles, in one small note (`warm_up`).
_WARM_UP_NOTE = """---
aliases: [Warm]
tags: [x]
---
# Warm up

A paragraph with [[Note|alias]], [a link](other.md#part), [ref][label], https://example.org and #tag. ^block

## Lists and quotes

- item [x](y.md)
  1. nested <a id="anchor"></a>
> quote with `code`
> - quoted item

| a | b |
|---|---|
| [[c]] | d |

```pseudo
FUNCTION f(x)
    RETURN g(x)
END FUNCTION
```

    indented code

[label]: https://example.org/ "title"
"""


def warm_up() -> None:
    """Parse a small note once, so that the first note a user opens does not wait for what a
    process's first parse costs (the Rust engine's set-up, the interpreter's first runs of this
    code): measured 1-2.5 ms of a 5 KB note's first open."""
    _ = parse_note("warm-up.md", _WARM_UP_NOTE).sentences  # the split is lazy


def parse_note(path: str, text: str) -> Note:
    """Parse `text` as the note at vault-relative `path` (a `.pseudo` file is all pseudocode)."""
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = split_lines(text)
    note = Note(path=path, title="", text=text)
    if path.lower().endswith(PSEUDO_EXTENSIONS):
        _parse_pseudo_file(note, lines)
    else:
        _parse_markdown(note, lines)
    note.title = _title(note)
    return note


def _title(note: Note) -> str:
    t = note.front_matter.get("title")
    if isinstance(t, (str, int, float)) and str(t).strip():
        return str(t).strip()
    for h in note.headings:
        if h.level == 1:
            return h.text
    return note.name


def _parse_pseudo_file(note: Note, lines: list[str]) -> None:
    end = Position(max(len(lines) - 1, 0), utf16_len(lines[-1]) if lines else 0)
    note.code_blocks.append(CodeBlock("pseudo", "pseudo", Range(Position(0, 0), end), 0, len(lines), True))
    fns, calls = parse_pseudocode(lines, 0, len(lines), -1)
    note.functions.extend(fns)
    note.calls.extend(calls)
    note.split = lambda: _add_code_lines([], lines, 0, len(lines), None)


def _add_code_lines(out: list[Sentence], lines: list[str], start: int, end: int, heading: int | None) -> list[Sentence]:
    """Pseudocode lines as `code` units (added to `out`, which is returned): constants and
    statements can contradict prose."""
    for i in range(start, min(end, len(lines))):
        line = lines[i]
        if line.split("//", 1)[0].strip():
            lead = len(line) - len(line.lstrip())
            out.append(
                Sentence(
                    line.strip(), Range.of(i, cp_to_utf16(line, lead), i, utf16_len(line.rstrip())), "code", heading
                )
            )
    return out


# --- front matter -----------------------------------------------------------------------


def _front_matter(note: Note, lines: list[str]) -> int:
    """Read YAML front matter; return the number of lines it occupies (0 if none)."""
    if not lines or lines[0].rstrip() != "---":
        return 0
    for end in range(1, len(lines)):
        if lines[end].rstrip() in ("---", "..."):
            break
    else:
        note.problems.append(Problem("front-matter", "Front matter is not closed with '---'", Range.of(0, 0, 0, 3)))
        return 0
    note.front_matter_range = Range.of(0, 0, end, utf16_len(lines[end]))
    raw = "\n".join(lines[1:end])
    try:
        data = front_matter.load(raw) if raw.strip() else {}
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = 1 + (mark.line if mark is not None else 0)
        line = min(line, end)
        reason = getattr(e, "problem", None) or str(e).splitlines()[0]
        note.problems.append(
            Problem(
                "front-matter",
                f"Front matter is not valid YAML: {reason}",
                Range.of(line, 0, line, utf16_len(lines[line])),
            )
        )
        return end + 1
    if not isinstance(data, dict):
        note.problems.append(
            Problem("front-matter", "Front matter is not a mapping of keys to values", note.front_matter_range)
        )
        return end + 1
    note.front_matter = {str(k): v for k, v in data.items()}
    for key in ("aliases", "alias"):
        note.aliases.extend(_str_list(note.front_matter.get(key)))
    fm_tags = _str_list(note.front_matter.get("tags") or note.front_matter.get("tag"))
    for t in fm_tags:
        for part in re.split(r"[,\s]+", t):
            if part.strip("#"):
                note.tags.append(Tag(part.strip("#"), note.front_matter_range))
    return end + 1


def _str_list(v: object) -> list[str]:
    if v is None:
        return []
    if isinstance(v, (list, tuple)):
        return [str(x).strip() for x in v if x is not None and str(x).strip()]
    return [s.strip() for s in str(v).split(",") if s.strip()]


# --- markdown ---------------------------------------------------------------------------


def _parse_markdown(note: Note, lines: list[str]) -> None:
    fm_lines = _front_matter(note, lines)
    body = [""] * fm_lines + lines[fm_lines:]
    try:
        parsed = block_parser.parse("\n".join(body), body)
    except Exception as e:  # the parser should not fail, but a note must never take the index down
        note.problems.append(Problem("parse-error", f"Markdown could not be parsed: {e}", Range.of(0, 0)))
        return
    code_lines: set[int] = set(range(fm_lines))
    verbatim: set[int] = set(range(fm_lines))  # code, where not even an HTML id counts
    heading_stack: list[int] = []
    current_heading: int | None = None
    prose: list[tuple[str, int, int, int | None]] = []  # (kind, first line, end line, heading) per prose unit
    all_heads: list[tuple[str, str | None, int | None]] = []  # (text, explicit id, index in headings or None)
    quoted: list[tuple[str, Range]] = []  # headings inside blockquotes, in order
    list_depth = 0
    quote_depth = 0
    in_table = False

    for b in parsed.blocks:
        k = b.kind
        if k == "paragraph":
            prose.append(("item" if list_depth else "sentence", b.start, b.end, current_heading))
        elif k == "heading":
            h_text, h_range = _heading_text(lines, b.start, b.end, b.text)
            explicit = None
            attr = _HEADING_ATTR.search(h_text)
            if attr and attr.start() > 0:
                h_text, explicit = h_text[: attr.start()].rstrip(), attr.group(1)
            if quote_depth:
                # Quoted text (a template, a cited doc, a callout): not this note's outline, nor a
                # duplicate of its headings; still an anchor, as GitHub gives it an id.
                quoted.append((h_text, h_range))
                all_heads.append((h_text, explicit, None))
                continue
            while heading_stack and note.headings[heading_stack[-1]].level >= b.level:
                heading_stack.pop()
            parent = heading_stack[-1] if heading_stack else None
            all_heads.append((h_text, explicit, len(note.headings)))
            note.headings.append(Heading(b.level, h_text, slugify(h_text), h_range, parent))
            heading_stack.append(len(note.headings) - 1)
            current_heading = len(note.headings) - 1
        elif k == "row":
            if in_table:
                prose.append(("row", b.start, b.end, current_heading))
        elif k == "quote_open":
            quote_depth += 1
        elif k == "quote_close":
            quote_depth -= 1
        elif k == "fence" or k == "code":
            code_lines.update(range(b.start, b.end))
            verbatim.update(range(b.start, b.end))
            if k == "fence":
                _add_fence(note, lines, b, quote_depth)
        elif k == "html":
            code_lines.update(range(b.start, b.end))
        elif k == "list_open":
            list_depth += 1
        elif k == "list_close":
            list_depth -= 1
        elif k == "table_open":
            in_table = True
        elif k == "table_close":
            in_table = False

    _set_slugs(note, all_heads, quoted)
    refs, ref_taken = _reference_definitions(note, lines, parsed.references)
    for ln, line in enumerate(lines):
        if ln in verbatim:
            continue
        if "<" in line:
            _html_ids(note, ln, line)
        if ln in code_lines:
            continue
        taken = ref_taken.get(ln)
        if taken is not None and not line[taken[1] :].strip():
            continue  # all a reference definition, already read: whatever else matched would overlap it
        if "[" in line or "#" in line or "://" in line or "^" in line:  # what every pattern below needs
            _scan_line(note, ln, line, refs, [taken] if taken is not None else [])
    pseudo_units: list[tuple[int, int, int | None]] = []  # (body start, body end, heading) per pseudo block
    for block_index, cb in enumerate(note.code_blocks):
        if cb.is_pseudo:
            fns, calls = parse_pseudocode(lines, cb.body_start, cb.body_end, block_index)
            note.functions.extend(fns)
            note.calls.extend(calls)
            heading = max(
                (i for i, h in enumerate(note.headings) if h.range.start.line < cb.range.start.line), default=None
            )
            pseudo_units.append((cb.body_start, cb.body_end, heading))

    def split() -> list[Sentence]:
        out: list[Sentence] = []
        for kind, start, end, heading in prose:
            _add_sentences(out, lines, kind, start, end, heading)
        for start, end, heading in pseudo_units:
            _add_code_lines(out, lines, start, end, heading)
        out.sort(key=lambda s: s.range.start)
        return out

    note.split = split
    used = {l.ref for l in note.links if l.ref is not None}
    unused = {id(d) for label, d in refs.items() if label not in used}
    note.links[:] = [_unchecked(l) if id(l) in unused else l for l in note.links]
    note.links.sort(key=lambda l: l.range.start)  # reference definitions were read first
    note.anchors.sort(key=lambda a: a.range.start)


def _set_slugs(note: Note, heads: list[tuple[str, str | None, int | None]], quoted: list[tuple[str, Range]]) -> None:
    """Heading ids as GitHub makes them over the whole document (quoted headings included):
    the second `## Example` is `#example-1`, and `C#` / `C++` are `c` / `c-1`. An explicit
    `{ #id }` is the id itself."""
    slugs = iter(github_slugs([_rendered(text) for text, explicit, _ in heads if explicit is None]))
    q = iter(quoted)
    for text, explicit, index in heads:
        slug = explicit if explicit is not None else next(slugs)
        if index is None:
            _, rng = next(q)
            note.anchors.append(Anchor(text, slug, rng))
        else:
            h = note.headings[index]
            note.headings[index] = Heading(h.level, h.text, slug, h.range, h.parent)


def _rendered(text: str) -> str:
    """A heading's text as GitHub renders it before slugging: links give their text, tags vanish;
    code spans stay verbatim (`Vec<T>` keeps its `<T>`)."""
    if "[" not in text and "<" not in text:
        return text
    out, pos = [], 0
    for m in _CODE_SPAN.finditer(text):
        out += [_HTML_TAG.sub("", _RENDERED_LINK.sub(r"\1", text[pos : m.start()])), m.group(0)]
        pos = m.end()
    out.append(_HTML_TAG.sub("", _RENDERED_LINK.sub(r"\1", text[pos:])))
    return "".join(out)


def _html_ids(note: Note, ln: int, line: str) -> None:
    """`<a id=..>`, `<a name=..>`, `<span id=..>`: fragment targets, found outside code spans."""
    masked = _mask_code_spans(line)
    for m in _HTML_ID.finditer(masked):
        value = next(g for g in m.groups() if g is not None)
        if value:
            start = next(m.start(k) for k in (1, 2, 3) if m.group(k) is not None)
            r = Range.of(ln, cp_to_utf16(line, start), ln, cp_to_utf16(line, start + len(value)))
            note.anchors.append(Anchor(value, value, r))


def _unchecked(link: Link) -> Link:
    """The link, not to be reported when broken."""
    return Link(*(getattr(link, f) for f in Link.__slots__[:-1]), False)


def _reference_definitions(
    note: Note, lines: list[str], defs: dict[str, int]
) -> tuple[dict[str, Link], dict[int, tuple[int, int]]]:
    """Links for the `[label]: destination` lines markdown-it read as definitions: (label -> the
    definition's link, line -> the columns the definition takes)."""
    out: dict[str, Link] = {}
    taken: dict[int, tuple[int, int]] = {}
    for label, line_no in defs.items():
        if line_no >= len(lines) or label.startswith("^"):  # `[^1]:` is a footnote
            continue
        line = lines[line_no]
        m = _REF_DEF.match(line)
        if not m or normalize_label(m.group(2)) != label:
            continue  # the destination is on a later line: rare, left unchecked
        dest, d_start, d_end = m.group(3), m.start(3), m.end(3)

        u = _columns(line)
        whole = Range.of(line_no, u(len(m.group(1))), line_no, u(d_end))
        link = _dest_link(dest, d_start, d_end, line_no, u, whole, m.group(2), False, line[len(m.group(1)) : d_end])
        note.links.append(link)
        out[label] = link
        taken[line_no] = (len(m.group(1)), d_end)
    return out, taken


def _heading_text(lines: list[str], start: int, end: int, inline: str) -> tuple[str, Range]:
    raw = lines[start]
    if end - start > 1:  # setext: text on the first line, underline on the next
        text = raw.strip()
        return text, Range.of(start, 0, end - 1, utf16_len(lines[end - 1]))
    text = _ATX_TRAIL.sub("", inline).strip()
    text = _BLOCK_ID.sub("", text).strip() or text
    return text, Range.of(start, 0, start, utf16_len(raw))


def _add_fence(note: Note, lines: list[str], b: Block, quotes: int) -> None:
    """A fenced block; 'unclosed' only when it runs to the end of the note. Inside a blockquote,
    callout or list item the closing fence carries the container's markers (`> ````), and a
    container that ends closes the fence with it (CommonMark): the rest of the note is prose."""
    start, end = b.start, b.end
    info = b.info.strip()
    lang = info.split()[0] if info else ""
    closed = end - start >= 2 and end - 1 < len(lines) and block_parser.closes_fence(lines[end - 1], b.markup, quotes)
    body_end = end - 1 if closed else end
    r = Range.of(start, 0, end - 1, utf16_len(lines[end - 1]) if end - 1 < len(lines) else 0)
    note.code_blocks.append(CodeBlock(info, lang, r, start + 1, body_end, closed))
    if not closed and all(not ln.strip() for ln in lines[end:]):
        note.problems.append(
            Problem(
                "unclosed-fence",
                f"Code fence '{b.markup}' is never closed; the rest of the note is read as code",
                Range.of(start, 0, start, utf16_len(lines[start])),
            )
        )


def _mask_code_spans(line: str) -> str:
    """Replace inline code spans by spaces of the same length, so nothing inside them counts."""
    if "`" not in line:
        return line
    return _CODE_SPAN.sub(lambda m: " " * len(m.group(0)), line)


def _same(col: int) -> int:
    return col


def _columns(line: str):
    """Code-point column -> UTF-16 column on `line` (the same number on an ASCII line)."""
    if line.isascii():
        return _same
    return lambda col: cp_to_utf16(line, col)


def _scan_line(note: Note, ln: int, line: str, refs: dict, taken: list[tuple[int, int]]) -> None:
    masked = _mask_code_spans(line)
    taken = list(taken)
    u = _columns(line)

    for m in _WIKI.finditer(masked) if "[[" in masked else ():
        if _MDLINK.match(masked, m.start()) or _CITATION_AFTER.match(masked, m.end()):
            continue  # `[[1]](url)`: a markdown link whose text is `[1]`; `[[1]] (url)`: citation text
        link = _wikilink(m, ln, u)
        if link:
            note.links.append(link)
            taken.append(m.span())
    for m in _MDLINK.finditer(masked) if "](" in masked else ():
        if _overlaps(m.span(), taken):
            continue
        note.links.append(_mdlink(m, ln, u))
        taken.append(m.span())
    if refs and "[" in masked:
        for m in _REF_USE.finditer(masked):
            if _overlaps(m.span(), taken):
                continue
            label = normalize_label(m.group(3) or m.group(2))
            d = refs.get(label)
            if d is None or label.startswith("^"):
                continue  # `[x]` with no definition is plain text
            whole = Range.of(ln, u(m.start()), ln, u(m.end()))
            lab = 3 if m.group(3) else 2
            label_range = Range.of(ln, u(m.start(lab)), ln, u(m.end(lab)))
            note.links.append(
                Link(
                    d.kind,
                    d.target,
                    d.heading,
                    d.block,
                    m.group(2) or None,
                    bool(m.group(1)),
                    whole,
                    label_range,
                    m.group(0),
                    label,
                    False,
                )
            )
            taken.append(m.span())
    for m in _BARE_URL.finditer(masked) if "://" in masked else ():
        if _overlaps(m.span(), taken):
            continue
        r = Range.of(ln, u(m.start()), ln, u(m.end()))
        note.links.append(Link("url", m.group(0).strip("<>"), None, None, None, False, r, r, m.group(0)))
        taken.append(m.span())
    stripped = masked.lstrip()
    for m in _TAG.finditer(masked) if "#" in masked else ():
        if _overlaps(m.span(), taken):
            continue
        if stripped.startswith("#") and m.start() == len(masked) - len(stripped) and _ATX_START.match(stripped):
            continue
        note.tags.append(Tag(m.group(1).rstrip("/-"), Range.of(ln, u(m.start()), ln, u(m.end()))))
    bm = _BLOCK_ID.search(masked) if "^" in masked else None
    if bm:
        start = bm.start(1) - 1
        note.block_ids.append(BlockId(bm.group(1), Range.of(ln, u(start), ln, u(bm.end(1))), ln))


def _overlaps(span: tuple[int, int], taken: list[tuple[int, int]]) -> bool:
    return any(span[0] < e and s < span[1] for s, e in taken)


def _split_anchor(target: str) -> tuple[str, str | None, str | None]:
    """'Note#Heading' -> ('Note', 'Heading', None); 'Note#^id' -> ('Note', None, 'id')."""
    if "#" not in target:
        return target, None, None
    name, anchor = target.split("#", 1)
    if anchor.startswith("^"):
        return name, None, anchor[1:]
    # Obsidian allows nested heading paths 'Note#H1#H2': the last one is the target.
    return name, anchor.split("#")[-1].strip() or None, None


def _wikilink(m: re.Match, ln: int, u) -> Link | None:
    inner = m.group(2)
    body, *rest = _ALIAS_BAR.split(inner, 1)
    alias = rest[0] if rest else ""
    target_text = body.strip()
    if not target_text and not alias:
        return None
    name, heading, block = _split_anchor(target_text)
    t_start = m.start(2) + (len(body) - len(body.lstrip()))
    name_end = t_start + len(name.rstrip())
    return Link(
        kind="wiki",
        target=name.strip(),
        heading=heading,
        block=block,
        alias=alias.strip() or None if alias else None,
        embed=bool(m.group(1)),
        range=Range.of(ln, u(m.start()), ln, u(m.end())),
        target_range=Range.of(ln, u(t_start), ln, u(name_end)),
        raw=m.group(0),
    )


def _mdlink(m: re.Match, ln: int, u) -> Link:
    whole = Range.of(ln, u(m.start()), ln, u(m.end()))
    return _dest_link(m.group(3), m.start(3), m.end(3), ln, u, whole, m.group(2), bool(m.group(1)), m.group(0))


def _dest_link(dest: str, d_start: int, d_end: int, ln: int, u, whole: Range, text, embed: bool, raw: str) -> Link:
    """A markdown link (inline or a reference definition) from its destination as written."""
    if dest.startswith("<") and dest.endswith(">"):
        dest, d_start, d_end = dest[1:-1], d_start + 1, d_end - 1
    if _SCHEME.match(dest) and not _DRIVE.match(dest):
        return Link("url", dest, None, None, text, embed, whole, whole, raw)
    path_part, heading, block = _split_anchor(dest)
    path_part = path_part.split("?", 1)[0]
    return Link(
        kind="markdown",
        target=unquote(path_part),
        heading=unquote(heading) if heading else None,
        block=block,
        alias=text or None,
        embed=embed,
        range=whole,
        target_range=Range.of(ln, u(d_start), ln, u(d_start + len(path_part))),
        raw=raw,
    )


def _add_sentences(out: list[Sentence], lines: list[str], kind: str, start: int, end: int, heading: int | None) -> None:
    """Split one paragraph / list item / table row into units with exact ranges."""
    if kind == "row":
        line = lines[start]
        if re.fullmatch(r"\s*\|?[\s:|-]+\|?\s*", line):
            return
        text = line.strip()
        lead = len(line) - len(line.lstrip())
        out.append(Sentence(text, Range.of(start, cp_to_utf16(line, lead), start, utf16_len(line)), "row", heading))
        return
    for piece_start, piece_end, text in split_sentences(lines, start, end, _strip_marker):
        (ls, cs), (le, ce) = piece_start, piece_end
        rng = Range(Position(ls, cp_to_utf16(lines[ls], cs)), Position(le, cp_to_utf16(lines[le], ce)))
        out.append(Sentence(text, rng, kind, heading))  # type: ignore[arg-type]


def _strip_marker(line: str) -> int:
    """Columns of list / quote markers at the start of a line that are not prose."""
    n = 0
    m = QUOTE_MARKER.match(line)
    if m:
        n = m.end()
    m = _LIST_MARKER.match(line[n:])
    if m:
        n += m.end()
    return n
