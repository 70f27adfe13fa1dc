"""Fact extractors and conflict guards, each with an English and a Russian case."""

from __future__ import annotations

import pytest

from ponder.index.knowledge.conflicts import pair_conflict
from ponder.index.knowledge.facts import extract_facts, quantities, statement_fact
from ponder.index.knowledge.prohibition import prohibition_clash
from ponder.index.notes import Range
from ponder.index.parsing.markdown import parse_note


def facts(text: str, path: str = "n.md", kind: str | None = None):
    out = extract_facts(parse_note(path, text))
    return [f for f in out if kind is None or f.kind == kind]


def conflict(a: str, b: str, pa: str = "a.md", pb: str = "b.md"):
    fa, fb = facts(a, pa), facts(b, pb)
    found = [pair_conflict(x, y) for x in fa for y in fb if x.kind == y.kind]
    return [c for c in found if c is not None and c.certain]


@pytest.mark.parametrize(
    "text, value, dim_word, role",
    [
        ("The session expires after 90 seconds.", 90, "time", "delay"),
        ("Сессия истекает через 90 секунд.", 90, "time", "delay"),
        ("Chunks are at most 4 MiB.", 4 * 2**20, "length", "max"),  # pint's bytes are bits-based: any stable dim
        ("Чанк не более 4 МиБ.", 4 * 2**20, "length", "max"),
        ("A backup runs every 6 hours.", 6 * 3600, "time", "period"),
        ("Резервная копия каждые 6 часов.", 6 * 3600, "time", "period"),
        ("Upload is retried 5 times.", 5, "times", "value"),
        ("Загрузка повторяется 5 раз.", 5, "times", "value"),
    ],
)
def test_quantities_are_normalised_with_roles(text, value, dim_word, role):
    (q,) = quantities(text)
    assert q.role == role
    if dim_word == "times":
        assert q.dim == "times" and q.value == value
    elif dim_word == "time":
        assert q.value == pytest.approx(value)
    else:
        assert q.value > 0  # bytes in base units; compared only against other bytes


def test_units_normalise_across_spellings():
    (a,) = quantities("90 s")
    (b,) = quantities("1,5 минуты")
    assert a.dim == b.dim and a.value == pytest.approx(b.value)
    (m,) = quantities("12.5MB/s")
    (n,) = quantities("100 Mbit/s")
    assert m.dim == n.dim and m.value == pytest.approx(n.value)


@pytest.mark.parametrize(
    "a, b",
    [
        (
            "The server drops a session after 90 seconds without a heartbeat.",
            "The server session timeout: a session is dropped after 1 minute of silence.",
        ),
        ("Сервер закрывает сессию через 90 секунд без сердцебиения.", "Сервер закрывает сессию через 1 минуту тишины."),
    ],
)
def test_numeric_conflict_after_unit_normalisation(a, b):
    assert conflict(a, b)


@pytest.mark.parametrize(
    "a, b",
    [
        (
            "The server drops a session after 300 seconds without a heartbeat.",
            "The server drops a session after 5 minutes without a heartbeat.",
        ),
        ("Сервер закрывает сессию через 300 секунд.", "Сервер закрывает сессию через 5 минут."),
    ],
)
def test_equal_values_in_other_units_do_not_conflict(a, b):
    assert not conflict(a, b)


def test_constant_versus_requirement_en_and_ru():
    assert conflict("CONST MAX_RETRIES = 3\n", "- A failed upload MUST be retried 5 times.", "p.pseudo", "r.md")
    assert conflict("CONST МАКС_ПОВТОРОВ = 3\n", "- Загрузка повторяется не более 5 раз.", "p.pseudo", "r.md")
    assert not conflict("CONST MAX_RETRIES = 5\n", "- A failed upload MUST be retried 5 times.", "p.pseudo", "r.md")


def test_table_row_setting_versus_prose():
    table = "| Key | Default |\n|---|---|\n| `index_dump_interval` | `600s` |\n"
    assert conflict(table, "Every 15 minutes the index is dumped into the repository.")
    assert not conflict(table, "Every 10 minutes the index is dumped into the repository.")


