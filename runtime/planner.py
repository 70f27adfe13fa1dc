"""The offload planner: GGUF tensors + the machine's memory -> where every tensor lives.

Dense models: as many layers on the GPU as fit (llama.cpp offloads the last n_gpu_layers).
MoE models: every layer on the GPU except routed expert tensors; experts of the first layers
fill the remaining VRAM, the rest stay in RAM through tensor buffer overrides (one regex).
Generation is memory-bound, so the estimate is: active bytes per token on each device
divided by that device's bandwidth. `ponder plan MODEL.gguf` prints it.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, dataclass, field
from typing import Any

from ponder.runtime.gguf_info import GGUFInfo, TensorInfo, read_gguf

GIB = 1024**3
KV_BYTES_PER_ELEMENT = {"f16": 2.0, "q8_0": 34 / 32, "q4_0": 18 / 32}
GPU_RESERVE = int(0.75 * GIB)  # CUDA context, cuBLAS workspace, fragmentation
COMPUTE_MARGIN = 1.15  # the compute estimate is within 10% of llama.cpp's report; plan with room to spare
RAM_RESERVE = 6 * GIB  # the OS, the language server, the editor
EXPERT_FFN = r"ffn_(?:up|down|gate)_exps"


@dataclass
class OffloadPlan:
    architecture: str
    n_layers: int
    n_experts: int
    n_experts_used: int
    file_bytes: int
    n_ctx: int
    kv_type: str
    n_gpu_layers: int
    cpu_tensor_patterns: list[str]
    expert_layers_on_cpu: list[int]
    gpu_bytes: int
    cpu_bytes: int
    kv_bytes: int
    compute_bytes: int
    flash_attn: bool
    vram_bytes: int
    ram_bytes: int
    fits: bool
    tokens_per_s_estimate: float
    gpu_active_bytes_per_token: int
    cpu_active_bytes_per_token: int
    warnings: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def kv_cache_bytes(info: GGUFInfo, n_ctx: int, kv_type: str, n_layers: int | None = None) -> int:
    per_token = info.n_head_kv * (info.key_length + info.value_length) * KV_BYTES_PER_ELEMENT[kv_type]
    return int((info.n_layers if n_layers is None else n_layers) * n_ctx * per_token)


def compute_buffer_bytes(info: GGUFInfo, n_ctx: int, n_ubatch: int, flash_attn: bool = True) -> int:
    """llama.cpp's graph buffer: the peak of one micro-batch's live tensors, whichever phase is larger.

    Attention: the f32 KQ mask (f16 with flash attention) over the whole context and, without
    flash attention, the f32 scores of every head, n_ctx x n_ubatch x n_head. Output: the f32
    logits of every token of the micro-batch. Both sit beside about three activations of the
    widest projection per token. Calibrated against llama.cpp's own report (2026-10 build) on
    tiny qwen3/qwen3moe files across context, micro-batch, heads and vocabulary (tests/runtime).
    """
    rows = min(n_ubatch, n_ctx)
    width = max(info.n_head * info.key_length, info.ffn_width)
    activations = 4 * rows * 3 * (info.n_embd + width)
    attention = n_ctx * rows * (2 if flash_attn else 4 * (info.n_head + 1))
    logits = 4 * rows * (info.n_vocab + 2 * info.n_embd)
    return max(attention + activations, logits)


def offloaded_copy_bytes(info: GGUFInfo, cpu_expert_layers: list[int]) -> int:
    """GPU compute-buffer room for weights kept in RAM: for a prompt batch llama.cpp copies a
    layer's CPU-resident expert tensors to the GPU and multiplies there (op offload), so the
    GPU's compute buffer grows by about one layer of experts. Not measured here (no GPU);
    bench/gpu_moe_check.py prints llama.cpp's CUDA compute buffer beside this."""
    per_layer: dict[int, int] = {}
    wanted = set(cpu_expert_layers)
    for t in info.tensors:
        if t.is_expert and t.layer in wanted:
            per_layer[t.layer] = per_layer.get(t.layer, 0) + t.n_bytes
    return max(per_layer.values(), default=0)


