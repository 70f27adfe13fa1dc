"""Lifecycle: initialize, encodings, settings, progress, watched files, edits during indexing, cancellation."""

from __future__ import annotations

import asyncio
import sys
import time

import pytest
from conftest import NO_EMBED, capabilities, write_vault
from lsprotocol import types as t
from pygls.exceptions import JsonRpcRequestCancelled


async def test_initialize_capabilities_and_default_utf16(start):
    s = await start({"a.md": "# A\n"}, wait=False)
    caps = s.client.protocol.server_capabilities if hasattr(s.client.protocol, "server_capabilities") else None
    await s.wait_indexed()
    res = await s.client.workspace_execute_command_async(t.ExecuteCommandParams("ponder.status"))
    assert res["positionEncoding"] == "utf-16" and res["notes"] == 1 and res["indexed"] is True
    del caps


async def test_utf8_negotiated_when_offered(start, tmp_path):
    files = {"a.md": "Привет 😀 [[b#Раз$0дел 😀 тут]]\n", "b.md": "# B\n\n## Раздел 😀 тут\n"}
    s = await start(files, caps=capabilities(encodings=["utf-16", "utf-8"]))
    res = await s.client.workspace_execute_command_async(t.ExecuteCommandParams("ponder.status"))
    assert res["positionEncoding"] == "utf-8"
    locs = await s.client.text_document_definition_async(t.DefinitionParams(s.doc(), s.vault.cursor_utf8))
    assert [(l.range.start.line, l.range.end.character) for l in locs] == [(2, len("## Раздел 😀 тут".encode()))]
    h = await s.client.text_document_hover_async(t.HoverParams(s.doc(), s.vault.cursor_utf8))
    assert h.range.start.character == len("Привет 😀 ".encode())


async def test_initialize_answers_at_once_on_big_vault(start, tmp_path):
    files = {f"n/{i:04d}.md": f"# Заметка {i}\n\n[[{(i + 1) % 800:04d}]] текст\n" for i in range(800)}
    vault = write_vault(tmp_path / "big", files)
    t0 = time.perf_counter()
    s = await start(vault, wait=False)
    assert time.perf_counter() - t0 < 5  # process start + initialize; indexing is not awaited
    await s.wait_indexed()
    reports = [r for tok, rs in s.client.progress_reports.items() for r in rs if str(tok).startswith("ponder/index")]
    assert isinstance(reports[0], t.WorkDoneProgressBegin)
    assert any(isinstance(r, t.WorkDoneProgressReport) and "files parsed" in (r.message or "") for r in reports)


async def test_edits_during_background_indexing(start, tmp_path):
    files = {f"n/{i:04d}.md": f"# N{i}\n\ntext [[{i + 1:04d}]]\n" for i in range(1000)}
    files["a.md"] = "on disk: [[0001]]\n"
    vault = write_vault(tmp_path / "big", files)
    s = await start(vault, wait=False)
    s.open("a.md", "в редакторе: [[0500#N500]] [[missing]]\n")
    locs = await s.client.text_document_definition_async(t.DefinitionParams(s.doc("a.md"), t.Position(0, 17)))
    # answered from what is known: the open text is parsed, even if 0500 is not indexed yet
    assert all(s.vault.path(l.uri) == "n/0500.md" for l in locs or [])
    await s.wait_indexed()
    ds = await s.diagnostics("a.md", lambda ds: len(ds) == 1)
    assert "missing" in ds[0].message
    locs = await s.client.text_document_definition_async(t.DefinitionParams(s.doc("a.md"), t.Position(0, 17)))
    assert [(s.vault.path(l.uri), l.range.start.line) for l in locs] == [("n/0500.md", 0)]


async def test_warm_start_parses_nothing(start, tmp_path):
    vault = write_vault(tmp_path / "v", {f"{i}.md": f"# {i}\n" for i in range(50)})
    s = await start(vault)
    await s.client.shutdown_session()
    s2 = await start(vault)
    reports = [
        r for tok, rs in s2.client.progress_reports.items() for r in rs if isinstance(r, t.WorkDoneProgressReport)
    ]
    assert any(r.message == "0/0 files parsed" for r in reports), [r.message for r in reports]


