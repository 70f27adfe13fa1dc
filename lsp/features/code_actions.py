"""Quick fixes, cheap to list and built in `codeAction/resolve` from the diagnostic's data.

broken-link: the closest existing targets, or create the missing note (CreateFile +
edit, only inside the workspace). undefined-symbol: a stub definition in the note.
"""

from __future__ import annotations

from lsprotocol import types as t

from ponder.index import fixes

KIND = t.CodeActionKind.QuickFix


def _fixes(vault, path: str, code: str, data: dict) -> list[fixes.Fix]:
    note = vault.graph.notes.get(path)
    if note is None or not isinstance(data, dict):
        return []
    if code == "broken-link":
        return fixes.broken_link_fixes(vault.graph, note, data)
    if code == "undefined-symbol":
        fix = fixes.undefined_symbol_fix(note, vault.read_text(path) or "", data)
        return [fix] if fix else []
    return []


def register(server) -> None:
    @server.feature(t.TEXT_DOCUMENT_CODE_ACTION, t.CodeActionOptions(code_action_kinds=[KIND], resolve_provider=True))
    async def code_action(ls, params: t.CodeActionParams):
        path = ls.path_of(params.text_document.uri)
        wanted = [d for d in params.context.diagnostics if d.source == "ponder" and d.code in ("broken-link", "undefined-symbol")]
        if path is None or not wanted:
            return None
        can_create = "create" in ls.resource_operations

        def job(vault, conv):
            out = []
            for d in wanted:
                for fix in _fixes(vault, path, d.code, d.data):
                    if fix.change.creates and not can_create:
                        continue
                    data = {"uri": params.text_document.uri, "code": d.code, "data": d.data, "title": fix.title}
                    out.append(t.CodeAction(title=fix.title, kind=KIND, diagnostics=[d], is_preferred=fix.preferred or None, data=data))
            return out

        return await ls.query(job, t.TEXT_DOCUMENT_CODE_ACTION)

    @server.feature(t.CODE_ACTION_RESOLVE)
    async def resolve(ls, action: t.CodeAction):
        data = action.data if isinstance(action.data, dict) else {}
        path = ls.path_of(data.get("uri", ""))
        if path is None:
            return action

        def job(vault, conv):
            for fix in _fixes(vault, path, data.get("code"), data.get("data")):
                if fix.title == data.get("title"):
                    action.edit = conv.workspace_edit(fix.change, ls.document_changes or bool(fix.change.creates))
                    break
            return action

        return await ls.query(job, t.CODE_ACTION_RESOLVE, default=action)
