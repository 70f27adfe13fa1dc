"""Facts as JSON, for the store: explicit arrays per type, so a tampered index cannot run code.

The store keeps one JSON list per note (`Store(facts_codec=...)`, wired by `Vault`: the store
layer cannot import this one). The note's path is not repeated in every fact.
"""

from __future__ import annotations

import json

from ponder.index.knowledge.facts import Fact, FactKind, Quantity
from ponder.index.store.codec import range_from, range_to


def _words_to(words) -> str | list[str]:
    """Stems as one space-joined string (half the JSON to parse of a list of strings); a list when
    there are none, or a word holds a space or is empty, so any value round-trips."""
    words = list(words)
    if words and all(w and " " not in w for w in words):
        return " ".join(words)
    return words


def quantity_to(q: Quantity) -> list:
    return [q.value, q.dim, q.role, q.high, q.per, q.raw, q.what, q.at, q.worded]


def quantity_from(a: list) -> Quantity:
    return Quantity(
        float(a[0]), a[1], a[2], None if a[3] is None else float(a[3]), a[4], a[5], a[6], int(a[7]), bool(a[8])
    )


def fact_to(f: Fact) -> list:
    return [
        range_to(f.range),
        f.text,
        f.kind,
        _words_to(sorted(f.stems)),
        _words_to(sorted(f.local)),
        _words_to(f.ident),
        None if f.quantity is None else quantity_to(f.quantity),
        f.verb,
        [_words_to(o) for o in f.order],
        f.env,
        f.status,
        f.version,
        list(f.heading),
        f.name,
        _words_to(sorted(f.row_key)),
        f.block,
        _words_to(sorted(f.attribute)),
        f.about_note,
    ]


def fact_from(path: str, a: list) -> Fact:
    # inlined `str.split` for the word fields: this runs once per fact on every full load
    stems, local, ident, order, row_key, attribute = a[3], a[4], a[5], a[8], a[14], a[16]
    return Fact(
        path,
        range_from(a[0]),
        a[1],
        FactKind(a[2]),
        frozenset(stems.split(" ") if type(stems) is str else stems),
        frozenset(local.split(" ") if type(local) is str else local),
        tuple(ident.split(" ") if type(ident) is str else ident),
        None if a[6] is None else quantity_from(a[6]),
        a[7],
        tuple(tuple(o.split(" ") if type(o) is str else o) for o in order) if order else (),
        a[9],
        a[10],
        a[11],
        tuple(a[12]),
        a[13],
        frozenset(row_key.split(" ") if type(row_key) is str else row_key),
        int(a[15]),
        frozenset(attribute.split(" ") if type(attribute) is str else attribute),
        bool(a[17]),
    )


def facts_to_json(facts: list[Fact]) -> str:
    return json.dumps([fact_to(f) for f in facts], ensure_ascii=False, separators=(",", ":"))


def facts_from_json(path: str, text: str | bytes) -> list[Fact]:
    """The facts `facts_to_json` wrote for the note at `path`; `ValueError` when they are not."""
    try:
        return [fact_from(path, a) for a in json.loads(text)]
    except (KeyError, IndexError, TypeError, AttributeError, RecursionError) as e:  # FactKind: ValueError
        raise ValueError(f"not stored facts: {e!r}") from e


class FactsCodec:
    """What the store calls to write and read a note's facts."""

    dumps = staticmethod(facts_to_json)
    loads = staticmethod(facts_from_json)
