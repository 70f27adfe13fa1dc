"""Quantities: two values of one dimension (after unit normalisation) for the same thing that
cannot both hold: two plain values, periods or delays that differ; a value outside the other
side's max, min or range; two different limits on the same thing."""

from __future__ import annotations

from ponder.index.knowledge.clash import (
    EVERY_WORD_TELLS,
    GENERIC,
    REL_TOLERANCE,
    Clash,
    Rarity,
    _same,
    shared_words,
    subjects_match,
)
from ponder.index.knowledge.facts import Fact, Quantity, is_instruction
from ponder.index.parsing.stems import content_stems

# Values of one subject that differ by more than this factor are almost always about
# different things (a 1.4 TB data set and a 256 MiB memory limit), not a contradiction.
MAX_RATIO = 64


def quantities_clash(p: Quantity, q: Quantity) -> bool:
    if p.dim != q.dim or "approx" in (p.role, q.role):
        return False
    lo, hi = sorted([abs(p.value), abs(q.value)])
    if lo == 0 or hi / lo > MAX_RATIO:
        return False
    if p.per and q.per and p.per != q.per:
        return False
    if p.what and q.what and p.what != q.what:
        return False
    roles = {p.role, q.role}
    if p.role == q.role and p.role in ("value", "period", "delay", "max", "min"):
        return not _same(p.value, q.value)
    if roles == {"value", "max"}:
        v, m = (p, q) if p.role == "value" else (q, p)
        return v.value > m.value * (1 + REL_TOLERANCE)
    if roles == {"value", "min"}:
        v, m = (p, q) if p.role == "value" else (q, p)
        return v.value < m.value * (1 - REL_TOLERANCE)
    if roles == {"value", "range"}:
        v, r = (p, q) if p.role == "value" else (q, p)
        return not (r.value * (1 - REL_TOLERANCE) <= v.value <= (r.high or r.value) * (1 + REL_TOLERANCE))
    return False


_ROLE_WORDS = {"max": "at most", "min": "at least", "period": "every"}


def _fmt(q: Quantity) -> str:
    """The value as written, with its role when the words did not carry it ('at most 3')."""
    raw = q.raw.strip() or f"{q.value:g}"
    prefix = _ROLE_WORDS.get(q.role)
    if prefix and not any(raw.lower().startswith(w) for w in ("at ", "up to", "no ", "не ", "до ", "every", "каждые")):
        return f"{prefix} {raw}"
    return raw


def named_identity(a: Fact, b: Fact) -> bool:
    """The subject is explicit: one named setting or constant on both sides, or a name (or a table
    row's subject) whose every part the other claim uses next to its value."""
    if a.name and b.name:
        return a.name == b.name
    for x, y in ((a, b), (b, a)):
        core = set(x.ident) - GENERIC
        if core and core <= y.local and (x.name or x.about_note or not x.row_key):  # a setting, not a row label
            return True
        key = x.row_key - GENERIC
        attr = x.attribute - GENERIC
        if x.attribute and not attr and x.heading:
            # a generic column ("Temperature") takes its meaning from the table's section ("Drying")
            attr = frozenset(content_stems(x.heading[-1])) - GENERIC
        if key and key <= y.local and (not attr or attr & (y.local | y.attribute | y.stems)):
            return True
    return False


def clash(a: Fact, b: Fact, rarity: Rarity = EVERY_WORD_TELLS) -> Clash | None:
    p, q = a.quantity, b.quantity
    if p is None or q is None or not quantities_clash(p, q):
        return None
    if not subjects_match(a, b) and not (p.per and p.per == q.per):
        return None
    why = _fmt(p), _fmt(q)
    if p.worded or q.worded:
        return Clash(why, False, 0.5)  # "two main changes" / "three main approaches": which things?
    if "number" in (p.dim, q.dim) and not (a.name and a.name == b.name):
        return Clash(why, False, 0.5)  # a bare number ("| 3 |") is a count of something unnamed
    if a.row_key and b.row_key and a.path == b.path:
        return Clash(why, False, 0.5)  # one key in two tables of a note: two periods or conditions
    if named_identity(a, b):
        return Clash(why, True)
    if a.path != b.path and is_instruction(a.text) and is_instruction(b.text):
        return Clash(why, False, 0.5)  # two steps of two procedures, each with its own parameters
    shared = shared_words(a, b)
    if a.path == b.path:  # in its own note, the note's topic ("libs team") is in every sentence
        shared -= set(content_stems(a.path.rsplit("/", 1)[-1].rsplit(".", 1)[0]))
    shared = rarity.telling(shared)
    return Clash(why, len(shared) >= 2, 0.5 + 0.1 * len(shared))
