"""Both markdown engines on generated texts: where do their blocks differ?

`bench/parse_parity.py` compares the engines on real notes; this searches generated ones, the way
the constructs that `blocks.py` sends to markdown-it-py (and the fence and paragraph extents its
tree walk corrects) were found. Two generators, seeded (the same texts for the same seed):
`chars`, strings of markdown punctuation, Cyrillic, astral characters and tabs; `lines`, notes made
of lines of real constructs (fences, quotes, list items, table rows, setext underlines, reference
definitions, declarations, tab-indented lines). It prints how many of N texts give different
blocks through `blocks.parse` with each engine (the guard included, as Ponder parses), the
shortest of them with both engines' blocks, and exits 1 on any.

    python bench/engine_fuzz.py [--kind lines|chars] [--n 50000] [--seed 1]
"""

from __future__ import annotations

import argparse
import random
import sys

CHARS = list("#>-*+_=`~|[]():!<>/ \t\n\n\n1.)aбZ😀\\'\"^")
LINES = [
    "```", "~~~", "````", "> ```", "  ```", "- ```", "    code", "\tcode", "\t- x", "  \tcode", "> \tq",
    "text", "text\twith", "a | b", "| a | b |", "|---|---|", "---", "- - -", "-:", "> q", "> - x", "-",
    "1.", "2)", "- item", "  - sub", "1.\tx", "> ---", "<!DOCTYPE x>", "<!-- c -->", "[a]: /x", "[a\\]",
    "b]: /y", "[x]: /z \\", "# H", "Title", "===", "", "", "", " ", "> ", "* * *", "+", "   > q",
    "    ---", "|-", "a |",
]  # fmt: skip


def generate(kind: str, rng: random.Random) -> str:
    if kind == "chars":
        return "".join(rng.choice(CHARS) for _ in range(rng.randint(1, 60)))
    return "\n".join(rng.choice(LINES) for _ in range(rng.randint(1, 14)))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--kind", choices=["lines", "chars"], default="lines")
    ap.add_argument("--n", type=int, default=50000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    from ponder.index.parsing import blocks
    from ponder.index.parsing.positions import split_lines

    if blocks.engine() != "markdown-it-pyrs":
        print("markdown-it-pyrs is not installed (or PONDER_MARKDOWN_ENGINE=py): nothing to compare")
        return 1
    rng = random.Random(args.seed)
    differ: list[tuple[str, blocks.Blocks, blocks.Blocks]] = []
    for _ in range(args.n):
        text = generate(args.kind, rng)
        lines = split_lines(text)
        source = "\n".join(lines)
        rust = blocks.parse(source, lines, "markdown-it-pyrs")
        py = blocks.parse(source, lines, "markdown-it-py")
        if rust != py:
            differ.append((text, rust, py))
    print(f"{len(differ)} of {args.n} generated texts ({args.kind}, seed {args.seed}) parse differently")
    for text, rust, py in sorted(differ, key=lambda d: len(d[0]))[:10]:
        print(repr(text))
        for name, parsed in (("pyrs", rust), ("py", py)):
            print(f"  {name:4}", [(b.kind, b.start, b.end) for b in parsed.blocks], parsed.references)
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