async def test_request_right_after_initialized_is_answered_from_the_store(start, tmp_path):
    vault = write_vault(tmp_path / "v", {"a.md": "see [[b]]\n", "b.md": "# B\n"})
    s = await start(vault)
    await s.client.shutdown_session()
    s2 = await start(vault, wait=False)  # no waiting for the vault to open: the request waits for it
    locs = await s2.client.text_document_definition_async(t.DefinitionParams(s2.doc("a.md"), t.Position(0, 6)))
    assert [s2.vault.path(l.uri) for l in locs] == ["b.md"]


async def test_invalid_settings_are_named_and_defaults_used(start):
    opts = {"embedding": {"enabled": False, "batch_size": "lots"}, "index": {"chunk_tokens": 5}}
    s = await start({"a.md": "[[b$0]]", "b.md": "# B\n"}, init_options=opts)
    text = " ".join(m.message for m in s.client.messages)
    assert "ponder.embedding.batch_size" in text and "ponder.index.chunk_tokens" in text
    assert await s.client.text_document_definition_async(t.DefinitionParams(s.doc(), s.vault.cursor))


async def test_configuration_section_and_did_change_configuration(start):
    config = {"": {"ponder": {"index": {"whole_vault_diagnostics": False}}}}
    s = await start({"a.md": "[[nope]]\n"}, configuration=config)
    await asyncio.sleep(0.5)
    assert s.client.diagnostics.get(s.vault.uri("a.md")) is None  # the pulled section applied
    s.client.set_configuration({"index": {"max_file_bytes": -3}}, section="ponder")
    s.client.workspace_did_change_configuration(t.DidChangeConfigurationParams(settings=None))
    deadline = time.monotonic() + 10
    while not any("ponder.index.max_file_bytes" in m.message for m in s.client.messages):
        assert time.monotonic() < deadline, [m.message for m in s.client.messages]
        await asyncio.sleep(0.05)
    # back to whole-vault diagnostics (the default) after the re-read and re-index
    await s.diagnostics("a.md", lambda ds: len(ds) == 1)


async def test_watched_files_registration_and_external_change(start):
    s = await start({"a.md": "[[b]]\n"})
    watch = [r for r in s.client.registrations if r.method == t.WORKSPACE_DID_CHANGE_WATCHED_FILES]
    assert watch and {w["globPattern"] for w in watch[0].register_options["watchers"]} >= {"**/*.md", "**/*.pseudo"}
    await s.diagnostics("a.md", lambda ds: len(ds) == 1)
    (s.vault.root / "b.md").write_text("# B\n", "utf-8")  # e.g. git pull
    s.client.workspace_did_change_watched_files(
        t.DidChangeWatchedFilesParams([t.FileEvent(s.vault.uri("b.md"), t.FileChangeType.Created)])
    )
    await s.diagnostics("a.md", lambda ds: len(ds) == 0)
    (s.vault.root / "b.md").unlink()
    s.client.workspace_did_change_watched_files(
        t.DidChangeWatchedFilesParams([t.FileEvent(s.vault.uri("b.md"), t.FileChangeType.Deleted)])
    )
    await s.diagnostics("a.md", lambda ds: len(ds) == 1)


async def test_cancel_slow_request(start):
    s = await start({"a.md": "[[b$0]]", "b.md": "# B\n"}, env={"PONDER_DEBUG_SLOW": "workspace/symbol=20000"})
    fut = asyncio.ensure_future(
        s.client.protocol.send_request_async(t.WORKSPACE_SYMBOL, t.WorkspaceSymbolParams(query="b"), msg_id="slow-1")
    )
    await asyncio.sleep(0.3)
    s.client.protocol.notify(t.CANCEL_REQUEST, t.CancelParams(id="slow-1"))
    with pytest.raises(JsonRpcRequestCancelled):
        await asyncio.wait_for(fut, 5)
    t0 = time.perf_counter()
    locs = await s.client.text_document_definition_async(t.DefinitionParams(s.doc(), s.vault.cursor))
    assert locs and time.perf_counter() - t0 < 2, "the cancelled job still holds the index thread"


async def test_ponder_serve_console_command(tmp_path):
    from pytest_lsp.client import make_test_lsp_client

    client = make_test_lsp_client()
    await client.start_io(sys.executable, "-m", "ponder.lsp.cli", "serve")
    try:
        res = await client.initialize_session(
            t.InitializeParams(
                capabilities=t.ClientCapabilities(), root_uri=(tmp_path).as_uri(), initialization_options=NO_EMBED
            )
        )
        assert res.server_info.name == "ponder"
        assert res.capabilities.rename_provider and res.capabilities.completion_provider
    finally:
        await client.shutdown_session()
        await client.stop()


