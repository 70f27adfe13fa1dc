"""Score Ponder's contradiction pipeline and missing-link hints against a labels file.

    python bench/contradictions_eval.py --vault ../shared/eval/vault-orbit \
        --labels ../shared/eval/vault-orbit.labels.json [--semantic] [--k 10]

The vault is copied to a temporary folder and indexed there (with embeddings, for
candidates and missing links). A predicted pair matches a gold pair when its two lines
are the gold lines, either order, within one line. Prints pair-level precision, recall
and F1 per stage (facts = deterministic, model = LLM judge with --semantic) and per kind,
the hard negatives that were flagged, retrieval recall@k (gold pairs whose sentences are
among each other's k nearest claims), and missing-link precision/recall.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from rich.console import Console
from rich.table import Table

from ponder.index import candidates
from ponder.index.vault import Vault
from ponder.lsp.settings import load_settings

Pair = tuple[tuple[str, int], tuple[str, int]]  # ((file, 1-based line), (file, line)), sorted


def pair(a: tuple[str, int], b: tuple[str, int]) -> Pair:
    return tuple(sorted([a, b]))  # type: ignore[return-value]


def matches(p: Pair, g: Pair) -> bool:
    for x, y in ((p[0], p[1]), (p[1], p[0])):
        if x[0] == g[0][0] and y[0] == g[1][0] and abs(x[1] - g[0][1]) <= 1 and abs(y[1] - g[1][1]) <= 1:
            return True
    return False


def prf(pred: set[Pair], gold: list[Pair]) -> tuple[int, float, float, float]:
    tp_pred = {p for p in pred if any(matches(p, g) for g in gold)}
    found_gold = [g for g in gold if any(matches(p, g) for p in pred)]
    prec = len(tp_pred) / len(pred) if pred else 1.0
    rec = len(found_gold) / len(gold) if gold else 1.0
    f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
    return len(tp_pred), prec, rec, f1


def diag_pairs(diags, code: str) -> set[Pair]:
    out = set()
    for d in diags:
        if d.code == code and d.related:
            out.add(pair((d.path, d.range.start.line + 1), (d.related[0].path, d.related[0].range.start.line + 1)))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--vault", type=Path, required=True)
    ap.add_argument("--labels", type=Path, required=True)
    ap.add_argument("--semantic", action="store_true", help="also run the model judgement on candidates")
    ap.add_argument("--k", type=int, default=10, help="neighbours per claim for retrieval recall@k")
    ap.add_argument("--json", type=Path, help="also write the numbers here")
    args = ap.parse_args()
    labels = json.loads(args.labels.read_text("utf-8"))
    gold = [pair((c["a"]["file"], c["a"]["line"]), (c["b"]["file"], c["b"]["line"])) for c in labels["contradictions"]]
    kinds = {g: c["kind"] for g, c in zip(gold, labels["contradictions"])}
    negatives = [
        (c["id"], pair((c["a"]["file"], c["a"]["line"]), (c["b"]["file"], c["b"]["line"])))
        for c in labels["hard_negatives"]
    ]
    gold_links = [frozenset([m["a"], m["b"]]) for m in labels.get("missing_links", [])]

    work = Path(tempfile.mkdtemp(prefix="ponder-eval-"))
    root = work / "vault"
    shutil.copytree(args.vault, root, ignore=shutil.ignore_patterns(".ponder"))
    console = Console()
    try:
        settings, _ = load_settings(root)
        vault = Vault(root, settings.index, settings.embedding)
        vault.update()
        vault.embed()
        diags = vault.check(related_notes=True)
        stages: dict[str, set[Pair]] = {"facts": diag_pairs(diags, "fact-conflict")}
        # retrieval: are the gold sentences among each other's nearest claims?
        near: dict[tuple[str, int], set[tuple[str, int]]] = defaultdict(set)
        for path in sorted(vault.graph.notes):
            for c in candidates(vault, path, k=args.k, min_similarity=-1.0):
                near[(c.a_path, c.a_range.start.line + 1)].add((c.b_path, c.b_range.start.line + 1))

        def neighbours(x, y):
            return any(
                abs(l - x[1]) <= 1 and f == x[0] and any(f2 == y[0] and abs(l2 - y[1]) <= 1 for f2, l2 in near[(f, l)])
                for f, l in list(near)
            )

        retrieved = [g for g in gold if neighbours(g[0], g[1]) or neighbours(g[1], g[0])]
        if args.semantic:
            from ponder.lsp.llm.contradictions.judge import judge_vault

            verdicts = asyncio.run(judge_vault(vault, settings.model, console=console))
            stages["model"] = {
                pair((v.a_path, v.a_line + 1), (v.b_path, v.b_line + 1)) for v in verdicts if v.label == "contradiction"
            }
        ml_pred = {frozenset([d.path, d.related[0].path]) for d in diags if d.code == "missing-link" and d.related}
        vault.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)

    all_pred = set().union(*stages.values())
    table = Table(title=f"Contradictions: {args.vault.name} ({len(gold)} gold pairs, {len(negatives)} hard negatives)")
    for col in ("stage", "predicted", "true", "precision", "recall", "F1"):
        table.add_column(col)
    results = {}
    for name, pred in [*stages.items(), ("all", all_pred)]:
        tp, p, r, f = prf(pred, gold)
        results[name] = {"predicted": len(pred), "true": tp, "precision": p, "recall": r, "f1": f}
        table.add_row(name, str(len(pred)), str(tp), f"{p:.2f}", f"{r:.2f}", f"{f:.2f}")
    console.print(table)

    per_kind = Table(title="Recall per kind (all stages)")
    per_kind.add_column("kind")
    per_kind.add_column("found")
    by_kind: dict[str, list[bool]] = defaultdict(list)
    for g in gold:
        by_kind[kinds[g]].append(any(matches(p, g) for p in all_pred))
    for k, hits in sorted(by_kind.items()):
        per_kind.add_row(k, f"{sum(hits)}/{len(hits)}")
    console.print(per_kind)

    flagged = [nid for nid, n in negatives if any(matches(p, n) for p in all_pred)]
    ml_tp = {p for p in ml_pred if p in gold_links}
    ml_p = len(ml_tp) / len(ml_pred) if ml_pred else 1.0
    ml_r = len({g for g in gold_links if g in ml_pred}) / len(gold_links) if gold_links else 1.0
    summary = Table(title="Guards, retrieval, missing links")
    summary.add_column("measure")
    summary.add_column("value")
    summary.add_row("hard negatives flagged", f"{len(flagged)} {flagged}")
    summary.add_row(
        f"retrieval recall@{args.k}", f"{len(retrieved)}/{len(gold)} = {len(retrieved) / max(1, len(gold)):.2f}"
    )
    summary.add_row("missing-link precision", f"{len(ml_tp)}/{len(ml_pred)} = {ml_p:.2f}")
    summary.add_row("missing-link recall", f"{ml_r:.2f}")
    console.print(summary)
    results.update(
        hard_negatives_flagged=flagged,
        retrieval_recall=len(retrieved) / max(1, len(gold)),
        missing_link_precision=ml_p,
        missing_link_recall=ml_r,
        recall_per_kind={k: sum(v) / len(v) for k, v in by_kind.items()},
    )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
