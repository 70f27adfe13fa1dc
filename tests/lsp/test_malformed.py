"""Every request is answered, whatever the client sends: raw JSON-RPC over the real pipe.

Malformed params (a negative character, a line past 2^31, null params) get InvalidParams
(-32602) with a short message and no popup; requests before `initialize` get
ServerNotInitialized (-32002), after `shutdown` InvalidRequest (-32600); positions past the
end of a note are answered (clamped), not failed. A hypothesis fuzz of the position handlers
checks the same on random positions and params, each answer within a time bound."""

from __future__ import annotations

import asyncio
import itertools
import os
import sys
import threading
import time
from concurrent.futures import Future

import pytest
from conftest import NO_EMBED, capabilities, write_vault
from lsprotocol import types as t
from pygls.exceptions import JsonRpcException
from pygls.protocol import default_converter
from pygls.uris import from_fs_path
from pytest_lsp import LanguageClient

ANSWER_S = 5.0  # every request is answered within this
_ids = itertools.count(10_000)


async def raw(client: LanguageClient, method: str, params, timeout: float = ANSWER_S, msg_id=None):
    """Send one request as raw JSON; returns ("result", value) or ("error", code, message)."""
    msg_id = next(_ids) if msg_id is None else msg_id
    future: Future = Future()
    client.protocol._request_futures[msg_id] = future
    message = {"jsonrpc": "2.0", "id": msg_id, "method": method}
    if params is not ...:
        message["params"] = params
    client.protocol._send_data(message)
    try:
        return ("result", await asyncio.wait_for(asyncio.wrap_future(future), timeout))
    except JsonRpcException as e:
        return ("error", e.code, str(e))
    except TimeoutError:
        raise AssertionError(f"{method} {params!r} was not answered in {timeout}s") from None


def pos(line, character) -> dict:
    return {"line": line, "character": character}


def doc_pos(uri: str, line, character) -> dict:
    return {"textDocument": {"uri": uri}, "position": pos(line, character)}


def popups(client: LanguageClient) -> list[str]:
    return [m.message for m in client.messages if "Error" in m.message or "error" in m.message]


