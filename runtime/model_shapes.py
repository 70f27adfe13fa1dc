"""Tensor lists of well-known models, built from their shapes and a llama.cpp quantisation recipe.

The planner works on a `GGUFInfo`; this module makes one without the 140 GB file, so the
planner's arithmetic can be checked against published file sizes and used for "what if"
questions (`ponder plan --shape qwen3-235b-a22b --quant Q4_K_M`). The recipes follow
llama.cpp's `llama_tensor_get_type` closely enough for sizes (within a few percent).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gguf.constants import GGMLQuantizationType as Q

from ponder.runtime.gguf_info import GGUFInfo, TensorInfo, tensor_bytes


@dataclass(frozen=True)
class ModelShape:
    architecture: str
    n_layers: int
    n_embd: int
    n_head: int
    n_head_kv: int
    head_dim: int
    n_vocab: int
    n_ff: int = 0  # dense FFN width
    n_experts: int = 0
    n_experts_used: int = 0
    n_ff_expert: int = 0
    context_length: int = 32768


SHAPES = {
    "qwen3-235b-a22b": ModelShape("qwen3moe", 94, 4096, 64, 4, 128, 151936, 0, 128, 8, 1536, 40960),
    "qwen3-coder-480b-a35b": ModelShape("qwen3moe", 62, 6144, 96, 8, 128, 151936, 0, 160, 8, 2560, 262144),
    "qwen3-32b": ModelShape("qwen3", 64, 5120, 64, 8, 128, 151936, 25600, context_length=40960),
}


def _more_bits(i: int, n: int) -> bool:
    """llama.cpp's use_more_bits: first and last eighth of the layers, and every third between."""
    return i < n // 8 or i >= 7 * n // 8 or (i - n // 8) % 3 == 2


def tensor_type(recipe: str, role: str, layer: int, n_layers: int, n_gqa: int) -> Q:
    if role == "output":
        return Q.Q6_K
    if role == "norm":
        return Q.F32
    if recipe == "Q4_K_M":
        if role in ("attn_v", "ffn_down") and _more_bits(layer, n_layers):
            return Q.Q6_K
        return Q.Q4_K
    if recipe == "IQ4_XS":
        if role == "attn_v" and n_gqa >= 4:
            return Q.Q5_K
        return Q.Q4_K if role == "token_embd" else Q.IQ4_XS
    if recipe == "Q2_K":
        if role == "attn_v":
            return Q.Q4_K if n_gqa >= 4 else Q.Q3_K
        if role in ("ffn_down", "attn_output"):
            return Q.Q3_K
        return Q.Q2_K
    raise ValueError(f"unknown recipe {recipe!r} (known: Q4_K_M, IQ4_XS, Q2_K)")


def synthetic_info(shape: ModelShape, recipe: str) -> GGUFInfo:
    """A GGUFInfo with the tensors a real GGUF of this shape and recipe would have."""
    s = shape
    gqa = s.n_head // s.n_head_kv
    tensors: list[TensorInfo] = []

    def add(name: str, role: str, layer: int, dims: tuple[int, ...]) -> None:
        qtype = tensor_type(recipe, role, layer, s.n_layers, gqa)
        tensors.append(TensorInfo(name, qtype.name, dims, tensor_bytes(qtype, dims)))

    add("token_embd.weight", "token_embd", 0, (s.n_embd, s.n_vocab))
    add("output.weight", "output", 0, (s.n_embd, s.n_vocab))
    add("output_norm.weight", "norm", 0, (s.n_embd,))
    q, kv = s.n_head * s.head_dim, s.n_head_kv * s.head_dim
    for i in range(s.n_layers):
        b = f"blk.{i}."
        add(b + "attn_norm.weight", "norm", i, (s.n_embd,))
        add(b + "ffn_norm.weight", "norm", i, (s.n_embd,))
        add(b + "attn_q_norm.weight", "norm", i, (s.head_dim,))
        add(b + "attn_k_norm.weight", "norm", i, (s.head_dim,))
        add(b + "attn_q.weight", "attn_q", i, (s.n_embd, q))
        add(b + "attn_k.weight", "attn_k", i, (s.n_embd, kv))
        add(b + "attn_v.weight", "attn_v", i, (s.n_embd, kv))
        add(b + "attn_output.weight", "attn_output", i, (q, s.n_embd))
        if s.n_experts:
            add(b + "ffn_gate_inp.weight", "norm", i, (s.n_embd, s.n_experts))
            add(b + "ffn_gate_exps.weight", "ffn_gate", i, (s.n_embd, s.n_ff_expert, s.n_experts))
            add(b + "ffn_up_exps.weight", "ffn_up", i, (s.n_embd, s.n_ff_expert, s.n_experts))
            add(b + "ffn_down_exps.weight", "ffn_down", i, (s.n_ff_expert, s.n_embd, s.n_experts))
        else:
            add(b + "ffn_gate.weight", "ffn_gate", i, (s.n_embd, s.n_ff))
            add(b + "ffn_up.weight", "ffn_up", i, (s.n_embd, s.n_ff))
            add(b + "ffn_down.weight", "ffn_down", i, (s.n_ff, s.n_embd))
    a = s.architecture
    metadata = {
        "general.architecture": a,
        f"{a}.block_count": s.n_layers,
        f"{a}.embedding_length": s.n_embd,
        f"{a}.attention.head_count": s.n_head,
        f"{a}.attention.head_count_kv": s.n_head_kv,
        f"{a}.attention.key_length": s.head_dim,
        f"{a}.attention.value_length": s.head_dim,
        f"{a}.context_length": s.context_length,
        f"{a}.vocab_size": s.n_vocab,
        f"{a}.expert_count": s.n_experts,
        f"{a}.expert_used_count": s.n_experts_used,
        f"{a}.feed_forward_length": s.n_ff,
        f"{a}.expert_feed_forward_length": s.n_ff_expert,
    }
    return GGUFInfo([Path(f"{a}-{recipe}.gguf")], sum(t.n_bytes for t in tensors), metadata, tensors)
