"""The background contradiction judge with the bundled Gemma 3 270M in the real llama-cpp worker.

Its verdicts are noise and are not graded; what is checked is the plumbing: opening a note
sends a candidate pair to the model, the answer parses into a verdict, and an edit that does
not touch the sentences finds that verdict in the cache instead of asking again.
"""

from __future__ import annotations

import pytest
from lsprotocol import types as t
from test_lsp_contradictions import FILES, idle

pytestmark = pytest.mark.model


async def test_verdict_requested_parsed_and_cached_with_gemma(start):
    from ponder.runtime.backend import bundled_model_path

    # named explicitly: with no model configured the editor does not judge (the bundled one only proves plumbing)
    model = {"path": str(bundled_model_path()), "n_ctx": 2048}
    s = await start(FILES, init_options={"model": model, "contradictions": {"max_pairs_per_edit": 1}})
    s.open("design.md")
    st = await idle(s, timeout=180)
    assert st["from_model"] == 1 and st["failed"] == 0 and st["paused"] is None, st  # one pair asked, its answer parsed
    cached = st["from_cache"]
    # a new line at the end: the note is planned again and the judged pair comes from the cache
    s.change("design.md", 2, [(t.Range(t.Position(7, 0), t.Position(7, 0)), "\nMore notes later.\n")])
    st = await idle(s, timeout=60)
    # (and, with one new pair per edit, at most the next uncached pair is asked)
    assert st["from_cache"] > cached and st["from_model"] <= 2 and st["failed"] == 0, st
