"""Related statements and notes: contradiction candidates for the model, missing-link hints.

Both come from sentence vectors (claims of five words or more): a sentence's nearest
neighbours in other notes (or far away in the same long note) are the pairs worth a
model's judgement; two notes whose statements are close but that link neither way
deserve a `missing-link` hint. Unlinked mentions of a note's title or alias count too.
"""

from __future__ import annotations

import math
import re
from collections import Counter, OrderedDict
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from ponder.index.knowledge.facts import FactKind
from ponder.index.knowledge.view import VaultView
from ponder.index.notes import Diagnostic, Range, Related
from ponder.index.parsing.claims import LINK_SYNTAX
from ponder.index.parsing.positions import fold
from ponder.index.parsing.stems import content_stems

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")  # daily notes: a date in prose rarely means that day's note


def linked(vault: VaultView, a: str, b: str) -> bool:
    """Whether either note links the other, by any link form (a URL ending in its path counts)."""
    g = vault.graph
    for src, dst in ((a, b), (b, a)):
        note = g.notes.get(src)
        if note and any(_link_target(g, l, src) == dst for l in note.links):
            return True
    return False


def _link_target(g, link, src: str) -> str | None:
    """The note a link reaches: resolved like the editor does, or, for a URL (a repository's web
    address of a note, `…/blob/main/text/0132-ufcs.md`), the vault path its address ends in."""
    if link.kind != "url":
        return g.resolve_note(link, src)
    parts = [unquote(x) for x in urlsplit(link.target).path.split("/") if x]
    for k in range(len(parts)):
        tail = "/".join(parts[k:])
        if tail in g.notes:
            return tail
    return None


# --- related notes -------------------------------------------------------------------------
#
# "About the same thing" is judged by four signals, each ranking a note's candidate
# neighbours: the notes' words (BM25 of the other's sentences for this note's rarest telling
# stems), the best pair of sentences (the rare words they share), the best pair of sections
# (chunk vectors, when embedded), and quantities about the same subject. Ranks are fused (reciprocal rank), so no
# signal's scale
# needs calibrating per vault or per embedding model. A pair is hinted only when each note
# is the other's closest (mutual: a note close to everything, like a config reference, is
# nobody's closest in particular), both state a value for one subject (a fact-index match:
# the evidence that makes the link worth adding, and the place a contradiction would start),
# the graph does not already connect them within two steps, and they are not both dated
# records (two diary days share words, not a topic). Precision first: words alone found
# true-but-idle pairs as often as the labelled ones.

RRF_K = 5
SIGNALS = ("words", "sentence", "section", "facts")
MUTUAL_TOP = 1  # mutual nearest neighbours: precision first
CANDIDATES = 40  # notes scored per note, best by words
QUERY_SHARE = 300  # a query word must be in under 1 of this many sentences...
QUERY_FLOOR = 50  # ...or in at most this many
SMALL_NEIGHBOURHOOD = 8  # a shared link target with more backlinks than this is a hub, not a topic
TELLING = 40  # words per note that sentence pairs are matched on
SENTENCE_PAIRS_FOR = 8  # candidates (closest by words) whose sentence pairs and facts are compared
PROFILES_KEPT = 4096  # a whole-vault check walks 20k notes: keep memory bounded


@dataclass
class _Profile:
    weights: dict[str, float]  # stem -> TF-IDF weight, unit length
    sentences: list[tuple[Range, frozenset[str]]]  # with the note's most telling stems only
    index: dict[str, list[int]]  # stem -> the sentences holding it


class Idf(dict):
    """Stem -> inverse sentence frequency, filled as stems are met. It changes slowly with the
    vault, and counting a common stem's sentences costs milliseconds: the editor keeps one
    across computations (and starts a new one now and then)."""

    total = 0  # sentences in the index when the first weight was computed


