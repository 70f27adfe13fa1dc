"""What every conflict rule shares: the words that say what kind of value a claim is (not what it
is about), when two claims are about the same thing, and what a rule answers (`Clash`)."""

from __future__ import annotations

from dataclasses import dataclass

from ponder.index.knowledge.facts import Fact
from ponder.index.parsing.stems import stem

# Parts of a name or sentence that say what kind of value it is, not what it is about.
GENERIC = {
    stem(w)
    for w in """max maximum min minimum default size count number num limit interval period timeout total value
    time const config setting settings every each per amount level rate new old first last power capacity
    temperature temp duration length width height weight speed
    макс максимум мин минимум размер число количество лимит интервал период таймаут значение
    мощность ёмкость емкость температура длительность скорость""".split()
}
REL_TOLERANCE = 0.01


@dataclass(frozen=True, slots=True)
class Clash:
    """Two facts that cannot both hold: what each says, and whether their identity is explicit.

    `certain`: both claims are, explicitly, about the same subject and attribute (one named
    setting, a row naming the other's subject, the same object of the same action); only such a
    clash is reported as a `fact-conflict`. Otherwise the identity is a guess from shared words,
    and the pair goes to the model judge as a candidate (`score` orders them)."""

    why: tuple[str, str]  # what `a` says, what `b` says: ("4 MiB", "8 MB")
    certain: bool
    score: float = 1.0


class Rarity:
    """Which words tell a subject apart in this vault: a word in many sentences ("obsidian" in
    Obsidian's own help, "trait" in the Rust RFCs) names the vault's topic, not one thing, so two
    claims sharing it may be about anything. Counts come from the store, kept per word."""

    FLOOR = 60  # a word in this many sentences or fewer always tells
    SHARE = 0.002  # ...and in a large vault, one in up to this share of its sentences

    def __init__(self, store=None) -> None:
        self.store = store
        self._counts: dict[str, int] = {}
        self._limit: float | None = None
        self._total = 0

    def telling(self, words: set[str], share: float | None = None) -> set[str]:
        """The words of `words` in at most FLOOR sentences or `share` (default SHARE) of them."""
        if self.store is None or not words:
            return set(words)
        if self._limit is None:
            self._total = self.store.sentence_count()
            self._limit = max(self.FLOOR, self.SHARE * self._total)
        limit = self._limit if share is None else max(self.FLOOR, share * self._total)
        todo = [w for w in words if w not in self._counts]
        if todo:
            got = self.store.stem_sentence_counts(todo)
            for w in todo:
                self._counts[w] = got.get(w, 0)
            if len(self._counts) > 100_000:
                self._counts.clear()
        return {w for w in words if self._counts.get(w, 0) <= limit}


EVERY_WORD_TELLS = Rarity()


def shared_words(a: Fact, b: Fact) -> set[str]:
    """The meaningful stems both claims use near their values; a hyphenated word counts once
    (`libs-fcp` and its parts are one word)."""
    shared = (a.local & b.local) - GENERIC
    parts = {stem(p) for w in shared if "-" in w for p in w.split("-")}
    return shared - parts


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
        if x.about_note and y.path == x.path:
            continue  # a front-matter value and a sentence of the same note: both about the note
        if x.row_key:
            key = x.row_key - GENERIC
            if y.row_key and not (key & (y.row_key - GENERIC)):
                return False
            if key and not (key & y.stems):
                return False
        # two columns of one subject are two attributes (a filament's print and drying temperature)
        attr = x.attribute - GENERIC
        if attr and not (attr & (y.attribute or y.local)):
            return False
    for x, y in ((a, b), (b, a)):
        core = set(x.ident) - GENERIC
        if core and core <= y.local:
            return True
    return len((a.local & b.local) - GENERIC) >= 2


def _same(x: float, y: float) -> bool:
    return abs(x - y) <= REL_TOLERANCE * max(abs(x), abs(y), 1e-12)
