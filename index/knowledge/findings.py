"""Fact conflicts as diagnostics: one warning per side, each quoting and pointing at the other;
pairs the user chose to ignore are dropped."""

from __future__ import annotations

from ponder.index.knowledge.conflicts import conflict_diagnostic
from ponder.index.knowledge.prohibitions import prohibition_conflicts
from ponder.index.knowledge.view import VaultView
from ponder.index.notes import Diagnostic


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
    fi = vault.facts
    ignored = vault.store.ignored_pairs()
    out: list[Diagnostic] = []
    for path in paths:
        for c in fi.conflicts_of(path):
            out.append(conflict_diagnostic(c.a, c.b.path, c.b.range, c.b.text, c.why))
        out += prohibition_conflicts(vault, path)
    return [d for d in _dedupe_diags(out) if not d.data or d.data.get("pair") not in ignored]
