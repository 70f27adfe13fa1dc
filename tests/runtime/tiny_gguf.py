"""Tiny random GGUFs of real architectures (`qwen3moe`, `qwen3`) that llama.cpp loads and runs.

Written with gguf-py the way llama.cpp's converter writes a Qwen3: the byte-level BPE tokenizer
(`gpt2` model, `qwen2` pre-tokenizer: 256 byte tokens, a few merges, the chat control tokens),
Qwen3's own chat template, and random weights (f16 matrices, f32 norms). The text it generates
is printable gibberish that never ends by itself (every other token's logit is 0, below the greedy
pick), so every answer runs to max_tokens; what matters is that llama.cpp allocates, places and runs every tensor as it
would for the real model, in about a second on a CPU. Shapes are parameters so the planner's
memory arithmetic can be checked against llama.cpp across heads, vocabularies and experts.

Also a script, for the GPU check: `python tests/runtime/tiny_gguf.py OUT.gguf [--arch qwen3]`.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from gguf import GGUFWriter, LlamaFileType, TokenType

TEMPLATE = Path(__file__).with_name("qwen3_chat_template.jinja")  # llama.cpp models/templates/Qwen-Qwen3-0.6B.jinja
SPECIAL = [("<|endoftext|>", TokenType.CONTROL), ("<|im_start|>", TokenType.CONTROL), ("<|im_end|>", TokenType.CONTROL),
           ("<think>", TokenType.USER_DEFINED), ("</think>", TokenType.USER_DEFINED)]  # fmt: skip
MERGES = ["Ġ t", "h e", "Ġt he", "i n", "e r", "a n", "Ġ a", "o n", "r e", "Ġ s", "Ġ o", "e n", "Ġ w", "o r", "a t"]


@dataclass(frozen=True)
class TinySpec:
    """Shape of a tiny model; `n_experts` 0 means dense (`qwen3`)."""

    arch: str = "qwen3moe"
    n_layers: int = 4
    n_embd: int = 64
    n_head: int = 4
    n_head_kv: int = 2
    head_dim: int = 16
    n_vocab: int = 1024
    n_ff: int = 128
    n_experts: int = 8
    n_experts_used: int = 2
    n_ff_exp: int = 32
    context_length: int = 32768
    seed: int = 0

    @property
    def name(self) -> str:
        kind = f"{self.n_experts}x{self.n_ff_exp}e" if self.n_experts else f"ff{self.n_ff}"
        return f"tiny-{self.arch}-L{self.n_layers}-E{self.n_embd}-H{self.n_head}-{kind}-V{self.n_vocab}.gguf"


MOE = TinySpec()
DENSE = TinySpec(arch="qwen3", n_experts=0, n_experts_used=0)


def byte_tokens() -> list[str]:
    """GPT-2's printable stand-ins for the 256 bytes (as `bytes_to_unicode` in tokenizers)."""
    keep = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    out, extra = {}, 0
    for b in range(256):
        if b in keep:
            out[b] = chr(b)
        else:
            out[b] = chr(256 + extra)
            extra += 1
    return [out[b] for b in range(256)]


def vocabulary(n_vocab: int) -> tuple[list[str], list[int]]:
    tokens = byte_tokens() + [m.replace(" ", "") for m in MERGES]
    types = [TokenType.NORMAL] * len(tokens)
    for text, kind in SPECIAL:
        tokens.append(text)
        types.append(kind)
    if n_vocab < len(tokens):
        raise ValueError(f"n_vocab must be at least {len(tokens)}")
    for i in range(n_vocab - len(tokens)):
        tokens.append(f"<|extra_{i}|>")
        types.append(TokenType.UNUSED)
    return tokens, [int(t) for t in types]


def printable_ids(tokens: list[str]) -> np.ndarray:
    """1 for the tokens a greedy answer may use (printable ASCII and merges), else 0."""
    printable = {byte_tokens()[b] for b in range(0x20, 0x7F)} | {m.replace(" ", "") for m in MERGES}
    return np.array([t in printable for t in tokens], dtype=np.int8)


