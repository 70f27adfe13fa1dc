"""Diagnostics: push (debounced, only changed sets, current versions), dependents, pull."""

from __future__ import annotations

import asyncio

from conftest import capabilities
from lsprotocol import types as t


def R(l1, c1, l2, c2):
    return t.Range(t.Position(l1, c1), t.Position(l2, c2))


async def test_incremental_change_fixes_broken_link(start):
    s = await start({"a.md": "# A\n\nсм. [[Бэ]] 😀\n", "b.md": "# B\n"})
    s.open("a.md")
    (d,) = await s.diagnostics("a.md", lambda ds: len(ds) == 1)
    assert d.code == "broken-link" and d.source == "ponder"
    assert (d.range.start.character, d.range.end.character) == (4, 10)
    s.change("a.md", 2, [(R(2, 6, 2, 8), "b")])  # [[Бэ]] -> [[b]]
    await s.diagnostics("a.md", lambda ds: len(ds) == 0)
    assert s.published("a.md")[-1].version == 2


async def test_editing_a_note_updates_links_into_it(start):
    s = await start({"a.md": "[[b#Старое]]\n", "b.md": "# B\n\n## Старое\n"})
    s.open("b.md")
    s.change("b.md", 2, [(R(2, 3, 2, 9), "Новое")])
    (d,) = await s.diagnostics("a.md", lambda ds: len(ds) == 1)
    assert "no heading 'Старое'" in d.message
    s.change("b.md", 3, [(R(2, 3, 2, 8), "Старое")])
    await s.diagnostics("a.md", lambda ds: len(ds) == 0)


async def test_opening_a_note_with_unsaved_changes_updates_links_into_it(start):
    """A note opened with text that differs from the disk (an editor restoring unsaved edits):
    its own links come in the first push, and the notes linking to its renamed heading are
    re-checked against the text opened, not the one stored."""
    s = await start({"a.md": "[[b#Старое]]\n", "b.md": "# B\n\n## Старое\n"})
    s.open("b.md", "# B\n\n## Новое\n\n[[нет такой]]\n")
    (own,) = await s.diagnostics("b.md", lambda ds: len(ds) == 1)
    assert own.code == "broken-link" and own.range.start.line == 4
    (d,) = await s.diagnostics("a.md", lambda ds: len(ds) == 1)
    assert "no heading 'Старое'" in d.message


async def test_editing_names_and_functions_updates_the_notes_that_use_them(start):
    """An edit re-checks other notes only when it changes what they point at: an alias their
    links use, or a function their pseudocode calls."""
    s = await start(
        {
            "a.md": "[[Псевдоним]]\n\n```pseudo\nCALL upload(x)\n```\n",
            "b.md": "---\naliases: [Псевдоним]\n---\n# B\n",
            "f.pseudo": "FUNCTION upload(data)\nEND FUNCTION\n",
        }
    )
    s.open("b.md")
    s.open("f.pseudo")
    await asyncio.sleep(0.5)
    assert not s.client.diagnostics.get(s.vault.uri("a.md"))  # the alias and the function resolve
    s.change("b.md", 2, [(R(1, 10, 1, 19), "Другое")])  # the alias goes: a.md's link breaks
    await s.diagnostics("a.md", lambda ds: [d.code for d in ds] == ["broken-link"])
    s.change("f.pseudo", 2, [(R(0, 9, 0, 15), "send")])  # the function is renamed: its call is undefined
    await s.diagnostics("a.md", lambda ds: sorted(d.code for d in ds) == ["broken-link", "undefined-symbol"])
    s.change("f.pseudo", 3, [(R(0, 9, 0, 13), "upload")])
    s.change("b.md", 3, [(R(1, 10, 1, 16), "Псевдоним")])
    await s.diagnostics("a.md", lambda ds: len(ds) == 0)


async def test_debounced_and_only_changed_sets(start):
    s = await start({"a.md": "[[nope]]\n\n"})
    s.open("a.md")
    await s.diagnostics("a.md", lambda ds: len(ds) == 1)
    await asyncio.sleep(0.3)
    before = len(s.published("a.md"))
    for v in range(2, 12):  # typing that does not change the findings
        s.change("a.md", v, [(R(1, 0, 1, 0), "x")])
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.6)
    assert len(s.published("a.md")) == before, "unchanged diagnostics were re-sent"
    s.change("a.md", 12, [(R(1, 0, 1, 0), "[[nope2]] ")])
    for v in range(13, 20):
        s.change("a.md", v, [(R(1, 0, 1, 0), " ")])
    await s.diagnostics("a.md", lambda ds: len(ds) == 2)
    await asyncio.sleep(0.4)
    sent = s.published("a.md")[before:]
    assert len(sent) == 1, [p.version for p in sent]  # one debounced publish for the burst
    assert sent[0].version == 19  # never a stale version


async def test_whole_vault_diagnostics_configurable(start):
    s = await start(
        {"a.md": "[[nope]]\n", "b.md": "[[nope]]\n"},
        init_options={"embedding": {"enabled": False}, "index": {"whole_vault_diagnostics": False}},
    )
    s.open("a.md")
    await s.diagnostics("a.md", lambda ds: len(ds) == 1)
    await asyncio.sleep(0.4)
    assert s.vault.uri("b.md") not in s.client.diagnostics
    s2 = await start({"c.md": "[[nope]]\n"})
    await s2.diagnostics("c.md", lambda ds: len(ds) == 1)  # closed note, whole vault on by default


async def test_pull_diagnostics(start):
    s = await start({"a.md": "[[nope]]\n", "b.md": "fine\n", "c.md": "[[nope]]"}, caps=capabilities(pull=True))
    s.open("a.md")
    rep = await s.client.text_document_diagnostic_async(t.DocumentDiagnosticParams(s.doc("a.md")))
    assert rep.kind == "full" and [d.code for d in rep.items] == ["broken-link"] and rep.result_id
    again = await s.client.text_document_diagnostic_async(
        t.DocumentDiagnosticParams(s.doc("a.md"), previous_result_id=rep.result_id)
    )
    assert again.kind == "unchanged"
    ws = await s.client.workspace_diagnostic_async(
        t.WorkspaceDiagnosticParams(previous_result_ids=[t.PreviousResultId(s.vault.uri("a.md"), rep.result_id)])
    )
    kinds = {s.vault.path(r.uri): r.kind for r in ws.items}
    assert kinds == {"a.md": "unchanged", "c.md": "full"}
    await asyncio.sleep(0.4)
    assert not s.client.published, "a pull client gets no pushed diagnostics"
