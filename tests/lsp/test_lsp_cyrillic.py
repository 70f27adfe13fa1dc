"""A note whose file name needs percent-encoding in its URI (Cyrillic, spaces) is edited live."""

from __future__ import annotations

from lsprotocol import types as t


def R(l1, c1, l2, c2):
    return t.Range(t.Position(l1, c1), t.Position(l2, c2))


async def test_edits_in_a_cyrillic_named_note_are_seen(start):
    s = await start({"заметки/Моя заметка.md": "# Заметка\n\nсм. [[нет такой]]\n", "цель.md": "# Цель\n"})
    s.open("заметки/Моя заметка.md")
    (d,) = await s.diagnostics("заметки/Моя заметка.md", lambda ds: len(ds) == 1)
    assert d.code == "broken-link"
    s.change("заметки/Моя заметка.md", 2, [(R(2, 6, 2, 15), "цель")])  # [[нет такой]] -> [[цель]]
    await s.diagnostics("заметки/Моя заметка.md", lambda ds: len(ds) == 0)