@pytest.mark.parametrize(
    "guarded",
    [
        "In the `dev` profile the index is dumped every 15 minutes.",  # environment
        "В dev-профиле индекс сохраняется каждые 15 минут.",
        "Could the index be dumped every 15 minutes?",  # question
        "Индекс сохраняется каждые 15 минут?",
        "We considered dumping the index every 15 minutes; rejected.",  # rejected / hypothetical
        "Идея: сохранять индекс каждые 15 минут, отклонено.",
        "Since v2.0 the index is dumped every 15 minutes.",  # version scope
    ],
)
def test_scope_guards(guarded):
    base_en = "| Key | Default |\n|---|---|\n| `index_dump_interval` | `600s` |\n"
    assert not conflict(base_en, guarded)


def test_superseded_note_is_not_a_conflict():
    old = "---\nstatus: superseded\n---\nChunks are split at 8 MB blocks when files are split into chunks.\n"
    new = "Files are split into fixed 4 MiB chunks."
    assert not conflict(old, new)
    assert conflict(old.replace("superseded", "accepted"), new)


def test_value_inside_a_range_is_compatible():
    req = "- R-1: Resident memory of the daemon MUST stay between 64 MiB and 256 MiB during a full scan."
    assert not conflict(req, "Resident memory of the daemon peaked at 180 MiB during the full scan.")
    assert conflict(req, "Resident memory of the daemon reached 300 MiB during the full scan.")


def test_limits_per_unit_of_something():
    assert conflict("List endpoints return at most 100 items per page.", "`GET /snapshots` returns up to 500 per page.")
    assert not conflict(
        "List endpoints return at most 100 items per page.", "Each host runs up to 500 uploads per day."
    )


def test_different_subjects_do_not_conflict():
    assert not conflict(
        "Client requests time out after 45 seconds.", "The S3 backend gives each PUT 120 seconds before aborting it."
    )
    assert not conflict("Запросы клиента обрываются через 45 секунд.", "Бэкенд S3 ждёт каждый PUT 120 секунд.")


@pytest.mark.parametrize(
    "rule, statement, clash",
    [
        (
            "The master key is never written to disk unencrypted.",
            "For unattended boots, write the master key to /etc/key in plain form.",
            True,
        ),
        (
            "Мастер-ключ никогда не записывается на диск в открытом виде.",
            "При автозапуске мастер-ключ записывается на диск в открытом виде.",
            True,
        ),
        (
            "Мастер-ключ никогда не записывается на диск в открытом виде.",
            "Мастер-ключ не записывается на диск без шифрования.",
            False,
        ),
        (
            "Orbit never deletes anything from the offsite bucket.",
            "Run prune to delete old chunks from the offsite bucket.",
            True,
        ),
        (
            "Orbit never deletes anything from the offsite bucket.",
            "Should we delete old chunks from the offsite bucket?",
            False,
        ),
        ("GC never runs concurrently with a backup.", "Peers start their nightly run at 02:30.", False),
    ],
)
def test_prohibitions(rule, statement, clash):
    (p,) = facts(rule, kind="prohibition")
    got = prohibition_clash(p, statement_fact("other.md", Range.of(0, 0), statement))
    assert bool(got and got.certain) is clash


def test_russian_prohibition_is_extracted():
    (p,) = facts("Сервер никогда не удаляет снимки из бакета.", kind="prohibition")
    assert p.verb and p.verb.startswith("удаля")


@pytest.mark.parametrize(
    "a, b",
    [
        (
            "Each chunk is compressed with zstd first and only then encrypted.",
            "Unknown chunk: encrypt it first, then compress it with zstd.",
        ),
        (
            "Каждый чанк сначала сжимается zstd, затем шифруется.",
            "Новый чанк: сначала шифруется, затем сжимается zstd.",
        ),
    ],
)
def test_reversed_order_conflicts(a, b):
    assert conflict(a, b)