class Relatedness:
    """Which notes are about the same thing as a given one; caches what it computes, so build one
    per check (or per index generation) and ask it about many notes."""

    def __init__(self, vault: VaultView, idf: Idf | None = None) -> None:
        self.vault = vault
        self._profiles: OrderedDict[str, _Profile | None] = OrderedDict()  # least recently used first
        self._idf = idf if idf is not None else Idf()
        self._chunks: dict[str, object] = {}
        self._ranked: dict[str, list[tuple[str, Range | None, Range | None]]] = {}
        self._out: dict[str, set[str]] = {}
        self._shared: dict[tuple[str, str], int] = {}
        self._words: dict[str, dict[str, float]] = {}

    # signals

    def _idf_of(self, stems) -> None:
        missing = [s for s in stems if s not in self._idf]
        if not missing:
            return
        if not self._idf.total:
            self._idf.total = self.vault.store.sentence_count()
        counts = self.vault.store.stem_sentence_counts(missing)
        for s in missing:
            n = counts.get(s, 0)
            # a stem in one sentence only says nothing about a second note
            self._idf[s] = math.log((self._idf.total + 1) / n) if n > 1 else 0.0

    def profile(self, path: str) -> _Profile | None:
        if path in self._profiles:
            self._profiles.move_to_end(path)
            return self._profiles[path]
        for _ in self._profile_steps(path):
            pass
        return self._profiles[path]

    def _profile_steps(self, path: str) -> Iterator[None]:
        """Build `path`'s profile in three steps: its sentences' stems, their IDF, the weights."""
        if path in self._profiles:
            return
        note = self.vault.open_note(path)
        rows = (
            [(s.kind, s.text, s.range) for s in note.sentences]
            if note
            else [(k, t, r) for k, _, t, r in self.vault.store.sentences(path)]
        )
        tf: Counter[str] = Counter()
        sentences = []
        for i, (kind, text, rng) in enumerate(rows, 1):
            if kind == "code":
                continue  # pseudocode steps name variables, not topics
            stems = content_stems(
                LINK_SYNTAX.sub(" ", text).replace("`", " ")
            )  # a link's target is another note's name
            tf.update(stems)
            if len(stems) >= 3:
                sentences.append((rng, frozenset(stems)))
            if i % 200 == 0:  # a long note's sentences take several steps
                yield
        if tf:
            yield
            self._idf_of(tf)
            yield
        self._profiles[path] = self._weigh(tf, sentences) if tf else None
        if len(self._profiles) > PROFILES_KEPT:
            self._profiles.popitem(last=False)

    def _weigh(self, tf: Counter[str], sentences: list[tuple[Range, frozenset[str]]]) -> _Profile:
        w = {t: (1 + math.log(n)) * self._idf[t] for t, n in tf.items() if self._idf[t] > 0}
        norm = math.sqrt(sum(x * x for x in w.values())) or 1.0
        # sentences keep only the note's most telling words: a shared common word says nothing,
        # and long notes would make every sentence pair a candidate
        telling = set(sorted(w, key=lambda t: -w[t])[:TELLING])
        kept = [(rng, x) for rng, st in sentences if len(x := st & telling) >= 2]  # one shared word is no passage
        index: dict[str, list[int]] = {}
        for j, (_, st) in enumerate(kept):
            for t in st:
                index.setdefault(t, []).append(j)
        return _Profile({t: x / norm for t, x in w.items()}, kept, index)

    def _chunk_matrix(self, path: str):
        if path not in self._chunks:
            import numpy as np

            blobs = self.vault.store.chunk_vectors(path) if self.vault.embedding.enabled else []
            if blobs:
                m = np.stack([np.frombuffer(b, dtype=np.float32) for b in blobs])
                m = m / np.maximum(np.linalg.norm(m, axis=1, keepdims=True), 1e-9)
            else:
                m = None
            self._chunks[path] = m
        return self._chunks[path]

    def _candidate_steps(self, path: str, prof: _Profile) -> Generator[None, None, dict[str, float]]:
        """Notes worth scoring (the return value): sharing the note's most telling words, or a fact's
        subject. (A vector search per section would cost a brute-force scan each: too slow at
        20k notes.) In steps: the word query, then the fact partners a few facts at a time."""
        # a word in more than one sentence in QUERY_SHARE (and more than QUERY_FLOOR sentences) says
        # little about a topic, and an FTS query ranking all its sentences costs tens of ms at 20k notes
        total = self._idf.total
        rare = math.log((total + 1) / max(QUERY_FLOOR, total / QUERY_SHARE))
        top = [t for t in sorted(prof.weights, key=lambda t: -prof.weights[t]) if self._idf[t] >= rare][:8]
        found = self.vault.store.files_sharing_stems(top, limit=120) if top else {}
        words = {p: found[p] for p in sorted(found, key=lambda p: -found[p])[:CANDIDATES]}
        for p in (yield from self._fact_partner_steps(path)):
            words.setdefault(p, 0.0)
        words.pop(path, None)
        return {p: x for p, x in words.items() if p in self.vault.graph.notes and not p.endswith(".pseudo")}

    def _fact_partner_steps(self, path: str, per_step: int = 4) -> Generator[None, None, set[str]]:
        """Notes with a fact about a subject `path` states a value for (the return value), found through
        the fact index by its rarer keys only (a key on more than 50 facts is skipped: bounded at
        20k notes); a step every `per_step` facts."""
        from ponder.index.knowledge.clash import subjects_match

        fi = self.vault.facts
        out: set[str] = set()
        done = 0
        for f in fi.facts_of(path):
            if f.kind != FactKind.QUANTITY:
                continue
            for g in fi.candidates(f, limit=20, common=50):
                if g.path != path and g.kind == FactKind.QUANTITY and subjects_match(f, g):
                    out.add(g.path)
            done += 1
            if done % per_step == 0:
                yield
        return out

    def shared_subjects(self, a: str, b: str) -> int:
        """How many of `a`'s quantities have one in `b` about the same subject (any values): both
        notes state a value for the same thing."""
        key = (a, b) if a < b else (b, a)
        if key not in self._shared:
            from ponder.index.knowledge.clash import subjects_match

            fi = self.vault.facts
            fb = [g for g in fi.facts_of(b) if g.kind == FactKind.QUANTITY]
            self._shared[key] = (
                sum(1 for f in fi.facts_of(a) if f.kind == FactKind.QUANTITY and any(subjects_match(f, g) for g in fb))
                if fb
                else 0
            )
        return self._shared[key]

    def ranked(self, path: str) -> list[tuple[str, Range | None, Range | None]]:
        """Other notes by how much they are about the same thing as `path`, closest first, each with
        the best-matching sentence on either side (when one was found)."""
        if path not in self._ranked:
            for _ in self._rank_steps(path):
                pass
        return self._ranked[path]

    def _rank_steps(self, path: str) -> Iterator[None]:
        """`ranked(path)` computed in steps of a few milliseconds (see `steps`)."""
        yield from self._profile_steps(path)
        prof = self.profile(path)
        if prof is None:
            self._ranked[path] = []
            return
        yield
        m = self._chunk_matrix(path)
        # "words": BM25 of the other note's sentences for this note's rarest telling words, as the
        # index ranks them (profiles of 40 other notes per note cost too much at 20k notes)
        if path not in self._words:
            self._words[path] = yield from self._candidate_steps(path, prof)
        scores: dict[str, dict[str, float]] = {"words": self._words[path], "sentence": {}, "section": {}, "facts": {}}
        yield
        where: dict[str, tuple[Range | None, Range | None]] = {}
        # sentence pairs and shared subjects are the costly signals: only for the closest by words
        for other in self._paired(scores["words"]):
            yield from self._profile_steps(other)
            q = self.profile(other)
            yield
            if q is None:
                continue
            best, at = self._best_sentences(prof, q)
            scores["sentence"][other] = best
            where[other] = at
            scores["facts"][other] = self.shared_subjects(path, other)
            yield
        for other in scores["words"]:
            if m is not None:
                n = self._chunk_matrix(other)
                if n is not None:
                    scores["section"][other] = float((m @ n.T).max())
        fused: Counter[str] = Counter()
        for name in SIGNALS:
            signal = scores[name]
            for rank, other in enumerate(sorted(signal, key=lambda o: -signal[o])):
                if signal[other] > 0:
                    fused[other] += 1.0 / (RRF_K + rank)
        self._ranked[path] = [(o, *where.get(o, (None, None))) for o, _ in fused.most_common()]

    @staticmethod
    def _paired(words: dict[str, float]) -> list[str]:
        """The candidates whose sentence pairs and shared subjects are compared."""
        return sorted(words, key=lambda o: (-words[o], o))[:SENTENCE_PAIRS_FOR]

    def steps(self, path: str) -> Iterator[None]:
        """Compute what `related(path)` reads in steps of a few milliseconds (a profile, a
        candidate list, one sentence-pair comparison), so that the caller can run other work
        between steps; `related(path)` then answers from the caches."""
        if path not in self._ranked:
            yield from self._rank_steps(path)
        for other, _, _ in self._ranked[path][:MUTUAL_TOP]:
            if other not in self._ranked:
                yield from self._rank_steps(other)

    def _best_sentences(self, a: _Profile, b: _Profile) -> tuple[float, tuple[Range | None, Range | None]]:
        """The pair of sentences sharing the most telling words (sum of their IDF)."""
        index = b.index
        best, at = 0.0, (None, None)
        idf = self._idf
        for rng, stems in a.sentences:
            acc: dict[int, float] = {}
            for s in stems:
                if s in index:
                    w = idf[s]
                    for j in index[s]:
                        acc[j] = acc.get(j, 0.0) + w
            if acc:
                j = max(acc, key=acc.__getitem__)
                if acc[j] > best:
                    best, at = acc[j], (rng, b.sentences[j][0])
        return best, at

    # the graph

    def _out_links(self, path: str) -> set[str]:
        if path not in self._out:
            g = self.vault.graph
            note = self.vault.note(path)
            self._out[path] = {t for l in (note.links if note else ()) if (t := _link_target(g, l, path)) and t != path}
        return self._out[path]

    def connected(self, a: str, b: str) -> bool:
        """Linked either way, or two steps apart: a → c → b, both linking a small note, or both
        linked from a short note (a hub like an index note connects everything and counts not)."""
        oa, ob = self._out_links(a), self._out_links(b)
        if b in oa or a in ob:
            return True
        g = self.vault.graph
        if any(len(g.backlinks(t)) <= SMALL_NEIGHBOURHOOD for t in oa & ob):
            return True
        if any(b in self._out_links(c) for c in oa) or any(a in self._out_links(c) for c in ob):
            return True
        into_a = {src for src, _ in g.backlinks(a)}
        into_b = {src for src, _ in g.backlinks(b)}
        return any(len(self._out_links(c)) <= SMALL_NEIGHBOURHOOD for c in into_a & into_b)

    def related(self, path: str) -> list[tuple[str, Range | None, Range | None]]:
        """Notes about the same thing as `path` that the graph does not connect: each is among the
        other's closest notes."""
        out = []
        for other, here, there in self.ranked(path)[:MUTUAL_TOP]:
            if there is None or not self.shared_subjects(path, other):
                # words alone make many true but idle pairs ("both mention restores"): a hint needs a
                # passage both share and a subject both state a value for (a fact index match)
                continue
            if path not in [o for o, _, _ in self.ranked(other)[:MUTUAL_TOP]]:
                continue
            if self.connected(path, other) or (_dated(path) and _dated(other)):
                continue
            out.append((other, here, there))
        return out


