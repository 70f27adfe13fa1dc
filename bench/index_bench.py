"""Index benchmark: cold / warm / one-file re-index, graph load, peak RSS, embeddings/s.

    python bench/index_bench.py                 # the generated 20,000-note vault
    python bench/index_bench.py --vault PATH    # any folder
    python bench/index_bench.py --notes 2000 --embed-sample 500   # a quick run

Every number is measured in this run; the embedding rate is compared against a plain
`SentenceTransformer.encode` of the same chunks (fp32, its default batch size), also
in this run. Targets (2-core machine, 20k notes): warm no-change <= 2 s, one changed
file <= 100 ms, embeddings/s >= 1.5x the plain baseline.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from rich.console import Console
from rich.table import Table

from ponder.index.settings import EmbeddingSettings, IndexSettings
from ponder.index.store.embed import resolve_model_path
from ponder.index.vault import Vault


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--vault", type=Path, help="benchmark this folder instead of a generated vault")
    ap.add_argument("--notes", type=int, default=20000, help="size of the generated vault")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--embed-sample", type=int, default=2000, help="chunks embedded to measure embeddings/s (0: skip)")
    ap.add_argument("--embed-all", action="store_true", help="embed every chunk (slow on a CPU)")
    ap.add_argument("--no-check", action="store_true", help="skip the whole-vault check")
    args = ap.parse_args()
    console = Console()

    if args.vault:
        root = args.vault.resolve()
    else:
        from vaultgen import generate

        root = Path(__file__).resolve().parent / ".data" / f"vault-{args.notes}-{args.seed}-v2"
        console.print(f"generating {args.notes} notes in {root} (cached)…")
        generate(root, args.notes, args.seed)

    work = Path(tempfile.mkdtemp(prefix="ponder-bench-"))
    db = work / "index.db"
    settings = IndexSettings(db_path=str(db))
    off = EmbeddingSettings(enabled=False)
    rows: list[tuple[str, str, str]] = []
    try:
        # cold structural index
        v = Vault(root, settings, off)
        report, cold = timed(v.update)
        rss_cold = rss_mib()
        n_notes, n_chunks = report.notes, v.store.counts()["chunks"]
        v.close()
        rows.append(
            (
                "cold structural index",
                f"{cold:.1f} s",
                f"{report.notes} notes, {n_chunks} chunks, {n_notes / cold:.0f} notes/s",
            )
        )

        # warm start, nothing changed: open the store, walk, compare
        def warm():
            w = Vault(root, settings, off)
            r = w.update()
            return w, r

        (w, r), warm_s = timed(warm)
        assert r.parsed == 0, r
        rows.append(
            (
                "warm re-index, no change",
                f"{warm_s * 1000:.0f} ms",
                f"target <= 2000 ms; {cold / warm_s:.0f}x faster than cold",
            )
        )

        _, graph_s = timed(lambda: w.graph)
        rows.append(
            ("load link graph from store", f"{graph_s * 1000:.0f} ms", f"{len(w.graph.notes)} notes, no parsing")
        )

        # one file changed
        notes = sorted(p for p in w.graph.notes)
        target = random.Random(1).choice(notes)
        path = root / target
        original = path.read_bytes()
        try:
            path.write_bytes(original + b"\nAn added line with [[a link]].\n")
            r1, one_full = timed(w.update)
            assert r1.parsed == 1
            path.write_bytes(original + b"\nAnother edit.\n")
            r2, one_targeted = timed(lambda: w.update(paths=[target]))
            assert r2.parsed == 1
        finally:
            path.write_bytes(original)
            w.update(paths=[target])
        rows.append(("one file changed (full scan)", f"{one_full * 1000:.0f} ms", "as `ponder index` does"))
        rows.append(
            (
                "one file changed (targeted)",
                f"{one_targeted * 1000:.0f} ms",
                "target <= 100 ms; as the server does on a watched-file event",
            )
        )
        _, check_s = timed(w.check) if not args.no_check else (None, float("nan"))
        rows.append(("check, whole vault", f"{check_s * 1000:.0f} ms", "links, symbols, headings, fact conflicts"))
        if not args.no_check:
            hints, related_s = timed(lambda: w.check(related_notes=True))
            n_hints = sum(1 for d in hints if d.code == "missing-link")
            rows.append(
                (
                    "check with missing links",
                    f"{related_s * 1000:.0f} ms",
                    f"{n_hints} missing-link hints (without embeddings)",
                )
            )
        rows.append(("peak RSS after structural index", f"{rss_cold:.0f} MiB", "whole process"))

        # embeddings: ours vs a plain SentenceTransformer.encode of the same chunks
        if args.embed_sample or args.embed_all:
            todo = w.store.chunks_without_vectors()
            sample = todo if args.embed_all else random.Random(2).sample(todo, min(args.embed_sample, len(todo)))
            texts = [t for _, t in sample]
            from sentence_transformers import SentenceTransformer

            plain = SentenceTransformer(resolve_model_path("bundled:all-MiniLM-L6-v2"), device="cpu")
            plain.encode(texts[:32])
            _, plain_s = timed(lambda: plain.encode(texts))
            del plain
            ours = Vault(root, settings, EmbeddingSettings())
            ours.embedder.encode(texts[:32])
            _, ours_s = timed(lambda: ours.embedder.encode(texts))
            ratio = plain_s / ours_s
            rows.append(
                ("embeddings/s, plain encode", f"{len(texts) / plain_s:.0f}", f"{len(texts)} chunks, fp32, batch 32")
            )
            rows.append(
                (
                    "embeddings/s, Ponder",
                    f"{len(texts) / ours_s:.0f}",
                    f"{ratio:.2f}x plain (target >= 1.5x); {ours.embedder.model_id}",
                )
            )
            if args.embed_all:
                _, all_s = timed(ours.embed)
                rows.append(("cold embeddings, all chunks", f"{all_s:.0f} s", f"{len(todo)} chunks"))
            else:
                est = len(todo) / (len(texts) / ours_s)
                rows.append(
                    (
                        "cold embeddings, all chunks (est.)",
                        f"{est / 60:.0f} min",
                        f"{len(todo)} chunks at the measured rate",
                    )
                )
            rows.append(("peak RSS with embedding model", f"{rss_mib():.0f} MiB", "whole process"))
            ours.close()
        w.close()
        rows.append(("index size on disk", f"{db.stat().st_size / 2**20:.0f} MiB", str(root)))
    finally:
        shutil.rmtree(work, ignore_errors=True)

    table = Table(title=f"Ponder index benchmark: {root.name} ({os.cpu_count()} cores)")
    for col in ("measure", "value", "notes"):
        table.add_column(col)
    for r in rows:
        table.add_row(*r)
    console.print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
