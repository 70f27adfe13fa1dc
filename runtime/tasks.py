"""Typed model tasks: what a feature asks the model, and what it gets back.

A `Task` is chat messages plus, optionally, a pydantic output model (the answer is then
constrained by its JSON schema and parsed into it), limits, and a version that is part of
the cache key: change the prompt, bump the version.
"""

from __future__ import annotations

import enum
import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from ponder.runtime.protocol import ChatMessage

T = TypeVar("T")


class Priority(enum.IntEnum):
    """Lower runs first: what the user asked for, then the open document, then sweeps."""

    INTERACTIVE = 0
    OPEN_DOCUMENT = 1
    BACKGROUND = 2


@dataclass(frozen=True)
class Task:
    name: str
    messages: list[ChatMessage] | list[dict[str, str]]
    output: type[BaseModel] | None = None
    version: int = 1
    max_tokens: int = 512
    temperature: float = 0.0
    stop: list[str] = field(default_factory=list)

    def chat(self) -> list[ChatMessage]:
        return [m if isinstance(m, ChatMessage) else ChatMessage.model_validate(m) for m in self.messages]

    def json_schema(self) -> dict[str, Any] | None:
        return self.output.model_json_schema() if self.output is not None else None

    def input_hash(self) -> str:
        """Everything that decides the answer, except the model (that is the fingerprint)."""
        payload = {
            "name": self.name,
            "version": self.version,
            "messages": [m.model_dump() for m in self.chat()],
            "schema": self.json_schema(),
            "max_tokens": self.max_tokens,
            "temperature": self.temperature,
            "stop": self.stop,
        }
        return hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


@dataclass
class TaskResult(Generic[T]):
    """`value` is the parsed output model instance, or the text when the task has no output model."""

    value: T
    text: str
    cached: bool
    tokens: int
    prompt_tokens: int
    seconds: float
    time_to_first_token_s: float = 0.0
    attempts: int = 1


class ModelError(Exception):
    """Base of every error a task can end with."""


class JobCancelled(ModelError):
    """The caller cancelled the job (or the client closed)."""


class ModelOutputError(ModelError):
    """The answer was not valid for the task's output model, even after one retry."""

    def __init__(self, message: str, text: str) -> None:
        super().__init__(message)
        self.text = text


class WorkerUnavailable(ModelError):
    """The worker could not be started, or died too often; the message says why."""


class BackendFailure(ModelError):
    """The backend reported an error for this job (bad request, refused endpoint, ...)."""


class JobCrashed(BackendFailure):
    """The worker died twice running this job; it was dropped rather than run a third time."""


_THINK = re.compile(r"<think>.*?(</think>|$)", re.DOTALL)


def strip_reasoning(text: str) -> str:
    """Drop reasoning models' `<think>...</think>` sections (an unclosed one runs to the end)."""
    return _THINK.sub("", text).strip()


_LIMITS = {"string_too_long", "string_too_short", "too_long", "too_short"}


class LimitExceeded(ValueError):
    """The answer has the right shape but breaks a length or count limit: limits the grammar does
    not carry (schema_grammar.py) are checked here. Not worth a retry: the same prompt at
    temperature 0 gives the same answer."""


def _limit_message(exc: ValidationError) -> str | None:
    errors = exc.errors()
    if not errors or any(e["type"] not in _LIMITS for e in errors):
        return None
    parts = []
    for e in errors:
        where = ".".join(str(p) for p in e["loc"]) or "answer"
        size = len(e["input"]) if isinstance(e.get("input"), (str, list)) else None
        parts.append(f"{where}: {e['msg'].lower()}" + (f" (got {size})" if size is not None else ""))
    return "; ".join(parts)


def parse_output(output: type[BaseModel], text: str) -> BaseModel:
    """Parse the model's text into `output`; raise ValueError with the reason when it is not valid
    (LimitExceeded when only a length or count limit is broken)."""
    body = strip_reasoning(text)
    start = body.find("{")
    if start < 0:
        raise ValueError("no JSON object in the answer")
    try:
        value, _ = json.JSONDecoder().raw_decode(body[start:])
    except json.JSONDecodeError as exc:
        raise ValueError(f"invalid or truncated JSON: {exc}") from exc
    try:
        return output.model_validate(value)
    except ValidationError as exc:
        limits = _limit_message(exc)
        if limits is not None:
            raise LimitExceeded(f"the answer exceeds the {output.__name__} limits: {limits}") from exc
        raise ValueError(f"JSON does not match {output.__name__}: {exc}") from exc