def write_tiny(path: Path, spec: TinySpec = MOE, split_max_tensors: int = 0) -> Path:
    """Write `spec` as a GGUF at `path` (nothing is written if it is there already). With
    `split_max_tensors`, as llama.cpp's gguf-split does: `<stem>-0000i-of-0000n.gguf` parts (split.*
    keys, the metadata in the first); the first part's path is returned."""
    if split_max_tensors:
        first = path.with_name(f"{path.stem}-00001-of-")
        done = sorted(path.parent.glob(first.name + "*.gguf"))
        if done:
            return done[0]
    elif path.exists():
        return path
    s = spec
    rng = np.random.default_rng(s.seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path if split_max_tensors else path.with_suffix(".part")
    w = GGUFWriter(tmp, s.arch, split_max_tensors=split_max_tensors)
    w.add_name(path.stem)
    w.add_file_type(LlamaFileType.MOSTLY_F16)
    w.add_block_count(s.n_layers)
    w.add_context_length(s.context_length)
    w.add_embedding_length(s.n_embd)
    w.add_feed_forward_length(s.n_ff)
    w.add_head_count(s.n_head)
    w.add_head_count_kv(s.n_head_kv)
    w.add_key_length(s.head_dim)
    w.add_value_length(s.head_dim)
    w.add_rope_freq_base(1_000_000.0)
    w.add_layer_norm_rms_eps(1e-6)
    if s.n_experts:
        w.add_expert_count(s.n_experts)
        w.add_expert_used_count(s.n_experts_used)
        w.add_expert_feed_forward_length(s.n_ff_exp)
    tokens, types = vocabulary(s.n_vocab)
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("qwen2")
    w.add_token_list(tokens)
    w.add_token_types(types)
    w.add_token_merges(MERGES)
    ids = {t: i for i, t in enumerate(tokens)}
    w.add_eos_token_id(ids["<|im_end|>"])
    w.add_pad_token_id(ids["<|endoftext|>"])
    w.add_bos_token_id(ids["<|endoftext|>"])
    w.add_add_bos_token(False)
    w.add_chat_template(TEMPLATE.read_text("utf-8"))

    def mat(*shape: int) -> np.ndarray:  # numpy order: the reverse of ggml's ne
        return (rng.standard_normal(shape) * 0.5 / np.sqrt(shape[-1])).astype(np.float16)

    def norm(n: int) -> np.ndarray:
        return np.ones(n, dtype=np.float32)

    q, kv = s.n_head * s.head_dim, s.n_head_kv * s.head_dim
    w.add_tensor("token_embd.weight", mat(s.n_vocab, s.n_embd))
    w.add_tensor("output_norm.weight", norm(s.n_embd))
    output = mat(s.n_vocab, s.n_embd)
    output[printable_ids(tokens) == 0] = 0  # logit 0 is never the greedy pick: answers run to max_tokens
    w.add_tensor("output.weight", output)
    for i in range(s.n_layers):
        b = f"blk.{i}."
        w.add_tensor(b + "attn_norm.weight", norm(s.n_embd))
        w.add_tensor(b + "attn_q.weight", mat(q, s.n_embd))
        w.add_tensor(b + "attn_k.weight", mat(kv, s.n_embd))
        w.add_tensor(b + "attn_v.weight", mat(kv, s.n_embd))
        w.add_tensor(b + "attn_output.weight", mat(s.n_embd, q))
        w.add_tensor(b + "attn_q_norm.weight", norm(s.head_dim))
        w.add_tensor(b + "attn_k_norm.weight", norm(s.head_dim))
        w.add_tensor(b + "ffn_norm.weight", norm(s.n_embd))
        if s.n_experts:
            w.add_tensor(b + "ffn_gate_inp.weight", mat(s.n_experts, s.n_embd).astype(np.float32))
            w.add_tensor(b + "ffn_gate_exps.weight", mat(s.n_experts, s.n_ff_exp, s.n_embd))
            w.add_tensor(b + "ffn_up_exps.weight", mat(s.n_experts, s.n_ff_exp, s.n_embd))
            w.add_tensor(b + "ffn_down_exps.weight", mat(s.n_experts, s.n_embd, s.n_ff_exp))
        else:
            w.add_tensor(b + "ffn_gate.weight", mat(s.n_ff, s.n_embd))
            w.add_tensor(b + "ffn_up.weight", mat(s.n_ff, s.n_embd))
            w.add_tensor(b + "ffn_down.weight", mat(s.n_embd, s.n_ff))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    if split_max_tensors:
        return sorted(path.parent.glob(f"{path.stem}-00001-of-*.gguf"))[0]
    tmp.rename(path)
    return path


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description="Write a tiny random qwen3moe (or qwen3) GGUF.")
    ap.add_argument("out", type=Path)
    ap.add_argument("--arch", choices=["qwen3moe", "qwen3"], default="qwen3moe")
    ap.add_argument("--layers", type=int, default=MOE.n_layers)
    ap.add_argument("--vocab", type=int, default=MOE.n_vocab)
    args = ap.parse_args(argv)
    spec = MOE if args.arch == "qwen3moe" else DENSE
    print(write_tiny(args.out, replace(spec, n_layers=args.layers, n_vocab=args.vocab)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
