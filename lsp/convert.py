"""The one place where index values become protocol values and back.

The index counts columns in UTF-16 code units; the client may have negotiated UTF-8
or UTF-32. A `Converter` is made per request (it caches the lines it reads), and runs
on the index thread because it reads note text through the vault.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from lsprotocol import types as t
from pygls.uris import from_fs_path, to_fs_path

from ponder.index import (
    Change,
    Diagnostic,
    Location,
    Position,
    Range,
    split_lines,
    utf8_to_utf16,
    utf16_len,
    utf16_to_cp,
    utf16_to_utf8,
)

SEVERITY = {
    "error": t.DiagnosticSeverity.Error,
    "warning": t.DiagnosticSeverity.Warning,
    "information": t.DiagnosticSeverity.Information,
    "hint": t.DiagnosticSeverity.Hint,
}


_UNKNOWN = object()


class Paths:
    """Vault-relative posix paths <-> file URIs."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self._roots = {str(self.root), os.path.realpath(self.root)}
        self._known: dict[
            str, str | None
        ] = {}  # uri -> path: ~50 us each, asked for every open note per diagnostics pass

    def path(self, uri: str) -> str | None:
        out = self._known.get(uri, _UNKNOWN)  # one lookup: the loop and the index thread both ask
        if out is _UNKNOWN:
            if len(self._known) > 4096:
                self._known.clear()
            out = self._known[uri] = self._path(uri)
        return out

    def _path(self, uri: str) -> str | None:
        fs = to_fs_path(uri) if uri.startswith("file:") else None
        if fs is None:
            return None
        fs = os.path.normpath(fs)
        for root in self._roots:
            if fs.startswith(root + os.sep):
                return Path(os.path.relpath(fs, root)).as_posix()
        return None

    def uri(self, path: str) -> str:
        return from_fs_path(str(self.root / path))


class Converter:
    def __init__(self, paths: Paths, encoding: str, texts: Callable[[str], str | None]):
        self.paths = paths
        self.encoding = getattr(encoding, "value", encoding)
        self._texts = texts
        self._lines: dict[str, list[str]] = {}

    def with_text(self, path: str, text: str) -> Converter:
        """This converter with `path` read as `text` (the editor's text when it sent a request)."""
        texts = self._texts
        return Converter(self.paths, self.encoding, lambda p: text if p == path else texts(p))

    def line(self, path: str, line: int) -> str:
        """Line `line` of `path`'s text ("" past its end)."""
        if path not in self._lines:
            self._lines[path] = split_lines(self._texts(path) or "")
        lines = self._lines[path]
        return lines[line] if 0 <= line < len(lines) else ""

    # --- positions ----------------------------------------------------------------------

    def pos_in(self, path: str, p: t.Position) -> Position:
        if self.encoding == "utf-16":
            return Position(p.line, p.character)
        line = self.line(path, p.line)
        if self.encoding == "utf-8":
            return Position(p.line, utf8_to_utf16(line, p.character))
        return Position(p.line, utf16_len(line[: p.character]))

    def pos(self, path: str, p: Position) -> t.Position:
        if self.encoding == "utf-16" or p.character == 0:
            return t.Position(p.line, p.character)
        line = self.line(path, p.line)
        if self.encoding == "utf-8":
            return t.Position(p.line, utf16_to_utf8(line, p.character))
        return t.Position(p.line, utf16_to_cp(line, p.character))

    def range(self, path: str, r: Range) -> t.Range:
        return t.Range(self.pos(path, r.start), self.pos(path, r.end))

    def range_in(self, path: str, r: t.Range) -> Range:
        return Range(self.pos_in(path, r.start), self.pos_in(path, r.end))

    # --- values -------------------------------------------------------------------------

    def uri(self, path: str) -> str:
        return self.paths.uri(path)

    def location(self, loc: Location) -> t.Location:
        return t.Location(self.uri(loc.path), self.range(loc.path, loc.range))

    def diagnostic(self, d: Diagnostic) -> t.Diagnostic:
        return t.Diagnostic(
            range=self.range(d.path, d.range),
            message=d.message,
            severity=SEVERITY.get(d.severity, t.DiagnosticSeverity.Warning),
            code=d.code,
            source="ponder",
            related_information=[
                t.DiagnosticRelatedInformation(t.Location(self.uri(r.path), self.range(r.path, r.range)), r.message)
                for r in d.related
            ]
            or None,
            data=d.data,
        )

    def workspace_edit(
        self, change: Change, document_changes: bool, versions: dict[str, int] | None = None
    ) -> t.WorkspaceEdit:
        """Text edits first (in the files' current locations), then creates and renames."""
        by_path = change.by_path()
        versions = versions or {}
        if not document_changes:
            edits = {
                self.uri(p): [t.TextEdit(self.range(p, e.range), e.new_text) for e in es] for p, es in by_path.items()
            }
            return t.WorkspaceEdit(changes=edits)
        ops: list = []
        for p, es in by_path.items():
            ops.append(
                t.TextDocumentEdit(
                    t.OptionalVersionedTextDocumentIdentifier(self.uri(p), versions.get(p)),
                    [t.TextEdit(self.range(p, e.range), e.new_text) for e in es],
                )
            )
        for p, text in change.creates:
            uri = self.uri(p)
            ops.append(t.CreateFile(uri=uri, options=t.CreateFileOptions(overwrite=False, ignore_if_exists=True)))
            if text:
                ops.append(
                    t.TextDocumentEdit(
                        t.OptionalVersionedTextDocumentIdentifier(uri, None),
                        [t.TextEdit(t.Range(t.Position(0, 0), t.Position(0, 0)), text)],
                    )
                )
        for old, new in change.moves:
            ops.append(
                t.RenameFile(old_uri=self.uri(old), new_uri=self.uri(new), options=t.RenameFileOptions(overwrite=False))
            )
        return t.WorkspaceEdit(document_changes=ops)


