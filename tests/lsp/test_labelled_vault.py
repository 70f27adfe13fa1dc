"""The project's labelled vault (bench/eval/vault-dacha, mostly Russian) end to end: the CLI's
checks and the server agree, and navigation works on real notes."""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import copy_labelled
from lsprotocol import types as t


async def test_labelled_vault_session(start, tmp_path):
    vault = copy_labelled(tmp_path / "dacha")
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
    assert hinted, "the CLI found no missing links in vault-dacha"
    for path, want in by_file.items():
        got = await s.diagnostics(path, lambda ds, n=len(want): len(ds) == n)
        assert sorted((d.code, d.range.start.line) for d in got) == sorted(want)
    for path, hints in hinted.items():  # opened, a note gets the CLI's hints too
        s.open(path)
        want = sorted(by_file.get(path, []) + hints)
        got = await s.diagnostics(path, lambda ds, n=len(want): len(ds) == n, timeout=30)
        assert sorted((d.code, d.range.start.line) for d in got) == want

    # a pseudocode call in a note's block -> its definition in a .pseudo file
    line = vault.text("автоматика/сценарии.md").split("\n")[23]
    col = line.index("close_main_valve") + 2
    locs = await s.client.text_document_definition_async(
        t.DefinitionParams(s.doc("автоматика/сценарии.md"), t.Position(23, col))
    )
    assert [(vault.path(l.uri), l.range.start.line) for l in locs] == [("pseudo/насос.pseudo", 6)]

    # backlinks of the boiler note (links with an alias and ё = е among them)
    refs = await s.client.text_document_references_async(
        t.ReferenceParams(
            text_document=s.doc("отопление/котел.md"), position=t.Position(0, 0), context=t.ReferenceContext(False)
        )
    )
    sources = {vault.path(l.uri) for l in refs}
    assert {"Главная.md", "электрика/щиток.md", "решения/ADR-03-электрокотел.md"} <= sources

    # hover on [[котел|котёл]] in Главная.md previews the note
    home = vault.text("Главная.md").split("\n")
    col = home[13].index("[[котел|котёл]]") + 3
    h = await s.client.text_document_hover_async(t.HoverParams(s.doc("Главная.md"), t.Position(13, col)))
    assert "`отопление/котел.md`" in h.contents.value and "backlinks" in h.contents.value

    symbols = await s.client.workspace_symbol_async(t.WorkspaceSymbolParams(query="open_valve"))
    assert {vault.path(x.location.uri) for x in symbols if x.kind == t.SymbolKind.Function} == {
        "pseudo/полив.pseudo",
        "pseudo/насос.pseudo",
    }
