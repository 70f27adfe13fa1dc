"""Both markdown engines on whole vaults: the same parse of every note, and the time of each.

`ponder.index.parsing.blocks` parses with markdown-it-pyrs where it is installed, else with
markdown-it-py, and the rest of Ponder must not be able to tell which ran. This parses every
`.md` and `.pseudo` note under each FOLDER with both and compares the whole `Note` (links,
headings, anchors, code blocks, sentences, problems, ranges); it prints each note that differs
(with the first field that does) and the parse time of each engine, and exits 1 on any difference.

    python bench/parse_parity.py FOLDER [FOLDER ...]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time
from pathlib import Path


def first_difference(a, b, where: str = "note") -> str | None:
    if dataclasses.is_dataclass(a) and type(a) is type(b):
        names = [f.name for f in dataclasses.fields(a) if f.compare]
        if hasattr(a, "sentences"):
            names.append("sentences")  # split on first use, not a field
        for name in names:
            d = first_difference(getattr(a, name), getattr(b, name), f"{where}.{name}")
            if d:
                return d
        return None
    if isinstance(a, list) and isinstance(b, list):
        for i, (x, y) in enumerate(zip(a, b, strict=False)):
            d = first_difference(x, y, f"{where}[{i}]")
            if d:
                return d
        return None if len(a) == len(b) else f"{where}: {len(a)} vs {len(b)} items"
    return None if a == b else f"{where}: {a!r:.120} vs {b!r:.120}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("folders", nargs="+", type=Path)
    ap.add_argument("--show", type=int, default=20, help="differing notes printed")
    args = ap.parse_args()

    from ponder.index.parsing import blocks, markdown

    if blocks.engine() != "markdown-it-pyrs":
        print("markdown-it-pyrs is not installed: nothing to compare")
        return 2
    spent = {"markdown-it-pyrs": 0.0, "markdown-it-py": 0.0}
    notes = differ = 0
    for root in args.folders:
        for p in sorted(root.rglob("*")):
            if p.suffix not in (".md", ".pseudo") or {".ponder", ".git", "node_modules"} & set(p.parts):
                continue
            try:
                text = p.read_text("utf-8")
            except (UnicodeDecodeError, OSError):
                continue
            rel = p.relative_to(root).as_posix()
            got = {}
            for name in spent:  # the engine as a user picks it (`blocks.engine`)
                os.environ["PONDER_MARKDOWN_ENGINE"] = "py" if name == "markdown-it-py" else ""
                t0 = time.perf_counter()
                got[name] = markdown.parse_note(rel, text)
                spent[name] += time.perf_counter() - t0
            os.environ.pop("PONDER_MARKDOWN_ENGINE")
            notes += 1
            d = first_difference(got["markdown-it-pyrs"], got["markdown-it-py"])
            if d:
                differ += 1
                if differ <= args.show:
                    print(f"{p}: {d}")
    print(f"{notes} notes, {differ} parsed differently")
    for name, s in spent.items():
        print(f"  parse_note with {name}: {s:.2f} s")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