def _dated(path: str) -> bool:
    """A daily or meeting note, named by its date."""
    return bool(_DATE.match(path.rsplit("/", 1)[-1]))


def missing_links_steps(
    vault: VaultView, path: str, max_hints: int = 3, idf: Idf | None = None
) -> Generator[None, None, list[Diagnostic]]:
    """`missing_links` in steps (see `Relatedness.steps`); the hints are the generator's return value."""
    rel = Relatedness(vault, idf)
    if not path.endswith(".pseudo"):
        yield from rel.steps(path)
    return missing_links(vault, path, rel, max_hints)


def missing_links(
    vault: VaultView, path: str, relatedness: Relatedness | None = None, max_hints: int = 3
) -> list[Diagnostic]:
    """`missing-link` hints for `path`: notes about the same thing (see `Relatedness`), or
    mentioned by title, that it does not link and that do not link it."""
    if path.endswith(".pseudo"):
        return []  # a .pseudo file cannot hold a link
    rel = relatedness or Relatedness(vault)
    found: dict[str, tuple[Range | None, Range | None, str]] = {}
    for other, (_line, rng) in unlinked_mentions(vault, path).items():
        if not other.endswith(".pseudo") and not linked(vault, path, other):
            found.setdefault(other, (rng, None, "it is mentioned by name here"))
    for other, here, there in rel.related(path):
        why = f"both discuss this; see {other}:{there.start.line + 1}" if there else "the notes discuss the same things"
        found.setdefault(other, (here, there, why))
    out = []
    for other, (here, there, why) in list(found.items())[:max_hints]:
        target = vault.graph.notes.get(other)
        title = target.title if target else other
        related = (Related(other, there or Range.of(0, 0), "the related passage" if there else "the related note"),)
        out.append(
            Diagnostic(
                path,
                here or Range.of(0, 0),
                "hint",
                "missing-link",
                f"Related note '{title}' is not linked ({why})",
                related,
                {"target": other, "title": title},
            )
        )
    return out


