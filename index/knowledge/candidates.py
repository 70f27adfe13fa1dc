"""Contradiction candidates for the model judge: for each claim of a note, the closest claims
elsewhere by meaning (sentence vectors), by rare shared words (BM25 over stems) and by the
definitions of the terms it uses."""

from __future__ import annotations

from dataclasses import dataclass

from ponder.index.knowledge.conflicts import Conflict
from ponder.index.knowledge.findings import fact_candidates
from ponder.index.knowledge.view import VaultView
from ponder.index.notes import Range
from ponder.index.parsing.claims import sentence_hash
from ponder.index.parsing.stems import content_stems


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


def _claims(vault: VaultView, path: str) -> list[tuple[str, Range, bytes | None]]:
    """(text, range, vector) of a note's claims; open documents are embedded on the fly."""
    out = []
    note = vault.open_note(path)
    rows = (
        [(s.kind, s.text, s.range, sentence_hash(s.kind, s.text)) for s in note.sentences]
        if note
        else vault.store.sentence_rows(path)
    )
    missing: list[int] = []
    for _kind, text, rng, h in rows:
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


def candidates(
    vault: VaultView, path: str, k: int = 10, min_similarity: float = 0.3, conflicts: list[Conflict] | None = None
) -> list[Candidate]:
    """For each claim in `path`, its `k` closest claims elsewhere (far away in the same note counts).

    Closeness fuses three rankings (reciprocal rank): sentence vectors (meaning), BM25 over
    content stems (the same rare words, which also works where the embedding model does not
    know the language), and the definitions of the terms the claim uses (see `Definitions`).
    `similarity` is the vectors' cosine (0 without embeddings); pairs below `min_similarity`
    are dropped unless the words ranked them among the first few or they define a term used.

    The fact layer's uncertain conflicts come first (a prohibition against a use of its verb, two
    counts, two orders, values whose subjects only share words): the pairs most likely to be
    contradictions, which only the model can settle. `conflicts`: the note's fact conflicts
    (`conflicts_of`) where the caller has them already."""
    out: list[Candidate] = []
    seen: set[tuple] = set()
    for c in fact_candidates(vault, path, conflicts):
        cand = Candidate(c.a.path, c.a.text, c.a.range, c.b.path, c.b.text, c.b.range, c.score)
        if cand.key() not in seen:
            seen.add(cand.key())
            out.append(cand)
    for text, rng, vec in _claims(vault, path):

        def elsewhere(p: str, r: Range, rng: Range = rng) -> bool:
            # itself or its neighbours; an open note's stored copy is stale
            return not (p == path and (abs(r.start.line - rng.start.line) <= 3 or vault.open_note(p) is not None))

        by_vec = [
            (p, t, r, sim)
            for p, t, r, sim in (vault.store.similar_sentences(vec, k + 8) if vec else [])
            if elsewhere(p, r)
        ]
        stems = content_stems(text.replace("`", " "))
        by_words = [(p, t, r, h) for p, t, r, h in vault.store.sentences_sharing_stems(stems, k + 8) if elsewhere(p, r)]
        defined = [(p, t, r, h) for p, t, r, h in vault.definitions.used_in(stems, path) if elsewhere(p, r)]
        if vec and defined:  # the definitions' own ranking: by meaning, closest first
            defined.sort(key=lambda d: -(_cosine(vec, v) if (v := vault.store.sentence_vector(d[3])) else 0.0))
        hits: dict[tuple[str, int], _Hit] = {}

        def hit(p: str, t: str, r: Range, rank: int, hits: dict = hits) -> _Hit:
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
            cand = Candidate(path, text, rng, x.path, x.text, x.range, x.similarity)
            if cand.key() in seen:
                continue
            seen.add(cand.key())
            out.append(cand)
            got += 1
            if got >= k:
                break
    return out
