"""The offload planner on synthetic GGUF files, the bundled Gemma, and the reference users' models."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from gguf import GGUFWriter

from ponder.runtime.gguf_info import read_gguf
from ponder.runtime.model_shapes import SHAPES, synthetic_info
from ponder.runtime.planner import (
    COMPUTE_MARGIN,
    GIB,
    compute_buffer_bytes,
    kv_cache_bytes,
    main,
    offloaded_copy_bytes,
    plan_offload,
)

MIB = 1024**2


def write_model(path: Path, arch: str, n_layers: int, n_experts: int = 0, split_max_tensors: int = 0) -> Path:
    """A tiny GGUF with real tensor data (f16 zeros); names follow llama.cpp (Qwen3-MoE for experts)."""
    w = GGUFWriter(path, arch, split_max_tensors=split_max_tensors)
    n_embd, n_ff, vocab = 256, 512, 1024
    w.add_block_count(n_layers)
    w.add_embedding_length(n_embd)
    w.add_head_count(4)
    w.add_head_count_kv(2)
    w.add_context_length(4096)
    w.add_vocab_size(vocab)
    if n_experts:
        w.add_expert_count(n_experts)
        w.add_expert_used_count(2)
    f16 = lambda *shape: np.zeros(shape, dtype=np.float16)
    w.add_tensor("token_embd.weight", f16(vocab, n_embd))
    w.add_tensor("output.weight", f16(vocab, n_embd))
    for i in range(n_layers):
        for name in ("attn_q", "attn_k", "attn_v", "attn_output"):
            w.add_tensor(f"blk.{i}.{name}.weight", f16(n_embd, n_embd))
        if n_experts:
            w.add_tensor(f"blk.{i}.ffn_gate_inp.weight", f16(n_experts, n_embd))
            for name in ("gate", "up", "down"):
                w.add_tensor(f"blk.{i}.ffn_{name}_exps.weight", f16(n_experts, n_ff, n_embd))
        else:
            for name in ("gate", "up", "down"):
                w.add_tensor(f"blk.{i}.ffn_{name}.weight", f16(n_ff, n_embd))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path


def test_dense_model_offloads_top_layers_that_fit(tmp_path: Path) -> None:
    info = read_gguf(write_model(tmp_path / "dense.gguf", "llama", 8))
    assert (info.architecture, info.n_layers, info.n_experts) == ("llama", 8, 0)
    assert info.file_bytes >= sum(t.n_bytes for t in info.tensors) > 8 * 7 * 256 * 256
    everything = plan_offload(info, vram_gib=8, ram_gib=16, n_ctx=512)
    assert everything.n_gpu_layers == 9 and everything.cpu_tensor_patterns == [] and everything.fits
    layer = sum(t.n_bytes for t in info.tensors if t.layer == 0)
    # Room for exactly three layers (+ their KV) next to the reserve and compute buffer.
    tight_gib = (
        0.75 * GIB
        + int(compute_buffer_bytes(info, 512, 512) * COMPUTE_MARGIN)
        + 3 * (layer + kv_cache_bytes(info, 512, "f16", 1))
        + 1000
    ) / GIB
    tight = plan_offload(info, vram_gib=tight_gib, ram_gib=16, n_ctx=512)
    assert tight.n_gpu_layers == 3 and tight.fits
    assert tight.cpu_bytes > 5 * layer


def test_moe_keeps_experts_of_the_last_layers_in_ram(tmp_path: Path) -> None:
    info = read_gguf(write_model(tmp_path / "moe.gguf", "qwen3moe", 6, n_experts=8))
    assert info.n_experts == 8 and info.n_experts_used == 2
    experts_per_layer = sum(t.n_bytes for t in info.tensors if t.layer == 0 and t.is_expert)
    base = sum(t.n_bytes for t in info.tensors if not t.is_expert and not t.name.startswith("token_embd"))
    overhead = (
        0.75 * GIB
        + int(compute_buffer_bytes(info, 512, 512) * COMPUTE_MARGIN)
        + offloaded_copy_bytes(info, [0])
        + kv_cache_bytes(info, 512, "f16")
    )
    plan = plan_offload(info, vram_gib=(overhead + base + 2.5 * experts_per_layer) / GIB, ram_gib=16, n_ctx=512)
    assert plan.n_gpu_layers == 7  # every layer (and the output) on the GPU ...
    assert plan.expert_layers_on_cpu == [2, 3, 4, 5]  # ... but these layers' experts in RAM
    (pattern,) = plan.cpu_tensor_patterns
    names = [t.name for t in info.tensors]
    moved = {n for n in names if re.search(pattern, n)}
    assert moved == {f"blk.{i}.ffn_{k}_exps.weight" for i in (2, 3, 4, 5) for k in ("gate", "up", "down")}
    assert plan.cpu_bytes >= 4 * experts_per_layer
    # Only 2 of 8 experts are read per token: the estimate must reflect it.
    assert plan.cpu_active_bytes_per_token == pytest.approx(4 * experts_per_layer * 2 / 8, rel=0.01)


def test_split_files_are_read_as_one_model(tmp_path: Path) -> None:
    write_model(tmp_path / "moe.gguf", "qwen3moe", 4, n_experts=4, split_max_tensors=10)
    parts = sorted(tmp_path.glob("moe-*-of-*.gguf"))
    assert len(parts) > 1
    whole = read_gguf(parts[-1])
    assert len(whole.paths) == len(parts) and whole.n_layers == 4
    assert len(whole.tensors) == 2 + 4 * 8
    assert whole.file_bytes == sum(p.stat().st_size for p in parts)


def test_bundled_gemma_plan_and_cli_json(gemma_path: Path, capsys) -> None:
    assert main([str(gemma_path), "--vram", "0", "--ram", "8", "--ctx", "1024", "--format", "json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    for key in ("architecture", "n_layers", "n_experts", "file_bytes", "n_gpu_layers", "cpu_tensor_patterns",
                "gpu_bytes", "cpu_bytes", "kv_bytes", "fits", "tokens_per_s_estimate"):  # fmt: skip
        assert key in plan
    assert (plan["architecture"], plan["n_layers"], plan["n_experts"], plan["n_gpu_layers"]) == ("gemma3", 18, 0, 0)
    assert plan["file_bytes"] == gemma_path.stat().st_size and plan["gpu_bytes"] == 0
    # 18 layers x 1024 tokens x 1 KV head x (256 + 256) x 2 bytes
    assert plan["kv_bytes"] == 18 * 1024 * 512 * 2
    assert plan["fits"] and plan["tokens_per_s_estimate"] > 0
    assert main([str(gemma_path), "--vram", "0", "--ram", "4"]) == 0
    table = capsys.readouterr().out
    assert "gemma3: 18 layers, dense" in table and "fits: NO" in table and "RAM does not suffice" in table


# Published GGUF sizes (GB = 1e9 bytes) as listed on Hugging Face for the unsloth/bartowski
# quantisations; the shapes come from the models' config.json.
PUBLISHED = [
    ("qwen3-235b-a22b", "Q4_K_M", 142.7),
    ("qwen3-235b-a22b", "IQ4_XS", 125.9),
    ("qwen3-235b-a22b", "Q2_K", 85.7),
    ("qwen3-coder-480b-a35b", "Q4_K_M", 290.2),
    ("qwen3-coder-480b-a35b", "IQ4_XS", 257.0),
    ("qwen3-coder-480b-a35b", "Q2_K", 175.0),
]


@pytest.mark.parametrize(("shape", "quant", "published_gb"), PUBLISHED)
def test_size_arithmetic_matches_published_files(shape: str, quant: str, published_gb: float) -> None:
    info = synthetic_info(SHAPES[shape], quant)
    assert info.file_bytes / 1e9 == pytest.approx(published_gb, rel=0.03)


@pytest.mark.parametrize(
    ("shape", "quant", "ram", "fits", "tps_range"),
    [
        ("qwen3-235b-a22b", "Q4_K_M", 128, True, (15, 35)),
        ("qwen3-coder-480b-a35b", "Q2_K", 192, True, (10, 25)),
        ("qwen3-coder-480b-a35b", "Q4_K_M", 128, False, (3, 12)),
    ],
)
def test_reference_machine_plans(shape: str, quant: str, ram: int, fits: bool, tps_range: tuple[int, int]) -> None:
    info = synthetic_info(SHAPES[shape], quant)
    plan = plan_offload(info, vram_gib=96, ram_gib=ram, n_ctx=32768, kv_type="q8_0")
    assert plan.n_gpu_layers == info.n_layers + 1 and plan.expert_layers_on_cpu
    assert plan.gpu_bytes <= 96 * GIB and plan.fits is fits
    assert tps_range[0] <= plan.tokens_per_s_estimate <= tps_range[1]
    assert plan.gpu_bytes + plan.cpu_bytes == pytest.approx(
        info.file_bytes + plan.kv_bytes + plan.compute_bytes, rel=0.01
    )
    # A q8_0 cache is about half of f16, which leaves room for more experts on the GPU.
    f16 = plan_offload(info, vram_gib=96, ram_gib=ram, n_ctx=32768, kv_type="f16")
    assert f16.kv_bytes == pytest.approx(plan.kv_bytes * 32 / 17, rel=1e-6)
    assert len(f16.expert_layers_on_cpu) >= len(plan.expert_layers_on_cpu)
