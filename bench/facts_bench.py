"""Fact-conflict checks per note: looked up by key in the store (what the editor does) against
the whole fact index loaded in memory (what `ponder check` of a whole vault does), same notes,
same run.

    python bench/facts_bench.py [FOLDER] [--notes 20000] [--sample 100]

The folder must be indexed (`ponder index FOLDER --no-embed`, or a run of lsp_bench.py); by
default the generated vault that index_bench.py and lsp_bench.py use.
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> int:
    from ponder.index.settings import EmbeddingSettings
    from ponder.index.vault import Vault

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("folder", nargs="?", type=Path)
    ap.add_argument("--notes", type=int, default=20000, help="size of the generated vault when no folder is given")
    ap.add_argument("--sample", type=int, default=100, help="notes checked")
    args = ap.parse_args()
    if args.folder is None:
        from lsp_bench import generated_vault

        args.folder = generated_vault(args.notes)
    v = Vault(args.folder, embedding=EmbeddingSettings(enabled=False))
    if v.outdated or not v.store.counts()["notes"]:
        print(
            f"{args.folder} is not indexed by this version: run `ponder index {args.folder} --no-embed` first",
            file=sys.stderr,
        )
        return 2
    notes = random.Random(3).sample(sorted(v.graph.notes), min(args.sample, len(v.graph.notes)))

    def timed() -> tuple[list[float], int]:
        ms, found = [], 0
        for p in notes:
            t0 = time.perf_counter()
            found += len(v.fact_conflicts([p]))
            ms.append((time.perf_counter() - t0) * 1000)
        return sorted(ms), found

    rss0 = rss_mb()
    cold, n_cold = timed()
    warm, n_warm = timed()
    rss_store = rss_mb()
    t0 = time.perf_counter()
    v.facts.preload()
    load_s = time.perf_counter() - t0
    mem, n_mem = timed()
    rss_mem = rss_mb()

    def row(name: str, ms: list[float], n: int, extra: str = "") -> None:
        print(
            f"  {name:38s} p50 {ms[len(ms) // 2]:7.1f}  p95 {ms[int(len(ms) * 0.95)]:7.1f}  "
            f"mean {sum(ms) / len(ms):7.1f} ms   {n} conflicts {extra}"
        )

    print(f"fact conflicts of {len(notes)} notes of {args.folder} ({len(v.graph.notes)} notes)")
    row("store lookups, first pass", cold, n_cold, f"(peak RSS +{rss_store - rss0:.0f} MB)")
    row("store lookups, again (LRU warm)", warm, n_warm)
    row(
        "whole index in memory (baseline)", mem, n_mem, f"(load {load_s:.1f} s, peak RSS +{rss_mem - rss_store:.0f} MB)"
    )
    if not (n_cold == n_warm == n_mem):
        print("  the two ways found different conflicts", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
