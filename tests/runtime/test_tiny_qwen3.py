"""Qwen3 and Qwen3-MoE through the real worker, on tiny generated GGUFs (no GPU needed).

The MoE file is loaded with the planner's placement for a GPU that holds everything but the
experts of layers 1-3; llama.cpp's own load log (captured by the worker) must show exactly
those expert tensors overridden to the CPU buffer. On this CPU-only build every buffer is
host memory anyway, so what is proven is the chain planner -> regex -> override -> llama.cpp;
bench/gpu_moe_check.py repeats it on a CUDA machine where the buffers differ.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

import pytest
from pydantic import BaseModel
from tiny_gguf import DENSE, MOE

from ponder.runtime.client import ModelClient
from ponder.runtime.gguf_info import read_gguf
from ponder.runtime.planner import COMPUTE_MARGIN, GIB, GPU_RESERVE, OffloadPlan, offloaded_copy_bytes, plan_offload
from ponder.runtime.settings import ModelSettings
from ponder.runtime.tasks import JobCancelled, Task

pytestmark = pytest.mark.model

N_CTX = 4096
SYSTEM = "You judge whether two statements from a user's notes contradict each other. " * 30


class Verdict(BaseModel):
    label: str


def ask(text: str, system: str | None = None, **kw) -> Task:
    messages = ([{"role": "system", "content": system}] if system else []) + [{"role": "user", "content": text}]
    return Task(name="t", messages=messages, **kw)


def experts_in_ram_plan(path: Path) -> OffloadPlan:
    """The plan for a GPU with room for everything except the experts of layers 1 and up."""
    info = read_gguf(path)
    probe = plan_offload(info, vram_gib=1000, n_ctx=N_CTX)
    experts = [sum(t.n_bytes for t in info.tensors if t.is_expert and t.layer == i) for i in range(info.n_layers)]
    shared = probe.gpu_bytes - probe.compute_bytes - sum(experts)
    overhead = (
        GPU_RESERVE + int(probe.compute_bytes * COMPUTE_MARGIN) + offloaded_copy_bytes(info, list(range(info.n_layers)))
    )
    return plan_offload(info, vram_gib=(overhead + shared + experts[0] + 1024) / GIB, n_ctx=N_CTX)


def placed(path: Path, plan: OffloadPlan, **kw) -> ModelSettings:
    return ModelSettings(
        path=str(path), n_ctx=N_CTX, offload="manual", n_gpu_layers=plan.n_gpu_layers,
        cpu_tensor_patterns=plan.cpu_tensor_patterns, **kw,
    )  # fmt: skip


async def test_moe_experts_go_to_the_cpu_buffer_and_tokens_come_out(tiny_gguf) -> None:
    path = tiny_gguf(MOE)
    plan = experts_in_ram_plan(path)
    assert plan.n_gpu_layers == MOE.n_layers + 1 and plan.expert_layers_on_cpu == [1, 2, 3]
    client = ModelClient(placed(path, plan))
    try:
        result = await client.run(ask("Hello there.", max_tokens=16))
        worker = (await client.status())["worker"]
    finally:
        await client.close()
    assert result.tokens > 0 and result.text
    report = worker["report"]
    expected = {f"blk.{i}.ffn_{k}_exps.weight" for i in (1, 2, 3) for k in ("gate", "up", "down")}
    assert report["overridden"] == dict.fromkeys(expected, "CPU")
    weights = plan.gpu_bytes + plan.cpu_bytes - plan.kv_bytes - plan.compute_bytes
    assert sum(report["model"].values()) == pytest.approx(weights, rel=0.1)
    assert sum(report["kv"].values()) == plan.kv_bytes
    assert report["flash_attn"] is True  # settings default `auto`: llama.cpp chose it
    assert worker["chat_format"] == "gguf-template"


async def test_moe_cancel_and_restart_after_a_crash(tiny_gguf) -> None:
    path = tiny_gguf(MOE)
    client = ModelClient(placed(path, experts_in_ram_plan(path), restart_backoff_s=0.1))
    try:
        tokens = asyncio.Event()
        job = client.submit(ask("Tell a long story.", max_tokens=3000), on_progress=lambda p: p.tokens and tokens.set())
        await asyncio.wait_for(tokens.wait(), 60)
        t0 = time.monotonic()
        client.cancel(job)
        with pytest.raises(JobCancelled):
            await client.wait(job)
        cancel_s = time.monotonic() - t0

        started = asyncio.Event()
        job = asyncio.create_task(
            client.run(ask("Count.", max_tokens=48), on_progress=lambda p: p.tokens and started.set())
        )
        await asyncio.wait_for(started.wait(), 60)
        os.kill(client.worker_pid, signal.SIGKILL)
        rerun = await asyncio.wait_for(job, 120)
        report = (await client.status())["worker"]["report"]
    finally:
        await client.close()
    assert cancel_s < 1.0
    assert rerun.tokens > 0 and client.restarts == 1
    assert len(report["overridden"]) == 9  # the restarted worker placed the experts again


async def test_qwen3_reuses_the_shared_prompt_prefix(tiny_gguf) -> None:
    """A second prompt with the same long system part computes only its own tail."""
    client = ModelClient(ModelSettings(path=str(tiny_gguf(DENSE)), n_ctx=N_CTX))
    try:
        first = await client.run(ask("Statement A: the backup runs at 02:00.", SYSTEM, max_tokens=4))
        first_job = (await client.status())["worker"]["last_job"]
        await client.run(ask("Statement A: the disk holds 4 TB.", SYSTEM, max_tokens=4))
        second_job = (await client.status())["worker"]["last_job"]
    finally:
        await client.close()
    assert first.prompt_tokens > 300
    assert first_job["prompt_tokens_evaluated"] >= first.prompt_tokens - 1
    assert second_job["prompt_tokens_evaluated"] < 40 < second_job["prompt_tokens"]


async def test_json_jobs_ask_the_qwen3_template_for_no_thinking(tiny_gguf) -> None:
    """The template then closes an empty <think></think> block itself: the prompt grows by it."""
    client = ModelClient(ModelSettings(path=str(tiny_gguf(DENSE)), n_ctx=N_CTX))
    try:
        text = await client.run(ask("Judge.", SYSTEM, max_tokens=4))
        schema_job = client.submit(ask("Judge.", SYSTEM, output=Verdict, max_tokens=4))
        with pytest.raises(Exception):  # noqa: B017 - 4 tokens of a random model are no verdict; only the prompt matters
            await client.wait(schema_job)
        json_job = (await client.status())["worker"]["last_job"]
    finally:
        await client.close()
    assert json_job["prompt_tokens"] - text.prompt_tokens == 6  # "<think>\n\n</think>\n\n"
