"""Backend `scripted`: recorded answers replayed by the real worker process.

For deterministic end-to-end tests of the features that use the model: the whole path
(client, queue, pipe, worker, progress, cancel, parsing) runs for real; only the text is
recorded. The script is a JSON file:

    {"by_hash": {"<messages_hash(messages)>": "answer", ...},
     "answers": ["first answer", {"text": "second", "token_delay_s": 0.05}, ...],
     "token_delay_s": 0.0, "calls_log": "/tmp/calls.jsonl"}

A job whose messages hash is in `by_hash` gets that answer; any other job gets the next
entry of `answers` (in order). "Tokens" are the answer's whitespace-separated words.
With `calls_log`, the worker appends one JSON line per load (`{"event": "load"}`) and per
generation (`{"event": "generate", "hash", "user"}`, the last user message): a test can
tell which prompts reached the model, and that a cached answer reached none.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from pathlib import Path
from typing import Any

from ponder.runtime.backend import BackendError, Cancelled, ProgressSink
from ponder.runtime.protocol import ChatMessage, GenerateParams, GenerateResult, LoadResult, Progress
from ponder.runtime.settings import ModelSettings


def messages_hash(messages: list[ChatMessage] | list[dict[str, str]]) -> str:
    """The key of a recorded answer: sha256 of the messages as canonical JSON."""
    plain = [
        m.model_dump() if isinstance(m, ChatMessage) else {"role": m["role"], "content": m["content"]} for m in messages
    ]
    return hashlib.sha256(json.dumps(plain, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


class ScriptedBackend:
    name = "scripted"

    def __init__(self, settings: ModelSettings) -> None:
        self.settings = settings
        self._by_hash: dict[str, Any] = {}
        self._answers: list[Any] = []
        self._next = 0
        self._delay = 0.0
        self._log: Path | None = None

    def _record(self, entry: dict[str, Any]) -> None:
        if self._log is not None:
            with self._log.open("a", encoding="utf-8") as f:
                f.write(json.dumps(entry, ensure_ascii=False) + "\n")

    def load(self) -> LoadResult:
        if not self.settings.script_path:
            raise BackendError("backend `scripted` needs `script_path`")
        started = time.monotonic()
        try:
            script = json.loads(Path(self.settings.script_path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise BackendError(f"cannot read script {self.settings.script_path}: {exc}") from exc
        self._by_hash = dict(script.get("by_hash", {}))
        self._answers = list(script.get("answers", []))
        self._delay = float(script.get("token_delay_s", 0.0))
        self._log = Path(script["calls_log"]) if script.get("calls_log") else None
        self._record({"event": "load"})
        return LoadResult(
            model=Path(self.settings.script_path).name, backend=self.name, load_s=time.monotonic() - started
        )

    def _answer(self, params: GenerateParams) -> tuple[str, float]:
        key = messages_hash(params.messages)
        user = next((m.content for m in reversed(params.messages) if m.role == "user"), "")
        self._record({"event": "generate", "hash": key, "user": user})
        entry = self._by_hash.get(key)
        if entry is None:
            if self._next >= len(self._answers):
                raise BackendError(f"script exhausted after {len(self._answers)} answers (job {params.job_id})")
            entry = self._answers[self._next]
            self._next += 1
        if isinstance(entry, dict):
            return str(entry["text"]), float(entry.get("token_delay_s", self._delay))
        return str(entry), self._delay

    def generate(self, params: GenerateParams, cancelled: threading.Event, progress: ProgressSink) -> GenerateResult:
        started = time.monotonic()
        text, delay = self._answer(params)
        prompt_tokens = sum(len(m.content.split()) for m in params.messages)
        progress(Progress(job_id=params.job_id, phase="prefill_done", prompt_tokens=prompt_tokens))
        ttft = time.monotonic() - started
        pieces = re.findall(r"\S+\s*|\s+", text) or [""]
        out: list[str] = []
        finish = "stop"
        for i, piece in enumerate(pieces):
            if cancelled.wait(delay) if delay else cancelled.is_set():
                raise Cancelled
            if i >= params.max_tokens:
                finish = "length"
                break
            out.append(piece)
            progress(Progress(job_id=params.job_id, phase="tokens", tokens=len(out), text=piece))
        return GenerateResult(
            job_id=params.job_id,
            text="".join(out),
            finish_reason=finish,
            prompt_tokens=prompt_tokens,
            completion_tokens=len(out),
            time_to_first_token_s=ttft,
            seconds=time.monotonic() - started,
        )

    def status(self) -> dict[str, Any]:
        return {"answers_left": len(self._answers) - self._next}

    def close(self) -> None:
        pass
