"""Structural checks that need no model: broken links, duplicate headings, pseudocode symbols.

Each check reads the `Graph` and returns `Diagnostic`s with stable codes:
`broken-link`, `duplicate-heading`, `undefined-symbol`, `duplicate-definition`, plus the
parse problems a note carries (`front-matter`, `unclosed-fence`, ...).
"""

from __future__ import annotations

from collections.abc import Iterable

from ponder.index.graph.graph import Graph
from ponder.index.notes import Diagnostic, Note, Related
from ponder.index.parsing.positions import fold
from ponder.index.parsing.pseudo import is_primitive


def check_note(graph: Graph, path: str, builtins: Iterable[str] = ()) -> list[Diagnostic]:
    """All structural diagnostics whose primary location is in note `path`."""
    note = graph.notes.get(path)
    if note is None:
        return []
    builtin_keys = {fold(b) for b in builtins}
    out: list[Diagnostic] = [Diagnostic(path, p.range, p.severity, p.code, p.message) for p in note.problems]
    out += broken_links(graph, note)
    out += duplicate_headings(note)
    out += undefined_symbols(graph, note, builtin_keys)
    out += duplicate_definitions(graph, note)
    return sorted(out, key=lambda d: (d.range.start, d.code))


def broken_links(graph: Graph, note: Note) -> list[Diagnostic]:
    out = []
    for i, link in enumerate(note.links):
        if link.kind == "url" or not link.checked:
            continue  # a reference use (its definition is checked), or a definition nothing uses
        res = graph.resolve(link, note.path)
        shown = link.raw
        if res.path is None and graph.is_folder(link, note.path):
            continue
        if res.path is None:
            what = "file" if link.kind == "markdown" else "note"
            msg = f"Broken link {shown}: no {what} named '{link.target}' in the vault"
        elif not res.anchor_ok:
            where = "this note" if res.path == note.path else f"'{res.path}'"
            msg = (
                f"Broken link {shown}: no heading '{link.heading}' in {where}"
                if link.heading
                else f"Broken link {shown}: no block '^{link.block}' in {where}"
            )
        else:
            continue
        data = {"link": i, "target": link.target, "heading": link.heading, "block": link.block, "resolved": res.path}
        out.append(Diagnostic(note.path, link.range, "warning", "broken-link", msg, (), data))
    return out


def duplicate_headings(note: Note) -> list[Diagnostic]:
    """A heading repeated under the same parent makes `[[note#heading]]` ambiguous. Texts are
    compared (case-insensitively), not slugs: `C#` and `C++` are different headings."""
    seen: dict[tuple[int | None, str], int] = {}
    out = []
    for i, h in enumerate(note.headings):
        key = (h.parent, fold(h.text))
        first = seen.get(key)
        if first is None:
            seen[key] = i
            continue
        other = note.headings[first]
        out.append(
            Diagnostic(
                note.path,
                h.range,
                "warning",
                "duplicate-heading",
                f"Duplicate heading '{h.text}' (also on line {other.range.start.line + 1}); links to it are ambiguous",
                (Related(note.path, other.range, "first occurrence"),),
                {"heading": h.text},
            )
        )
    return out


def undefined_symbols(graph: Graph, note: Note, builtin_keys: set[str]) -> list[Diagnostic]:
    out = []
    for call in note.calls:
        if is_primitive(call.name) or fold(call.name) in builtin_keys:
            continue
        if graph.definitions(call.name):
            continue
        out.append(
            Diagnostic(
                note.path,
                call.range,
                "error",
                "undefined-symbol",
                f"'{call.name}' is called but defined nowhere in the vault",
                (),
                {"name": call.name, "block": call.block},
            )
        )
    return out


def duplicate_definitions(graph: Graph, note: Note) -> list[Diagnostic]:
    """A function defined more than once with different signatures (identical copies are allowed)."""
    out = []
    for fn in note.functions:
        defs = graph.definitions(fn.name)
        if len(defs) < 2:
            continue
        signatures = {tuple(fold(p) for p in d.params) for _, d in defs}
        if len(signatures) < 2:
            continue
        others = [(p, d) for p, d in defs if not (p == note.path and d.range == fn.range)]
        related = tuple(Related(p, d.name_range, f"also defined as {d.signature}") for p, d in others)
        listing = "; ".join(f"{d.signature} in {p}:{d.range.start.line + 1}" for p, d in others)
        out.append(
            Diagnostic(
                note.path,
                fn.name_range,
                "error",
                "duplicate-definition",
                f"'{fn.name}' is defined {len(defs)} times with different signatures: here {fn.signature}; {listing}",
                related,
                {"name": fn.name},
            )
        )
    return out
