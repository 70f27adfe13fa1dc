"""The server and an index path that is not Ponder's: `index.db_path` pointing at a note is
refused with a message naming the file, the note is never changed, and the vault is indexed
in its own `.ponder/index.db` instead (diagnostics still arrive)."""

from __future__ import annotations

from conftest import NO_EMBED


async def test_an_index_path_that_is_a_note_is_refused_and_the_note_kept(start, tmp_path):
    note_text = "# Требования\n\nСервер хранит снимки 30 дней.\n"
    files = {"требования.md": note_text, "a.md": "# A\n\nСм. [[nope]].\n"}
    db = tmp_path / "vault" / "требования.md"
    options = {**NO_EMBED, "index": {**NO_EMBED.get("index", {}), "db_path": str(db)}}
    s = await start(files, init_options=options)
    s.open("a.md")
    (d,) = await s.diagnostics("a.md", lambda ds: len(ds) == 1, timeout=30)
    assert d.code == "broken-link"
    assert db.read_text("utf-8") == note_text  # untouched
    assert any("требования.md" in m.message for m in s.client.messages)
    assert (tmp_path / "vault" / ".ponder" / "index.db").exists()
