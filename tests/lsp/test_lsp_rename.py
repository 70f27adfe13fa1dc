"""Rename a heading, a note (moved into another folder), a pseudocode function; willRenameFiles."""

from __future__ import annotations

import pytest
from conftest import apply_edit
from lsprotocol import types as t
from pytest_lsp import LanguageClient  # noqa: F401  (fixture types)


async def check_rename(start, files, new_name, expected: dict[str, str | None], placeholder=None):
    s = await start(files)
    prep = await s.client.text_document_prepare_rename_async(t.PrepareRenameParams(s.doc(), s.vault.cursor))
    assert prep is not None
    if placeholder:
        assert prep.placeholder == placeholder
    edit = await s.client.text_document_rename_async(t.RenameParams(s.doc(), s.vault.cursor, new_name))
    changed = apply_edit(s.vault, edit)
    for path, text in expected.items():
        if text is None:
            assert not (s.vault.root / path).exists(), path
        else:
            assert s.vault.text(path) == text, path
    return s, changed


async def test_rename_heading_updates_links(start):
    files = {
        "b.md": "# B\n\n## Старый раз$0дел\n",
        "a.md": "[[b#Старый раздел]] [[b#Старый раздел|alias]] [x](b.md#старый-раздел) [[b#other]]",
    }
    await check_rename(
        start,
        files,
        "Новый 😀 раздел",
        {
            "b.md": "# B\n\n## Новый 😀 раздел\n",
            "a.md": "[[b#Новый 😀 раздел]] [[b#Новый 😀 раздел|alias]] [x](b.md#новый--раздел) [[b#other]]",
        },
        placeholder="Старый раздел",
    )


async def test_rename_note_via_link_moves_into_folder(start):
    files = {
        "a.md": "[[зам$0етка]] and [[заметка#H]] and [m](заметка.md)\n",
        "заметка.md": "# H\n\nsee [up](sub/c.md) and [[a]]\n",
        "sub/c.md": "[[заметка|alias]] [back](../заметка.md)\n",
    }
    await check_rename(
        start,
        files,
        "archive/старая",
        {
            "a.md": "[[старая]] and [[старая#H]] and [m](archive/%D1%81%D1%82%D0%B0%D1%80%D0%B0%D1%8F.md)\n",
            "archive/старая.md": "# H\n\nsee [up](../sub/c.md) and [[a]]\n",
            "sub/c.md": "[[старая|alias]] [back](../archive/%D1%81%D1%82%D0%B0%D1%80%D0%B0%D1%8F.md)\n",
            "заметка.md": None,
        },
        placeholder="заметка",
    )


async def test_rename_note_through_its_title(start):
    files = {"idea.md": "# idea$0\n\ntext\n", "a.md": "[[idea]]\n"}
    await check_rename(start, files, "plan", {"plan.md": "# plan\n\ntext\n", "a.md": "[[plan]]\n", "idea.md": None})


async def test_rename_pseudocode_function(start):
    files = {
        "lib.pseudo": "FUNCTION send(x)\n    RETURN x\nEND FUNCTION\n",
        "u.md": "```pseudo\nPROCEDURE main()\n    se$0nd(1)\n    send(2)\nEND PROCEDURE\n```\n",
    }
    await check_rename(
        start,
        files,
        "transmit",
        {
            "lib.pseudo": "FUNCTION transmit(x)\n    RETURN x\nEND FUNCTION\n",
            "u.md": "```pseudo\nPROCEDURE main()\n    transmit(1)\n    transmit(2)\nEND PROCEDURE\n```\n",
        },
    )


async def test_rename_refuses_existing_target(start):
    s = await start({"a.md": "[[b$0]]", "b.md": "", "c.md": ""})
    with pytest.raises(Exception, match="already exists"):
        await s.client.text_document_rename_async(t.RenameParams(s.doc(), s.vault.cursor, "c"))


async def test_prepare_rename_on_plain_text_is_null(start):
    s = await start({"a.md": "just te$0xt"})
    assert await s.client.text_document_prepare_rename_async(t.PrepareRenameParams(s.doc(), s.vault.cursor)) is None


async def test_will_rename_files_moves_note_and_folder(start):
    files = {
        "a.md": "[[design/api]] [[api]] [x](design/api.md) [y](design/sub/deep.md)$0\n",
        "design/api.md": "# API\n[rel](../a.md)\n",
        "design/sub/deep.md": "# Deep\n",
    }
    s = await start(files)
    edit = await s.client.workspace_will_rename_files_async(
        t.RenameFilesParams([t.FileRename(s.vault.uri("design/api.md"), s.vault.uri("ref/http/api.md"))])
    )
    apply_edit(s.vault, edit)
    assert s.vault.text("a.md") == "[[ref/http/api]] [[api]] [x](ref/http/api.md) [y](design/sub/deep.md)\n"
    assert s.vault.text("design/api.md") == "# API\n[rel](../../a.md)\n"  # edited before the client moves it
    # the editor saved those edits: the server hears about them as watched-file changes
    s.client.workspace_did_change_watched_files(
        t.DidChangeWatchedFilesParams(
            [t.FileEvent(s.vault.uri(p), t.FileChangeType.Changed) for p in ("a.md", "design/api.md")]
        )
    )
    # a whole folder
    edit = await s.client.workspace_will_rename_files_async(
        t.RenameFilesParams([t.FileRename(s.vault.uri("design/sub"), s.vault.uri("docs"))])
    )
    apply_edit(s.vault, edit)
    assert s.vault.text("a.md").endswith("[y](docs/deep.md)\n")
