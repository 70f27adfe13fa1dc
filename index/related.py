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
from typing import TYPE_CHECKING

from .model import Diagnostic, Range, Related
from .stems import content_stems
from .store import LINK_SYNTAX, GLOSSARY_WORDS, sentence_hash
from .text import fold

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")  # daily notes: a date in prose rarely means that day's note

if TYPE_CHECKING:
    from .vault import Vault


@dataclass(frozen=True, slots=True)
class Candidate:
    a_path: str
    a_text: str
    a_range: Range
    b_path: str
    b_text: str
    b_range: Range
    similarity: float

    def key(self) -> tuple:
        return tuple(sorted([(self.a_path, self.a_range.start.line), (self.b_path, self.b_range.start.line)]))


def _claims(vault: "Vault", path: str) -> list[tuple[str, Range, bytes | None]]:
    """(text, range, vector) of a note's claims; open documents are embedded on the fly."""
    out = []
    note = vault._open.get(path)
    rows = [(s.kind, s.text, s.range, sentence_hash(s.kind, s.text)) for s in note.sentences] if note else vault.store.sentence_rows(path)
    missing: list[int] = []
    for kind, text, rng, h in rows:
        if h is None:
            continue
        out.append([text, rng, vault.store.sentence_vector(h) if vault.embedding.enabled else None])
        if out[-1][2] is None:
            missing.append(len(out) - 1)
    if missing and vault.embedding.enabled:
        vecs = vault.embedder.encode([out[i][0] for i in missing])
        for i, v in zip(missing, vecs):
            out[i][2] = v.tobytes()
    return [(t, r, v) for t, r, v in out]


def _cosine(a: bytes, b: bytes) -> float:
    import numpy as np

    x, y = np.frombuffer(a, dtype=np.float32), np.frombuffer(b, dtype=np.float32)
    return float(x @ y / max(float(np.linalg.norm(x) * np.linalg.norm(y)), 1e-9))


_BOLD_TERM = re.compile(r"^\*\*([^*]{2,60})\*\*\s*(?:[—–:-]|это\b|is\b|are\b)")


class Definitions:
    """Where terms are defined: the sections of glossary notes (the heading names the term) and
    bold-term lines (`**Chunk** — ...`). A claim that uses a term is worth comparing with the
    term's definition even when the two sentences share little else: "the snapshot is updated
    in place" against "a committed snapshot never changes"."""

    def __init__(self, store) -> None:
        self.store = store
        self.by_path: dict[str, list[tuple[tuple[str, ...], str, Range, str]]] = {}
        for row in store.definition_rows():
            self._add(*row)
        self._by_stem: dict[str, list[tuple[tuple[str, ...], str, str, Range, str]]] | None = None

    def _add(self, path: str, heading: str, text: str, rng: Range, h: str) -> None:
        m = _BOLD_TERM.match(text)
        term = m.group(1) if m else heading
        if not m and (not any(w in fold(path) for w in GLOSSARY_WORDS) or any(w in fold(term) for w in GLOSSARY_WORDS)):
            return  # a glossary note's own title section defines nothing
        stems = tuple(content_stems(term))
        if stems and len(stems) <= 4:
            self.by_path.setdefault(path, []).append((stems, text, rng, h))
            self._by_stem = None

    def refresh(self, path: str, rows: list[tuple[str, str, str, Range, str]]) -> None:
        """Replace `path`'s definitions (rows as `Store.definition_rows` gives them)."""
        self.by_path.pop(path, None)
        self._by_stem = None
        for row in rows:
            self._add(*row)

    def used_in(self, stems: list[str], path: str, limit: int = 3) -> list[tuple[str, str, Range, str]]:
        """(path, text, range, hash) of the definitions of terms that a claim with `stems` uses,
        outside `path`; the rarest terms first."""
        if self._by_stem is None:
            idx: dict[str, list] = {}
            for p, items in self.by_path.items():
                for term, text, rng, h in items:
                    idx.setdefault(term[0], []).append((term, p, text, rng, h))
            self._by_stem = idx
        have = set(stems)
        hits = []
        for st in have:
            for term, p, text, rng, h in self._by_stem.get(st, ()):
                if p != path and set(term) <= have:
                    hits.append((p, text, rng, h))
        return hits[: limit * 4]


