"""What a whole-vault contradiction sweep costs with Qwen3-235B-A22B: tokens per verdict and hours.

For each labelled vault: index it, take the judge's candidate pairs with the user's settings
(`contradictions.top_k`, `min_similarity`), build the judge's actual prompts
(`ponder.lsp.judge.judge_task`), render them with Qwen3's chat template (JSON jobs: no
thinking) and count tokens with the bundled Gemma 3 vocabulary (Qwen3's is not bundled; both
are ~150-260k-token BPE vocabularies, so counts are indicative). Output tokens: a typical
verdict and the longest the schema allows. Then, from the planner's placement of
Qwen3-235B-A22B Q4_K_M on the reference machine, the time of a first sweep of 20,000 notes.

    .venv/bin/python bench/judge_cost.py [--notes 20000] [--vram 96] [--ram-bw 80] [--pcie 25]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from ponder.index.vault import Vault
from ponder.lsp.judge import judge_task, pairs_to_judge
from ponder.lsp.settings import load_settings
from ponder.runtime.backend import bundled_model_path
from ponder.runtime.model_shapes import SHAPES, synthetic_info
from ponder.runtime.planner import plan_offload

ROOT = Path(__file__).resolve().parents[1]
VAULTS = [ROOT.parent / "shared/eval/vault-orbit", ROOT / "bench/eval/vault-dacha"]
TEMPLATE = ROOT / "tests/runtime/qwen3_chat_template.jinja"  # Qwen3's own (llama.cpp models/templates)
TYPICAL = {
    "label": "compatible",
    "explanation": "A gives the retention of daily snapshots, B the schedule of the weekly verify job; both can hold.",
    "quote_a": "",
    "quote_b": "",
}
LONGEST = {"label": "different_scope", "explanation": "x" * 240, "quote_a": "y" * 120, "quote_b": "z" * 120}


def vault_prompts(folder: Path) -> tuple[int, list[list[dict[str, str]]]]:
    """(notes, the judge's messages for every candidate pair) of a copy of `folder`."""
    work = Path(tempfile.mkdtemp(prefix="ponder-cost-"))
    root = work / "vault"
    shutil.copytree(folder, root, ignore=shutil.ignore_patterns(".ponder"))
    try:
        settings, _ = load_settings(root)
        vault = Vault(root, settings.index, settings.embedding)
        vault.update()
        vault.embed()
        c = settings.contradictions
        paths = sorted(vault.graph.notes)
        pairs = pairs_to_judge(vault, paths, k=c.top_k, min_similarity=c.min_similarity)
        prompts = [[m.model_dump() for m in judge_task(vault, p).chat()] for p in pairs]
        vault.close()
        return len(paths), prompts
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--notes", type=int, default=20_000)
    ap.add_argument("--vram", type=float, default=96.0, help="GPU memory, GiB")
    ap.add_argument("--ram", type=float, default=128.0)
    ap.add_argument("--ram-bw", type=float, default=80.0, help="RAM bandwidth GB/s (dual-channel DDR5)")
    ap.add_argument("--gpu-bw", type=float, default=1800.0)
    ap.add_argument("--pcie", type=float, default=25.0, help="host-to-GPU GB/s (PCIe 4.0 x16 in practice)")
    ap.add_argument("--ctx", type=int, default=8192)
    ap.add_argument("--target-h", type=float, default=8.0)
    args = ap.parse_args()

    import llama_cpp
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    vocab = llama_cpp.Llama(str(bundled_model_path()), vocab_only=True, verbose=False)
    count = lambda text: len(vocab.tokenize(text.encode(), add_bos=False, special=True))
    fmt = Jinja2ChatFormatter(TEMPLATE.read_text("utf-8"), "<|im_end|>", "<|endoftext|>")
    render = lambda msgs: fmt(messages=msgs, enable_thinking=False).prompt
    head = Jinja2ChatFormatter(TEMPLATE.read_text("utf-8"), "<|im_end|>", "<|endoftext|>", add_generation_prompt=False)

    rows, prompt_all, tail_all, rate = [], [], [], []
    for folder in VAULTS:
        notes, prompts = vault_prompts(folder)
        full = [count(render(m)) for m in prompts]
        shared = (
            count(head(messages=prompts[0][:1]).prompt) if prompts else 0
        )  # the system turn: the same for every pair
        tails = [f - shared for f in full]
        prompt_all += full
        tail_all += tails
        rate.append(len(prompts) / notes)
        rows.append(
            (
                folder.name,
                notes,
                len(prompts),
                len(prompts) / notes,
                statistics.mean(full),
                shared,
                statistics.mean(tails),
                max(full),
            )
        )
    out_typ, out_max = count(json.dumps(TYPICAL, ensure_ascii=False)), count(json.dumps(LONGEST, ensure_ascii=False))

    info = synthetic_info(SHAPES["qwen3-235b-a22b"], "Q4_K_M")
    plan = plan_offload(
        info,
        vram_gib=args.vram,
        ram_gib=args.ram,
        n_ctx=args.ctx,
        cpu_bandwidth_gbs=args.ram_bw,
        gpu_bandwidth_gbs=args.gpu_bw,
    )
    cpu_experts = sum(t.n_bytes for t in info.tensors if t.is_expert and t.layer in set(plan.expert_layers_on_cpu))
    # Prefill of a batch >= 32 tokens: llama.cpp copies the RAM-resident experts to the GPU once
    # per micro-batch and computes there (op offload); the GPU part is small beside the copy.
    prefill_s = cpu_experts / (args.pcie * 1e9) + statistics.mean(tail_all) * plan.gpu_active_bytes_per_token / (
        args.gpu_bw * 1e9
    )
    tps = plan.tokens_per_s_estimate
    per_pair = {
        "as built: one pair a request, typical verdict": prefill_s + out_typ / tps,
        "as built: one pair a request, longest verdict": prefill_s + out_max / tps,
        # What it would take (not built): the label alone first (~5 tokens; the explanation only
        # for a contradiction), prompts of many pairs in one 4096-token micro-batch (one expert
        # copy for all), 16 sequences decoded together (assumed 3x the cost of one step: 16 tokens
        # x 8 experts touch most of the 128 experts of a layer).
        "label first": prefill_s + 5 / tps,
        "label first + batched prefill + 16 parallel": prefill_s / max(4096 // int(statistics.mean(tail_all)), 1)
        + 5 * 3 / tps / 16,
    }
    pairs_20k = args.notes * statistics.mean(rate)

    print("Judge prompts (Qwen3 template, enable_thinking=False; tokens by the Gemma 3 vocabulary)")
    print(
        f"{'vault':14} {'notes':>6} {'pairs':>6} {'pairs/note':>10} {'prompt':>7} "
        f"{'shared':>7} {'new/pair':>9} {'max':>5}"
    )
    for name, notes, n, r, full, shared, tail, mx in rows:
        print(f"{name:14} {notes:>6} {n:>6} {r:>10.2f} {full:>7.0f} {shared:>7} {tail:>9.0f} {mx:>5}")
    print(f"output tokens per verdict: typical {out_typ}, longest the schema allows {out_max}")
    print()
    print(
        f"Qwen3-235B-A22B Q4_K_M, {args.vram:.0f} GiB VRAM, RAM {args.ram_bw:.0f} GB/s, "
        f"PCIe {args.pcie:.0f} GB/s, ctx {args.ctx}:"
    )
    print(f"  plan: experts of {len(plan.expert_layers_on_cpu)}/{plan.n_layers} layers in "
f"RAM ({cpu_experts / 1e9:.1f} GB), "
          f"generation {plan.tokens_per_s_estimate:.1f} tokens/s (planner, bandwidth bound), "
f"fits: {plan.fits}")  # fmt: skip
    print(
        f"  prefill per pair: {prefill_s:.2f} s (copy of the RAM experts per micro-batch; "
        f"the shared system turn is cached)"
    )
    print(f"first sweep of {args.notes} notes: {pairs_20k:.0f} pairs; target <= {args.target_h:.0f} h")
    print(f"{'scenario':52} {'s/pair':>7} {'hours':>7}")
    for name, sec in per_pair.items():
        hours = pairs_20k * sec / 3600
        print(f"{name:52} {sec:>7.3f} {hours:>7.1f}  {'ok' if hours <= args.target_h else 'OVER'}")
    need = args.target_h * 3600 / min(per_pair.values())
    print(f"pairs that fit {args.target_h:.0f} h at the best scenario: {need:.0f} ({need / args.notes:.1f} a note)")
    print()
    print("Assumptions: pairs per note as in the labelled vaults (mean of the two), one pair per request,")
    print("greedy JSON output, the planner's tokens/s (memory bandwidth bound, no overlap), prefill bound by")
    print("the host-to-GPU copy of RAM-resident experts (llama.cpp op offload for batches >= 32 tokens).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
