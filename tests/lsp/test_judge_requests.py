"""What a verdict costs (issue 17): the label alone first, the explanation only for a
contradiction, a short prompt, the most suspicious pairs first and a cap per note."""

from __future__ import annotations

from pathlib import Path

from conftest import write_vault

from ponder.index import Candidate, Range
from ponder.index.settings import EmbeddingSettings
from ponder.index.vault import Vault
from ponder.lsp.llm.contradictions.judge import (
    PROMPT_VERSION,
    cached_verdict,
    explain_task,
    judge_task,
    pairs_to_judge,
    suspicion,
)


def pair(a: str, b: str, sim: float = 0.5) -> Candidate:
    return Candidate("a.md", a, Range.of(0, 0), "b.md", b, Range.of(0, 0), sim)


def test_suspicion_ranks_different_numbers_and_one_sided_negation_first():
    numbers = pair("The cache holds 256 MB per worker.", "The cache holds 512 MB per worker.")
    same = pair("The cache holds 256 MB per worker.", "The cache holds 256 MB per node.")
    unrelated = pair("The cache holds 256 MB per worker.", "Deploys happen on Fridays at noon.")
    negated = pair("Кэш хранит миниатюры на диске.", "Кэш не хранит миниатюры на диске.")
    plain = pair("Кэш хранит миниатюры на диске.", "Кэш хранит миниатюры в памяти.")
    assert suspicion(numbers) > suspicion(same) > suspicion(unrelated)
    assert suspicion(negated) > suspicion(plain)
    assert suspicion(pair("x", "y", 0.9)) > suspicion(pair("x", "y", 0.4))  # similarity still counts


def vault(tmp_path: Path) -> Vault:
    lines = "\n\n".join(f"The {w} worker keeps thumbnails {where}." for w, where in
                        [("alpha", "in its memory cache"), ("beta", "on the local disk"),
                         ("gamma", "never in its memory cache"), ("delta", "in a remote bucket")])  # fmt: skip
    files = {"a.md": f"# A\n\n{lines}\n", "b.md": "# B\n\nEvery worker keeps thumbnails in its memory cache.\n"}
    v = Vault(write_vault(tmp_path / "v", files).root, embedding=EmbeddingSettings(enabled=False))
    v.update()
    return v


def test_label_first_request_is_tiny_and_the_explanation_extends_it(tmp_path):
    v = vault(tmp_path)
    try:
        c = pairs_to_judge(v, ["b.md"], min_similarity=0.0)[0]
        first = judge_task(v, c)
    finally:
        v.close()
    assert first.json_schema()["properties"].keys() == {"label"} and first.max_tokens <= 16
    assert first.version == PROMPT_VERSION == 2  # the old verdicts (one request, other prompt) are not reused
    user = first.messages[1]["content"]
    assert user.startswith("A [") and "\nB [" in user and len(user) < len(c.a_text) + len(c.b_text) + 40
    second = explain_task(first)
    assert second.messages[:2] == first.messages  # a shared prefix: the model computes only the new turn
    assert second.messages[2] == {"role": "assistant", "content": '{"label": "contradiction"}'}
    assert second.json_schema()["properties"].keys() == {"explanation"}
    assert second.input_hash() != first.input_hash()


def test_cached_verdict_needs_the_explanation_only_for_a_contradiction(tmp_path):
    from ponder.lsp.llm.contradictions.judge import Label, Reason

    v = vault(tmp_path)
    try:
        first = judge_task(v, pairs_to_judge(v, ["b.md"], min_similarity=0.0)[0])
    finally:
        v.close()
    cache = {first.input_hash(): Label(label="compatible")}
    look = lambda task: cache.get(task.input_hash())
    assert cached_verdict(look, first) == ("compatible", "")
    cache[first.input_hash()] = Label(label="contradiction")
    assert cached_verdict(look, first) is None  # the explanation is still to be asked
    cache[explain_task(first).input_hash()] = Reason(explanation=" 64 vs 256. ")
    assert cached_verdict(look, first) == ("contradiction", "64 vs 256.")


def test_pairs_per_note_are_capped_most_suspicious_first(tmp_path):
    v = vault(tmp_path)
    try:
        every = pairs_to_judge(v, ["b.md"], min_similarity=0.0)
        capped = pairs_to_judge(v, ["b.md"], min_similarity=0.0, per_note=2)
    finally:
        v.close()
    assert len(every) >= 3 and capped == every[:2]
    assert [suspicion(c) for c in every] == sorted((suspicion(c) for c in every), reverse=True)
