"""Fact conflicts as findings: the certain ones as `fact-conflict` diagnostics (one warning per
side, each quoting and pointing at the other), the uncertain ones as candidates for the model
judge. Pairs the user chose to ignore are dropped from both."""

from __future__ import annotations

from ponder.index.knowledge.conflicts import Conflict, conflict_diagnostic, pair_key
from ponder.index.knowledge.prohibition import prohibition_conflicts
from ponder.index.knowledge.view import VaultView
from ponder.index.notes import Diagnostic


def conflicts_of(vault: VaultView, path: str) -> list[Conflict]:
    """Every conflict of `path`'s claims, certain or not, each with `path`'s side as `a`."""
    return vault.facts.conflicts_of(path) + prohibition_conflicts(vault, path)


def _dedupe_diags(items: list[Diagnostic]) -> list[Diagnostic]:
    seen: set[tuple] = set()
    out = []
    for d in items:
        k = (d.path, d.range, d.related[0].path if d.related else None, d.related[0].range if d.related else None)
        if k not in seen:
            seen.add(k)
            out.append(d)
    return out


def fact_conflicts(vault: VaultView, paths: list[str]) -> list[Diagnostic]:
    """`fact-conflict` diagnostics located in `paths`, each pointing at the other side."""
    ignored = vault.store.ignored_pairs()
    out: list[Diagnostic] = []
    for path in paths:
        for c in conflicts_of(vault, path):
            if c.certain:
                out.append(conflict_diagnostic(c.a, c.b.path, c.b.range, c.b.text, c.why))
    return [d for d in _dedupe_diags(out) if not d.data or d.data.get("pair") not in ignored]


def fact_candidates(vault: VaultView, path: str, conflicts: list[Conflict] | None = None) -> list[Conflict]:
    """The uncertain conflicts of `path` (a prohibition against a use of its verb, two counts, two
    orders, values whose subjects only share words): pairs for the judge, most likely first.
    `conflicts`: `conflicts_of(vault, path)` where the caller has it already."""
    ignored = vault.store.ignored_pairs()
    if conflicts is None:
        conflicts = conflicts_of(vault, path)
    found = [c for c in conflicts if not c.certain and pair_key(c.a.text, c.b.text) not in ignored]
    return sorted(found, key=lambda c: -c.score)