def _device_of(t: TensorInfo, first_gpu_layer: int, all_on_gpu: bool, cpu_expert_layers: set[int]) -> str:
    if t.name.startswith("token_embd"):
        return "cpu"  # llama.cpp keeps the input embeddings on the CPU
    layer = t.layer
    if layer is None:
        return "gpu" if all_on_gpu else "cpu"
    if layer < first_gpu_layer:
        return "cpu"
    return "cpu" if t.is_expert and layer in cpu_expert_layers else "gpu"


def _active_fraction(t: TensorInfo, info: GGUFInfo) -> float:
    if t.name.startswith("token_embd"):
        return 0.0  # one row per token
    if t.is_expert and info.n_experts:
        return info.n_experts_used / info.n_experts
    return 1.0


def _layer_regex(layers: list[int], n_layers: int) -> str:
    if len(layers) == n_layers:
        return rf"\.{EXPERT_FFN}\."
    return rf"blk\.(?:{'|'.join(str(i) for i in layers)})\.{EXPERT_FFN}\."


def plan_offload(
    info: GGUFInfo,
    vram_gib: float = 96.0,
    ram_gib: float = 128.0,
    n_ctx: int = 8192,
    kv_type: str = "f16",
    gpu_bandwidth_gbs: float = 1800.0,
    cpu_bandwidth_gbs: float = 70.0,
    n_ubatch: int = 512,
    settings: Any = None,
    flash_attn: bool = True,
) -> OffloadPlan:
    """`flash_attn`: what llama.cpp will run with (settings `auto` counts as on: every GPU
    build supports it for the head sizes planned here; the worker reports what llama.cpp chose)."""
    if settings is not None:  # the worker passes its ModelSettings
        gpu_bandwidth_gbs, cpu_bandwidth_gbs = settings.gpu_bandwidth_gbs, settings.cpu_bandwidth_gbs
        n_ubatch, flash_attn = settings.n_ubatch, settings.flash_attn != "off"
    n = info.n_layers
    vram, ram = int(vram_gib * GIB), int(ram_gib * GIB)
    compute = compute_buffer_bytes(info, n_ctx, n_ubatch, flash_attn)
    # Planned with a margin and with room for one layer of offloaded experts (the worst case).
    worst_copy = offloaded_copy_bytes(info, list(range(n))) if info.n_experts else 0
    budget = vram - GPU_RESERVE - int(compute * COMPUTE_MARGIN) - worst_copy if vram > 0 else 0
    kv_layer = kv_cache_bytes(info, n_ctx, kv_type, 1)
    layer_all: dict[int, int] = {}
    layer_experts: dict[int, int] = {}
    globals_gpu = 0
    for t in info.tensors:
        if t.layer is None:
            globals_gpu += 0 if t.name.startswith("token_embd") else t.n_bytes
        else:
            layer_all[t.layer] = layer_all.get(t.layer, 0) + t.n_bytes
            if t.is_expert:
                layer_experts[t.layer] = layer_experts.get(t.layer, 0) + t.n_bytes

    def dense_layers(cost: dict[int, int]) -> int:
        """Most layers (counted from the top) whose cost + KV fits, plus output when all fit."""
        if budget <= 0:
            return 0
        if sum(cost.values()) + n * kv_layer + globals_gpu <= budget:
            return n + 1
        used, k = 0, 0
        for i in reversed(range(n)):
            if used + cost.get(i, 0) + kv_layer > budget:
                break
            used += cost.get(i, 0) + kv_layer
            k += 1
        return k

    cpu_expert_layers: list[int] = []
    if info.n_experts and layer_experts:
        shared = {i: layer_all.get(i, 0) - layer_experts.get(i, 0) for i in range(n)}
        base = sum(shared.values()) + n * kv_layer + globals_gpu
        if base <= budget:
            n_gpu_layers, room = n + 1, budget - base
            for i in range(n):
                if layer_experts.get(i, 0) <= room:
                    room -= layer_experts.get(i, 0)
                else:
                    cpu_expert_layers = list(range(i, n))
                    break
        else:  # not even the shared parts fit: offload what fits, experts all in RAM
            n_gpu_layers = dense_layers(shared)
            cpu_expert_layers = list(range(n))
    else:
        n_gpu_layers = dense_layers(layer_all)

    first_gpu_layer = max(n - n_gpu_layers, 0)
    all_on_gpu = n_gpu_layers > n
    cpu_set = set(cpu_expert_layers)
    gpu_w = cpu_w = gpu_active = cpu_active = 0
    for t in info.tensors:
        active = int(t.n_bytes * _active_fraction(t, info))
        if _device_of(t, first_gpu_layer, all_on_gpu, cpu_set) == "gpu":
            gpu_w, gpu_active = gpu_w + t.n_bytes, gpu_active + active
        else:
            cpu_w, cpu_active = cpu_w + t.n_bytes, cpu_active + active
    gpu_layers = min(n_gpu_layers, n)
    if gpu_layers and cpu_expert_layers:
        compute += offloaded_copy_bytes(info, cpu_expert_layers)
    kv_total = kv_cache_bytes(info, n_ctx, kv_type)
    kv_gpu = gpu_layers * kv_layer
    gpu_bytes = gpu_w + kv_gpu + (compute if gpu_layers else 0)
    cpu_bytes = cpu_w + (kv_total - kv_gpu) + (compute if not gpu_layers else 0)
    seconds = gpu_active / (gpu_bandwidth_gbs * 1e9) + cpu_active / (cpu_bandwidth_gbs * 1e9)

    warnings: list[str] = []
    margin = int(compute * (COMPUTE_MARGIN - 1)) + GPU_RESERVE
    fits = gpu_bytes + (margin if gpu_layers else 0) <= max(vram, 0) + (0 if gpu_layers else 1)
    if cpu_bytes + RAM_RESERVE > ram:
        fits = False
        warnings.append(
            f"RAM does not suffice: {cpu_bytes / GIB:.1f} GiB on the CPU side + {RAM_RESERVE / GIB:.0f} GiB "
            f"reserve > {ram_gib:.0f} GiB; the model would page from disk (very slow). Use a smaller quant or context."
        )
    trained = int(info.metadata.get(f"{info.architecture}.context_length", 0) or 0)
    if trained and n_ctx > trained:
        warnings.append(f"n_ctx {n_ctx} exceeds the model's trained context {trained}")
    if vram > 0 and gpu_layers == 0:
        warnings.append("nothing fits on the GPU: running on the CPU only")
    return OffloadPlan(
        architecture=info.architecture,
        n_layers=n,
        n_experts=info.n_experts,
        n_experts_used=info.n_experts_used,
        file_bytes=info.file_bytes,
        n_ctx=n_ctx,
        kv_type=kv_type,
        n_gpu_layers=n_gpu_layers,
        cpu_tensor_patterns=[_layer_regex(cpu_expert_layers, n)] if cpu_expert_layers and gpu_layers else [],
        expert_layers_on_cpu=cpu_expert_layers,
        gpu_bytes=gpu_bytes,
        cpu_bytes=cpu_bytes,
        kv_bytes=kv_total,
        compute_bytes=compute,
        flash_attn=flash_attn,
        vram_bytes=vram,
        ram_bytes=ram,
        fits=fits,
        tokens_per_s_estimate=round(1.0 / seconds, 2) if seconds > 0 else 0.0,
        gpu_active_bytes_per_token=gpu_active,
        cpu_active_bytes_per_token=cpu_active,
        warnings=warnings,
    )


