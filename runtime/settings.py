"""Settings of the model side: which backend, which model, how to place it.

One pydantic model; the server composes it as the `model` section of its settings, and the
field descriptions become the VS Code settings' descriptions.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, field_validator

KvType = Literal["f16", "q8_0", "q4_0"]
FlashAttn = Literal["auto", "on", "off"]


class ModelSettings(BaseModel):
    """The local LLM: backend, model file or endpoint, and how the worker runs it."""

    backend: Literal["llama_cpp", "openai", "scripted"] = Field(
        "llama_cpp",
        description="Model backend: llama_cpp (a GGUF file run in the worker), openai (an "
        "OpenAI-compatible server on loopback) or scripted (recorded answers, for tests).",
    )
    path: str | None = Field(
        None, description="GGUF file for the llama_cpp backend. Empty: the bundled Gemma 3 270M (plumbing only)."
    )
    endpoint: str | None = Field(None, description="OpenAI-compatible base URL for the openai backend.")
    allow_remote: bool = Field(False, description="Allow a non-loopback endpoint. Off: loopback only.")
    remote_model: str | None = Field(
        None, description="Model name sent to the openai backend (empty: the server's first model)."
    )
    request_timeout_s: float = Field(600.0, description="Seconds the openai backend waits for a server answer.")
    script_path: str | None = Field(
        None,
        description="JSON file of recorded answers for the scripted backend (replayed in order or by messages hash).",
    )

    # Placement.
    offload: Literal["auto", "none", "manual"] = Field(
        "auto",
        description="auto: apply the offload planner's plan for vram_gib/ram_gib; none: everything on the CPU; "
        "manual: use n_gpu_layers and cpu_tensor_patterns as given.",
    )
    n_gpu_layers: int = Field(-1, description="Layers offloaded to the GPU in manual mode (-1: all).")
    cpu_tensor_patterns: list[str] = Field(
        default_factory=list,
        description="Regexes of tensor names kept in CPU memory (llama.cpp tensor buffer overrides), e.g. "
        "'blk\\.(?:[4-9][0-9])\\.ffn_.*_exps\\.' for MoE experts. Manual mode only; auto computes them.",
    )
    tensor_split: list[float] | None = Field(None, description="Fraction of the model per GPU (multi-GPU).")
    main_gpu: int = Field(0, description="GPU that holds scratch buffers and small tensors.")
    n_ctx: int = Field(8192, description="Context length in tokens.")
    n_batch: int = Field(512, description="Logical batch size for prompt processing.")
    n_ubatch: int = Field(512, description="Physical batch size for prompt processing.")
    n_threads: int | None = Field(None, description="CPU threads for generation (empty: physical cores).")
    n_threads_batch: int | None = Field(None, description="CPU threads for prompt processing (empty: all cores).")
    flash_attn: FlashAttn = Field(
        "auto",
        description="Flash attention: auto (llama.cpp enables it where the build and device support it), on, off. "
        "Without it llama.cpp holds a micro-batch's attention scores, n_ctx x n_ubatch x heads floats (GBs at long "
        "contexts); a quantised V cache needs it.",
    )
    type_k: KvType = Field("f16", description="KV cache type of keys.")
    type_v: KvType = Field("f16", description="KV cache type of values.")
    offload_kqv: bool = Field(True, description="Keep the KV cache and attention on the GPU.")
    use_mmap: bool = Field(True, description="Memory-map the model file.")
    use_mlock: bool = Field(False, description="Lock the model in RAM (no swapping).")
    chat_format: str | None = Field(
        None,
        description="llama-cpp-python chat format override. Empty: the GGUF's embedded template, or a plain "
        "format chosen by architecture when the file has none.",
    )
    seed: int = Field(0, description="Sampling seed, for reproducible answers.")

    # Lifecycle.
    eager_start: bool = Field(
        False, description="Start and load the worker when the server starts, not on the first job."
    )
    idle_unload_s: float = Field(900.0, description="Unload the model after this many idle seconds (0: never).")
    max_restarts: int = Field(3, description="Consecutive worker restarts before the client gives up.")
    restart_backoff_s: float = Field(0.5, description="First restart delay; doubles on each consecutive failure.")
    load_timeout_s: float = Field(900.0, description="Seconds a model load may take before it counts as failed.")
    worker_silence_s: float = Field(
        30.0,
        description="Seconds without a word from the worker (it says 'alive' every 2 s, also while loading or "
        "generating) before it is killed and restarted: stopped, deadlocked or swapped out.",
    )
    job_timeout_s: float = Field(
        1800.0, description="Seconds one generation may take before it fails and the worker is restarted."
    )
    cancel_grace_s: float = Field(
        5.0, description="Seconds a cancelled generation may take to stop before the worker is restarted."
    )

    # Planner inputs.
    vram_gib: float = Field(96.0, description="GPU memory the planner may use, in GiB.")
    ram_gib: float = Field(128.0, description="System RAM the planner may use, in GiB.")
    gpu_bandwidth_gbs: float = Field(1800.0, description="GPU memory bandwidth in GB/s (tokens/s estimate).")
    cpu_bandwidth_gbs: float = Field(70.0, description="System RAM bandwidth in GB/s (tokens/s estimate).")

    @field_validator("flash_attn", mode="before")
    @classmethod
    def _flash_attn_bool(cls, value: object) -> object:
        """Settings written before `auto` existed said true/false."""
        return {True: "on", False: "off"}.get(value, value) if isinstance(value, bool) else value
