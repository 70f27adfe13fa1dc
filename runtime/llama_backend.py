"""Backend `llama_cpp`: a GGUF model run by llama-cpp-python inside the worker process.

Placement comes from the settings (`offload`: auto = the planner's plan, none, manual) and is
applied with every knob llama-cpp-python exposes plus tensor buffer overrides (overrides.py).
Cancellation: between tokens the stream is closed; during prompt prefill llama.cpp's abort
callback stops the graph computation. The callback is installed for the prefill only, since
ggml calls it once per graph node and a Python callback per node would slow generation.

One `Llama` lives as long as the worker's model, so its KV cache keeps the previous prompt:
llama-cpp-python evaluates only what follows the longest shared prefix (the judge's system
prompt and instructions are computed once). JSON-schema jobs ask the chat template for no
reasoning (`enable_thinking=False`, which Qwen3 templates honour), since the grammar forbids it anyway.
Their grammar is built from the schema without its large limits (schema_grammar.py) and tried by
llama.cpp before generation: a grammar it refuses fails the job, not the worker.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from typing import Any

from ponder.runtime.backend import BackendError, Cancelled, ProgressSink, model_path
from ponder.runtime.gguf_info import read_gguf
from ponder.runtime.load_report import captured_llama_log, parse_load_log
from ponder.runtime.overrides import applied
from ponder.runtime.protocol import GenerateParams, GenerateResult, LoadResult, Progress
from ponder.runtime.schema_grammar import simplify_schema
from ponder.runtime.settings import ModelSettings

log = logging.getLogger("ponder.worker")

_KV_TYPES = {"f16": 1, "q8_0": 8, "q4_0": 2}  # enum ggml_type
VERBOSE_ENV = "PONDER_LLAMA_VERBOSE"  # 1: llama.cpp logs everything to stderr (loads, overrides)


def default_chat_format(architecture: str, has_template: bool) -> str | None:
    """None keeps the GGUF's own template; without one, llama-cpp-python would use llama-2's."""
    if has_template:
        return None
    return "gemma" if architecture.startswith("gemma") else "chatml"


@contextlib.contextmanager
def flash_attn_auto(lib: Any) -> Iterator[None]:
    """llama-cpp-python 0.3.x passes flash attention as on/off only; within this block every new
    context asks llama.cpp to decide (on where the device supports it; it logs the outcome)."""
    original = lib.llama_init_from_model

    def init(model: Any, params: Any) -> Any:
        params.flash_attn_type = lib.LLAMA_FLASH_ATTN_TYPE_AUTO
        return original(model, params)

    lib.llama_init_from_model = init
    try:
        yield
    finally:
        lib.llama_init_from_model = original


@contextlib.contextmanager
def captured_stderr() -> Iterator[list[str]]:
    """What C code prints on fd 2 inside this block (llama.cpp's grammar parser uses fprintf)."""
    out: list[str] = []
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as tmp:
        os.dup2(tmp.fileno(), 2)
        try:
            yield out
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            tmp.seek(0)
            out.append(tmp.read().decode("utf-8", "replace"))


def without_thinking(messages: list[dict[str, str]]) -> list[dict[str, str]]:
    """Qwen3's soft switch, for a Qwen3 run without its own template: `/no_think` in the last user turn."""
    out = [dict(m) for m in messages]
    for m in reversed(out):
        if m["role"] == "user":
            m["content"] += " /no_think"
            break
    return out


class LlamaBackend:
    name = "llama_cpp"

    def __init__(self, settings: ModelSettings) -> None:
        self.settings = settings
        self.llm: Any = None
        self.plan: dict[str, Any] | None = None
        self._cancelled = threading.Event()
        self._abort_cb: Any = None
        self._placement: dict[str, Any] = {}
        self._template: Any = None
        self._qwen3 = False
        self._evaluated = 0  # llama.cpp reports its counters as at least 1 before the first batch

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
            flash_attn=s.flash_attn == "on",
            type_k=_KV_TYPES[s.type_k],
            type_v=_KV_TYPES[s.type_v],
            offload_kqv=s.offload_kqv,
            use_mmap=s.use_mmap,
            use_mlock=s.use_mlock,
            seed=s.seed,
            chat_format=chat_format,
            verbose=False,  # the load log is captured below; PONDER_LLAMA_VERBOSE=1 echoes it
        )
        lib = llama_cpp.llama_cpp
        auto = s.flash_attn == "auto" and hasattr(lib, "LLAMA_FLASH_ATTN_TYPE_AUTO")
        try:
            with applied(patterns), captured_llama_log(echo=os.environ.get(VERBOSE_ENV) == "1") as lines:
                with flash_attn_auto(lib) if auto else contextlib.nullcontext():
                    self.llm = llama_cpp.Llama(**kwargs)
        except (ValueError, RuntimeError) as exc:
            raise BackendError(f"llama.cpp could not load {path.name}: {exc}") from exc
        report = parse_load_log("".join(lines))
        self._check_plan(report)
        self._template = self._template_handler(info) if chat_format is None else None
        self._qwen3 = info.architecture.startswith("qwen3")
        self._evaluated = 0
        self._abort_cb = lib.ggml_abort_callback(lambda _data: self._cancelled.is_set())
        self._placement = {"n_gpu_layers": n_gpu_layers, "cpu_tensor_patterns": patterns, "gpu_offload": gpu}
        return LoadResult(
            model=path.name,
            backend=self.name,
            load_s=time.monotonic() - started,
            plan=self.plan,
            chat_format=chat_format or "gguf-template",
            report=report.to_json(),
        )

    def _check_plan(self, report: Any) -> None:
        """Say so in the worker log when llama.cpp allocated more than the plan allowed for."""
        if self.plan is None:
            return
        if report.flash_attn is not None and report.flash_attn != self.plan["flash_attn"]:
            log.warning(
                "llama.cpp %s flash attention; the plan assumed otherwise",
                "enabled" if report.flash_attn else "disabled",
            )
        if report.total("compute") > 1.1 * self.plan["compute_bytes"]:
            log.warning(
                "compute buffers %.0f MiB > planned %.0f MiB",
                report.total("compute") / 2**20,
                self.plan["compute_bytes"] / 2**20,
            )

    def _template_handler(self, info: Any) -> Any:
        """The GGUF's own template as a chat handler we call directly: `create_chat_completion`
        does not pass template variables such as `enable_thinking` through (0.3.x)."""
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        template = self.llm.metadata.get("tokenizer.chat_template")
        if not template:
            return None
        eos, bos = self.llm.token_eos(), self.llm.token_bos()
        text = lambda t: self.llm.detokenize([t], special=True).decode("utf-8", "replace") if t >= 0 else ""
        return Jinja2ChatFormatter(template, text(eos), text(bos), stop_token_ids=[eos]).to_chat_handler()

    def _prompt_evals(self) -> int:
        """llama.cpp's count of tokens computed in prompt batches so far (n_p_eval)."""
        from llama_cpp import llama_cpp as lib

        return int(lib.llama_perf_context(self.llm._ctx.ctx).n_p_eval) if self._evaluated else 0

    def _set_abort(self, on: bool) -> None:
        from llama_cpp import llama_cpp as lib

        callback = self._abort_cb if on else lib.ggml_abort_callback()
        lib.llama_set_abort_callback(self.llm._ctx.ctx, callback, None)

    def _grammar(self, schema: dict[str, Any]) -> Any:
        """The job's grammar, built once by llama.cpp itself before any token is generated: a
        grammar it refuses is this job's error. (llama-cpp-python 0.3.x would sample with the null
        grammar llama.cpp returns and the worker would die with SIGSEGV, job after job.)"""
        from llama_cpp import llama_cpp as lib
        from llama_cpp.llama_grammar import LlamaGrammar, json_schema_to_gbnf

        dropped: list[str] = []
        simple = simplify_schema(schema, dropped)
        if dropped:
            log.info("grammar without %s (checked after generation)", ", ".join(dropped))
        try:
            gbnf = json_schema_to_gbnf(json.dumps(simple))
        except Exception as exc:  # an unsupported schema construct
            raise BackendError(f"the output schema cannot be turned into a grammar: {exc}") from exc
        with captured_stderr() as printed:  # a refusal prints the reason and the whole grammar there
            sampler = lib.llama_sampler_init_grammar(self.llm._model.vocab, gbnf.encode(), b"root")
        if not sampler:
            lines = printed[0].splitlines() if printed else []
            reason = next((line.strip() for line in lines if "error" in line), "no reason given")
            raise BackendError(
                f"llama.cpp refused the grammar of this job's output schema ({reason[:240]}); "
                f"the job was not run ({len(gbnf)} grammar characters)"
            )
        lib.llama_sampler_free(sampler)
        return LlamaGrammar.from_string(gbnf)

    def generate(self, params: GenerateParams, cancelled: threading.Event, progress: ProgressSink) -> GenerateResult:
        if self.llm is None:
            raise BackendError("model not loaded")
        started = time.monotonic()
        grammar = self._grammar(params.json_schema) if params.json_schema else None
        self._cancelled = cancelled  # what the abort callback reads
        self._set_abort(True)
        stream = None
        pieces: list[str] = []
        finish = "stop"
        prompt_tokens = 0
        ttft = 0.0
        last_report = 0.0
        messages = [m.model_dump() for m in params.messages]
        request: dict[str, Any] = dict(
            max_tokens=params.max_tokens,
            temperature=params.temperature,
            stop=params.stop or None,
            grammar=grammar,
            seed=self.settings.seed,
            stream=True,
        )
        evals_before = self._prompt_evals()
        evaluated = None
        try:
            if self._template is not None:
                thinking = {"enable_thinking": False} if params.json_schema else {}
                stream = self._template(llama=self.llm, messages=messages, repeat_penalty=1.0, **request, **thinking)
            else:
                if params.json_schema and self._qwen3:
                    messages = without_thinking(messages)
                stream = self.llm.create_chat_completion(messages=messages, **request)
            for chunk in stream:
                if not ttft:
                    ttft = time.monotonic() - started
                    self._set_abort(False)
                    prompt_tokens = max(self.llm.n_tokens - 1, 0)
                    self._evaluated = 1
                    evaluated = max(self._prompt_evals() - evals_before, 0)
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
            prompt_tokens_evaluated=evaluated,
        )

    def status(self) -> dict[str, Any]:
        if self.llm is None:
            return {"loaded": False}
        return {"n_ctx": self.llm.n_ctx(), "n_tokens": self.llm.n_tokens, **self._placement}

    def close(self) -> None:
        if self.llm is not None:
            self.llm.close()
            self.llm = None