def test_if_then_is_not_an_order():
    assert not facts("If the chunk is new then encrypt it and compress it.", kind="order")


# --- guards found on a held-out vault (bench/eval/vault-dacha) ------------------------------


@pytest.mark.parametrize(
    "a, b",
    [
        ("```pseudo\nCONST FROST_ON = 12\n```", "```pseudo\nCONST FROST_OFF = 14\n```"),
        ("```pseudo\nCONST ЗАМОРОЗОК_ВКЛ = 12\n```", "```pseudo\nCONST ЗАМОРОЗОК_ВЫКЛ = 14\n```"),
    ],
)
def test_two_named_constants_are_one_subject_only_under_one_name(a, b):
    assert conflict(a, b) == []
    assert conflict(a, a.replace("12", "13"))  # the same name with another value still clashes


@pytest.mark.parametrize(
    "table",
    [
        "| Sensor | Count |\n|---|---|\n| Temperature and humidity | 7 |\n| Door contact | 5 |\n",
        "| Тип | Сколько |\n|---|---|\n| Температура и влажность | 7 |\n| Открытие двери | 5 |\n",
    ],
)
def test_rows_with_different_first_cells_are_different_subjects(table):
    fs = [f for f in facts(table) if f.kind == "quantity"]
    assert len(fs) == 2 and fs[0].row_key != fs[1].row_key
    assert pair_conflict(fs[0], fs[1]) is None


@pytest.mark.parametrize(
    "a, b",
    [
        (
            "We buy a mini PC for the server with 16 GB of RAM.",
            "The server mini PC: 16 GB RAM, 512 GB NVMe disk for the server.",
        ),
        ("Покупаем для сервера мини-ПК на 16 ГБ памяти.", "Мини-ПК сервера: 16 ГБ памяти, 512 ГБ диск для сервера."),
    ],
)
def test_a_sentence_that_also_states_the_value_does_not_conflict(a, b, tmp_path):
    from ponder.index.knowledge.fact_index import FactIndex

    fi = FactIndex()
    fi.put("a.md", facts(a, "a.md"))
    fi.put("b.md", facts(b, "b.md"))
    assert fi.conflicts_of("a.md") == [] and fi.conflicts_of("b.md") == []


@pytest.mark.parametrize(
    "text",
    [
        "The boiler switches its stages of 3 / 6 / 9 kW on one by one.",
        "Котёл включает ступени 3 / 6 / 9 кВт по очереди.",
    ],
)
def test_the_last_of_a_series_is_an_option_not_a_value(text):
    roles = [q.role for q in quantities(text)]
    assert roles[-1] == "approx"


@pytest.mark.parametrize(
    "code, prose",
    [
        ("```pseudo\nCONST ZONE_MINUTES = 15\n```", "Each zone is watered 20 minutes in one run."),
        ("```pseudo\nCONST ЗОНА_МИНУТ = 15\n```", "Каждая зона поливается 20 минут за один запуск."),
    ],
)
def test_a_constant_named_after_its_unit_carries_that_unit(code, prose):
    (f,) = facts(code, "p.md", "quantity")
    assert f.quantity.dim == "[time]" and f.quantity.value == 15 * 60
    assert conflict(code, prose)


@pytest.mark.parametrize(
    "a, b, clash",
    [
        ("The heater draws 2 kW.", "The heater draws 2000 W.", False),
        ("Обогреватель потребляет 2 кВт.", "Обогреватель потребляет 2500 Вт.", True),
        ("Vents open at 26 °C in the greenhouse.", "Vents open at 28 °C in the greenhouse.", True),
        ("Форточки в теплице открываются при 26 °C.", "Форточки в теплице открываются при 26 ℃.", False),
    ],
)
def test_power_and_temperature_units(a, b, clash):
    assert bool(conflict(a, b)) is clash


