"""Guards: reasons two claims cannot contradict each other whatever they say. Each guard is one
function `(a, b) -> reason | None`; `GUARDS` lists them, and every rule runs after them."""

from __future__ import annotations

from collections.abc import Callable

from ponder.index.knowledge.facts import Fact


def one_claim(a: Fact, b: Fact) -> str | None:
    """Two facts of one sentence ("Standard plan: 1 month, Plus plan: 12 months")."""
    return "the same sentence" if a.path == b.path and a.range == b.range else None


def one_block(a: Fact, b: Fact) -> str | None:
    """Two claims of one paragraph, list or table: values side by side are about different scopes
    (two plans, two rows, two models), not one thing stated twice."""
    return "the same block" if a.path == b.path and a.block >= 0 and a.block == b.block else None


def status(a: Fact, b: Fact) -> str | None:
    """Superseded, rejected, hypothetical or a question: it claims nothing now."""
    return a.status or b.status or None


def environment(a: Fact, b: Fact) -> str | None:
    """An environment-specific value (dev, prod) overrides; it does not contradict."""
    return "another environment" if a.env != b.env else None


def version(a: Fact, b: Fact) -> str | None:
    """ "Since v0.3" and an earlier statement describe different times."""
    return "another version" if a.version != b.version else None


GUARDS: list[Callable[[Fact, Fact], str | None]] = [one_claim, one_block, status, environment, version]


def guarded(a: Fact, b: Fact) -> str | None:
    """Why the pair cannot be a conflict, or None."""
    for guard in GUARDS:
        why = guard(a, b)
        if why:
            return why
    return None
