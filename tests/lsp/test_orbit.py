"""The shared eval vault (vault-orbit) end to end: the CLI's checks and the server agree,
and navigation works on real notes."""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import copy_orbit
from lsprotocol import types as t


async def test_orbit_session(start, tmp_path):
    vault = copy_orbit(tmp_path / "orbit")
    expected = json.loads(
        subprocess.run(
            [
                sys.executable,
                "-m",
                "ponder.lsp.cli",
                "check",
                str(vault.root),
                "--format",
                "json",
                "--db",
                str(tmp_path / "cli.db"),
            ],
            capture_output=True,
            text=True,
        ).stdout
    )["diagnostics"]
    s = await start(vault)
    by_file: dict[str, list] = {}
    hinted: dict[str, list] = {}  # missing-link hints: the editor shows them on open notes only
    for d in expected:
        (hinted if d["code"] == "missing-link" else by_file).setdefault(d["file"], []).append(
            (d["code"], d["range"]["start"]["line"])
        )
    assert hinted, "the CLI found no missing links in vault-orbit"
    for path, want in by_file.items():
        got = await s.diagnostics(path, lambda ds, n=len(want): len(ds) == n)
        assert sorted((d.code, d.range.start.line) for d in got) == sorted(want)
    for path, hints in hinted.items():  # opened, a note gets the CLI's hints too
        s.open(path)
        want = sorted(by_file.get(path, []) + hints)
        got = await s.diagnostics(path, lambda ds, n=len(want): len(ds) == n, timeout=30)
        assert sorted((d.code, d.range.start.line) for d in got) == want

    # a pseudocode call in one file -> its definition in another
    line = vault.text("pseudo/backup-loop.pseudo").split("\n")[34]
    col = line.index("build_pack") + 2
    locs = await s.client.text_document_definition_async(
        t.DefinitionParams(s.doc("pseudo/backup-loop.pseudo"), t.Position(34, col))
    )
    assert [(vault.path(l.uri), l.range.start.line) for l in locs] == [("pseudo/uploader.pseudo", 25)]

    # backlinks of the chunking note include Home, the glossary and ADR-002
    refs = await s.client.text_document_references_async(
        t.ReferenceParams(
            text_document=s.doc("design/chunking.md"), position=t.Position(0, 0), context=t.ReferenceContext(False)
        )
    )
    sources = {vault.path(l.uri) for l in refs}
    assert {"Home.md", "glossary.md", "decisions/ADR-002-chunk-size.md", "design/architecture.md"} <= sources

    # hover on [[chunking]] in Home.md previews the note
    home = vault.text("Home.md").split("\n")
    col = home[13].index("[[chunking]]") + 3
    h = await s.client.text_document_hover_async(t.HoverParams(s.doc("Home.md"), t.Position(13, col)))
    assert "`design/chunking.md`" in h.contents.value and "backlinks" in h.contents.value

    symbols = await s.client.workspace_symbol_async(t.WorkspaceSymbolParams(query="hash_chunk"))
    assert {vault.path(x.location.uri) for x in symbols if x.kind == t.SymbolKind.Function} == {
        "pseudo/chunker.pseudo",
        "pseudo/uploader.pseudo",
    }
