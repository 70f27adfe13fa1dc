"""Hybrid search over chunks: FTS5 BM25 and sqlite-vec kNN fused by reciprocal rank."""

from __future__ import annotations

import re

from ponder.index.notes import SearchHit
from ponder.index.store.db import Store, fts_any

RRF_K = 60
_WORD = re.compile(r"\w+", re.UNICODE)


def fts_query(text: str) -> str:
    """Words as an FTS5 OR query (quoted, so punctuation and keywords are harmless)."""
    return fts_any(w for w in _WORD.findall(text) if len(w) > 1 or w.isdigit())


def hybrid_search(store: Store, embedder, query: str, k: int = 10) -> list[SearchHit]:
    """Best `k` chunks for `query`; `embedder` None means keyword search only."""
    depth = max(k * 4, 20)
    ranked: list[list[int]] = []
    match = fts_query(query)
    if match:
        ranked.append([cid for cid, _ in store.fts(match, depth)])
    if embedder is not None and store.counts()["embedded"]:
        vec = embedder.encode([query])[0]
        ranked.append([cid for cid, _ in store.knn(vec.tobytes(), depth)])
    scores: dict[int, float] = {}
    for ranking in ranked:
        for rank, cid in enumerate(ranking):
            scores[cid] = scores.get(cid, 0.0) + 1.0 / (RRF_K + rank + 1)
    best = sorted(scores, key=lambda c: -scores[c])[:k]
    rows = store.chunk_rows(best)
    words = [w.casefold() for w in _WORD.findall(query)]
    return [
        SearchHit(rows[c].path, rows[c].range, rows[c].heading_path, snippet(rows[c].text, words), scores[c])
        for c in best
        if c in rows
    ]


def snippet(text: str, words: list[str], width: int = 160) -> str:
    """A one-line excerpt around the first query word found, else the start."""
    flat = " ".join(text.split())
    low = flat.casefold()
    pos = min((i for i in (low.find(w) for w in words) if i >= 0), default=0)
    start = max(0, pos - width // 3)
    out = flat[start : start + width]
    return ("…" if start else "") + out + ("…" if start + width < len(flat) else "")
