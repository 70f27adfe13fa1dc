"""Quick fixes for structural diagnostics, as plain edits.

`broken-link`: the closest existing targets (edit distance on note names, aliases,
headings, block ids) or a new note created where the link expects it (never outside
the vault). `undefined-symbol`: a stub definition appended to the pseudocode block
(or `.pseudo` file) that calls it. The inputs are a diagnostic's `data`.
"""

from __future__ import annotations

import os
import posixpath
import re
from dataclasses import dataclass
from pathlib import Path

from ponder.index.editor.rename import Change, TextEdit, anchor_range
from ponder.index.graph.graph import Graph
from ponder.index.notes import Note, Range
from ponder.index.parsing.positions import fold, split_lines, utf16_len


def edit_distance(a: str, b: str, limit: int | None = None) -> int:
    """Levenshtein distance; stops early (returns limit + 1) once it must exceed `limit`."""
    if a == b:
        return 0
    if len(a) < len(b):
        a, b = b, a
    if limit is not None and len(a) - len(b) > limit:
        return limit + 1
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        if limit is not None and min(cur) > limit:
            return limit + 1
        prev = cur
    return prev[-1]


def _closest(wanted: str, options: list[str], k: int) -> list[tuple[int, str]]:
    w = fold(wanted)
    limit = max(2, len(w) // 2)
    scored = []
    for opt in options:
        f = fold(opt)
        d = edit_distance(w, f, limit)
        if w and (f.startswith(w) or w in f):
            d = min(d, 1 + abs(len(f) - len(w)) // 4)
        if d <= limit:
            scored.append((d, opt))
    scored.sort(key=lambda x: (x[0], len(x[1]), x[1]))
    return scored[:k]


@dataclass(frozen=True, slots=True)
class Fix:
    title: str
    change: Change
    preferred: bool = False


def broken_link_fixes(graph: Graph, note: Note, data: dict, k: int = 3, root: Path | None = None) -> list[Fix]:
    """Replacement targets for link number `data["link"]`, then "create the note" (checked
    against the disk under `root`, the vault's resolved root, when given)."""
    i = data.get("link")
    if not isinstance(i, int) or i >= len(note.links):
        return []
    link = note.links[i]
    out: list[Fix] = []
    if data.get("resolved") is None:
        from ponder.index.editor.completion import link_name

        names: dict[str, str] = {}
        for key, paths in graph.names().items():
            for p in paths:
                n = graph.notes.get(p)
                if n is None:
                    continue
                label = n.name if fold(n.name) == key else next((a for a in n.aliases if fold(a) == key), key)
                names.setdefault(label, p)
        for j, (_, label) in enumerate(_closest(link.target.rsplit("/", 1)[-1], list(names), k)):
            p = names[label]
            text = (
                link_name(graph, p)
                if link.kind == "wiki"
                else posixpath.relpath(p, posixpath.dirname(note.path) or ".")
            )
            if link.kind == "wiki" and fold(label) != fold(graph.notes[p].name):
                text = label  # an alias resolves by itself
            out.append(
                Fix(
                    f"Change link to '{text}'", Change([TextEdit(note.path, link.target_range, text)]), preferred=j == 0
                )
            )
        create = create_note_fix(graph, note, link.target, link.kind, root)
        if create:
            out.append(create)
        return out
    target = graph.notes.get(data["resolved"])
    r = anchor_range(link)
    if target is None or r is None:
        return []
    if link.heading:
        texts = [h.text for h in target.headings]
        for _, h in _closest(link.heading, texts, k):
            new = h if link.kind == "wiki" else next(x.slug for x in target.headings if x.text == h)
            out.append(Fix(f"Change heading to '{h}'", Change([TextEdit(note.path, r, new)])))
    elif link.block:
        for _, b in _closest(link.block, [b.id for b in target.block_ids], k):
            out.append(Fix(f"Change block to '^{b}'", Change([TextEdit(note.path, r, b)])))
    return out


# folders a quick fix never writes into: Ponder's index and git's repository
_PRIVATE_FOLDERS = (".ponder", ".git")
MAX_NAME_BYTES = 255  # per path component (ext4, APFS, NTFS)
MAX_PATH_CHARS = 1024
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def new_note_location(graph: Graph, from_path: str, target: str, kind: str, root: Path | None = None) -> str | None:
    """Where `[[target]]` / `[](target)` expects the note; None when no note should be created
    there: outside the vault (also through a folder link: checked on disk when `root`, the
    vault's resolved root, is given), in `.git/` or `.ponder/`, or under a name no file system
    takes (control characters, a component over 255 bytes, an absurd length)."""
    t = target.strip().replace("\\", "/")
    if not t or len(t) > MAX_PATH_CHARS or _CONTROL.search(t):
        return None
    if kind == "markdown" or t.startswith(("./", "../")):
        path = posixpath.normpath(posixpath.join(posixpath.dirname(from_path), t))
    elif "/" in t:
        path = posixpath.normpath(t.lstrip("/"))
    else:
        path = posixpath.join(posixpath.dirname(from_path), t)
    if path.startswith("..") or path.startswith("/") or path in (".", ""):
        return None
    if not path.lower().endswith((".md", ".markdown", ".pseudo")):
        if "." in path.rsplit("/", 1)[-1] and kind == "markdown":
            return None  # a missing asset, not a note
        path += ".md"
    parts = path.split("/")
    if any(p.lower() in _PRIVATE_FOLDERS for p in parts[:-1]):
        return None
    if any(len(p.encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES or p in ("", ".", "..") for p in parts):
        return None
    if root is not None and not _stays_inside(root, path):
        return None
    return None if path in graph.notes else path


def _stays_inside(root: Path, rel: str) -> bool:
    """The deepest existing folder on the way to `rel` is really inside `root` (a folder link
    pointing out of the vault would put the new note outside it)."""
    folder = (root / rel).parent
    while not folder.exists() and folder != root and root in folder.parents:
        folder = folder.parent
    try:
        real = Path(os.path.realpath(folder))
    except OSError:
        return False
    return real == root or root in real.parents


def create_note_fix(graph: Graph, note: Note, target: str, kind: str, root: Path | None = None) -> Fix | None:
    path = new_note_location(graph, note.path, target, kind, root)
    if path is None:
        return None
    title = posixpath.basename(path).rsplit(".", 1)[0]
    text = f"# {title}\n\n" if not path.endswith(".pseudo") else ""
    return Fix(f"Create note '{path}'", Change(creates=[(path, text)]))


_ARGS = re.compile(r"\(([^()]*)\)")


def stub_definition(name: str, arg_text: str | None) -> str:
    """`FUNCTION name(a, b)` with parameter names taken from the call's arguments where they are plain names."""
    params = []
    if arg_text:
        for i, a in enumerate(x.strip() for x in arg_text.split(",")):
            if not a:
                continue
            word = re.fullmatch(r"[^\W\d]\w*", a.split(".")[-1])
            params.append(word.group(0) if word else f"arg{i + 1}")
    seen: set[str] = set()
    uniq = []
    for p in params:
        while p in seen:
            p += "_"
        seen.add(p)
        uniq.append(p)
    return f"FUNCTION {name}({', '.join(uniq)})\n    // TODO: describe {name}\nEND FUNCTION\n"


def undefined_symbol_fix(note: Note, text: str, data: dict) -> Fix | None:
    """Append a stub definition of `data["name"]` at the end of the block (or file) that calls it."""
    name = data.get("name")
    if not name:
        return None
    lines = split_lines(text)
    call = next((c for c in note.calls if c.name == name), None)
    args = None
    if call is not None:
        line = lines[call.range.start.line] if call.range.start.line < len(lines) else ""
        m = _ARGS.match(line[line.find(name) + len(name) :].lstrip() if name in line else "")
        args = m.group(1) if m else None
    stub = stub_definition(name, args)
    block = data.get("block", -1)
    if isinstance(block, int) and 0 <= block < len(note.code_blocks):
        at = note.code_blocks[block].body_end  # the closing fence's line
        pos = Range.of(at, 0)
        new = "\n" + stub
    else:
        last = len(lines) - 1
        end = utf16_len(lines[last]) if lines else 0
        pos = Range.of(max(last, 0), end)
        new = ("\n" if lines and lines[last] else "") + "\n" + stub
    return Fix(f"Create stub definition of '{name}'", Change([TextEdit(note.path, pos, new)]))


SUPERSEDED_MARK = " *(superseded)*"


_SEE_ALSO = re.compile(r"^\s*(\*\*)?(see also|related|см\. также|см также|связано)(\*\*)?\s*:", re.IGNORECASE)


def missing_link_fix(graph: Graph, note: Note, text: str, data: dict) -> Fix | None:
    """Link the related note: append to the note's 'See also:' line, or add one at the end."""
    from ponder.index.editor.completion import link_name

    target = data.get("target")
    if not isinstance(target, str) or target not in graph.notes:
        return None
    link = f"[[{link_name(graph, target)}]]"
    lines = split_lines(text)
    for i in range(len(lines) - 1, -1, -1):
        if _SEE_ALSO.match(lines[i]):
            at = Range.of(i, utf16_len(lines[i].rstrip()))
            return Fix(f"Link {link}", Change(edits=[TextEdit(note.path, at, f", {link}")]), preferred=True)
    last = len(lines) - 1
    end = Range.of(last, utf16_len(lines[last]))
    sep = "\n" if lines[last].strip() else ""
    label = (
        "См. также"
        if re.search(r"[а-яё]", text[:2000], re.IGNORECASE) and not re.search(r"[a-z]{4,}", text[:400])
        else "See also"
    )
    return Fix(f"Link {link}", Change(edits=[TextEdit(note.path, end, f"{sep}\n{label}: {link}\n")]), preferred=True)
