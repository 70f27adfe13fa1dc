"""The pygls client the LSP benchmark drives both servers with.

Results, and the diagnostics a server pushes, are kept as the plain JSON the server sent
(no lsprotocol structuring on the client side), so a timed request costs the server's work
plus the transport, the same for every server, whatever the size of its answer and whether
its diagnostics are pushed (Ponder) or pulled (the VS Code server). Plain-JSON answers to
the server's own requests are written with the C JSON encoder (pygls would walk them with
cattrs, which costs milliseconds for a file's bytes).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from pygls.lsp.client import LanguageClient
from pygls.protocol import LanguageServerProtocol
from pygls.protocol.json_rpc import JsonRPCNotification, JsonRPCResponseMessage

JSON = (dict, list, str, int, float, bool, type(None))


class RawJSON(str):
    """A result that is already JSON text (sent as is)."""


class RawProtocol(LanguageServerProtocol):
    def structure_message(self, data: dict) -> Any:
        # A response keeps its result as parsed JSON: pygls would turn every object in it
        # into a namedtuple class made on the fly (~50 us each, 30 ms for a completion list).
        if "jsonrpc" in data and "id" in data and "method" not in data and "error" not in data:
            return JsonRPCResponseMessage(id=data["id"], jsonrpc=data["jsonrpc"], result=data.get("result"))
        if data.get("method") == "textDocument/publishDiagnostics":
            # as a pulled report is: structuring a push cost the client 5-8 ms the first time
            # (cattrs builds its converter), charged to the pushing server's timings
            return JsonRPCNotification(method=data["method"], jsonrpc=data["jsonrpc"], params=data.get("params"))
        return super().structure_message(data)

    def _send_response(self, msg_id, result: Any = None, error=None):
        if error is None and isinstance(result, RawJSON):
            body = f'{{"jsonrpc": "2.0", "id": {json.dumps(msg_id)}, "result": {result}}}'.encode()
            self.writer.write(f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
        elif error is None and isinstance(result, JSON):
            self._send_data({"jsonrpc": "2.0", "id": msg_id, "result": result})
        else:
            super()._send_response(msg_id, result, error)


class BenchClient:
    """One server process over stdio: start, ask (timed), stop, peak RSS."""

    name = "server"

    def __init__(self) -> None:
        self.lc = LanguageClient("ponder-bench", "1", protocol_cls=RawProtocol)
        self.pid = 0
        self._ids = itertools.count(1)

    async def spawn(self, *cmd: str) -> None:
        await self.lc.start_io(*cmd)
        self.pid = self.lc._server.pid
        # nobody reads the server's stderr otherwise: a chatty server would block on a full pipe
        self._drain = asyncio.ensure_future(self._drain_stderr(self.lc._server.stderr))

    @staticmethod
    async def _drain_stderr(stream) -> None:
        while await stream.read(65536):
            pass

    async def request(self, method: str, params: Any) -> Any:
        """Send a request with plain-JSON (or lsprotocol) params; the result as parsed JSON."""
        proto = self.lc.protocol
        msg_id = f"b{next(self._ids)}"
        fut: Future = Future()
        proto._request_futures[msg_id] = fut
        proto._result_types[msg_id] = None
        proto._send_data({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params})
        return await asyncio.wrap_future(fut)

    async def timed(self, method: str, params: Any) -> tuple[float, Any]:
        """(milliseconds, result) of one request."""
        t0 = time.perf_counter()
        result = await self.request(method, params)
        return (time.perf_counter() - t0) * 1000, result

    def notify(self, method: str, params: Any) -> None:
        self.lc.protocol._send_data({"jsonrpc": "2.0", "method": method, "params": params})

    async def stop(self) -> None:
        try:
            await asyncio.wait_for(self.request("shutdown", None), 30)
            self.notify("exit", None)
            await asyncio.wait_for(self.lc._server.wait(), 120)  # let it close its store
        except (TimeoutError, Exception):
            if self.lc._server.returncode is None:
                self.lc._server.kill()
        await self.lc.stop()

    def peak_rss_mb(self) -> float:
        try:
            for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        except OSError:
            pass
        return float("nan")


def field(obj: Any, name: str) -> Any:
    """`obj[name]` of a JSON object (pygls hands some back as named tuples)."""
    if obj is None:
        return None
    return obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)