@pytest.mark.parametrize(
    "note, row, other_note",
    [
        (
            "---\ntitle: Greenhouse\nheater: oil-filled, 2 kW\n---\n# Greenhouse\n",
            "| Group | Load |\n|---|---|\n| 7 | Greenhouse: sockets and heater 2500 W |\n",
            "---\ntitle: Boiler\npower: 9 kW\n---\n# Boiler\n",
        ),
        (
            "---\ntitle: Теплица\nобогреватель: масляный, 2 кВт\n---\n# Теплица\n",
            "| Группа | Нагрузка |\n|---|---|\n| 7 | Теплица: розетки и обогреватель 2500 Вт |\n",
            "---\ntitle: Котёл\nмощность: 9 кВт\n---\n# Котёл\n",
        ),
    ],
)
def test_front_matter_values_are_facts_about_their_note(note, row, other_note):
    (f,) = facts(note, "greenhouse.md", "quantity")
    assert f.range.start.line == 2 and f.quantity.value == 2000
    assert conflict(note, row, "greenhouse.md", "panel.md")  # 2 kW vs 2500 W for the greenhouse heater
    # another note's power is about that note: not a conflict with a row that does not name it
    assert conflict(other_note, row, "boiler.md", "panel.md") == []


@pytest.mark.parametrize(
    "a, b, example",
    [
        (
            "Drip irrigation is split into three zones: tomatoes, cucumbers and peppers.",
            "Zones: four — tomatoes, cucumbers, peppers and the herb bed; four zones in all.",
            "Drip irrigation has zones for, e.g., two crops: tomatoes and cucumbers and peppers.",
        ),
        (
            "Капельный полив разбит на три зоны: томаты, огурцы и перцы.",
            "Зон четыре: томаты, огурцы, перцы и грядка с зеленью.",
            "Капельный полив разбит на зоны, например две: томаты, огурцы и перцы.",
        ),
    ],
)
def test_counts_in_words_are_candidates_for_the_judge_not_findings(a, b, example):
    (q,) = [f.quantity for f in facts(a, kind="quantity")]
    assert q.dim == "count" and q.value == 3 and q.worded
    # which things are counted is a guess ("two main changes" / "three main approaches")
    assert conflict(a, b) == []
    guesses = [pair_conflict(x, y) for x in facts(a, "a.md") for y in facts(b, "b.md") if x.kind == y.kind]
    assert any(c is not None and not c.certain for c in guesses)
    assert conflict(a, example) == []  # an example list is not a count


# --- what real notes taught: each pattern must stay silent, in English and Russian ----------


@pytest.mark.parametrize(
    "a, b",
    [
        # 1. example values in code, placeholders and command-line flags
        (
            'Due dates: use `date + "1M"` for a month from now.',
            'The refund window: a month, `date + "1w"` in the formula.',
        ),
        (
            "Run `vegeta attack -duration={{30s}}` to load the API server.",
            "Run `wait4x http --timeout {{60s}}` against the API server.",
        ),
        (
            "Запустите `stress --timeout 60s` для нагрузки на сервер API.",
            "Запустите `stress --timeout 30s` на сервере API.",
        ),
        # 2. two scopes in one paragraph or list
        (
            "Sync history: on the Standard plan notes are kept for 1 month.\nOn the Plus plan "
            "notes are kept for 12 months.",
            "",
        ),
        ("История: на стандартном плане заметки хранятся 1 месяц.\nНа плане Plus заметки хранятся 12 месяцев.", ""),
        # 3. a number suffix that is no unit
        (
            "The 14B model answers in Russian; the model loads fast.",
            "The 32B model answers in Russian; the model loads slowly.",
        ),
        ("Split the archive with `--block 1M` chunks per volume.", "Each volume of the archive is kept for 1 month."),
        # 6. counts of different things
        ("There are two main motivations for this change.", "This RFC has three main motivations for the change."),
    ],
)
def test_patterns_from_real_notes_are_not_findings(a, b):
    if not b:  # one note: the two lines of one block
        fs = facts(a, "a.md", "quantity")
        assert all(pair_conflict(x, y) is None for x in fs for y in fs if x is not y)
    else:
        assert conflict(a, b) == []


