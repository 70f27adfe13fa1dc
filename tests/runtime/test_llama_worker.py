"""The llama_cpp backend through the real worker, with the bundled Gemma 3 270M (plumbing only)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pydantic import BaseModel, Field

from ponder.runtime.client import ModelClient
from ponder.runtime.protocol import Progress
from ponder.runtime.settings import ModelSettings
from ponder.runtime.tasks import BackendFailure, JobCancelled, Task

pytestmark = pytest.mark.model


class Person(BaseModel):
    name: str
    age: int


def ask(text: str, **kw) -> Task:
    return Task(name="t", messages=[{"role": "user", "content": text}], **kw)


def settings(gemma: Path, **kw) -> ModelSettings:
    return ModelSettings(path=str(gemma), n_ctx=kw.pop("n_ctx", 1024), **kw)


async def test_generate_streams_and_parses_json_schema(gemma_path: Path) -> None:
    client = ModelClient(settings(gemma_path))
    seen: list[Progress] = []
    try:
        text = await client.run(ask("Write about the sea.", max_tokens=48), on_progress=seen.append, cancel_event=None)
        person = await client.run(ask("Describe a person as JSON.", output=Person, max_tokens=64))
        status = await client.status()
    finally:
        await client.close()
    assert isinstance(text.value, str) and text.tokens > 0 and text.prompt_tokens > 0
    assert seen[0].phase == "prefill_done" and seen[0].prompt_tokens > 0
    assert any(p.phase == "tokens" for p in seen)
    assert isinstance(person.value, Person)  # constrained by the schema grammar, parsed into the model
    worker = status["worker"]
    assert worker["model"] == gemma_path.name and worker["chat_format"] == "gemma"
    assert worker["last_job"]["tokens_per_s"] > 0 and worker["rss_bytes"] > 100_000_000


async def test_cancel_mid_generation_and_mid_prefill(gemma_path: Path) -> None:
    client = ModelClient(settings(gemma_path, n_ctx=4096, n_batch=2048, n_ubatch=2048))
    try:
        await client.run(ask("hi", max_tokens=2))  # load and warm up
        # Mid-generation.
        tokens = asyncio.Event()
        job = client.submit(
            ask("Tell a very long story.", max_tokens=2000), on_progress=lambda p: p.tokens and tokens.set()
        )
        await asyncio.wait_for(tokens.wait(), 60)
        t0 = time.monotonic()
        client.cancel(job)
        with pytest.raises(JobCancelled):
            await client.wait(job)
        generation_latency = time.monotonic() - t0
        # Mid-prefill: one 3000-token batch takes seconds here; cancel before prefill is done.
        prefilled = asyncio.Event()
        long_prompt = " ".join(f"note {i} says the value is {i * 7}." for i in range(200))
        job = client.submit(ask(long_prompt, max_tokens=8), on_progress=lambda p: prefilled.set())
        await asyncio.sleep(0.8)
        assert not prefilled.is_set(), "prefill finished too fast for this test to mean anything"
        t0 = time.monotonic()
        client.cancel(job)
        with pytest.raises(JobCancelled):
            await client.wait(job)
        prefill_latency = time.monotonic() - t0
        assert not prefilled.is_set()
        after = await client.run(ask("Say yes.", output=Person, max_tokens=48))
    finally:
        await client.close()
    assert generation_latency < 1.0 and prefill_latency < 1.0, (generation_latency, prefill_latency)
    assert isinstance(after.value, Person)


async def test_sigkill_during_generation_reruns_the_job(gemma_path: Path) -> None:
    client = ModelClient(settings(gemma_path, restart_backoff_s=0.1))
    try:
        started = asyncio.Event()
        job = asyncio.create_task(
            client.run(ask("Count to fifty.", max_tokens=200), on_progress=lambda p: p.tokens and started.set())
        )
        await asyncio.wait_for(started.wait(), 60)
        first = client.worker_pid
        os.kill(first, signal.SIGKILL)
        result = await asyncio.wait_for(job, 120)
    finally:
        await client.close()
    assert result.tokens > 0 and client.restarts == 1


async def test_a_llama_cpp_job_touches_no_socket(gemma_path: Path, tmp_path: Path) -> None:
    audit = tmp_path / "sockets.log"
    client = ModelClient(settings(gemma_path), worker_env={"PONDER_AUDIT_SOCKETS": str(audit)})
    try:
        await client.run(ask("Describe a person.", output=Person, max_tokens=48))
    finally:
        await client.close()
    assert audit.exists(), "the audit hook was not installed in the worker"
    assert audit.read_text() == ""


def test_tensor_override_moves_the_named_tensors(gemma_path: Path) -> None:
    code = f"""
import llama_cpp
from ponder.runtime.overrides import applied
with applied([r"blk\\.1\\.ffn_(up|down)"]):
    llama_cpp.Llama({str(gemma_path)!r}, n_ctx=256, verbose=True)
llama_cpp.Llama({str(gemma_path)!r}, n_ctx=256, verbose=True)  # the patch is gone again
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    moved = [line for line in out.stderr.splitlines() if "buffer type overridden" in line]
    assert len(moved) == 2, moved
    assert all(("blk.1.ffn_up." in m or "blk.1.ffn_down." in m) and m.endswith("to CPU") for m in moved)


class Implementation(BaseModel):
    """The shape and limits of the codegen output schema with default settings (issue 17)."""

    path: str = Field(max_length=160)
    code: str = Field(max_length=8000)
    assumptions: str = Field(max_length=600)


async def test_default_codegen_schema_runs_in_the_worker(gemma_path: Path) -> None:
    """maxLength 8000 became a grammar llama.cpp refused, and the worker died with SIGSEGV."""
    client = ModelClient(settings(gemma_path))
    try:
        got = await client.run(ask("Write hello world in Python as the JSON object.", output=Implementation))
        pid = client.worker_pid
    finally:
        await client.close()
    assert isinstance(got.value, Implementation) and client.restarts == 0 and pid is not None


async def test_refused_grammar_fails_the_job_and_keeps_the_worker(gemma_path: Path) -> None:
    class Refused(BaseModel):  # a pattern repetition the grammar keeps, and llama.cpp refuses
        word: str = Field(pattern="^[a-z]{0,3000}$")

    client = ModelClient(settings(gemma_path))
    try:
        await client.run(ask("hi", max_tokens=2))
        pid = client.worker_pid
        with pytest.raises(BackendFailure, match="llama.cpp refused the grammar .*exceeds sane defaults"):
            await client.run(ask("A word as JSON.", output=Refused))
        after = await client.run(ask("Describe a person as JSON.", output=Person, max_tokens=64))
        assert client.worker_pid == pid and client.restarts == 0 and isinstance(after.value, Person)
    finally:
        await client.close()
