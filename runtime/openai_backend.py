"""Backend `openai`: an OpenAI-compatible chat server the user already runs (llama-server, vLLM,
Ollama, `python -m llama_cpp.server`), reached with the standard library only.

Privacy guard: the endpoint must resolve to loopback addresses only, unless `allow_remote`.
The answer is streamed (SSE) so progress and cancel work; a cancel closes the connection,
which llama-server and vLLM take as "stop generating".
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import socket
import threading
import time
import urllib.parse
from typing import Any

from ponder.runtime.backend import BackendError, Cancelled, ProgressSink
from ponder.runtime.protocol import GenerateParams, GenerateResult, LoadResult, Progress
from ponder.runtime.settings import ModelSettings


def check_endpoint(url: str, allow_remote: bool) -> urllib.parse.SplitResult:
    """Refuse anything but http(s) to a loopback address, unless remote hosts are allowed."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BackendError(f"endpoint {url!r} is not an http(s) URL")
    if allow_remote:
        return parts
    host = parts.hostname
    try:
        addresses = [ipaddress.ip_address(host)]
    except ValueError:  # a name: resolve it (localhost does not leave the machine)
        try:
            infos = socket.getaddrinfo(host, parts.port or 80, proto=socket.IPPROTO_TCP)
        except OSError as exc:
            raise BackendError(f"cannot resolve endpoint host {host!r}: {exc}") from exc
        addresses = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]
    remote = [str(a) for a in addresses if not a.is_loopback]
    if remote or not addresses:
        raise BackendError(
            f"endpoint {url} is not a loopback address ({', '.join(remote) or 'no address'}); "
            "Ponder sends notes only to a model on this machine. Set model.allow_remote = true to allow it."
        )
    return parts


class OpenAIBackend:
    name = "openai"

    def __init__(self, settings: ModelSettings) -> None:
        self.settings = settings
        self._url: urllib.parse.SplitResult | None = None
        self._prefix = ""
        self.model = ""
        self._schema_style = "json_schema"  # OpenAI's; falls back to llama.cpp's json_object+schema

    def _connection(self) -> http.client.HTTPConnection:
        assert self._url is not None
        cls = http.client.HTTPSConnection if self._url.scheme == "https" else http.client.HTTPConnection
        return cls(self._url.hostname, self._url.port, timeout=self.settings.request_timeout_s)

    def _request(
        self, method: str, path: str, body: dict[str, Any] | None = None
    ) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
        conn = self._connection()
        data = json.dumps(body).encode() if body is not None else None
        try:
            conn.request(method, self._prefix + path, body=data, headers={"Content-Type": "application/json"})
            return conn, conn.getresponse()
        except OSError as exc:
            conn.close()
            raise BackendError(f"model server {self.settings.endpoint} did not answer: {exc}") from exc

    def load(self) -> LoadResult:
        if not self.settings.endpoint:
            raise BackendError("backend `openai` needs `endpoint` (e.g. http://127.0.0.1:8080/v1)")
        started = time.monotonic()
        self._url = check_endpoint(self.settings.endpoint, self.settings.allow_remote)
        path = self._url.path.rstrip("/")
        self._prefix = path if path.endswith("/v1") else path + "/v1"
        conn, resp = self._request("GET", "/models")
        try:
            body = resp.read()
            if resp.status != 200:
                raise BackendError(f"GET {self._prefix}/models answered {resp.status}: {body[:200]!r}")
            models = [m.get("id", "") for m in json.loads(body).get("data", [])]
        finally:
            conn.close()
        self.model = self.settings.remote_model or (models[0] if models else "default")
        return LoadResult(model=self.model, backend=self.name, load_s=time.monotonic() - started)

    def _body(self, params: GenerateParams) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.model,
            "messages": [m.model_dump() for m in params.messages],
            "max_tokens": params.max_tokens,
            "temperature": params.temperature,
            "seed": self.settings.seed,
            "stream": True,
        }
        if params.stop:
            body["stop"] = params.stop
        if params.json_schema is not None:
            if self._schema_style == "json_schema":
                body["response_format"] = {
                    "type": "json_schema",
                    "json_schema": {"name": "answer", "schema": params.json_schema},
                }
            else:
                body["response_format"] = {"type": "json_object", "schema": params.json_schema}
        return body

    def generate(self, params: GenerateParams, cancelled: threading.Event, progress: ProgressSink) -> GenerateResult:
        started = time.monotonic()
        conn, resp = self._request("POST", "/chat/completions", self._body(params))
        # llama_cpp.server rejects the OpenAI form with a 500 (its validation error), others with 400/422.
        if resp.status >= 400 and params.json_schema is not None and self._schema_style == "json_schema":
            resp.read()
            conn.close()
            self._schema_style = "json_object"  # llama-cpp-python's server knows only this form
            conn, resp = self._request("POST", "/chat/completions", self._body(params))
        done = threading.Event()

        def hang_up_on_cancel() -> None:  # a blocked read (long prefill) ends when the socket closes
            while not done.wait(0.05):
                if cancelled.is_set():
                    if conn.sock is not None:
                        try:
                            conn.sock.shutdown(socket.SHUT_RDWR)
                        except OSError:
                            pass
                    return

        threading.Thread(target=hang_up_on_cancel, daemon=True).start()
        pieces: list[str] = []
        finish, ttft, prompt_tokens, completion_tokens = "stop", 0.0, 0, 0
        try:
            if resp.status != 200:
                raise BackendError(f"model server answered {resp.status}: {resp.read()[:300]!r}")
            for raw in resp:
                line = raw.decode("utf-8", errors="replace").strip()
                if not line.startswith("data:"):
                    continue
                data = line[5:].strip()
                if data == "[DONE]":
                    break
                chunk = json.loads(data)
                usage = chunk.get("usage") or {}
                prompt_tokens = usage.get("prompt_tokens", prompt_tokens)
                completion_tokens = usage.get("completion_tokens", completion_tokens)
                for choice in chunk.get("choices", []):
                    if not ttft:
                        ttft = time.monotonic() - started
                        progress(Progress(job_id=params.job_id, phase="prefill_done"))
                    text = (choice.get("delta") or {}).get("content") or ""
                    if text:
                        pieces.append(text)
                        progress(Progress(job_id=params.job_id, phase="tokens", tokens=len(pieces), text=text))
                    if choice.get("finish_reason"):
                        finish = "length" if choice["finish_reason"] == "length" else "stop"
                if cancelled.is_set():
                    raise Cancelled
        except (OSError, http.client.HTTPException, ValueError) as exc:
            if cancelled.is_set():
                raise Cancelled from exc
            raise BackendError(f"model server stream failed: {exc}") from exc
        finally:
            done.set()
            conn.close()
        if cancelled.is_set():
            raise Cancelled
        return GenerateResult(
            job_id=params.job_id,
            text="".join(pieces),
            finish_reason=finish,  # type: ignore[arg-type]
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens or len(pieces),
            time_to_first_token_s=ttft,
            seconds=time.monotonic() - started,
        )

    def status(self) -> dict[str, Any]:
        return {"endpoint": self.settings.endpoint, "model": self.model, "schema_style": self._schema_style}

    def close(self) -> None:
        pass
