"""Quick fixes listed cheaply from diagnostics and built in codeAction/resolve."""

from __future__ import annotations

from conftest import apply_edit
from lsprotocol import types as t


async def check_actions(start, files, path, code):
    s = await start(files)
    s.open(path)
    diags = await s.diagnostics(path, lambda ds: any(d.code == code for d in ds))
    d = next(d for d in diags if d.code == code)
    actions = await s.client.text_document_code_action_async(
        t.CodeActionParams(s.doc(path), d.range, t.CodeActionContext([d]))
    )
    assert actions and all(a.edit is None for a in actions), "listing must not build edits"
    return s, actions


async def resolve_and_apply(s, action):
    resolved = await s.client.code_action_resolve_async(action)
    assert resolved.edit is not None
    return apply_edit(s.vault, resolved.edit)


async def test_broken_link_closest_targets(start):
    files = {"a.md": "see [[Шардированье]]\n", "Шардирование.md": "# Ш\n", "Шифрование.md": "", "other.md": ""}
    s, actions = await check_actions(start, files, "a.md", "broken-link")
    titles = [a.title for a in actions]
    assert titles[0] == "Change link to 'Шардирование'"
    assert actions[0].is_preferred
    assert "Create note 'Шардированье.md'" in titles
    await resolve_and_apply(s, actions[0])
    assert s.vault.text("a.md") == "see [[Шардирование]]\n"


async def test_broken_heading_closest(start):
    files = {"a.md": "[[b#Ретраи]]\n", "b.md": "# B\n\n## Ретраи и таймауты\n\n## Другое\n"}
    s, actions = await check_actions(start, files, "a.md", "broken-link")
    assert actions[0].title == "Change heading to 'Ретраи и таймауты'"
    await resolve_and_apply(s, actions[0])
    assert s.vault.text("a.md") == "[[b#Ретраи и таймауты]]\n"


async def test_create_missing_note(start):
    s, actions = await check_actions(start, {"notes/a.md": "[[Новая заметка]]\n"}, "notes/a.md", "broken-link")
    create = next(a for a in actions if a.title.startswith("Create note"))
    resolved = await s.client.code_action_resolve_async(create)
    changed = apply_edit(s.vault, resolved.edit)
    assert s.vault.text("notes/Новая заметка.md") == "# Новая заметка\n\n"
    assert "notes/Новая заметка.md" in changed
    # then the client runs the action's command: the new note is shown (window/showDocument)
    assert resolved.command and resolved.command.command == "ponder.showDocument"
    res = await s.client.workspace_execute_command_async(
        t.ExecuteCommandParams(resolved.command.command, resolved.command.arguments)
    )
    shown = [p.uri for p in s.client.shown_documents]
    assert res == {"shown": True} and shown == [s.vault.uri("notes/Новая заметка.md")]


async def test_no_create_outside_workspace(start):
    s = await start({"a.md": "[x](../../etc/evil.md)\n"})
    s.open("a.md")
    (d,) = await s.diagnostics("a.md", lambda ds: len(ds) == 1)
    actions = await s.client.text_document_code_action_async(
        t.CodeActionParams(s.doc("a.md"), d.range, t.CodeActionContext([d]))
    )
    assert not any(a.title.startswith("Create") for a in actions or [])


async def test_undefined_symbol_stub(start):
    text = "# P\n\n```pseudo\nPROCEDURE main(cfg)\n    upload_all(cfg.repo, 3)\nEND PROCEDURE\n```\n"
    s, actions = await check_actions(start, {"p.md": text}, "p.md", "undefined-symbol")
    assert actions[0].title == "Create stub definition of 'upload_all'"
    await resolve_and_apply(s, actions[0])
    assert s.vault.text("p.md") == text.replace(
        "END PROCEDURE\n```",
        "END PROCEDURE\n\nFUNCTION upload_all(repo, arg2)\n    // TODO: describe upload_all\nEND FUNCTION\n```",
    )