MENTION_SHARE = 0.02  # a name's word in more than this share of the vault's sentences says little

# a table row (terse labels), a callout's title, a heading in a quote
_NOT_PROSE = re.compile(r"^\s*(?:\||(?:>\s*)+(?:\[![^\]]*\]|#))")
_CODE_OR_URL = re.compile(r"(`+).*?\1|\b[a-z][a-z+.-]*://\S+|\{\{.*?\}\}")


def unlinked_mentions(vault: VaultView, path: str) -> dict[str, tuple[int, Range]]:
    """Other notes whose title or alias (two words, or 6+ letters) appears in `path`'s prose unlinked."""
    note = vault.note(path)
    text = vault.read_text(path) or ""
    if note is None or not text:
        return {}
    names = vault.graph.names()
    rarity = vault.facts.rarity
    skip_lines = {l.range.start.line for l in note.links}
    if note.front_matter_range:
        skip_lines.update(range(note.front_matter_range.end.line + 1))
    for b in note.code_blocks:
        skip_lines.update(range(b.range.start.line, b.range.end.line + 1))
    skip_lines.update(h.range.start.line for h in note.headings)  # a heading names its own section
    out: dict[str, tuple[int, Range]] = {}
    for i, line in enumerate(text.splitlines()):
        if i in skip_lines or _NOT_PROSE.match(line):
            continue
        # code spans and addresses name commands and files, not notes
        words = re.findall(r"[\w][\w'-]*", fold(_CODE_OR_URL.sub(" ", line)))
        for n in range(1, 5):
            for j in range(len(words) - n + 1):
                key = " ".join(words[j : j + n])
                # one-word names count only when distinctive (ADR-002-chunk-size), not 'monitoring'
                if (n == 1 and not re.search(r"[-_\d]", key)) or key not in names or _DATE.fullmatch(key):
                    continue
                stems = set(content_stems(key))
                for other in names[key]:
                    if other == path or other in out:
                        continue
                    target = vault.graph.notes.get(other)
                    # a title needs one word that is not everywhere in the vault ("command palette");
                    # an alias, every word ("local vault" in a vault about vaults names nothing)
                    if target is not None and fold(target.title) == key:
                        ok = rarity.telling(stems, MENTION_SHARE)
                    else:
                        ok = rarity.telling(stems, MENTION_SHARE) == stems
                    if ok:
                        out[other] = (i, Range.of(i, 0, i, len(line)))
    return out
