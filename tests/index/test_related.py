"""Contradiction candidates (vectors + words + term definitions) and missing-link hints."""

from __future__ import annotations

import pytest

from ponder.index.knowledge import candidates as related
from ponder.index.parsing.claims import sentence_hash
from ponder.index.settings import EmbeddingSettings
from ponder.index.vault import Vault
from tests.conftest import RELATED_NOTES as TOPIC
from tests.conftest import write_vault


def vault(tmp_path, files, embed=False) -> Vault:
    v = Vault(
        write_vault(tmp_path / "v", files), embedding=EmbeddingSettings() if embed else EmbeddingSettings(enabled=False)
    )
    v.update()
    if embed:
        v.embed()
    return v


def partners(v: Vault, path: str, line: int, k: int = 10) -> set[tuple[str, int]]:
    return {(c.b_path, c.b_range.start.line) for c in related.candidates(v, path, k=k) if c.a_range.start.line == line}


@pytest.mark.parametrize(
    "claim, question, header",
    [
        (
            "The defrost cycle of the heat pump runs every forty minutes.",
            "Does the defrost cycle really run every forty minutes?",
            "FOR EACH zone IN zones DO",
        ),
        (
            "Оттайка теплового насоса включается каждые сорок минут.",
            "Оттайка правда включается каждые сорок минут?",
            "ДЛЯ КАЖДОЙ зоны ИЗ зон",
        ),
    ],
)
def test_questions_and_bare_pseudocode_headers_are_not_claims(claim, question, header):
    assert sentence_hash("text", claim)
    assert sentence_hash("text", question) is None
    assert sentence_hash("code", header) is None
    assert sentence_hash(
        "code", header.replace("зон", "3 зон").replace("zones", "3 zones")
    )  # a number makes it a claim


FILLER = {
    f"other-{i}.md": f"# Other {i}\n\n{text}\n"
    for i, text in enumerate(
        [
            "Sourdough starter is fed with rye flour twice a day in summer.",
            "The bicycle chain is cleaned and oiled after every rainy ride.",
            "Tomato seedlings are moved outside once nights stay above ten degrees.",
            "Закваску кормят ржаной мукой дважды в день летом.",
            "Цепь велосипеда чистят и смазывают после каждой поездки в дождь.",
        ]
    )
}


@pytest.mark.parametrize(
    "a, b",
    [
        (
            "The heat pump defrost cycle starts every forty minutes in frost.",
            "In frost the heat pump defrost cycle starts only every ninety minutes.",
        ),
        (
            "Оттайка теплового насоса в мороз запускается каждые сорок минут.",
            "В мороз оттайка теплового насоса запускается раз в девяносто минут.",
        ),
    ],
)
def test_words_find_candidates_without_embeddings(tmp_path, a, b):
    v = vault(tmp_path, {**FILLER, "a.md": f"# A\n\n{a}\n", "b.md": f"# B\n\n{b}\n"})
    assert ("b.md", 2) in partners(v, "a.md", 2)
    assert not any(p.startswith("other-") for p, _ in partners(v, "a.md", 2, k=1))


@pytest.mark.parametrize(
    "glossary, term_use",
    [
        (
            "# Glossary\n\n## Snapshot\n\nA committed record of one backup set that is immutable afterwards.\n",
            "Daytime incremental runs rewrite the current day's snapshot in place to save room.",
        ),
        (
            "# Глоссарий\n\n## Снимок\n\nЗафиксированная запись одного набора копий, которая потом не меняется.\n",
            "Дневные запуски перезаписывают текущий снимок прямо на месте ради экономии места.",
        ),
    ],
)
def test_a_claim_is_paired_with_the_definition_of_a_term_it_uses(tmp_path, glossary, term_use):
    v = vault(tmp_path, {**FILLER, "glossary.md": glossary, "scheduler.md": f"# Scheduler\n\n{term_use}\n"})
    assert ("glossary.md", 4) in partners(v, "scheduler.md", 2)
    # an open document's new definition counts at once
    v.open_document("glossary.md", glossary.replace("## Snapshot", "## Retention").replace("## Снимок", "## Хранение"))
    assert ("glossary.md", 4) not in partners(v, "scheduler.md", 2)


