"""The fact index: every note's facts filed by subject key, so that a note's conflicts are found by
looking up a few rare keys instead of comparing with every fact in the vault."""

from __future__ import annotations

import hashlib
from collections import OrderedDict

from ponder.index.knowledge.clash import GENERIC, Rarity, _same
from ponder.index.knowledge.conflicts import Conflict, _dedupe, pair_conflict
from ponder.index.knowledge.facts import Fact, FactKind


def key_id(key: tuple) -> int:
    """A subject key as a signed 64-bit integer: the store's posting column, stable across runs."""
    return int.from_bytes(hashlib.blake2b(repr(key).encode("utf-8"), digest_size=8).digest(), "big", signed=True)


def subject_keys(f: Fact) -> set[tuple]:
    """The keys a fact is filed under: (kind, dimension, subject stem) for quantities, (order,
    stem) for orders, (verb, stem) for prohibitions; none for other facts."""
    if f.kind == FactKind.QUANTITY and f.quantity is not None:
        scope = ("q", f.quantity.dim)
        words = (f.local | set(f.ident)) - GENERIC
        if f.quantity.per:
            words = words | {"per:" + f.quantity.per}
    elif f.kind == FactKind.ORDER:
        scope = ("o",)
        words = {s for clause in f.order for s in clause} - GENERIC
    elif f.kind == FactKind.PROHIBITION and f.verb:
        return {("verb", f.verb)}
    else:
        return set()
    return {(*scope, w) for w in words}


def postings(facts: list[Fact]) -> list[tuple[int, int, int]]:
    """(key id, position in `facts`, whether the key's word is part of the fact's name) for
    every key of every fact: what the store keeps so that lookups need not load the facts."""
    return [(key_id(k), i, int(k[-1] in f.ident)) for i, f in enumerate(facts) for k in subject_keys(f)]


Entry = tuple[int, str, int, int]  # (key id, path, position in the note's facts, name flag)


class _Postings:
    """Facts held in memory, by path and by key id; adding or dropping a note costs its own facts."""

    def __init__(self) -> None:
        self.by_path: dict[str, list[Fact]] = {}
        self._keys: dict[str, list[tuple[int, int, int]]] = {}  # path -> its postings
        self._by_key: dict[int, dict[str, list[tuple[int, int]]]] = {}  # key -> path -> [(position, flag)]
        self._sizes: dict[int, int] = {}

    def put(self, path: str, facts: list[Fact]) -> None:
        self.remove(path)
        if not facts:
            return
        self.by_path[path] = facts
        self._keys[path] = rows = postings(facts)
        for k, i, flag in rows:
            self._by_key.setdefault(k, {}).setdefault(path, []).append((i, flag))
            self._sizes[k] = self._sizes.get(k, 0) + 1

    def remove(self, path: str) -> None:
        self.by_path.pop(path, None)
        for k, _, _ in self._keys.pop(path, ()):
            per_path = self._by_key.get(k)
            if per_path is not None and per_path.pop(path, None) is not None:
                if not per_path:
                    del self._by_key[k]
            n = self._sizes.get(k, 0) - 1
            if n > 0:
                self._sizes[k] = n
            else:
                self._sizes.pop(k, None)

    def sizes(self, keys) -> dict[int, int]:
        return {k: self._sizes[k] for k in keys if k in self._sizes}

    def entries(self, keys) -> list[Entry]:
        return [(k, p, i, flag) for k in keys for p, items in self._by_key.get(k, {}).items() for i, flag in items]


POSTINGS_KEPT = 8192  # keys whose store postings are kept (each at most `common` entries that matter)


