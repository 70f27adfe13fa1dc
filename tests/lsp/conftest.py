"""End-to-end fixtures: tiny inline vaults (path -> text, `$0` marks the cursor) and a
factory that starts `python -m ponder.lsp` under pytest-lsp's client."""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from lsprotocol import types as t
from pygls.protocol import default_converter
from pygls.uris import from_fs_path
from pytest_lsp import LanguageClient, client_capabilities
from pytest_lsp.client import register_lsp_features

from ponder.index.parsing.positions import utf16_len

REPO = Path(__file__).resolve().parents[2]
LABELLED_VAULT = REPO / "bench" / "eval" / "vault-dacha"  # the project's own, so a fresh clone runs every test
CURSOR = "$0"


@dataclass
class Vault:
    root: Path
    cursor_path: str | None = None
    cursor: t.Position | None = None
    cursor_utf8: t.Position | None = None

    def uri(self, path: str) -> str:
        return from_fs_path(str(self.root / path))

    def path(self, uri: str) -> str:
        from pygls.uris import to_fs_path

        return Path(to_fs_path(uri)).resolve().relative_to(self.root.resolve()).as_posix()

    def text(self, path: str) -> str:
        return (self.root / path).read_text("utf-8")


def write_vault(root: Path, files: dict[str, str]) -> Vault:
    """Write the files; the one `$0` marker becomes the cursor (UTF-16 and UTF-8 columns)."""
    v = Vault(root)
    for path, text in files.items():
        if CURSOR in text:
            before = text[: text.index(CURSOR)]
            line = before.count("\n")
            col_text = before.rsplit("\n", 1)[-1]
            v.cursor_path = path
            v.cursor = t.Position(line, utf16_len(col_text))
            v.cursor_utf8 = t.Position(line, len(col_text.encode("utf-8")))
            text = text.replace(CURSOR, "", 1)
        p = root / path
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, "utf-8")
    return v


def copy_labelled(dst: Path) -> Vault:
    shutil.copytree(LABELLED_VAULT, dst, ignore=shutil.ignore_patterns(".ponder"))
    return Vault(dst)


def capabilities(encodings: list[str] | None = None, pull: bool = False) -> t.ClientCapabilities:
    caps = client_capabilities("visual-studio-code")
    if encodings is not None:
        caps.general = t.GeneralClientCapabilities(position_encodings=encodings)
    caps.text_document.diagnostic = t.DiagnosticClientCapabilities(dynamic_registration=False) if pull else None
    caps.workspace.workspace_edit = t.WorkspaceEditClientCapabilities(
        document_changes=True,
        resource_operations=[
            t.ResourceOperationKind.Create,
            t.ResourceOperationKind.Rename,
            t.ResourceOperationKind.Delete,
        ],
    )
    return caps


NO_EMBED = {"embedding": {"enabled": False}}