def hinted(v: Vault) -> set[frozenset]:
    return {frozenset([d.path, d.related[0].path]) for d in v.check(related_notes=True) if d.code == "missing-link"}


def test_notes_about_the_same_thing_that_do_not_link_get_a_hint_on_both_sides(tmp_path):
    v = vault(tmp_path, TOPIC)
    diags = [d for d in v.check(related_notes=True) if d.code == "missing-link"]
    assert {(d.path, d.data["target"]) for d in diags} == {
        ("heat-pump.md", "winter-log.md"),
        ("winter-log.md", "heat-pump.md"),
    }
    d = next(d for d in diags if d.path == "winter-log.md")
    assert d.severity == "hint" and d.related[0].path == "heat-pump.md" and "Heat pump" in d.message


def test_no_hint_once_linked_or_two_steps_apart_or_on_words_alone_or_between_two_dated_notes(tmp_path):
    linked = {**TOPIC, "winter-log.md": TOPIC["winter-log.md"] + "\nSee [[heat-pump]].\n"}
    assert hinted(vault(tmp_path / "a", linked)) == set()
    via = {
        **TOPIC,
        "winter-log.md": TOPIC["winter-log.md"] + "\nSee [[hvac]].\n",
        "hvac.md": "# HVAC\n\n[[heat-pump]]\n",
    }
    assert hinted(vault(tmp_path / "b", via)) == set()
    words_only = {**TOPIC, "heat-pump.md": TOPIC["heat-pump.md"].replace(" every 40 minutes in frost", "")}
    assert hinted(vault(tmp_path / "d", words_only)) == set()  # no subject both state a value for
    dated = {k: v for k, v in TOPIC.items() if k not in ("heat-pump.md", "winter-log.md")}
    dated["2024-01-05.md"] = TOPIC["heat-pump.md"]
    dated["2024-01-09.md"] = TOPIC["winter-log.md"]
    assert hinted(vault(tmp_path / "c", dated)) == set()


def test_related_notes_in_russian(tmp_path):
    ru = {
        "тепловой-насос.md": "# Тепловой насос\n\nНаружный блок оттаивает испаритель, когда на ламелях "
        "нарастает иней.\n"
        "Цикл оттайки разворачивает хладагент каждые 40 минут в мороз.\n",
        "зимний-журнал.md": "# Зимний журнал\n\nСнова иней на ламелях испарителя; цикл оттайки разворачивал "
        "хладагент каждые 40 минут за ночь.\n",
        "хлеб.md": "# Хлеб\n\nЗакваску кормят ржаной мукой дважды в день.\nДолгая холодная расстойка "
        "даёт мякишу вкус.\n",
        "велосипед.md": "# Велосипед\n\nЦепь чистят и смазывают после каждой поездки в дождь.\nКолодки "
        "проверяют раз в месяц.\n",
        "огород.md": "# Огород\n\nРассаду томатов выносят, когда ночи тёплые.\nКомпост ворошат раз в неделю.\n",
    }
    assert hinted(vault(tmp_path, ru)) == {frozenset(["тепловой-насос.md", "зимний-журнал.md"])}


def test_candidates_with_embeddings_rank_by_meaning_too(tmp_path):
    a = "Each chunk is compressed with zstd first and only then encrypted."
    b = "Unknown chunk: encrypt it first, then compress the ciphertext with zstd."
    v = vault(tmp_path, {**FILLER, "a.md": f"# A\n\n{a}\n", "b.md": f"# B\n\n{b}\n"}, embed=True)
    (c,) = [c for c in related.candidates(v, "a.md", k=1) if c.a_range.start.line == 2]
    assert (c.b_path, c.b_range.start.line) == ("b.md", 2) and c.similarity > 0.5
