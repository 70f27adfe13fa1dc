"""Runtime benchmark: the worker path against raw llama-cpp-python on the same prompt, same run.

Prints a table: tokens/s and time to first token (worker vs raw, target ratio >= 0.95),
cancel latency mid-generation and mid-prefill, worker restart time after SIGKILL, and the
planner's predicted memory vs what llama.cpp reports after loading.

    .venv/bin/python bench/runtime_bench.py [--model PATH] [--tokens 128] [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

from ponder.runtime.backend import bundled_model_path
from ponder.runtime.client import ModelClient
from ponder.runtime.gguf_info import read_gguf
from ponder.runtime.planner import plan_offload
from ponder.runtime.settings import ModelSettings
from ponder.runtime.tasks import JobCancelled, Task

PROMPT = "Explain in detail how a library catalogue helps readers find books."
N_CTX = 2048


def raw_llama(path: Path, tokens: int, runs: int) -> tuple[float, float]:
    """The baseline: llama-cpp-python in this process, same settings and chat format as the worker."""
    import llama_cpp

    from ponder.runtime.llama_backend import default_chat_format

    info = read_gguf(path)
    llm = llama_cpp.Llama(
        str(path),
        n_ctx=N_CTX,
        verbose=False,
        seed=0,
        chat_format=default_chat_format(info.architecture, info.has_chat_template),
    )
    tps, ttft = [], []
    for i in range(runs + 1):
        start = time.monotonic()
        first, n = 0.0, 0
        for chunk in llm.create_chat_completion(
            [{"role": "user", "content": f"({i}) {PROMPT}"}], max_tokens=tokens, temperature=0, seed=0, stream=True
        ):
            if not first:
                first = time.monotonic() - start
            n += bool(chunk["choices"][0]["delta"].get("content"))
        total = time.monotonic() - start
        ttft.append(first)
        tps.append((n - 1) / (total - first))
    llm.close()
    return statistics.median(tps[1:]), statistics.median(ttft[1:])  # the first run warms up


async def worker_numbers(path: Path, tokens: int, runs: int) -> dict[str, float]:
    client = ModelClient(ModelSettings(path=str(path), n_ctx=N_CTX, restart_backoff_s=0.0))
    out: dict[str, float] = {}
    try:
        tps, ttft = [], []
        for i in range(runs + 1):  # a distinct prompt per run: TTFT is a real prefill, as in the baseline
            await client.run(
                Task(name="bench", messages=[{"role": "user", "content": f"({i}) {PROMPT}"}], max_tokens=tokens)
            )
            last = (await client.status())["worker"]["last_job"]
            tps.append(last["tokens_per_s"])
            ttft.append(last["time_to_first_token_s"])
        out["tps"], out["ttft"] = statistics.median(tps[1:]), statistics.median(ttft[1:])

        got = asyncio.Event()
        job = client.submit(
            Task(name="c", messages=[{"role": "user", "content": PROMPT}], max_tokens=2000),
            on_progress=lambda p: p.tokens and got.set(),
        )
        await got.wait()
        t0 = time.monotonic()
        client.cancel(job)
        try:
            await client.wait(job)
        except JobCancelled:
            out["cancel_generation_s"] = time.monotonic() - t0

        long_prompt = " ".join(f"note {i} says the value is {i * 7}." for i in range(120))
        prefilled = asyncio.Event()
        job = client.submit(
            Task(name="p", messages=[{"role": "user", "content": long_prompt}], max_tokens=4),
            on_progress=lambda p: prefilled.set(),
        )
        await asyncio.sleep(0.5)
        out["prefill_was_running"] = float(not prefilled.is_set())
        t0 = time.monotonic()
        client.cancel(job)
        try:
            await client.wait(job)
        except JobCancelled:
            out["cancel_prefill_s"] = time.monotonic() - t0

        os.kill(client.worker_pid, signal.SIGKILL)
        t0 = time.monotonic()
        await client.run(Task(name="r", messages=[{"role": "user", "content": "hi"}], max_tokens=1))
        out["restart_s"] = time.monotonic() - t0
    finally:
        await client.close()
    return out


def loaded_memory(path: Path) -> dict[str, float]:
    """What llama.cpp reports (MiB) for weights, KV cache and compute buffers after loading."""
    code = f"import llama_cpp; llama_cpp.Llama({str(path)!r}, n_ctx={N_CTX}, verbose=True)"
    log = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stderr
    sums: dict[str, float] = {"model": 0.0, "kv": 0.0, "compute": 0.0}
    for kind, key in (("model", r"model buffer size"), ("kv", r"KV buffer size"), ("compute", r"compute buffer size")):
        for m in re.finditer(rf"{key}\s*=\s*([\d.]+) MiB", log):
            sums[kind] += float(m.group(1))
    return sums


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--tokens", type=int, default=128)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    path = args.model or bundled_model_path()
    raw_tps, raw_ttft = raw_llama(path, args.tokens, args.runs)
    w = asyncio.run(worker_numbers(path, args.tokens, args.runs))
    plan = plan_offload(read_gguf(path), vram_gib=0, ram_gib=64, n_ctx=N_CTX)
    mem = loaded_memory(path)
    mib = 1024**2
    rows = [
        (
            "generation tokens/s",
            f"{w['tps']:.1f}",
            f"{raw_tps:.1f}",
            f"ratio {w['tps'] / raw_tps:.3f} (target >= 0.95)",
        ),
        ("time to first token s", f"{w['ttft']:.3f}", f"{raw_ttft:.3f}", f"ratio {raw_ttft / w['ttft']:.3f}"),
        ("cancel mid-generation s", f"{w.get('cancel_generation_s', float('nan')):.3f}", "-", "target < 1"),
        (
            "cancel mid-prefill s",
            f"{w.get('cancel_prefill_s', float('nan')):.3f}",
            "-",
            "target < 1" + ("" if w.get("prefill_was_running") else " (prefill had ended!)"),
        ),
        ("restart after SIGKILL + 1 token s", f"{w['restart_s']:.2f}", "-", ""),
        (
            "weights MiB (plan / llama.cpp)",
            f"{(plan.cpu_bytes - plan.kv_bytes - plan.compute_bytes) / mib:.1f}",
            f"{mem['model']:.1f}",
            "",
        ),
        (
            "KV cache MiB (plan / llama.cpp)",
            f"{plan.kv_bytes / mib:.1f}",
            f"{mem['kv']:.1f}",
            "plan ignores sliding-window layers",
        ),
        ("compute buffer MiB (plan / llama.cpp)", f"{plan.compute_bytes / mib:.1f}", f"{mem['compute']:.1f}", ""),
    ]
    print(f"model: {path.name}, n_ctx {N_CTX}, {args.tokens} tokens, median of {args.runs} runs, CPU only")
    print(f"{'':40} {'worker/plan':>12} {'raw/llama':>12}  note")
    for name, a, b, note in rows:
        print(f"{name:40} {a:>12} {b:>12}  {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