class Session:
    """A started server over one vault, with helpers the checks share."""

    def __init__(self, client: LanguageClient, vault: Vault):
        self.client = client
        self.vault = vault

    async def wait_indexed(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for token, reports in self.client.progress_reports.items():
                if str(token).startswith("ponder/index") and any(isinstance(r, t.WorkDoneProgressEnd) for r in reports):
                    return
            await asyncio.sleep(0.02)
        raise AssertionError("indexing progress never ended")

    def open(self, path: str, text: str | None = None, version: int = 1) -> None:
        text = self.vault.text(path) if text is None else text
        lang = "pseudo" if path.endswith(".pseudo") else "markdown"
        self.client.text_document_did_open(
            t.DidOpenTextDocumentParams(t.TextDocumentItem(self.vault.uri(path), lang, version, text))
        )

    async def diagnostics(self, path: str, predicate=lambda ds: True, timeout: float = 10) -> list[t.Diagnostic]:
        uri = self.vault.uri(path)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ds = self.client.diagnostics.get(uri)
            if ds is not None and predicate(ds):
                return list(ds)
            await asyncio.sleep(0.02)
        raise AssertionError(f"no matching diagnostics for {path}: {self.client.diagnostics.get(uri)}")

    def change(self, path: str, version: int, edits: list[tuple[t.Range, str]]) -> None:
        """Incremental didChange."""
        self.client.text_document_did_change(
            t.DidChangeTextDocumentParams(
                t.VersionedTextDocumentIdentifier(version, self.vault.uri(path)),
                [t.TextDocumentContentChangePartial(range=r, text=x) for r, x in edits],
            )
        )

    def published(self, path: str) -> list[t.PublishDiagnosticsParams]:
        return [p for p in self.client.published if p.uri == self.vault.uri(path)]

    def doc(self, path: str | None = None) -> t.TextDocumentIdentifier:
        return t.TextDocumentIdentifier(self.vault.uri(path or self.vault.cursor_path))


@pytest.fixture
async def start(tmp_path):
    """`await start(files_or_vault, init_options=..., caps=..., env=..., configuration=...)` -> Session."""
    clients: list[LanguageClient] = []

    async def _start(
        files, init_options=None, caps=None, env=None, configuration=None, wait=True, no_root=False
    ) -> Session:
        vault = files if isinstance(files, Vault) else write_vault(tmp_path / "vault", files)
        client = LanguageClient(configuration=configuration, converter_factory=default_converter)
        from pytest_lsp.client import DEFAULT_CLIENT_FEATURES

        register_lsp_features(
            client, {k: v for k, v in DEFAULT_CLIENT_FEATURES.items() if k != t.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS}
        )
        client.registrations = []
        client.feature(t.CLIENT_REGISTER_CAPABILITY)(lambda ls, params: ls.registrations.extend(params.registrations))
        client.published = []

        @client.feature(t.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def _published(ls, params: t.PublishDiagnosticsParams):
            ls.published.append(params)
            ls.diagnostics[params.uri] = params.diagnostics

        environ = {**os.environ, **(env or {})}
        await client.start_io(sys.executable, "-m", "ponder.lsp", env=environ)
        clients.append(client)
        await client.initialize_session(
            t.InitializeParams(
                capabilities=caps or capabilities(),
                # no_root: an editor started on a lone file names no folder at all
                root_uri=None if no_root else from_fs_path(str(vault.root)),
                workspace_folders=None if no_root else [t.WorkspaceFolder(from_fs_path(str(vault.root)), "vault")],
                initialization_options=NO_EMBED if init_options is None else init_options,
            )
        )
        s = Session(client, vault)
        if wait:
            await s.wait_indexed()
        return s

    yield _start
    for c in clients:
        try:
            await asyncio.wait_for(c.shutdown_session(), 10)
        except Exception:
            pass
        await c.stop()


def _offset(text: str, pos: t.Position) -> int:
    from ponder.index.parsing.positions import utf16_to_cp

    lines = text.split("\n")
    return sum(len(x) + 1 for x in lines[: pos.line]) + utf16_to_cp(
        lines[pos.line] if pos.line < len(lines) else "", pos.character
    )


def apply_text_edits(text: str, edits) -> str:
    for e in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True):
        text = text[: _offset(text, e.range.start)] + e.new_text + text[_offset(text, e.range.end) :]
    return text


def apply_edit(vault: Vault, edit: t.WorkspaceEdit) -> dict[str, str]:
    """Apply a WorkspaceEdit to the files on disk, as an editor would; returns the changed files' texts."""
    changed: dict[str, str] = {}
    for uri, edits in (edit.changes or {}).items():
        p = vault.path(uri)
        changed[p] = apply_text_edits(changed.get(p, vault.text(p) if (vault.root / p).exists() else ""), edits)
        (vault.root / p).write_text(changed[p], "utf-8")
    for op in edit.document_changes or []:
        if isinstance(op, t.TextDocumentEdit):
            p = vault.path(op.text_document.uri)
            base = changed.get(p, vault.text(p) if (vault.root / p).exists() else "")
            changed[p] = apply_text_edits(base, op.edits)
            (vault.root / p).write_text(changed[p], "utf-8")
        elif isinstance(op, t.CreateFile):
            p = vault.path(op.uri)
            (vault.root / p).parent.mkdir(parents=True, exist_ok=True)
            if not (vault.root / p).exists():
                (vault.root / p).write_text("", "utf-8")
            changed.setdefault(p, "")
        elif isinstance(op, t.RenameFile):
            old, new = vault.path(op.old_uri), vault.path(op.new_uri)
            (vault.root / new).parent.mkdir(parents=True, exist_ok=True)
            (vault.root / old).rename(vault.root / new)
            changed[new] = changed.pop(old, vault.text(new))
            changed[old] = None
    return changed
