"""Prohibitions: "never deletes X" in one note against a plain statement doing it ("delete … X")
in another, found both ways (this note's prohibitions against statements anywhere, and this
note's statements against prohibitions elsewhere, looked up by verb).

The identity is explicit only when the statement does the forbidden action to the same thing:
two words of the prohibition's clause (its subject or object) near the statement's verb, as in
"the master key is never written to disk" against "write the master key to /etc/orbit". One
shared word makes a candidate for the judge; a statement that negates, hedges or asks agrees or
claims nothing ("needs no internet connection" against "never connects")."""

from __future__ import annotations

import re
from functools import lru_cache

from ponder.index.knowledge.clash import EVERY_WORD_TELLS, GENERIC, Rarity
from ponder.index.knowledge.conflicts import Conflict
from ponder.index.knowledge.facts import Fact, FactKind, statement_fact
from ponder.index.knowledge.view import VaultView
from ponder.index.notes import Note, Range
from ponder.index.parsing.stems import content_stems, stem

_NEGATED = re.compile(
    r"\b(never|not|no|none|nothing|without|cannot|can't|don't|doesn't|won't|n't|neither|nor)\b|"
    r"(?<!\w)(не|нет|ни|без|никогда|нельзя|запрещено)(?!\w)",
    re.I,
)
_HEDGED = re.compile(r"\b(if|unless|whether|may|might|can|could|would|если|может|можно|возможно)\b", re.I)
_WORD = re.compile(r"[^\W\d_][\w'-]*")
WINDOW = 6  # words either side of the statement's verb that count as its object or subject
PROHIBITIONS_PER_NOTE = 200  # a note repeating "never …" a thousand times is checked once per distinct rule


@lru_cache(maxsize=65536)
def _stems(text: str) -> frozenset[str]:
    return frozenset(content_stems(text.replace("`", "")))


@lru_cache(maxsize=65536)
def _around(text: str, verb: str) -> tuple[frozenset[str], str, frozenset[str]] | None:
    """Stems within `WINDOW` words of the first word whose stem is `verb`, that word, and the
    stems of the two words right after it (the action's own words: "place undue burden")."""
    words = _WORD.findall(text.replace("`", " "))
    stems = [stem(w.lower()) for w in words]
    for i, s in enumerate(stems):
        if s == verb:
            near = " ".join(words[max(0, i - WINDOW) : i] + words[i + 1 : i + 1 + WINDOW])
            phrase = frozenset(content_stems(" ".join(words[i + 1 : i + 3])))
            return frozenset(content_stems(near)), words[i], phrase
    return None


@lru_cache(maxsize=65536)
def _affirms(text: str) -> bool:
    """The sentence states something: it neither negates, hedges nor asks (asked once per
    sentence, not once per prohibition it is screened against)."""
    return not (_NEGATED.search(text) or _HEDGED.search(text) or text.rstrip().endswith("?"))


@lru_cache(maxsize=65536)
def _may_clash(text: str, verb: str, local: frozenset[str]) -> bool:
    """The cheap half of `prohibition_clash`, on text alone: affirmative, and the forbidden verb
    with a word of the rule near it (most sentences a stem search finds stop here)."""
    if not _affirms(text):
        return False
    found = _around(text, verb)
    return found is not None and bool((local & found[0]) - GENERIC - {verb})


def prohibition_clash(p: Fact, statement: Fact, rarity: Rarity = EVERY_WORD_TELLS) -> Conflict | None:
    """A prohibition ("never deletes X") against a sentence that does it ("delete ... X"), with
    the prohibition as `a`; None when the statement negates, hedges or asks, or shares nothing."""
    if p.verb is None or statement.status or p.status or p.env != statement.env or p.version != statement.version:
        return None
    text = statement.text
    if not _affirms(text):
        return None
    found = _around(text, p.verb)
    if found is None:
        return None
    near, word, phrase = found
    forbidden = _around(p.text, p.verb)
    # the same words right after both verbs are one idiom ("place undue burden"), not a shared object
    idiom = phrase & forbidden[2] if forbidden else frozenset()
    shared = (p.local & near) - GENERIC - {p.verb} - idiom
    if not shared:
        return None  # the statement's action is on something else
    # the prohibition's subject or object, anywhere in the statement ("Orbit never deletes anything
    # from the bucket" against "run `orbit prune` … to delete old chunks from the offsite bucket")
    shared = rarity.telling(shared | ((p.local & _stems(text)) - GENERIC - {p.verb} - idiom))
    if not shared:
        return None
    never = f"never {forbidden[1] if forbidden else p.verb + '…'}"
    # in one note, the sentences around a rule are its context (its scope, its exceptions)
    certain = len(shared) >= 2 and p.path != statement.path
    return Conflict(p, statement, (never, word), certain, 0.4 + 0.2 * len(shared))


