"""The worker's wire protocol: newline-delimited JSON-RPC 2.0 over stdin/stdout.

Client -> worker requests: `load`, `generate`, `cancel`, `status`, `shutdown`.
Worker -> client notifications: `progress` (prefill done, tokens so far) and `log`.
Each message is one JSON object on one line; stdout carries nothing else (logs go to stderr).
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, Field

from ponder.runtime.settings import ModelSettings

# Error codes. CANCELLED reuses LSP's RequestCancelled so the server can pass it on unchanged.
CANCELLED = -32800
INVALID_PARAMS = -32602
METHOD_NOT_FOUND = -32601
BACKEND_ERROR = -32000
NOT_LOADED = -32001
BUSY = -32002


class ChatMessage(BaseModel):
    role: Literal["system", "user", "assistant"]
    content: str


class LoadParams(BaseModel):
    settings: ModelSettings


class LoadResult(BaseModel):
    model: str
    backend: str
    load_s: float
    plan: dict[str, Any] | None = None
    chat_format: str | None = None
    report: dict[str, Any] | None = Field(
        None, description="llama.cpp's own account of the load (load_report.LoadReport)."
    )


class GenerateParams(BaseModel):
    job_id: str
    messages: list[ChatMessage]
    json_schema: dict[str, Any] | None = Field(None, description="Constrain the answer to this JSON schema.")
    max_tokens: int = 512
    temperature: float = 0.0
    stop: list[str] = Field(default_factory=list)


class GenerateResult(BaseModel):
    job_id: str
    text: str
    finish_reason: Literal["stop", "length"]
    prompt_tokens: int
    completion_tokens: int
    time_to_first_token_s: float
    seconds: float
    prompt_tokens_evaluated: int | None = Field(
        None, description="Prompt tokens the engine computed; the rest of prompt_tokens came from its KV cache."
    )

    @property
    def tokens_per_s(self) -> float:
        gen = self.seconds - self.time_to_first_token_s
        return (self.completion_tokens - 1) / gen if gen > 0 and self.completion_tokens > 1 else 0.0


class CancelParams(BaseModel):
    job_id: str


class Progress(BaseModel):
    """Streamed while a job runs: `prefill_done` once, then `tokens` as they come."""

    job_id: str
    phase: Literal["prefill_done", "tokens"]
    prompt_tokens: int = 0
    tokens: int = 0
    text: str = ""


class RpcError(Exception):
    """An error answer from the worker (or one to send back to the client)."""

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data

    def to_json(self) -> dict[str, Any]:
        err: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.data is not None:
            err["data"] = self.data
        return err


def encode(message: dict[str, Any]) -> bytes:
    """One message as one line; `ensure_ascii` keeps the line free of raw newlines in any text."""
    return (json.dumps({"jsonrpc": "2.0", **message}, ensure_ascii=True, separators=(",", ":")) + "\n").encode()


def request(id_: int, method: str, params: BaseModel | dict[str, Any] | None = None) -> bytes:
    if isinstance(params, BaseModel):
        params = params.model_dump(mode="json")
    return encode({"id": id_, "method": method, "params": params or {}})


def notification(method: str, params: BaseModel | dict[str, Any]) -> bytes:
    if isinstance(params, BaseModel):
        params = params.model_dump(mode="json")
    return encode({"method": method, "params": params})


def response(id_: int | None, result: BaseModel | dict[str, Any] | None) -> bytes:
    if isinstance(result, BaseModel):
        result = result.model_dump(mode="json")
    return encode({"id": id_, "result": result})


def error_response(id_: int | None, error: RpcError) -> bytes:
    return encode({"id": id_, "error": error.to_json()})


def decode(line: bytes | str) -> dict[str, Any]:
    message = json.loads(line)
    if not isinstance(message, dict):
        raise ValueError("a JSON-RPC message must be an object")
    return message
