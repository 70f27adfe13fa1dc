"""Fact conflicts over LSP: both sides with related info, cleared by an agreeing edit,
'ignore this pair' persisted across a restart, code actions."""

from __future__ import annotations

import asyncio

from conftest import Vault
from lsprotocol import types as t

FILES = {
    "req.md": "# Requirements\n\n- Sync MUST retry at most 5 times.\n",
    "pseudo/uploader.pseudo": "CONST MAX_RETRIES = 3   // retries after the first attempt\n",
    "other.md": "# Other\n\nThe thumbnails are small.\n",
}


def R(l1, c1, l2, c2):
    return t.Range(t.Position(l1, c1), t.Position(l2, c2))


def conflicts(ds):
    return [d for d in ds if d.code == "fact-conflict"]


async def test_conflict_on_both_sides_then_cleared_by_an_agreeing_edit(start):
    s = await start(FILES)
    s.open("req.md")
    (d,) = conflicts(await s.diagnostics("req.md", lambda ds: len(conflicts(ds)) == 1))
    assert d.range.start.line == 2 and d.severity == t.DiagnosticSeverity.Warning
    assert "at most 5 times here; at most 3 in pseudo/uploader.pseudo:1" in d.message
    (rel,) = d.related_information
    assert rel.location.uri == s.vault.uri("pseudo/uploader.pseudo") and rel.location.range.start.line == 0
    # the other side, not open, gets the mirror image (whole-vault diagnostics are on by default)
    (o,) = conflicts(await s.diagnostics("pseudo/uploader.pseudo", lambda ds: len(conflicts(ds)) == 1))
    assert o.related_information[0].location.uri == s.vault.uri("req.md")
    # edit the requirement to agree: both sides clear
    s.change("req.md", 2, [(R(2, 26, 2, 27), "3")])
    await s.diagnostics("req.md", lambda ds: not conflicts(ds))
    await s.diagnostics("pseudo/uploader.pseudo", lambda ds: not conflicts(ds))
    # and an edit that disagrees again brings the other side back (it follows req.md's findings)
    s.change("req.md", 3, [(R(2, 26, 2, 27), "7")])
    await s.diagnostics("req.md", lambda ds: len(conflicts(ds)) == 1)
    await s.diagnostics("pseudo/uploader.pseudo", lambda ds: len(conflicts(ds)) == 1)


async def test_code_actions_and_ignored_pair_survives_restart(start, tmp_path):
    s = await start(FILES)
    s.open("req.md")
    (d,) = conflicts(await s.diagnostics("req.md", lambda ds: len(conflicts(ds)) == 1))
    actions = await s.client.text_document_code_action_async(
        t.CodeActionParams(t.TextDocumentIdentifier(s.vault.uri("req.md")), d.range, t.CodeActionContext([d]))
    )
    titles = [a.title for a in actions]
    assert titles[0].startswith("Go to the other side (pseudo/uploader.pseudo:1)")
    assert "Ignore this pair" in titles and "Mark this statement superseded" in titles
    sup = next(a for a in actions if a.title == "Mark this statement superseded")
    (edit,) = sup.edit.changes[s.vault.uri("req.md")]
    assert edit.new_text == " *(superseded)*" and edit.range.start == d.range.end
    ignore = next(a for a in actions if a.title == "Ignore this pair")
    # pytest-lsp's client structures a command-only CodeAction as the `Command` member of the
    # result union (its `command` then holds the nested command as text): check the text, and
    # run the command with the arguments the server put there, which come from the diagnostic
    assert "ponder.ignorePair" in str(ignore.command) and d.data["pair"] in str(ignore.command)
    name, args = "ponder.ignorePair", [d.data["pair"], "req.md", "pseudo/uploader.pseudo"]
    res = await s.client.workspace_execute_command_async(t.ExecuteCommandParams(name, args))
    assert res["ignored"] is True
    await s.diagnostics("req.md", lambda ds: not conflicts(ds))
    await s.client.shutdown_session()
    # a fresh server on the same vault: the pair stays ignored
    s2 = await start(Vault(s.vault.root))
    s2.open("req.md")
    s2.open("other.md")
    s2.change("other.md", 2, [(R(2, 0, 2, 0), "[[nope]] ")])
    await s2.diagnostics("other.md", lambda ds: len(ds) == 1)
    await asyncio.sleep(0.5)
    assert not conflicts(s2.client.diagnostics.get(s2.vault.uri("req.md"), []))
    # and the command undoes it
    await s2.client.workspace_execute_command_async(t.ExecuteCommandParams("ponder.unignorePair", args))
    await s2.diagnostics("req.md", lambda ds: len(conflicts(ds)) == 1)


async def test_superseded_statement_is_not_a_conflict(start):
    files = {**FILES, "req.md": "# Requirements\n\n- Sync MUST retry at most 5 times *(superseded)*.\n"}
    s = await start(files)
    s.open("req.md")
    s.open("other.md")  # a broken link there proves diagnostics were computed meanwhile
    s.change("other.md", 2, [(R(2, 0, 2, 0), "[[nope]] ")])
    await s.diagnostics("other.md", lambda ds: len(ds) == 1)
    await asyncio.sleep(0.5)
    assert not conflicts(s.client.diagnostics.get(s.vault.uri("req.md"), []))


class _History(dict):
    """The client's diagnostics by URI, keeping every set it was sent, in order."""

    def __init__(self, *a):
        super().__init__(*a)
        self.sent: dict[str, list[list[t.Diagnostic]]] = {}

    def __setitem__(self, uri, ds):
        self.sent.setdefault(uri, []).append(list(ds))
        super().__setitem__(uri, ds)


async def test_links_first_then_fact_conflicts_and_no_flicker_while_typing(start):
    """An opened note's links come in the first push, its fact conflicts in the next; once a
    conflict is shown, an edit never sends a set without it while the conflict still holds."""
    s = await start(FILES)
    s.client.diagnostics = history = _History(s.client.diagnostics)
    # 9 retries here against 5 in req.md and 3 in the pseudocode
    text = "# New\n\nSee [[nope]].\n\n- Sync MUST retry at most 9 times.\n"
    s.open("new.md", text)
    await s.diagnostics("new.md", lambda ds: len(conflicts(ds)) == 2)
    sent = history.sent[s.vault.uri("new.md")]
    assert [sorted(d.code for d in ds) for ds in sent[:2]] == [
        ["broken-link"],
        ["broken-link", "fact-conflict", "fact-conflict"],
    ]
    # typing elsewhere in the note: the conflict stays in every set sent
    s.change("new.md", 2, [(R(0, 5, 0, 5), " note")])
    await s.diagnostics("new.md", lambda ds: len(conflicts(ds)) == 2 and ds[0].range.start.line == 2)
    await asyncio.sleep(0.5)
    s.change("new.md", 3, [(R(2, 4, 2, 12), "[[other]]")])
    await s.diagnostics("new.md", lambda ds: [d.code for d in ds] == ["fact-conflict"] * 2)
    await asyncio.sleep(0.5)
    assert all(len(conflicts(ds)) == 2 for ds in sent[1:]), sent