@dataclass
class _Hit:
    path: str
    text: str
    range: Range
    score: float = 0.0
    similarity: float | None = None
    hash: str | None = None
    exempt: bool = False  # kept below the similarity floor: a defined term, or top by words


FUSION_K = 60  # reciprocal-rank fusion constant (the usual one): ranks, not raw scores, are combined


def candidates(vault: "Vault", path: str, k: int = 10, min_similarity: float = 0.3) -> list[Candidate]:
    """For each claim in `path`, its `k` closest claims elsewhere (far away in the same note counts).

    Closeness fuses three rankings (reciprocal rank): sentence vectors (meaning), BM25 over
    content stems (the same rare words, which also works where the embedding model does not
    know the language), and the definitions of the terms the claim uses (see `Definitions`).
    `similarity` is the vectors' cosine (0 without embeddings); pairs below `min_similarity`
    are dropped unless the words ranked them among the first few or they define a term used."""
    out: list[Candidate] = []
    for text, rng, vec in _claims(vault, path):
        def elsewhere(p: str, r: Range) -> bool:
            # itself or its neighbours; an open note's stored copy is stale
            return not (p == path and (abs(r.start.line - rng.start.line) <= 3 or p in vault._open))

        by_vec = [(p, t, r, sim) for p, t, r, sim in (vault.store.similar_sentences(vec, k + 8) if vec else []) if elsewhere(p, r)]
        stems = content_stems(text.replace("`", " "))
        by_words = [(p, t, r, h) for p, t, r, h in vault.store.sentences_sharing_stems(stems, k + 8) if elsewhere(p, r)]
        defined = [(p, t, r, h) for p, t, r, h in vault.definitions.used_in(stems, path) if elsewhere(p, r)]
        if vec and defined:  # the definitions' own ranking: by meaning, closest first
            defined.sort(key=lambda d: -(_cosine(vec, v) if (v := vault.store.sentence_vector(d[3])) else 0.0))
        hits: dict[tuple[str, int], _Hit] = {}

        def hit(p: str, t: str, r: Range, rank: int) -> _Hit:
            h = hits.setdefault((p, r.start.line), _Hit(p, t, r))
            h.score += 1.0 / (FUSION_K + rank)
            return h

        for rank, (p, t, r, h) in enumerate(defined):
            x = hit(p, t, r, rank)
            x.hash, x.exempt = h, True  # chosen by term: no similarity floor
        for rank, (p, t, r, sim) in enumerate(by_vec):
            hit(p, t, r, rank).similarity = sim
        for rank, (p, t, r, h) in enumerate(by_words):
            x = hit(p, t, r, rank)
            x.hash = h
            x.exempt = x.exempt or rank < 3  # among the best by words
        got = 0
        for x in sorted(hits.values(), key=lambda x: -x.score):
            if x.similarity is None:
                other = vault.store.sentence_vector(x.hash) if vec and x.hash else None
                x.similarity = _cosine(vec, other) if other else 0.0
            if x.similarity < min_similarity and not x.exempt:
                continue
            out.append(Candidate(path, text, rng, x.path, x.text, x.range, x.similarity))
            got += 1
            if got >= k:
                break
    return out


def linked(vault: "Vault", a: str, b: str) -> bool:
    """Whether either note links the other."""
    g = vault.graph
    for src, dst in ((a, b), (b, a)):
        note = g.notes.get(src)
        if note and any(l.kind != "url" and g.resolve_note(l, src) == dst for l in note.links):
            return True
    return False


