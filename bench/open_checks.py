"""Where the time of checking an opened note goes, in process, stage by stage.

The same notes `lsp_bench.py` opens for "didOpen -> diagnostics" (drawn with the same seed, each
with one broken link added) are opened on an indexed folder, and each stage of their check is
timed: the parse of the editor's text, the structural checks (what the first push carries), the
split of its prose into sentences (done on first use, after that push), the fact lookups (the
note's facts extracted and matched against the vault's) and the prohibition screening. The
baselines in the same run are the block parses of the same texts by markdown-it-py and by the
engine in use (`ponder.index.parsing.blocks`; markdown-it-pyrs where installed).

    python bench/open_checks.py FOLDER [--samples 100] [--notes 20]

FOLDER is indexed first (`.ponder/index.db`, as `ponder index` does; quick when it is current),
and one other note is opened and checked untimed, as an editor has opened notes before.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from lsp_bench import pct, sample_notes  # noqa: E402

STAGES = [
    "block parse, markdown-it-py (baseline)",
    "block parse, engine in use (baseline)",
    "parse",
    "structural checks",
    "sentences",
    "fact lookups",
    "prohibitions",
    "total",
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("folder", type=Path)
    ap.add_argument("--samples", type=int, default=100, help="as lsp_bench's --samples (the notes drawn before)")
    ap.add_argument("--notes", type=int, default=20, help="notes opened and timed")
    args = ap.parse_args()

    from ponder.index import Vault
    from ponder.index.graph import checks
    from ponder.index.knowledge import prohibition
    from ponder.index.parsing import blocks
    from ponder.index.parsing.positions import split_lines

    root = args.folder.resolve()
    drawn = sample_notes(root, args.samples + args.notes)
    warm, opened = drawn[0], drawn[args.samples :]
    vault = Vault(root)
    t0 = time.perf_counter()
    vault.update()
    vault.warm_up()
    # as in the server, where notes were open before: the first check's one-time loads are not timed
    first = warm.path.relative_to(root).as_posix()
    vault.open_document(first, warm.text)
    vault.check([first])
    vault.close_document(first)
    print(f"index brought up to date in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    ms: dict[str, list[float]] = {s: [] for s in STAGES}
    slowest: tuple[float, str] = (0.0, "")
    for s in opened:
        path = s.path.relative_to(root).as_posix()
        text = s.text + "\n[broken](/no-such-note-xyz.md)\n"
        lines = split_lines(text)
        ta = time.perf_counter()
        blocks.parse(text, lines, "markdown-it-py")
        t0 = time.perf_counter()
        blocks.parse(text, lines)
        t1 = time.perf_counter()
        note = vault.open_document(path, text)
        t2 = time.perf_counter()
        checks.check_note(vault.graph, path, vault.settings.pseudo_builtins)
        t3 = time.perf_counter()
        _ = note.sentences
        t4 = time.perf_counter()
        vault.facts.conflicts_of(path)
        t5 = time.perf_counter()
        prohibition.prohibition_conflicts(vault, path)
        t6 = time.perf_counter()
        for stage, a, b in zip(STAGES, (ta, t0, t1, t2, t3, t4, t5, t1), (t0, t1, t2, t3, t4, t5, t6, t6), strict=True):
            ms[stage].append((b - a) * 1000)
        slowest = max(slowest, ((t6 - t1) * 1000, f"{path} ({len(text.encode()) // 1024} KB)"))
        vault.close_document(path)
    vault.close()
    print(f"\nChecking an opened note, {len(opened)} notes of {root} (ms; engine: {blocks.engine()})")
    width = max(map(len, STAGES))
    print(f"  {'stage'.ljust(width)}  {'p50':>7}  {'p95':>7}  {'max':>7}")
    for stage in STAGES:
        xs = ms[stage]
        print(f"  {stage.ljust(width)}  {pct(xs, 0.5):7.1f}  {pct(xs, 0.95):7.1f}  {max(xs):7.1f}")
    print(f"  slowest note: {slowest[1]}, {slowest[0]:.1f} ms")
    print("  The first push waits for parse + structural checks; fact lookups and prohibitions come with the second.")


if __name__ == "__main__":
    main()
