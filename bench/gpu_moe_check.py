"""On a CUDA machine: the planner's MoE placement loaded by llama.cpp, checked from its own report.

Writes the tiny qwen3moe fixture, sizes a "GPU" that the planner fills with everything but
the experts of layers 1 and up, loads it through the real worker (offload auto, so the
planner's plan is what the worker applies) and prints llama.cpp's buffers beside the plan.
PASS when: llama.cpp offloaded every layer, exactly the planned expert tensors were
overridden to CPU, tokens came out, and the CUDA compute buffer is within the plan's.

    bash bench/gpu_moe_check.sh            # builds llama-cpp-python with CUDA first if needed
    .venv/bin/python bench/gpu_moe_check.py
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests/runtime"))

from tiny_gguf import MOE, write_tiny

from ponder.runtime.client import ModelClient
from ponder.runtime.gguf_info import read_gguf
from ponder.runtime.planner import COMPUTE_MARGIN, GIB, GPU_RESERVE, offloaded_copy_bytes, plan_offload
from ponder.runtime.settings import ModelSettings
from ponder.runtime.tasks import Task

N_CTX = 8192
MIB = 1024**2


def vram_for_first_layer_experts(path: Path) -> float:
    info = read_gguf(path)
    probe = plan_offload(info, vram_gib=1000, n_ctx=N_CTX)
    experts = [sum(t.n_bytes for t in info.tensors if t.is_expert and t.layer == i) for i in range(info.n_layers)]
    shared = probe.gpu_bytes - probe.compute_bytes - sum(experts)
    overhead = (
        GPU_RESERVE + int(probe.compute_bytes * COMPUTE_MARGIN) + offloaded_copy_bytes(info, list(range(info.n_layers)))
    )
    return (overhead + shared + experts[0] + 1024) / GIB


async def run(path: Path, vram_gib: float) -> tuple[dict, dict]:
    settings = ModelSettings(path=str(path), n_ctx=N_CTX, offload="auto", vram_gib=vram_gib, ram_gib=16)
    client = ModelClient(settings, worker_env={"PONDER_LLAMA_VERBOSE": "0"})
    try:
        result = await client.run(Task(name="gpu", messages=[{"role": "user", "content": "Hello."}], max_tokens=32))
        status = (await client.status())["worker"]
    finally:
        await client.close()
    return {"tokens": result.tokens, "tokens_per_s": status["last_job"]["tokens_per_s"]}, status


def main() -> int:
    import llama_cpp

    gpu = bool(llama_cpp.llama_supports_gpu_offload())
    path = write_tiny(Path(tempfile.mkdtemp(prefix="ponder-gpu-")) / MOE.name, MOE)
    vram = vram_for_first_layer_experts(path)
    gen, status = asyncio.run(run(path, vram))
    plan, report = status["plan"], status["report"]
    print(f"llama-cpp-python {llama_cpp.__version__}, GPU offload supported: {gpu}")
    if plan is None:  # offload auto applies a plan only where llama.cpp can offload
        print(f"generated {gen['tokens']} pieces on the CPU; no plan applied")
        print("FAIL  GPU build\nFAIL")
        return 1
    expected = {f"blk.{i}.ffn_{k}_exps.weight" for i in plan["expert_layers_on_cpu"] for k in ("gate", "up", "down")}
    print(f"plan: n_gpu_layers {plan['n_gpu_layers']}, experts in RAM: layers {plan['expert_layers_on_cpu']}, "
          f"overrides {plan['cpu_tensor_patterns']}, flash attention {plan['flash_attn']}")  # fmt: skip
    print(f"{'buffer':28} {'llama.cpp MiB':>14}")
    for kind in ("model", "kv", "compute", "output"):
        for name, size in report[kind].items():
            print(f"{kind + ' ' + name:28} {size / MIB:>14.2f}")
    gpu_compute = sum(v for k, v in report["compute"].items() if k.startswith("CUDA") and "Host" not in k)
    print(
        f"planned compute (GPU) MiB {plan['compute_bytes'] / MIB:.2f}; llama.cpp CUDA "
        f"compute MiB {gpu_compute / MIB:.2f}"
    )
    print(
        f"overridden to CPU: {len(report['overridden'])} tensors; flash attention (llama.cpp): {report['flash_attn']}"
    )
    print(f"generated {gen['tokens']} pieces at {gen['tokens_per_s']:.0f} tokens/s")
    checks = {
        "GPU build": gpu,
        "experts planned in RAM": bool(plan["expert_layers_on_cpu"]),
        "exactly the planned experts overridden to CPU": set(report["overridden"]) == expected
        and set(report["overridden"].values()) <= {"CPU", "CPU_REPACK"},
        "weights on the GPU": any(k.startswith("CUDA") for k in report["model"]),
        "KV cache on the GPU": any(k.startswith("CUDA") for k in report["kv"]),
        "CUDA compute buffer within the plan": 0 < gpu_compute <= plan["compute_bytes"] * COMPUTE_MARGIN,
        "tokens came out": gen["tokens"] > 0,
    }
    for name, ok in checks.items():
        print(f"{'PASS' if ok else 'FAIL'}  {name}")
    print("PASS" if all(checks.values()) else "FAIL")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
