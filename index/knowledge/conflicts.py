"""Deterministic fact conflicts: pairs of facts that cannot both hold.

A rule per kind of fact decides whether two facts clash (`RULES`: `knowledge.quantity`,
`knowledge.order`; prohibitions meet plain sentences in `knowledge.prohibition`), after the
guards (`knowledge.guards`: one sentence or block, status, environment, version). A clash
whose subject is explicit is `certain` and becomes a `fact-conflict` diagnostic on both sides;
the others are candidates for the model judge.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from ponder.index.knowledge import order, quantity
from ponder.index.knowledge.clash import EVERY_WORD_TELLS, Clash, Rarity
from ponder.index.knowledge.facts import Fact, FactKind
from ponder.index.knowledge.guards import guarded
from ponder.index.notes import Diagnostic, Range, Related

RULES: dict[FactKind, Callable[[Fact, Fact, Rarity], Clash | None]] = {
    FactKind.QUANTITY: quantity.clash,
    FactKind.ORDER: order.clash,
}


@dataclass(frozen=True, slots=True)
class Conflict:
    a: Fact
    b: Fact
    why: tuple[str, str]  # what `a` says, what `b` says: ("4 MiB", "8 MB")
    certain: bool = True
    score: float = 1.0

    def key(self) -> tuple:
        return tuple(sorted([(self.a.path, self.a.line), (self.b.path, self.b.line)]))


def pair_conflict(a: Fact, b: Fact, rarity: Rarity = EVERY_WORD_TELLS) -> Clash | None:
    """Whether `a` and `b` cannot both hold (and how sure that is), or None."""
    if a.kind != b.kind or guarded(a, b):
        return None
    rule = RULES.get(a.kind)
    return rule(a, b, rarity) if rule else None


def _dedupe(items: list[Conflict]) -> list[Conflict]:
    seen: set[tuple] = set()
    out = []
    for c in items:
        k = (c.a.path, c.a.range, c.b.path, c.b.range)
        if k not in seen:
            seen.add(k)
            out.append(c)
    return out


def pair_key(text_a: str, text_b: str) -> str:
    """Identity of a pair that survives line moves: the hash of both sentences' text."""
    joined = "\x00".join(sorted([" ".join(text_a.split()), " ".join(text_b.split())]))
    return hashlib.blake2b(joined.encode("utf-8"), digest_size=12).hexdigest()


def conflict_diagnostic(
    here: Fact, other_path: str, other_range: Range, other_text: str, why: tuple[str, str]
) -> Diagnostic:
    """The warning on `here`'s side: both values quoted, the other side in relatedInformation."""
    where = f"{other_path}:{other_range.start.line + 1}"
    quote = " ".join(other_text.split())
    if len(quote) > 100:
        quote = quote[:99] + "…"
    msg = f"Conflicting statements: {why[0]} here; {why[1]} in {where} (“{quote}”)"
    data = {
        "pair": pair_key(here.text, other_text),
        "other": other_path,
        "otherRange": other_range.to_json(),
        "kind": here.kind,
    }
    related = (Related(other_path, other_range, f"{why[1]} here; {why[0]} in {here.path}:{here.line + 1}"),)
    return Diagnostic(here.path, here.range, "warning", "fact-conflict", msg, related, data)
