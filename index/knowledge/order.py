"""Orders: "compress, then encrypt" against "encrypt, then compress". Explicit only when the
reversed steps are actions on the same things (two shared words besides the steps) in two
notes, and not clicks through a user interface: two wizards that both say "select … then
type" are two procedures, not one told twice."""

from __future__ import annotations

from ponder.index.knowledge.clash import EVERY_WORD_TELLS, GENERIC, Clash, Rarity
from ponder.index.knowledge.facts import UI_VERBS, Fact


def reversed_steps(x: tuple[tuple[str, ...], ...], y: tuple[tuple[str, ...], ...]) -> tuple[str, str] | None:
    """Two stems that `x` puts in one order and `y` in the other."""

    def before(order):
        pos: dict[str, int] = {}
        for i, clause in enumerate(order):
            for s in clause:
                pos.setdefault(s, i)
        return pos

    px, py = before(x), before(y)
    common = [s for s in px if s in py and s not in GENERIC]
    for s in common:
        for t in common:
            if px[s] < px[t] and py[s] > py[t]:
                return s, t
    return None


def clash(a: Fact, b: Fact, rarity: Rarity = EVERY_WORD_TELLS) -> Clash | None:
    rev = reversed_steps(a.order, b.order)
    if not rev:
        return None
    x, y = rev
    steps = {x, y}
    shared = (a.stems & b.stems) - GENERIC - steps
    if len(shared) < 1:
        return None
    why = f"{x}… before {y}…", f"{y}… before {x}…"
    certain = a.path != b.path and not (steps & UI_VERBS) and len(rarity.telling(shared)) >= 2
    return Clash(why, certain, 0.4 + 0.1 * len(shared))
