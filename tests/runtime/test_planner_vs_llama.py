"""The planner's memory arithmetic against what llama.cpp itself reports after loading.

Tiny generated Qwen3 and Qwen3-MoE files of four shapes (heads, vocabulary, width, experts),
three context lengths, two micro-batches, with and without flash attention: weights, KV cache
and compute buffer must each be within 10% of llama.cpp's own buffer report. Loads are in
this process (each takes milliseconds); the worker path is tests/runtime/test_tiny_qwen3.py.
"""

from __future__ import annotations

import itertools
from dataclasses import replace

import pytest
from tiny_gguf import DENSE, MOE

from ponder.runtime.gguf_info import read_gguf
from ponder.runtime.load_report import LoadReport, captured_llama_log, parse_load_log
from ponder.runtime.planner import plan_offload

pytestmark = pytest.mark.model

SHAPES = {
    "moe": MOE,
    "dense": DENSE,
    "moe-8heads-4k-vocab": replace(MOE, n_head=8, n_head_kv=4, n_vocab=4096),
    "dense-16heads-8k-vocab": replace(DENSE, n_head=16, n_head_kv=2, n_embd=128, n_vocab=8192),
}
CONTEXTS = (2048, 8192, 32768)


def llama_report(path, n_ctx: int, n_ubatch: int, flash_attn: bool) -> LoadReport:
    import llama_cpp

    with captured_llama_log() as lines:
        llm = llama_cpp.Llama(
            str(path), n_ctx=n_ctx, n_batch=512, n_ubatch=n_ubatch, flash_attn=flash_attn, verbose=False
        )
    llm.close()
    return parse_load_log("".join(lines))


@pytest.mark.parametrize("shape", list(SHAPES))
def test_plan_within_ten_percent_of_llama_cpp(tiny_gguf, shape: str) -> None:
    path = tiny_gguf(SHAPES[shape])
    info = read_gguf(path)
    rows = []
    for n_ctx, n_ubatch, fa in itertools.product(CONTEXTS, (256, 512), (False, True)):
        report = llama_report(path, n_ctx, n_ubatch, fa)
        assert report.flash_attn is fa
        plan = plan_offload(info, vram_gib=0, ram_gib=64, n_ctx=n_ctx, n_ubatch=n_ubatch, flash_attn=fa)
        weights = plan.cpu_bytes - plan.kv_bytes - plan.compute_bytes
        for what, planned, actual in (
            ("weights", weights, report.total("model")),
            ("kv", plan.kv_bytes, report.total("kv")),
            ("compute", plan.compute_bytes, report.total("compute")),
        ):
            rows.append((n_ctx, n_ubatch, fa, what, planned, actual))
    off = [r for r in rows if abs(r[4] / r[5] - 1) > 0.10]
    assert not off, "\n".join(f"ctx {c} ubatch {u} fa {f} {w}: plan {p} vs llama.cpp {a}" for c, u, f, w, p, a in off)


def test_flash_attention_is_what_keeps_long_contexts_small(tiny_gguf) -> None:
    """The term the old estimate left out: without flash attention the scores of every head."""
    path = tiny_gguf(SHAPES["dense-16heads-8k-vocab"])
    without, with_fa = llama_report(path, 32768, 512, False), llama_report(path, 32768, 512, True)
    assert without.total("compute") > 20 * with_fa.total("compute")
    assert without.total("compute") >= 32768 * 512 * 16 * 4
