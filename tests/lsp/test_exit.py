"""The server never outlives its client: end of input (a vanished editor) with a 20 MB note
open, and the death of the client process named in `initialize`, both end the process within
seconds. Raw JSON-RPC over a real pipe, no client library in between."""

from __future__ import annotations

import json
import subprocess
import sys
import time

from conftest import write_vault
from pygls.uris import from_fs_path

EXIT_S = 10.0


def frame(message: dict) -> bytes:
    body = json.dumps(message).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def start(root, process_id=None) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-m", "ponder.lsp"],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    init = {
        "processId": process_id,
        "rootUri": from_fs_path(str(root)),
        "capabilities": {},
        "initializationOptions": {"embedding": {"enabled": False}},
    }
    proc.stdin.write(frame({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": init}))
    proc.stdin.write(frame({"jsonrpc": "2.0", "method": "initialized", "params": {}}))
    proc.stdin.flush()
    return proc


def exited_within(proc: subprocess.Popen, seconds: float) -> float | None:
    started = time.monotonic()
    try:
        proc.wait(seconds)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return None
    return time.monotonic() - started


def test_end_of_input_with_a_20_mb_note_open_ends_the_server(tmp_path):
    vault = write_vault(tmp_path / "v", {"a.md": "# A\n"})
    proc = start(vault.root)
    big = "# Большая заметка\n\n" + ("Строка с [[ссылкой]] и текстом. " * 8 + "\n") * 80_000
    assert len(big.encode()) > 20_000_000
    doc = {"uri": vault.uri("big.md"), "languageId": "markdown", "version": 1, "text": big}
    proc.stdin.write(frame({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": doc}}))
    proc.stdin.flush()
    time.sleep(1.0)  # the parse is under way
    proc.stdin.close()
    took = exited_within(proc, EXIT_S)
    assert took is not None, f"the server outlived its input by more than {EXIT_S}s"
    print(f"\nexited {took:.2f}s after end of input")


def test_death_of_the_client_process_ends_the_server(tmp_path):
    vault = write_vault(tmp_path / "v", {"a.md": "# A\n"})
    editor = subprocess.Popen(["sleep", "600"])
    proc = start(vault.root, process_id=editor.pid)
    try:
        time.sleep(1.5)
        assert proc.poll() is None  # alive while the client is
        editor.kill()
        editor.wait()
        took = exited_within(proc, EXIT_S)
        assert took is not None, "the server outlived the client process"
        print(f"\nexited {took:.2f}s after the client died")
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.stdin.close()