def test_stdin_that_is_a_file_is_read_too(tmp_path):
    """stdin is read on the event loop when it is a pipe (what editors give); a regular file
    cannot be, and falls back to pygls's threaded reader: the server still answers, then exits
    at the end of its input."""
    import json
    import subprocess

    def frame(obj) -> bytes:
        body = json.dumps(obj).encode()
        return b"Content-Length: %d\r\n\r\n%s" % (len(body), body)

    init = {"processId": None, "rootUri": tmp_path.as_uri(), "capabilities": {}, "initializationOptions": NO_EMBED}
    (tmp_path / "in.bin").write_bytes(
        frame({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": init})
        + frame({"jsonrpc": "2.0", "id": 2, "method": "shutdown"})
    )
    with open(tmp_path / "in.bin", "rb") as stdin:
        out = subprocess.run(
            [sys.executable, "-m", "ponder.lsp"], stdin=stdin, capture_output=True, timeout=60, cwd=tmp_path
        )
    assert b'"id": 1' in out.stdout and b'"name": "ponder"' in out.stdout
    assert b'"id": 2' in out.stdout


async def test_no_root_the_first_opened_notes_folder_is_the_vault(start, tmp_path):
    """A client that names no folder (`nvim a.md` outside any marker) gets the opened note's
    folder as the vault: its notes are indexed, the broken link is reported, the user is told
    which folder is used and how to pin it, and no temporary folder is created."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    files = {"a.md": "# A\n\n[[b]] [[Нет такой]]\n", "b.md": "# B\n\n[[a]]\n"}
    s = await start(files, no_root=True, wait=False, env={"TMPDIR": str(tmp), "TEMP": str(tmp), "TMP": str(tmp)})
    s.open("a.md")
    ds = await s.diagnostics("a.md", lambda ds: len(ds) == 1, timeout=30)
    assert "Нет такой" in ds[0].message  # [[b]] resolves: b.md, never opened, was indexed
    told = [m.message for m in s.client.messages if "is the vault" in m.message]
    assert len(told) == 1 and str(s.vault.root.resolve()) in told[0] and "ponder.toml" in told[0]
    await s.wait_indexed()
    res = await s.client.workspace_execute_command_async(t.ExecuteCommandParams("ponder.status"))
    assert res["vault"] == str(s.vault.root.resolve()) and res["notes"] == 2
    assert not any(tmp.iterdir()), list(tmp.iterdir())  # no ponder-novault-… left behind
    assert sorted(p.name for p in s.vault.root.iterdir()) == [".ponder", "a.md", "b.md"]


async def test_server_watches_the_vault_when_the_client_does_not(start):
    """Neovim on Linux registers no file watchers: a note created, edited or deleted from a
    shell must still be seen, through the server's own watch, within seconds; changes to
    ignored places (.ponder, .git, `index.ignore`) must not reach the index."""
    caps = capabilities()
    caps.workspace.did_change_watched_files = t.DidChangeWatchedFilesClientCapabilities(dynamic_registration=False)
    files = {"a.md": "# A\n\n[[новая заметка]] [[drafts/d]]\n", "ponder.toml": '[index]\nignore = ["drafts/**"]\n'}
    s = await start(files, caps=caps)
    assert not [r for r in s.client.registrations if r.method == t.WORKSPACE_DID_CHANGE_WATCHED_FILES]
    s.open("a.md")
    await s.diagnostics("a.md", lambda ds: len(ds) == 2)

    (s.vault.root / "drafts").mkdir()
    (s.vault.root / "drafts" / "d.md").write_text("# D\n", "utf-8")  # ignored: stays broken
    t0 = time.monotonic()
    (s.vault.root / "новая заметка.md").write_text("# Новая\n", "utf-8")
    ds = await s.diagnostics("a.md", lambda ds: len(ds) == 1, timeout=5)
    assert "drafts/d" in ds[0].message and time.monotonic() - t0 < 5

    (s.vault.root / "новая заметка.md").unlink()
    await s.diagnostics("a.md", lambda ds: len(ds) == 2, timeout=5)
    res = await s.client.workspace_execute_command_async(t.ExecuteCommandParams("ponder.status"))
    assert res["notes"] == 1