class FactIndex:
    """Facts of the whole vault by subject key, so a note's conflicts are found by looking up a
    few rare keys instead of comparing with every fact.

    Two layers: facts `put` in memory (open documents, whose text is not the store's; every
    note when there is no store) shadow the store's. The store keeps each note's facts and a
    posting row per (key, fact), so a lookup reads key counts and postings from SQLite and
    unpickles only the notes whose facts made the cut (a few, kept in a small LRU): a 20k-note
    vault has ~360k facts, about 1 GB and 10 s to load whole. `preload()` loads them whole
    anyway, for a pass over every note (`ponder check`)."""

    def __init__(self, store=None, cached_notes: int = 2048) -> None:
        self.store = store
        self._held = _Postings()
        self._all: _Postings | None = None if store is not None else _Postings()  # every stored note, when preloaded
        self._cache: OrderedDict[str, list[Fact]] = OrderedDict()
        self.rarity = Rarity(store)  # which shared words tell a subject apart
        self._cached_notes = cached_notes
        # what was read of the store's keys, dropped whenever the store changes
        self._counts: dict[int, tuple[int, int]] = {}  # key -> (facts under it, counted up to cap)
        self._postings: OrderedDict[int, list[Entry]] = OrderedDict()  # key -> postings (LRU)

    # --- changes -------------------------------------------------------------------------

    def put(self, path: str, facts: list[Fact]) -> None:
        """Hold `facts` for `path` in memory, shadowing what the store has (an open document)."""
        self._held.put(path, facts)

    def remove(self, path: str) -> None:
        """Forget the facts held for `path`: the store's show again."""
        self._held.remove(path)

    def stored(self, path: str) -> None:
        """The store's facts of `path` changed (re-derived or deleted)."""
        self._cache.pop(path, None)
        self._postings.clear()  # which keys the note's old facts had is not known here
        self._counts.clear()
        if self._all is not None and self.store is not None:
            self._all.put(path, self.store.facts_for(path))

    def preload(self) -> None:
        """Hold every stored note's facts in memory: faster for a pass over the whole vault."""
        if self._all is None and self.store is not None:
            self._all = _Postings()
            for path, facts in self.store.all_facts():
                self._all.put(path, facts)
            self._cache.clear()

    # --- lookups -------------------------------------------------------------------------

    def facts_of(self, path: str) -> list[Fact]:
        if path in self._held.by_path:
            return self._held.by_path[path]
        if self._all is not None:
            return self._all.by_path.get(path, [])
        facts = self._cache.get(path)
        if facts is None:
            facts = self._cache[path] = self.store.facts_for(path)
            if len(self._cache) > self._cached_notes:
                self._cache.popitem(last=False)
        else:
            self._cache.move_to_end(path)
        return facts

    def _sizes(self, keys, common: int) -> dict[int, int]:
        """How many facts each key has (for the store's, exact up to `common` + 1: enough to
        tell a rare key from a common one). Counts read from the store are kept until the store
        changes under them; a few notes more or less do not make a key rare or common."""
        out = self._held.sizes(keys)
        if self._all is not None:
            below = self._all.sizes(keys)
        else:
            todo = [k for k in keys if self._counts.get(k, (0, -1))[1] < common]
            if todo:
                got = self.store.fact_key_counts(todo, common)
                for k in todo:
                    self._counts[k] = (got.get(k, 0), common)
            below = {k: self._counts[k][0] for k in keys}
        for k, n in below.items():
            if n:
                out[k] = out.get(k, 0) + n
        return out

    def _entries(self, keys) -> list[Entry]:
        keys = list(keys)
        if not keys:
            return []
        below = self._all.entries(keys) if self._all is not None else self._stored_entries(keys)
        held = self._held.by_path
        return self._held.entries(keys) + [e for e in below if e[1] not in held]

    def _stored_entries(self, keys: list[int]) -> list[Entry]:
        """The store's postings of `keys`, kept (LRU) until the store changes: re-checking an
        edited note asks for the same keys again, and reading them was half of its time."""
        todo = [k for k in keys if k not in self._postings]
        if todo:
            got: dict[int, list[Entry]] = {k: [] for k in todo}
            for e in self.store.fact_postings(todo):
                got[e[0]].append(e)
            self._postings.update(got)
        out: list[Entry] = []
        for k in keys:
            self._postings.move_to_end(k)
            out += self._postings[k]
        # trimmed after reading: evicting first could drop a key this call asked for (a KeyError
        # on a long note whose keys alone outnumber the cache)
        while len(self._postings) > POSTINGS_KEPT:
            self._postings.popitem(last=False)
        return out

    def candidates(self, fact: Fact, limit: int = 200, common: int = 250) -> list[Fact]:
        """Facts that could be about the same thing as `fact`: sharing two subject keys, or one
        that is part of a setting's name. Keys on more than `common` facts say nothing about the
        subject and are skipped, so the cost stays bounded however large the vault."""
        keys = {key_id(k): k for k in subject_keys(fact)}
        named = {key_id((*k[:-1], p)) for k in keys.values() for p in fact.ident}
        sizes = self._sizes(keys, common)
        rare = [k for k in keys if sizes.get(k, 0) <= common]
        counts: dict[tuple[str, int], int] = {}
        for k, path, i, flag in self._entries(rare):
            counts[(path, i)] = counts.get((path, i), 0) + (2 if flag or k in named else 1)
        best = sorted(
            (pi for pi, n in counts.items() if n >= 2 or fact.kind == FactKind.PROHIBITION),
            key=lambda pi: (-counts[pi], pi),
        )
        return [f for f in (self._fact(p, i) for p, i in best[:limit]) if f is not None]

    def _fact(self, path: str, i: int) -> Fact | None:
        facts = self.facts_of(path)
        return facts[i] if i < len(facts) else None

    def prohibitions_of(self, verbs, limit: int = 500) -> dict[str, list[Fact]]:
        """Prohibitions of these (stemmed) verbs anywhere in the vault, by verb."""
        ids = {key_id(("verb", v)): v for v in verbs}
        out: dict[str, list[Fact]] = {}
        for k, path, i, _ in self._entries(ids):
            got = out.setdefault(ids[k], [])
            if len(got) < limit:
                f = self._fact(path, i)
                if f is not None and f.kind == FactKind.PROHIBITION:
                    got.append(f)
        return out

    def conflicts_of(self, path: str, guesses_per_fact: int = 3) -> list[Conflict]:
        """Conflicts of `path`'s facts: every certain one (so that both sides find each other),
        and at most `guesses_per_fact` uncertain ones per fact (candidates for the judge, the most
        similar subjects first)."""
        out: list[Conflict] = []
        for f in self.facts_of(path):
            if f.kind not in (FactKind.QUANTITY, FactKind.ORDER):
                continue
            guesses = 0
            for g in self.candidates(f):
                if g.kind != f.kind or (g.path == f.path and g.range == f.range):
                    continue
                c = pair_conflict(f, g, self.rarity)
                if c and f.kind == FactKind.QUANTITY and (self._states(g, f) or self._states(f, g)):
                    c = None  # "16 GB RAM, 512 GB NVMe" against "16 GB": the agreeing value is the one meant
                if c is None or (not c.certain and guesses >= guesses_per_fact):
                    continue
                guesses += not c.certain
                out.append(Conflict(f, g, c.why, c.certain, c.score))
        return _dedupe(out)

    def _states(self, sentence: Fact, value: Fact) -> bool:
        """Whether `sentence`'s sentence also states `value`'s quantity (same dimension, same value)."""
        q = value.quantity
        for h in self.facts_of(sentence.path):
            if h.range == sentence.range and h.quantity is not None and h is not sentence:
                p = h.quantity
                if p.dim == q.dim and _same(p.value, q.value):
                    return True
        return False
