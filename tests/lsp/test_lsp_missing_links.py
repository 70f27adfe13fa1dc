"""Missing-link hints over LSP: shown on an open note, pointing at the related note; the quick
fix links it and the hint goes away."""

from __future__ import annotations

from lsprotocol import types as t

from tests.conftest import RELATED_NOTES

FILES = RELATED_NOTES


def hints(ds):
    return [d for d in ds if d.code == "missing-link"]


async def test_missing_link_hint_and_its_fix(start):
    s = await start(FILES)
    s.open("winter-log.md")
    (d,) = hints(await s.diagnostics("winter-log.md", lambda ds: len(hints(ds)) == 1))
    assert d.severity == t.DiagnosticSeverity.Hint and "Heat pump" in d.message
    assert d.related_information[0].location.uri == s.vault.uri("heat-pump.md")
    actions = await s.client.text_document_code_action_async(
        t.CodeActionParams(t.TextDocumentIdentifier(s.vault.uri("winter-log.md")), d.range, t.CodeActionContext([d]))
    )
    fix = next(a for a in actions if a.title.startswith("Link [[heat-pump]]"))
    if fix.edit is None:  # built in codeAction/resolve
        fix = await s.client.code_action_resolve_async(fix)
    (doc_edit,) = [op for op in fix.edit.document_changes or [] if isinstance(op, t.TextDocumentEdit)]
    assert doc_edit.text_document.uri == s.vault.uri("winter-log.md")
    (edit,) = doc_edit.edits
    assert "[[heat-pump]]" in edit.new_text
    # apply it as the editor would: the hint goes away
    s.change("winter-log.md", 2, [(edit.range, edit.new_text)])
    await s.diagnostics("winter-log.md", lambda ds: not hints(ds))
