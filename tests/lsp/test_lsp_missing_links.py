"""Missing-link hints over LSP: shown on an open note, pointing at the related note; the quick
fix links it and the hint goes away."""

from __future__ import annotations

from lsprotocol import types as t

FILES = {
    "heat-pump.md": "# Heat pump\n\nThe outdoor unit defrosts its evaporator coil when frost builds up on the fins.\n"
    "The defrost cycle reverses the refrigerant flow every 40 minutes in frost.\n",
    "winter-log.md": "# Winter log\n\nFrost on the evaporator fins again; the defrost cycle reversed the refrigerant flow every 40 minutes tonight.\n",
    "bread.md": "# Bread\n\nThe sourdough starter is fed with rye flour twice a day.\nA long cold proof gives the crumb more flavour.\n",
    "bike.md": "# Bike\n\nThe chain is cleaned and oiled after every rainy ride.\nBrake pads are checked monthly.\n",
    "garden.md": "# Garden\n\nTomato seedlings move outside once nights stay warm.\nThe compost heap is turned weekly.\n",
}


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