async def test_requests_before_initialize_get_server_not_initialized(tmp_path):
    vault = write_vault(tmp_path / "v", {"a.md": "# A\n\nТекст.\n"})
    client = LanguageClient(converter_factory=default_converter)
    await client.start_io(sys.executable, "-m", "ponder.lsp")
    try:
        uri = vault.uri("a.md")
        got = await raw(client, "textDocument/hover", doc_pos(uri, 0, 0))
        assert got[:2] == ("error", -32002), got
        assert (await raw(client, "workspace/symbol", {"query": ""}))[:2] == ("error", -32002)
        client.protocol._send_data({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": None})  # dropped
        await client.initialize_session(
            t.InitializeParams(
                capabilities=capabilities(),
                root_uri=from_fs_path(str(vault.root)),
                initialization_options=NO_EMBED,
            )
        )
        for _ in range(200):  # the vault opens in the background
            got = await raw(client, "textDocument/documentSymbol", {"textDocument": {"uri": uri}})
            if got[0] != "result" or got[1]:
                break
            await asyncio.sleep(0.05)
        assert got[0] == "result" and got[1][0]["name"] == "A", got
        await client.shutdown_session()
    finally:
        if client._server is not None and client._server.returncode is None:
            await asyncio.sleep(2)  # `exit` was sent: give it a moment, then make sure
            if client._server.returncode is None:
                client._server.kill()
        await client.stop()


MALFORMED = [
    ("textDocument/hover", "negative character", lambda u: doc_pos(u, 0, -5)),
    ("textDocument/hover", "line 2^40", lambda u: doc_pos(u, 2**40, 0)),
    ("textDocument/hover", "null params", lambda u: None),
    ("textDocument/hover", "no params", lambda u: ...),
    ("textDocument/definition", "a string", lambda u: "hello"),
    ("textDocument/references", "no context", lambda u: doc_pos(u, 0, 0)),
    ("textDocument/completion", "position missing", lambda u: {"textDocument": {"uri": u}}),
    ("textDocument/rename", "newName null", lambda u: {**doc_pos(u, 0, 2), "newName": None}),
    ("textDocument/codeAction", "range of strings", lambda u: {"textDocument": {"uri": u}, "range": "x"}),
    ("workspace/symbol", "query null", lambda u: {"query": None}),
    ("workspace/executeCommand", "arguments an object", lambda u: {"command": "ponder.status", "arguments": 3}),
]


async def test_malformed_requests_get_invalid_params_and_no_popup(start):
    s = await start({"a.md": "# Заголовок\n\nСм. [[b]].\n", "b.md": "# B\n"})
    s.open("a.md")
    uri = s.vault.uri("a.md")
    answers = {}
    started = time.monotonic()
    for method, what, params in MALFORMED:
        answers[what] = await raw(s.client, method, params(uri))
    elapsed = time.monotonic() - started
    for method, what, _ in MALFORMED:
        got = answers[what]
        assert got[:2] == ("error", -32602), (method, what, got)
        assert method in got[2] and len(got[2]) < 400, got
    # sensible positions past the end are clamped and answered, not failed
    for line, character in ((10**6, 0), (0, 10**6), (2**31 - 1, 2**31 - 1)):
        got = await raw(s.client, "textDocument/hover", doc_pos(uri, line, character))
        assert got[0] == "result", got
        got = await raw(s.client, "textDocument/definition", doc_pos(uri, line, character))
        assert got[0] == "result", got
    # unknown method, odd ids: still answered
    assert (await raw(s.client, "ponder/nothing", {}))[:2] == ("error", -32601)
    assert (await raw(s.client, "textDocument/hover", None, msg_id="string-id"))[:2] == ("error", -32602)
    # the server is fine, and said nothing per message
    ok = await s.client.text_document_document_symbol_async(t.DocumentSymbolParams(s.doc("a.md")))
    assert ok[0].name == "Заголовок"
    await asyncio.sleep(0.2)
    assert popups(s.client) == [], popups(s.client)
    print(f"\n{len(MALFORMED)} malformed requests answered in {elapsed:.2f}s")
    await s.client.shutdown_async(None)
    got = await raw(s.client, "textDocument/hover", doc_pos(uri, 0, 0))
    assert got[:2] == ("error", -32600), got
    s.client.exit(None)
    await asyncio.wait_for(s.client._server.wait(), 5)  # exit ends the process at once


# --- hypothesis fuzz ----------------------------------------------------------------------------

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

FUZZ_EXAMPLES = int(os.environ.get("PONDER_FUZZ_EXAMPLES", "200"))
FUZZ_FILES = {
    "a.md": "# Шардирование 🚀\n\nКлючи [[b#Ретраи]] и [[nope]].\n\n```pseudo\nFUNCTION f(x)\n    RETURN g(x)\n"
    "END FUNCTION\n```\n",
    "b.md": "# B\n\n## Ретраи\n\nSync MUST retry at most 5 times. ^r5\n",
}

ints = st.one_of(
    st.integers(0, 12),
    st.integers(-(2**41), 2**41),
    st.sampled_from([-1, 2**31 - 1, 2**31, 2**32, 2**53]),
)
any_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)
position = st.one_of(st.fixed_dictionaries({"line": ints, "character": ints}), any_json)
POSITIONAL = [
    "textDocument/hover",
    "textDocument/definition",
    "textDocument/completion",
    "textDocument/prepareRename",
    "textDocument/references",
    "textDocument/rename",
]
WHOLE_DOC = ["textDocument/documentSymbol", "textDocument/foldingRange", "textDocument/documentLink"]


@st.composite
def requests(draw):
    uri = draw(st.sampled_from(["a.md", "b.md", "missing.md", "../outside.md", ""]))
    method = draw(st.sampled_from(POSITIONAL + WHOLE_DOC + ["textDocument/codeAction", "workspace/symbol"]))
    if draw(st.integers(0, 9)) == 0:
        return method, uri, draw(any_json)
    doc = {"textDocument": {"uri": uri}}
    if method in POSITIONAL:
        params = {**doc, "position": draw(position)}
        if method == "textDocument/references":
            params["context"] = {"includeDeclaration": draw(st.booleans())}
        if method == "textDocument/rename":
            params["newName"] = draw(st.text(max_size=10))
        return method, uri, params
    if method == "textDocument/codeAction":
        rng = {"start": draw(position), "end": draw(position)}
        return method, uri, {**doc, "range": rng, "context": {"diagnostics": []}}
    if method == "workspace/symbol":
        return method, uri, {"query": draw(st.text(max_size=10))}
    return method, uri, doc


class _Background:
    """A started server and client on an event loop of their own thread, so a synchronous
    hypothesis test can send requests to it."""

    def __init__(self, root):
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.root = root
        self.client = self.call(self._start())

    def call(self, coro, timeout: float = 120):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    async def _start(self) -> LanguageClient:
        client = LanguageClient(converter_factory=default_converter)
        await client.start_io(sys.executable, "-m", "ponder.lsp")
        await client.initialize_session(
            t.InitializeParams(
                capabilities=capabilities(),
                root_uri=from_fs_path(str(self.root)),
                initialization_options=NO_EMBED,
            )
        )
        for name in ("a.md",):
            text = (self.root / name).read_text("utf-8")
            client.text_document_did_open(
                t.DidOpenTextDocumentParams(
                    t.TextDocumentItem(from_fs_path(str(self.root / name)), "markdown", 1, text)
                )
            )
        return client

    def stop(self):
        async def _stop():
            try:
                await asyncio.wait_for(self.client.shutdown_session(), 10)
            finally:
                await self.client.stop()

        self.call(_stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


@pytest.fixture(scope="module")
def background(tmp_path_factory):
    root = write_vault(tmp_path_factory.mktemp("fuzz") / "vault", FUZZ_FILES).root
    bg = _Background(root)
    time.sleep(1.0)  # let the small vault index
    yield bg
    bg.stop()


def test_fuzz_every_request_is_answered_in_time(background):
    stats = {"cases": 0, "results": 0, "errors": {}, "slowest_s": 0.0}

    @settings(max_examples=FUZZ_EXAMPLES, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
    @given(requests())
    def check(request):
        method, uri, params = request
        if isinstance(params, dict) and isinstance(params.get("textDocument"), dict):
            full = from_fs_path(str(background.root / uri)) if uri else ""
            params = {**params, "textDocument": {"uri": full}}
        started = time.monotonic()
        got = background.call(raw(background.client, method, params), timeout=ANSWER_S + 5)
        took = time.monotonic() - started
        stats["cases"] += 1
        stats["slowest_s"] = max(stats["slowest_s"], took)
        if got[0] == "result":
            stats["results"] += 1
        else:
            stats["errors"][got[1]] = stats["errors"].get(got[1], 0) + 1
            assert got[1] != -32603, (method, params, got)  # an answer, but a crash: a bug to fix
        assert took < ANSWER_S, (method, params, took)

    check()
    print(f"\nfuzz: {stats}")
    assert stats["cases"] >= FUZZ_EXAMPLES * 0.9
    assert popups(background.client) == [], popups(background.client)[:3]
    # the server still answers properly
    got = background.call(raw(background.client, "workspace/symbol", {"query": "Ретраи"}))
    assert got[0] == "result" and got[1]
