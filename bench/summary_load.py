"""How long loading stored note summaries and facts takes (the store's decode cost).

Indexes a generated vault of N notes once (embeddings off), then times `load()` of every note
summary and `all_facts()` (best of R rounds), and the `PRAGMA quick_check` a store runs on open.
Run it with another checkout's interpreter for a before/after on the same machine.

    python bench/summary_load.py [--notes 2000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from vaultgen import generate

from ponder.index import EmbeddingSettings, Vault


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--notes", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = generate(Path(tmp) / "vault", args.notes, seed=0)
        v = Vault(root, embedding=EmbeddingSettings(enabled=False))
        t = time.perf_counter()
        v.update()
        index_s = time.perf_counter() - t
        paths = [p for p, _ in v.store.catalog()]
        store = v.store
        size = store.conn.execute("SELECT sum(length(summary)) FROM notes").fetchone()[0]
        fsize = store.conn.execute("SELECT coalesce(sum(length(facts)), 0) FROM facts").fetchone()[0]
        best_notes = best_facts = float("inf")
        nfacts = 0
        for _ in range(args.rounds):
            t = time.perf_counter()
            for p in paths:
                store.load(p)
            best_notes = min(best_notes, time.perf_counter() - t)
            t = time.perf_counter()
            nfacts = sum(len(f) for _, f in store.all_facts())
            best_facts = min(best_facts, time.perf_counter() - t)
        t = time.perf_counter()
        store.conn.execute("PRAGMA quick_check(1)").fetchone()
        check_s = time.perf_counter() - t
        db_bytes = v.db_path.stat().st_size + Path(f"{v.db_path}-wal").stat().st_size
        v.close()
    print(f"notes={len(paths)} facts={nfacts} index={index_s:.2f}s db={db_bytes:,} bytes")
    print(f"PRAGMA quick_check on open: {check_s * 1000:.1f} ms")
    print(f"summary bytes={size:,} facts bytes={fsize:,}")
    print(f"load all summaries: {best_notes * 1000:.1f} ms ({best_notes / len(paths) * 1e6:.0f} us/note)")
    print(f"all_facts:          {best_facts * 1000:.1f} ms ({best_facts / max(nfacts, 1) * 1e6:.1f} us/fact)")


if __name__ == "__main__":
    main()