def _headings(vault: VaultView, path: str, rng: Range) -> tuple[str, ...]:
    """The heading path above `rng` (a statement under "Motivation" claims nothing of its own)."""
    note = vault.note(path)
    if note is None:
        return ()
    above = [i for i, h in enumerate(note.headings) if h.range.start.line <= rng.start.line]
    return tuple(note.heading_path(above[-1])) if above else ()


def _same_section(vault: VaultView, path: str, rng: Range, p: Fact) -> bool:
    return _headings(vault, path, rng) == _headings(vault, path, p.range)


def _sentences_of(vault: VaultView, path: str) -> list[tuple[str, Range]]:
    note = vault.open_note(path)
    if note is not None:
        return [(s.text, s.range) for s in note.sentences]
    return [(t, r) for _, _, t, r in vault.store.sentences(path)]


def prohibition_conflicts(vault: VaultView, path: str) -> list[Conflict]:
    """Conflicts of `path` that involve a prohibition, each with `path`'s fact as `a` (a
    prohibition here, or a statement here against a prohibition elsewhere)."""
    fi = vault.facts
    out: list[Conflict] = []
    # this note's prohibitions against statements anywhere (each distinct rule once)
    seen: set[tuple] = set()
    for p in (f for f in fi.facts_of(path) if f.kind == FactKind.PROHIBITION and f.verb):
        rule = (p.verb, p.local)
        if rule in seen or len(seen) >= PROHIBITIONS_PER_NOTE:
            continue
        seen.add(rule)
        for other_path, text, rng in _statements_with(vault, p):
            if other_path == path and (
                abs(rng.start.line - p.range.start.line) <= 3 or _same_section(vault, path, rng, p)
            ):
                continue  # the sentences around a rule qualify it ("not allowed … in this mode")
            if not _may_clash(text, p.verb, p.local):
                continue
            c = prohibition_clash(
                p, statement_fact(other_path, rng, text, _headings(vault, other_path, rng)), fi.rarity
            )
            if c is not None:
                out.append(c)
    # this note's statements against prohibitions elsewhere (looked up by verb)
    sentences = [(text, rng, _stems(text)) for text, rng in _sentences_of(vault, path)]
    prohibitions = fi.prohibitions_of(set().union(*(s for _, _, s in sentences)))
    for text, rng, stems in sentences:
        for verb in stems:
            for p in prohibitions.get(verb, ()):
                if p.path == path:
                    continue
                if not _may_clash(text, p.verb, p.local):
                    continue
                c = prohibition_clash(p, statement_fact(path, rng, text, _headings(vault, path, rng)), fi.rarity)
                if c is not None:
                    out.append(Conflict(c.b, c.a, (c.why[1], c.why[0]), c.certain, c.score))
    return out


def _statements_with(vault: VaultView, p: Fact) -> list[tuple[str, str, Range]]:
    """Sentences (stored and open) that use the prohibited verb and a word near it."""
    near = sorted(p.local - {p.verb})
    open_notes = vault.open_notes()
    rows = [r for r in vault.store.sentences_with_stems(p.verb, near) if r[0] not in open_notes]
    for path, note in open_notes.items():
        for i in _by_stem(path, note).get(p.verb, ()):
            s = note.sentences[i]
            if _stems(s.text) & set(near):
                rows.append((path, s.text, s.range))
    return rows


_OPEN_BY_STEM: dict[str, tuple[Note, dict[str, list[int]]]] = {}


def _by_stem(path: str, note: Note) -> dict[str, list[int]]:
    """An open note's sentences by stem (kept while the note's parse stays the same): each
    prohibition looks up its verb instead of reading every sentence of every open note."""
    hit = _OPEN_BY_STEM.get(path)
    if hit is not None and hit[0] is note:
        return hit[1]
    index: dict[str, list[int]] = {}
    for i, s in enumerate(note.sentences):
        for st in _stems(s.text):
            index.setdefault(st, []).append(i)
    if len(_OPEN_BY_STEM) > 256:
        _OPEN_BY_STEM.clear()
    _OPEN_BY_STEM[path] = (note, index)
    return index