def render_table(plan: OffloadPlan) -> str:
    from rich.console import Console
    from rich.table import Table

    kind = f"MoE, {plan.n_experts} experts ({plan.n_experts_used} active)" if plan.n_experts else "dense"
    table = Table(title=f"{plan.architecture}: {plan.n_layers} layers, {kind}, file {plan.file_bytes / GIB:.1f} GiB")
    for col in ("", "GPU", "CPU (RAM)"):
        table.add_column(col, justify="right" if col else "left")
    gib = lambda b: f"{b / GIB:.2f} GiB"
    kv_gpu = min(plan.n_gpu_layers, plan.n_layers) * plan.kv_bytes // max(plan.n_layers, 1)
    table.add_row("layers", str(min(plan.n_gpu_layers, plan.n_layers)), str(max(plan.n_layers - plan.n_gpu_layers, 0)))
    table.add_row(f"KV cache ({plan.kv_type}, ctx {plan.n_ctx})", gib(kv_gpu), gib(plan.kv_bytes - kv_gpu))
    table.add_row(
        "compute buffer" + ("" if plan.flash_attn else " (no flash attn)"),
        gib(plan.compute_bytes) if plan.n_gpu_layers else "-",
        "-" if plan.n_gpu_layers else gib(plan.compute_bytes),
    )
    table.add_row("total", gib(plan.gpu_bytes), gib(plan.cpu_bytes))
    table.add_row("available", gib(plan.vram_bytes), gib(plan.ram_bytes))
    table.add_row("read per token", gib(plan.gpu_active_bytes_per_token), gib(plan.cpu_active_bytes_per_token))
    console = Console(record=True, width=100, file=open("/dev/null", "w"))
    console.print(table)
    lines = [console.export_text()]
    lines.append(f"n_gpu_layers = {plan.n_gpu_layers}")
    if plan.expert_layers_on_cpu:
        lines.append(f"experts in RAM: layers {plan.expert_layers_on_cpu[0]}-{plan.expert_layers_on_cpu[-1]}")
    for p in plan.cpu_tensor_patterns:
        lines.append(f"override: {p}=CPU")
    lines.append(f"estimated generation speed: {plan.tokens_per_s_estimate:.1f} tokens/s (memory-bandwidth bound)")
    lines.append("fits: yes" if plan.fits else "fits: NO")
    lines.extend(f"warning: {w}" for w in plan.warnings)
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    from ponder.runtime.model_shapes import SHAPES, synthetic_info

    parser = argparse.ArgumentParser(prog="ponder plan", description="Plan GPU/RAM placement of a GGUF model.")
    parser.add_argument(
        "model", help=f"a .gguf file (any part of a split model), or a known shape: {', '.join(SHAPES)}"
    )
    parser.add_argument("--quant", default="Q4_K_M", help="recipe for a known shape: Q4_K_M, IQ4_XS, Q2_K")
    parser.add_argument("--vram", type=float, default=96.0, help="GPU memory in GiB (0: CPU only)")
    parser.add_argument("--ram", type=float, default=128.0, help="system RAM in GiB")
    parser.add_argument("--ctx", type=int, default=8192, help="context length in tokens")
    parser.add_argument("--kv-type", choices=sorted(KV_BYTES_PER_ELEMENT), default="f16")
    parser.add_argument("--ubatch", type=int, default=512)
    parser.add_argument(
        "--no-flash-attn", dest="flash_attn", action="store_false", help="plan for llama.cpp without flash attention"
    )
    parser.add_argument("--gpu-bw", type=float, default=1800.0, help="GPU memory bandwidth, GB/s")
    parser.add_argument("--cpu-bw", type=float, default=70.0, help="RAM bandwidth, GB/s")
    parser.add_argument("--format", choices=["table", "json"], default="table")
    args = parser.parse_args(argv)
    try:
        info = synthetic_info(SHAPES[args.model], args.quant) if args.model in SHAPES else read_gguf(args.model)
    except (OSError, ValueError) as exc:
        print(f"ponder plan: {exc}", file=sys.stderr)
        return 2
    plan = plan_offload(
        info,
        args.vram,
        args.ram,
        args.ctx,
        args.kv_type,
        args.gpu_bw,
        args.cpu_bw,
        args.ubatch,
        flash_attn=args.flash_attn,
    )
    print(json.dumps(plan.to_json(), indent=2) if args.format == "json" else render_table(plan))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
