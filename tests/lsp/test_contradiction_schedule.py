"""The background judge's pure parts: what one edit queues, one prompt per pair from either side,
and verdicts that follow their sentences (or die with them) and respect ignored pairs."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import write_vault

from ponder.index import Candidate
from ponder.index.knowledge.conflicts import pair_key
from ponder.index.notes import Range
from ponder.index.settings import EmbeddingSettings
from ponder.index.vault import Vault
from ponder.lsp.llm.contradictions.judge import Judged, judge_task, oriented
from ponder.lsp.llm.contradictions.verdicts import Verdicts, choose


def pair(a: str, b: str, sim: float = 0.7, a_path: str = "a.md", b_path: str = "b.md") -> Candidate:
    return Candidate(a_path, a, Range.of(0, 0), b_path, b, Range.of(0, 0), sim)


def test_an_edit_queues_the_pairs_of_its_changed_sentences_first_and_at_most_limit():
    todo = [
        pair("old one", "x"),
        pair("old two", "y"),
        pair("x", "new words", a_path="b.md", b_path="a.md"),
        pair("new  words", "z"),
    ]
    got = choose(todo, "a.md", fresh={"new words"}, limit=3)
    assert got == [todo[2], todo[3], todo[0]]  # both sides count; whitespace does not; then closest first
    assert choose(todo, "a.md", fresh=set(), limit=8) == todo


def test_a_pair_has_one_orientation_whichever_side_found_it():
    ab = pair("Uploads retry 3 times.", "Uploads retry 5 times.")
    ba = Candidate(ab.b_path, ab.b_text, ab.b_range, ab.a_path, ab.a_text, ab.a_range, ab.similarity)
    assert oriented(ab) == oriented(ba) == ab


@pytest.fixture
def vault(tmp_path: Path):
    files = {
        "a.md": "# A\n\nEach worker keeps at most 256 MB of thumbnails in memory.\n",
        "b.md": "# B\n\nA worker may hold up to 512 MB of thumbnails in memory.\n",
    }
    v = Vault(write_vault(tmp_path / "v", files).root, embedding=EmbeddingSettings(enabled=False))
    v.update()
    yield v
    v.close()


def judged(vault: Vault, label: str = "contradiction") -> Judged:
    (a,), (b,) = ([(t, r) for _, t, r, h in vault.store.sentence_rows(p) if h] for p in ("a.md", "b.md"))
    return Judged(Candidate("a.md", a[0], a[1], "b.md", b[0], b[1], 0.9), label, "256 vs 512", False)


def test_verdicts_show_on_both_sides_follow_their_sentence_and_die_with_it(vault):
    verdicts = Verdicts()
    j = judged(vault)
    assert judge_task(vault, j.pair).name == "judge"
    assert verdicts.put(j)
    (da,) = verdicts.diagnostics(vault, "a.md", set())
    (db,) = verdicts.diagnostics(vault, "b.md", set())
    assert (da.code, da.severity, da.range.start.line) == ("contradiction", "warning", 2)
    assert da.related[0].path == "b.md" and db.related[0].path == "a.md" and da.data["other"] == "b.md"
    # the open note gains two lines above the sentence: the warning moves with it
    text = vault.read_text("a.md")
    vault.open_document("a.md", text.replace("# A\n", "# A\n\nIntro.\n"))
    assert verdicts.diagnostics(vault, "a.md", {"a.md"})[0].range.start.line == 4
    assert verdicts.diagnostics(vault, "b.md", {"a.md"})[0].related[0].range.start.line == 4
    # its text changed: the verdict was about other words, nothing is shown on either side
    vault.open_document("a.md", text.replace("256", "128"))
    assert verdicts.diagnostics(vault, "a.md", {"a.md"}) == verdicts.diagnostics(vault, "b.md", {"a.md"}) == []


def test_ignored_and_no_longer_contradicting_pairs_show_nothing(vault):
    verdicts = Verdicts()
    j = judged(vault)
    verdicts.put(j)
    vault.ignore_pair(pair_key(j.pair.a_text, j.pair.b_text), "a.md", "b.md")
    assert verdicts.diagnostics(vault, "a.md", set()) == []
    vault.ignore_pair(pair_key(j.pair.a_text, j.pair.b_text), ignored=False)
    assert len(verdicts.diagnostics(vault, "a.md", set())) == 1
    assert verdicts.put(judged(vault, "compatible")) and len(verdicts) == 0
    assert verdicts.diagnostics(vault, "b.md", set()) == [] and not verdicts.put(judged(vault, "unsure"))
    verdicts.put(j)
    assert verdicts.clear() == {"a.md", "b.md"} and verdicts.diagnostics(vault, "a.md", set()) == []
