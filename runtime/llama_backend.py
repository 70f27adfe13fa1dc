"""Backend `llama_cpp`: a GGUF model run by llama-cpp-python inside the worker process.

Placement comes from the settings (`offload`: auto = the planner's plan, none, manual) and is
applied with every knob llama-cpp-python exposes plus tensor buffer overrides (overrides.py).
Cancellation: between tokens the stream is closed; during prompt prefill llama.cpp's abort
callback stops the graph computation. The callback is installed for the prefill only, since
ggml calls it once per graph node and a Python callback per node would slow generation.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import Any

from ponder.runtime.backend import BackendError, Cancelled, ProgressSink, model_path
from ponder.runtime.gguf_info import read_gguf
from ponder.runtime.overrides import applied
from ponder.runtime.protocol import GenerateParams, GenerateResult, LoadResult, Progress
from ponder.runtime.settings import ModelSettings

log = logging.getLogger("ponder.worker")

_KV_TYPES = {"f16": 1, "q8_0": 8, "q4_0": 2}  # enum ggml_type
VERBOSE_ENV = "PONDER_LLAMA_VERBOSE"  # 1: llama.cpp logs everything to stderr (loads, overrides)


def default_chat_format(architecture: str, has_template: bool) -> str | None:
    """None keeps the GGUF's own template; without one, llama-cpp-python would use llama-2's."""
    if has_template:
        return None
    return "gemma" if architecture.startswith("gemma") else "chatml"


class LlamaBackend:
    name = "llama_cpp"

    def __init__(self, settings: ModelSettings) -> None:
        self.settings = settings
        self.llm: Any = None
        self.plan: dict[str, Any] | None = None
        self._cancelled = threading.Event()
        self._abort_cb: Any = None
        self._placement: dict[str, Any] = {}

    def _place(self, info: Any, gpu: bool) -> tuple[int, list[str]]:
        s = self.settings
        if s.offload == "manual":
            return s.n_gpu_layers, list(s.cpu_tensor_patterns)
        if s.offload == "none" or not gpu:
            return 0, []
        from ponder.runtime.planner import plan_offload

        plan = plan_offload(info, vram_gib=s.vram_gib, ram_gib=s.ram_gib, n_ctx=s.n_ctx, kv_type=s.type_k, settings=s)
        self.plan = plan.to_json()
        return plan.n_gpu_layers, plan.cpu_tensor_patterns

    def load(self) -> LoadResult:
        try:
            import llama_cpp
        except ImportError as exc:
            raise BackendError("backend llama_cpp needs llama-cpp-python: pip install 'ponder[llm]'") from exc
        s = self.settings
        path = model_path(s)
        if not path.exists():
            raise BackendError(f"model file not found: {path}")
        started = time.monotonic()
        info = read_gguf(path)
        gpu = bool(llama_cpp.llama_supports_gpu_offload())
        n_gpu_layers, patterns = self._place(info, gpu)
        chat_format = s.chat_format or default_chat_format(info.architecture, info.has_chat_template)
        kwargs: dict[str, Any] = dict(
            model_path=str(info.paths[0]),
            n_gpu_layers=n_gpu_layers,
            main_gpu=s.main_gpu,
            tensor_split=s.tensor_split,
            n_ctx=s.n_ctx,
            n_batch=s.n_batch,
            n_ubatch=s.n_ubatch,
            n_threads=s.n_threads,
            n_threads_batch=s.n_threads_batch,
            flash_attn=s.flash_attn,
            type_k=_KV_TYPES[s.type_k],
            type_v=_KV_TYPES[s.type_v],
            offload_kqv=s.offload_kqv,
            use_mmap=s.use_mmap,
            use_mlock=s.use_mlock,
            seed=s.seed,
            chat_format=chat_format,
            verbose=os.environ.get(VERBOSE_ENV) == "1",
        )
        try:
            with applied(patterns):
                self.llm = llama_cpp.Llama(**kwargs)
        except (ValueError, RuntimeError) as exc:
            raise BackendError(f"llama.cpp could not load {path.name}: {exc}") from exc
        lib = llama_cpp.llama_cpp
        self._abort_cb = lib.ggml_abort_callback(lambda _data: self._cancelled.is_set())
        self._placement = {"n_gpu_layers": n_gpu_layers, "cpu_tensor_patterns": patterns, "gpu_offload": gpu}
        return LoadResult(
            model=path.name,
            backend=self.name,
            load_s=time.monotonic() - started,
            plan=self.plan,
            chat_format=chat_format or "gguf-template",
        )

    def _set_abort(self, on: bool) -> None:
        from llama_cpp import llama_cpp as lib

        callback = self._abort_cb if on else lib.ggml_abort_callback()
        lib.llama_set_abort_callback(self.llm._ctx.ctx, callback, None)

    def generate(self, params: GenerateParams, cancelled: threading.Event, progress: ProgressSink) -> GenerateResult:
        if self.llm is None:
            raise BackendError("model not loaded")
        started = time.monotonic()
        response_format = {"type": "json_object", "schema": params.json_schema} if params.json_schema else None
        self._cancelled = cancelled  # what the abort callback reads
        self._set_abort(True)
        stream = None
        pieces: list[str] = []
        finish = "stop"
        prompt_tokens = 0
        ttft = 0.0
        last_report = 0.0
        try:
            stream = self.llm.create_chat_completion(
                messages=[m.model_dump() for m in params.messages],
                max_tokens=params.max_tokens,
                temperature=params.temperature,
                stop=params.stop or None,
                response_format=response_format,
                seed=self.settings.seed,
                stream=True,
            )
            for chunk in stream:
                if not ttft:
                    ttft = time.monotonic() - started
                    self._set_abort(False)
                    prompt_tokens = max(self.llm.n_tokens - 1, 0)
                    progress(Progress(job_id=params.job_id, phase="prefill_done", prompt_tokens=prompt_tokens))
                choice = chunk["choices"][0]
                text = choice["delta"].get("content") or ""
                if text:
                    pieces.append(text)
                if choice.get("finish_reason"):
                    finish = "length" if choice["finish_reason"] == "length" else "stop"
                if cancelled.is_set():
                    raise Cancelled
                now = time.monotonic()
                if text and now - last_report >= 0.1:
                    last_report = now
                    progress(Progress(job_id=params.job_id, phase="tokens", tokens=len(pieces), text=text))
        except RuntimeError as exc:
            if cancelled.is_set():  # llama_decode returned 2: aborted mid-prefill
                self.llm.reset()  # forget the half-filled KV cache; the next job re-evaluates
                raise Cancelled from exc
            raise BackendError(f"llama.cpp failed: {exc}") from exc
        finally:
            if stream is not None:
                stream.close()
            self._set_abort(False)
        if cancelled.is_set():
            raise Cancelled
        return GenerateResult(
            job_id=params.job_id,
            text="".join(pieces),
            finish_reason=finish,  # type: ignore[arg-type]
            prompt_tokens=prompt_tokens,
            completion_tokens=len(pieces),
            time_to_first_token_s=ttft,
            seconds=time.monotonic() - started,
        )

    def status(self) -> dict[str, Any]:
        if self.llm is None:
            return {"loaded": False}
        return {"n_ctx": self.llm.n_ctx(), "n_tokens": self.llm.n_tokens, **self._placement}

    def close(self) -> None:
        if self.llm is not None:
            self.llm.close()
            self.llm = None
