"""Privacy: a whole session — indexing with embeddings (the bundled sentence-transformers
model), the usual requests — touches no socket but loopback or unix ones. The server
records `socket.*` audit events (sys.addaudithook) when PONDER_AUDIT_SOCKETS is set."""

from __future__ import annotations

import asyncio
import time

import pytest
from lsprotocol import types as t

LOOPBACK = ("127.", "::1", "localhost", "0:0:0:0:0:0:0:1")


def _allowed(addr: str, family: str) -> bool:
    if "AF_UNIX" in family or addr.startswith(("'/", '"/', "b'", "''")):
        return True
    host = addr.strip("()'\" ").split(",")[0].strip("'\" ")
    return host.startswith(LOOPBACK) or host in ("", "None")


@pytest.mark.slow
async def test_session_touches_no_network(start, tmp_path):
    log = tmp_path / "sockets.log"
    files = {
        "a.md": "# Шардирование\n\nКлючи шардов и [[b#Ретраи]] [[nope]].\n\n```pseudo\nFUNCTION "
        "f(x)\n    RETURN g(x)\nEND FUNCTION\n```\n",
        "b.md": "# B\n\n## Ретраи\n\nSync MUST retry at most 5 times. ^r5\n",
        "c.pseudo": "FUNCTION g(y)\n    RETURN y\nEND FUNCTION\n",
    }
    s = await start(files, init_options={}, env={"PONDER_AUDIT_SOCKETS": str(log)}, wait=False)
    await s.wait_indexed(timeout=180)
    deadline = time.monotonic() + 180
    while True:
        st = await s.client.workspace_execute_command_async(t.ExecuteCommandParams("ponder.status"))
        if st["embedding"] in ("done", "failed"):
            break
        assert time.monotonic() < deadline
        await asyncio.sleep(0.2)
    assert st["embedding"] == "done" and st["embedded"] and st["embedded"] == st["chunks"], st
    s.open("a.md")
    doc, pos = s.doc("a.md"), t.Position(2, 18)
    await s.client.text_document_hover_async(t.HoverParams(doc, pos))
    await s.client.text_document_definition_async(t.DefinitionParams(doc, pos))
    await s.client.text_document_references_async(
        t.ReferenceParams(text_document=doc, position=pos, context=t.ReferenceContext(True))
    )
    await s.client.text_document_completion_async(t.CompletionParams(doc, t.Position(6, 12)))
    await s.client.text_document_document_symbol_async(t.DocumentSymbolParams(doc))
    await s.client.workspace_symbol_async(t.WorkspaceSymbolParams(query="шард"))
    await s.diagnostics("a.md", lambda ds: len(ds) == 1)
    await s.client.shutdown_session()

    assert log.exists(), "the audit hook was not installed"
    events = [line.split("\t") for line in log.read_text().splitlines() if line]
    bad = [e for e in events if not _allowed(e[1] if len(e) > 1 else "", e[2] if len(e) > 2 else "")]
    assert not bad, f"non-loopback socket use: {bad[:5]}"


def test_allowed_classifies_addresses():
    assert _allowed("('127.0.0.1', 8080)", "AddressFamily.AF_INET")
    assert _allowed("'/tmp/x.sock'", "AddressFamily.AF_UNIX")
    assert not _allowed("('huggingface.co', 443)", "")
    assert not _allowed("('8.8.8.8', 53)", "AddressFamily.AF_INET")
    assert not _allowed("'huggingface.co'", "")
