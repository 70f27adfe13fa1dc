"""What a whole-vault contradiction sweep costs with Qwen3-235B-A22B: tokens per verdict and hours.

For each labelled vault: index it, take the sweep's candidate pairs with the user's settings
(`contradictions.top_k`, `min_similarity`, `sweep_pairs_per_note`: at most that many per note,
the most suspicious), build the judge's actual requests (`judge_task`: the label alone;
`explain_task`: the explanation, asked only for a contradiction), render them with Qwen3's chat
template (JSON jobs: no thinking) and count tokens with the bundled Gemma 3 vocabulary (Qwen3's is
not bundled; both are ~150-260k-token BPE vocabularies, so counts are indicative). Output tokens:
a label, and a typical explanation. The share of pairs that get the second request is the share
of candidate pairs that are labelled contradictions in the vaults (an upper bound for a good
model: it answers contradiction for those only). Then, from the planner's placement of
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

from ponder.index import Vault, pair_key
from ponder.lsp.llm.contradictions.judge import explain_task, judge_task, pairs_to_judge
from ponder.lsp.settings import load_settings
from ponder.runtime.backend import bundled_model_path
from ponder.runtime.model_shapes import SHAPES, synthetic_info
from ponder.runtime.planner import plan_offload

ROOT = Path(__file__).resolve().parents[1]
VAULTS = [ROOT.parent / "shared/eval/vault-orbit", ROOT / "bench/eval/vault-dacha"]
TEMPLATE = ROOT / "tests/runtime/qwen3_chat_template.jinja"  # Qwen3's own (llama.cpp models/templates)
LABEL = {"label": "different_scope"}  # the longest label
TYPICAL_WHY = {"explanation": "The accepted decision fixes chunks at 4 MiB; the chunker reads 8 MB blocks."}
LONGEST_WHY = {"explanation": "x" * 240}
# Before (prompt version 1, one request for label + explanation + quotes, every candidate pair):
# measured with this script at commit dfbc9b6, README "Judge cost".
BEFORE = {"prompt": 280, "shared": 123, "output": 43, "pairs_per_note": 34.5}


def vault_prompts(folder: Path, labels: Path | None) -> tuple[int, int, list[list[dict[str, str]]], int, int]:
    """(notes, uncapped pairs, the label requests of the capped sweep's pairs, of those the labelled
    contradictions, uncapped labelled contradictions) of a copy of `folder`."""
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
        every = pairs_to_judge(vault, paths, k=c.top_k, min_similarity=c.min_similarity)
        pairs = pairs_to_judge(
            vault, paths, k=c.top_k, min_similarity=c.min_similarity, per_note=c.sweep_pairs_per_note
        )
        prompts = [[m.model_dump() for m in judge_task(vault, p).chat()] for p in pairs]
        vault.close()
        bad = set()
        if labels is not None and labels.exists():
            bad = {pair_key(x["a"]["text"], x["b"]["text"]) for x in json.loads(labels.read_text())["contradictions"]}
        hits = lambda ps: sum(pair_key(p.a_text, p.b_text) in bad for p in ps)
        return len(paths), len(every), prompts, hits(pairs), hits(every)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _task(messages: list[dict[str, str]]):
    from ponder.lsp.llm.contradictions.judge import PROMPT_VERSION, Label
    from ponder.runtime.tasks import Task

    return Task("judge", messages, Label, PROMPT_VERSION, 16)


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

    rows, prompt_all, tail_all, rate, found, asked, explain_tail = [], [], [], [], [], 0, []
    for folder in VAULTS:
        notes, uncapped, prompts, hit, hit_all = vault_prompts(folder, folder.with_name(folder.name + ".labels.json"))
        found.append((folder.name, hit, hit_all))
        asked += len(prompts)
        full = [count(render(m)) for m in prompts]
        shared = (
            count(head(messages=prompts[0][:1]).prompt) if prompts else 0
        )  # the system turn: the same for every pair
        tails = [f - shared for f in full]
        for m in prompts[:20]:  # the explanation's new turn (the label conversation is in the KV cache)
            second = [x.model_dump() for x in explain_task(_task(m)).chat()]
            explain_tail.append(count(render(second)) - count(render(m)))
        prompt_all += full
        tail_all += tails
        rate.append(len(prompts) / notes)
        rows.append(
            (
                folder.name,
                notes,
                uncapped / notes,
                len(prompts),
                len(prompts) / notes,
                statistics.mean(full),
                shared,
                statistics.mean(tails),
                max(full),
            )
        )
    out_label = count(json.dumps(LABEL))
    out_why, out_why_max = count(json.dumps(TYPICAL_WHY)), count(json.dumps(LONGEST_WHY))
    contradiction_share = sum(h for _, h, _ in found) / max(asked, 1)

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
    gpu_tail_s = plan.gpu_active_bytes_per_token / (args.gpu_bw * 1e9)  # per prompt token, GPU layers
    prefill = lambda tail: cpu_experts / (args.pcie * 1e9) + tail * gpu_tail_s
    tps = plan.tokens_per_s_estimate
    tail = statistics.mean(tail_all)
    second = prefill(statistics.mean(explain_tail)) + out_why / tps
    label_only = prefill(tail) + out_label / tps
    built = label_only + contradiction_share * second
    before = prefill(BEFORE["prompt"] - BEFORE["shared"]) + BEFORE["output"] / tps
    # Not built: prompts of many pairs in one 4096-token micro-batch (one expert copy for all) and
    # 16 sequences decoded together (assumed 3x the cost of one step: 16 tokens x 8 experts touch
    # most of the 128 experts of a layer).
    batched = prefill(tail) / max(4096 // int(tail), 1) + out_label * 3 / tps / 16 + contradiction_share * second
    per_pair = {
        "before (v1): every pair, label+explanation+quotes": (before, BEFORE["pairs_per_note"]),
        "built: capped pairs, label first, explanation if contradiction": (built, None),
        "not built: + batched prefill + 16 parallel sequences": (batched, None),
    }
    pairs_20k = args.notes * statistics.mean(rate)

    print("Judge prompts (Qwen3 template, enable_thinking=False; tokens by the Gemma 3 vocabulary)")
    print(
        f"{'vault':14} {'notes':>6} {'all/note':>8} {'pairs':>6} {'pairs/note':>10} {'prompt':>7} "
        f"{'shared':>7} {'new/pair':>9} {'max':>5}"
    )
    for name, notes, every, n, r, full, shared, tail_n, mx in rows:
        print(f"{name:14} {notes:>6} {every:>8.1f} {n:>6} {r:>10.2f} {full:>7.0f} {shared:>7} {tail_n:>9.0f} {mx:>5}")
    print(f"output tokens: label {out_label}; explanation typical {out_why}, longest {out_why_max}")
    print(f"explanation request: {statistics.mean(explain_tail):.0f} new prompt tokens")
    for name, hit, hit_all in found:
        print(f"  {name}: labelled contradictions among the sweep's pairs {hit} (among all candidate pairs {hit_all})")
    print(f"share of pairs that get the second request: {contradiction_share:.3f}")
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
        f"  prefill per request: {prefill(tail):.2f} s (copy of the RAM experts per micro-batch; "
        f"the shared system turn is cached)"
    )
    print(f"first sweep of {args.notes} notes; target <= {args.target_h:.0f} h")
    print(f"{'scenario':66} {'pairs/note':>10} {'s/pair':>7} {'hours':>7}")
    for name, (sec, per_note) in per_pair.items():
        per_note = per_note or pairs_20k / args.notes
        hours = args.notes * per_note * sec / 3600
        print(f"{name:66} {per_note:>10.2f} {sec:>7.3f} {hours:>7.1f}  {'ok' if hours <= args.target_h else 'OVER'}")
    for name, (sec, _) in list(per_pair.items())[1:]:
        need = args.target_h * 3600 / sec
        print(
            f"pairs that fit {args.target_h:.0f} h, {name.split(':')[0]}: {need:.0f} ({need / args.notes:.2f} a note)"
        )
    print()
    print("Assumptions: pairs per note as in the labelled vaults (mean of the two) under the per-note cap,")
    print("one request at a time, greedy JSON output, the planner's tokens/s (memory bandwidth bound, no")
    print("overlap), each request's prefill bound by the host-to-GPU copy of the RAM-resident experts")
    print("(llama.cpp op offload for batches >= 32 tokens; the shared system turn is in the KV cache).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