@pytest.mark.parametrize(
    "rule, statement",
    [
        # 4. "never X" against an unrelated use of X
        (
            "Obsidian can never access your data with end-to-end encryption.",
            "Clipboard access is needed to pass text to the app.",
        ),
        ("The [never type `!`] coerces to any type.", "Each type implements the trait."),
        # 5. hedges and history are no prohibitions
        ("Some options may not be available on macOS.", "More options are available on Linux."),
        ("This design was never proposed before this RFC.", "This RFC proposes the design."),
        ("Этот вариант никогда не рассматривали раньше.", "Мы рассматривали этот вариант на встрече."),
        # 8. agreement read as a conflict: the other side is negated too
        ("The importer never connects to Microsoft servers.", "The importer needs no connection to Microsoft servers."),
        ("Импорт никогда не подключается к серверам Microsoft.", "Импорту не нужно подключение к серверам Microsoft."),
    ],
)
def test_prohibitions_that_are_not_findings(rule, statement):
    ps = facts(rule, kind="prohibition")
    got = [prohibition_clash(p, statement_fact("other.md", Range.of(0, 0), statement)) for p in ps]
    assert not any(c and c.certain for c in got)


@pytest.mark.parametrize(
    "a, b",
    [
        # 7. steps of two unrelated procedures through a user interface
        ("Type `[[` in the editor, then select the file to link.", "Select the text, then type `[[` to link it."),
        ("Нажмите «Импорт», затем выберите файл архива.", "Выберите папку, затем нажмите «Импорт»."),
    ],
)
def test_ui_steps_of_two_procedures_are_not_findings(a, b):
    assert conflict(a, b) == []


def test_imperative_steps_of_two_procedures_keep_their_own_values():
    assert (
        conflict("Heat the nozzle to 240 °C and push the filament through.", "Always heat the nozzle to 250 °C first.")
        == []
    )


def test_a_table_value_is_about_its_column():
    drying = "| Material | Drying temperature | Time |\n|---|---|---|\n| PETG | 65 °C | 180 min |\n"
    printing = "| Material | Nozzle temperature |\n|---|---|\n| PETG | 240 °C |\n"
    assert conflict(drying, printing) == []
    assert conflict(printing, "PETG is printed with a nozzle temperature of 250 °C.")  # the same column, named
    assert conflict(printing, "PETG is dried at 65 °C for four hours.") == []  # another attribute


def test_a_statement_marked_superseded_clears_a_prohibition_conflict():
    rule = "The master key is never written to disk unencrypted."
    (p,) = facts(rule, kind="prohibition")
    plain = "For unattended boots, write the master key to /etc/orbit/master.key in plain form."
    assert prohibition_clash(p, statement_fact("d.md", Range.of(0, 0), plain)).certain
    marked = plain + " *(superseded)*"
    assert prohibition_clash(p, statement_fact("d.md", Range.of(0, 0), marked)) is None


def test_fact_index_keeps_keys_it_was_asked_for(monkeypatch):
    """Regression: a lookup holding cached keys and more new ones than the cache keeps raised
    KeyError (the LRU evicted keys of the same call before reading them)."""
    from ponder.index.knowledge import fact_index

    class Store:
        def fact_postings(self, keys):
            return [(k, "n.md", 0, 0) for k in keys]

    monkeypatch.setattr(fact_index, "POSTINGS_KEPT", 4)
    fi = fact_index.FactIndex.__new__(fact_index.FactIndex)
    from collections import OrderedDict

    fi.store, fi._postings = Store(), OrderedDict()
    fi._stored_entries([1, 2, 3])
    got = fi._stored_entries([1, 2, 3, 4, 5, 6, 7, 8])  # 1-3 cached, 5 new: more than the cache keeps
    assert sorted(e[0] for e in got) == [1, 2, 3, 4, 5, 6, 7, 8]