# --- related notes -------------------------------------------------------------------------
#
# "About the same thing" is judged by four signals, each ranking a note's candidate
# neighbours: the notes' words (BM25 of the other's sentences for this note's rarest telling
# stems), the best pair of sentences (the rare words they share), the best pair of sections
# (chunk vectors, when embedded), and quantities about the same subject. Ranks are fused (reciprocal rank), so no signal's scale
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

    def __init__(self, vault: "Vault", idf: Idf | None = None) -> None:
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
        note = self.vault._open.get(path)
        rows = [(s.kind, s.text, s.range) for s in note.sentences] if note else [(k, t, r) for k, _, t, r in self.vault.store.sentences(path)]
        tf: Counter[str] = Counter()
        sentences = []
        for i, (kind, text, rng) in enumerate(rows, 1):
            if kind == "code":
                continue  # pseudocode steps name variables, not topics
            stems = content_stems(LINK_SYNTAX.sub(" ", text).replace("`", " "))  # a link's target is another note's name
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
        from .conflicts import subjects_match

        fi = self.vault.facts
        out: set[str] = set()
        done = 0
        for f in fi.facts_of(path):
            if f.kind != "quantity":
                continue
            for g in fi.candidates(f, limit=20, common=50):
                if g.path != path and g.kind == "quantity" and subjects_match(f, g):
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
            from .conflicts import subjects_match

            fi = self.vault.facts
            fb = [g for g in fi.facts_of(b) if g.kind == "quantity"]
            self._shared[key] = sum(
                1 for f in fi.facts_of(a) if f.kind == "quantity" and any(subjects_match(f, g) for g in fb)
            ) if fb else 0
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
            self._out[path] = {t for l in (note.links if note else ()) if l.kind != "url" and (t := g.resolve_note(l, path)) and t != path}
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


def missing_links_steps(vault: "Vault", path: str, max_hints: int = 3, idf: Idf | None = None) -> Generator[None, None, list[Diagnostic]]:
    """`missing_links` in steps (see `Relatedness.steps`); the hints are the generator's return value."""
    rel = Relatedness(vault, idf)
    if not path.endswith(".pseudo"):
        yield from rel.steps(path)
    return missing_links(vault, path, rel, max_hints)


def missing_links(vault: "Vault", path: str, relatedness: Relatedness | None = None, max_hints: int = 3) -> list[Diagnostic]:
    """`missing-link` hints for `path`: notes about the same thing (see `Relatedness`), or
    mentioned by title, that it does not link and that do not link it."""
    if path.endswith(".pseudo"):
        return []  # a .pseudo file cannot hold a link
    rel = relatedness or Relatedness(vault)
    found: dict[str, tuple[Range | None, Range | None, str]] = {}
    for other, (line, rng) in unlinked_mentions(vault, path).items():
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
            Diagnostic(path, here or Range.of(0, 0), "hint", "missing-link", f"Related note '{title}' is not linked ({why})", related,
                       {"target": other, "title": title})
        )
    return out


def unlinked_mentions(vault: "Vault", path: str) -> dict[str, tuple[int, Range]]:
    """Other notes whose title or alias (two words, or 6+ letters) appears in `path`'s prose unlinked."""
    note = vault.note(path)
    text = vault.read_text(path) or ""
    if note is None or not text:
        return {}
    names = vault.graph.names()
    skip_lines = {l.range.start.line for l in note.links}
    if note.front_matter_range:
        skip_lines.update(range(note.front_matter_range.end.line + 1))
    for b in note.code_blocks:
        skip_lines.update(range(b.range.start.line, b.range.end.line + 1))
    out: dict[str, tuple[int, Range]] = {}
    for i, line in enumerate(text.splitlines()):
        if i in skip_lines:
            continue
        words = re.findall(r"[\w][\w'-]*", fold(line))
        for n in range(1, 5):
            for j in range(len(words) - n + 1):
                key = " ".join(words[j : j + n])
                # one-word names count only when distinctive (ADR-002-chunk-size), not 'monitoring'
                if (n == 1 and not re.search(r"[-_\d]", key)) or key not in names or _DATE.fullmatch(key):
                    continue
                for other in names[key]:
                    if other != path:
                        out.setdefault(other, (i, Range.of(i, 0, i, len(line))))
    return out