# --- feature-specific shapes ------------------------------------------------------------

COMPLETION_KIND = {
    "note": t.CompletionItemKind.File,
    "alias": t.CompletionItemKind.Reference,
    "heading": t.CompletionItemKind.Reference,
    "block": t.CompletionItemKind.Reference,
    "tag": t.CompletionItemKind.Keyword,
    "function": t.CompletionItemKind.Function,
    "file": t.CompletionItemKind.File,
}

SYMBOL_KIND = {
    "note": t.SymbolKind.File,
    "alias": t.SymbolKind.Key,
    "heading": t.SymbolKind.String,
    "function": t.SymbolKind.Function,
}


def completion_list(conv: Converter, path: str, result, snippets: bool = False) -> dict:
    """An LSP `CompletionList` as JSON (see `document_symbols`: a list of a thousand names went
    through cattrs on the message loop for tens of milliseconds).

    `snippets` (the client supports them): the edit is sent as a snippet with no placeholder.
    Neovim inserts a plain-text edit only up to its first space (`[[Внутренние` for
    `Внутренние ссылки]]`), while it expands a snippet's whole text on accept."""
    items = []
    for c in result.items:
        r = conv.range(path, c.replace)
        item: dict = {
            "label": c.label,
            "textEdit": {"range": _range_json(r), "newText": _snippet_text(c.insert) if snippets else c.insert},
        }
        if snippets:
            item["insertTextFormat"] = 2
        kind = COMPLETION_KIND.get(c.kind)
        if kind is not None:
            item["kind"] = kind.value
        if c.detail:
            item["detail"] = c.detail
        if c.documentation:
            item["documentation"] = {"kind": "markdown", "value": c.documentation}
        if c.sort:
            item["sortText"] = c.sort
        if c.filter:
            item["filterText"] = c.filter
        items.append(item)
    return {"isIncomplete": bool(result.incomplete), "items": items}


def _snippet_text(text: str) -> str:
    """`text` as a snippet that expands to itself."""
    return text.replace("\\", "\\\\").replace("$", "\\$").replace("}", "\\}")


def _range_json(r: t.Range) -> dict:
    return {
        "start": {"line": r.start.line, "character": r.start.character},
        "end": {"line": r.end.line, "character": r.end.character},
    }


def document_symbols(conv: Converter, path: str, items) -> list[dict]:
    """The outline as LSP `DocumentSymbol` JSON. Plain dicts, not lsprotocol objects: pygls
    serialises those through cattrs, which cost more than building the outline."""

    def one(it) -> dict:
        out = {
            "name": it.name or "(untitled)",
            "kind": SYMBOL_KIND[it.kind].value,
            "range": _range_json(conv.range(path, it.range)),
            "selectionRange": _range_json(conv.range(path, it.selection)),
            "children": [one(c) for c in it.children],
        }
        if it.detail:
            out["detail"] = it.detail
        return out

    return [one(i) for i in items]


def workspace_symbols(conv: Converter, symbols) -> list[dict]:
    """LSP `WorkspaceSymbol`s as JSON (see `document_symbols`)."""
    out = []
    for s in symbols:
        sym = {
            "name": s.name,
            "kind": SYMBOL_KIND[s.kind].value,
            "location": {"uri": conv.uri(s.path), "range": _range_json(conv.range(s.path, s.range))},
        }
        if s.container:
            sym["containerName"] = s.container
        out.append(sym)
    return out


def folding_ranges(folds) -> list[t.FoldingRange]:
    kinds = {
        "comment": t.FoldingRangeKind.Comment,
        "imports": t.FoldingRangeKind.Imports,
        "region": t.FoldingRangeKind.Region,
    }
    return [t.FoldingRange(start_line=f.start, end_line=f.end, kind=kinds[f.kind]) for f in folds]


def document_links(conv: Converter, path: str, links) -> list[t.DocumentLink]:
    out = []
    for dl in links:
        if dl.url:
            target = dl.url
        else:
            target = conv.uri(dl.path) + (f"#L{dl.line + 1}" if dl.line is not None else "")
        out.append(t.DocumentLink(range=conv.range(path, dl.range), target=target, tooltip=dl.path or dl.url))
    return out
