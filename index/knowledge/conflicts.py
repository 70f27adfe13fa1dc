"""Deterministic fact conflicts: pairs of facts that cannot both hold.

Precision first: a pair is reported only when the subjects clearly match (a named
setting's parts all appear in the other sentence, or two meaningful stems are
shared), the scopes are compatible (same environment and version; neither side
superseded, rejected, hypothetical or a question) and the values really clash:

- quantities of one dimension after unit normalisation, by role: two plain values,
  periods or delays that differ; a value outside the other side's max/min/range;
  two different limits on the same thing;
- a prohibition ("never deletes") against a plain statement doing it ("delete ...");
- an order ("compress, then encrypt") against the reverse order.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from ponder.index.knowledge.facts import Fact, Quantity
from ponder.index.notes import Diagnostic, Range, Related
from ponder.index.parsing.stems import stem

# Parts of a name or sentence that say what kind of value it is, not what it is about.
GENERIC = {
    stem(w)
    for w in """max maximum min minimum default size count number num limit interval period timeout total value
    time const config setting settings every each per amount level rate new old first last power capacity
    макс максимум мин минимум размер число количество лимит интервал период таймаут значение
    мощность ёмкость емкость""".split()
}
REL_TOLERANCE = 0.01


@dataclass(frozen=True, slots=True)
class Conflict:
    a: Fact
    b: Fact
    why: tuple[str, str]  # what `a` says, what `b` says: ("4 MiB", "8 MB")

    def key(self) -> tuple:
        return tuple(sorted([(self.a.path, self.a.line), (self.b.path, self.b.line)]))


def scopes_compatible(a: Fact, b: Fact) -> bool:
    if a.status or b.status:
        return False
    if a.env != b.env:  # an environment-specific value overrides, it does not contradict
        return False
    if a.version != b.version:
        return False
    return True


def subjects_match(a: Fact, b: Fact) -> bool:
    """Both claims are about the same thing: judged on the words near each claim, not whole sentences.

    Two named constants or settings are the same only under the same name (FROST_ON is not
    FROST_OFF, although the words left after dropping "on"/"off" agree); a table row is about
    its first cell, so two rows with different first cells are about different things, and a
    row matches a sentence only when the sentence names the row's subject (a front-matter value's
    subject is its note, by title)."""
    if a.name and b.name:
        return a.name == b.name
    for x, y in ((a, b), (b, a)):
        if x.row_key:
            key = x.row_key - GENERIC
            if y.row_key and not (key & (y.row_key - GENERIC)):
                return False
            if key and not (key & y.stems):
                return False
    for x, y in ((a, b), (b, a)):
        core = set(x.ident) - GENERIC
        if core and core <= y.local:
            return True
    return len((a.local & b.local) - GENERIC) >= 2


def _same(x: float, y: float) -> bool:
    return abs(x - y) <= REL_TOLERANCE * max(abs(x), abs(y), 1e-12)


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


def pair_conflict(a: Fact, b: Fact) -> tuple[str, str] | None:
    """What `a` and what `b` say when they cannot both hold, or None."""
    if a.path == b.path and a.range == b.range:
        return None
    if not scopes_compatible(a, b):
        return None
    if a.kind == "quantity" and b.kind == "quantity":
        if a.quantity and b.quantity and quantities_clash(a.quantity, b.quantity):
            if a.quantity.per and a.quantity.per == b.quantity.per or subjects_match(a, b):
                return _fmt(a.quantity), _fmt(b.quantity)
        return None
    if a.kind == "order" and b.kind == "order":
        rev = reversed_steps(a.order, b.order)
        if rev and len(a.stems & b.stems) >= 3:
            x, y = rev
            return f"{x}… before {y}…", f"{y}… before {x}…"
        return None
    return None


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
