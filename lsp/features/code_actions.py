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
        return fixes.broken_link_fixes(vault.graph, note, data, root=vault.root)
    if code == "undefined-symbol":
        fix = fixes.undefined_symbol_fix(note, vault.read_text(path) or "", data)
        return [fix] if fix else []
    if code == "missing-link":
        fix = fixes.missing_link_fix(vault.graph, note, vault.read_text(path) or "", data)
        return [fix] if fix else []
    return []


def _conflict_actions(ls, uri: str, d: t.Diagnostic, path: str) -> list[t.CodeAction]:
    """For a fact conflict or contradiction: go to the other side, ignore the pair, mark superseded."""
    data = d.data if isinstance(d.data, dict) else {}
    out = []
    if d.related_information:
        other = d.related_information[0].location
        where = f"{ls.path_of(other.uri) or other.uri}:{other.range.start.line + 1}"
        out.append(
            t.CodeAction(
                f"Go to the other side ({where})",
                kind=KIND,
                diagnostics=[d],
                command=t.Command("Go to the other side", "ponder.showLocation", arguments=[other.uri, other.range]),
            )
        )
    if data.get("pair"):
        out.append(
            t.CodeAction(
                "Ignore this pair",
                kind=KIND,
                diagnostics=[d],
                command=t.Command(
                    "Ignore this pair", "ponder.ignorePair", arguments=[data["pair"], path, data.get("other", "")]
                ),
            )
        )
    edit = t.WorkspaceEdit(changes={uri: [t.TextEdit(t.Range(d.range.end, d.range.end), fixes.SUPERSEDED_MARK)]})
    out.append(t.CodeAction("Mark this statement superseded", kind=KIND, diagnostics=[d], edit=edit))
    return out


def register(server) -> None:
    kinds = [
        KIND,
        t.CodeActionKind.RefactorRewrite,
    ]  # refactor.rewrite: pseudocode actions from server.code_action_providers

    @server.feature(t.TEXT_DOCUMENT_CODE_ACTION, t.CodeActionOptions(code_action_kinds=kinds, resolve_provider=True))
    async def code_action(ls, params: t.CodeActionParams):
        path = ls.path_of(params.text_document.uri)
        conflicts = [
            d
            for d in params.context.diagnostics
            if d.source == "ponder" and d.code in ("fact-conflict", "contradiction")
        ]
        wanted = [
            d
            for d in params.context.diagnostics
            if d.source == "ponder" and d.code in ("broken-link", "undefined-symbol", "missing-link")
        ]
        providers = list(ls.code_action_providers)
        if path is None or not (wanted or conflicts or providers):
            return None
        instant = [a for d in conflicts for a in _conflict_actions(ls, params.text_document.uri, d, path)]
        if not (wanted or providers):
            return instant
        can_create = "create" in ls.resource_operations

        def job(vault, conv):
            out = []
            for d in wanted:
                for fix in _fixes(vault, path, d.code, d.data):
                    if fix.change.creates and not can_create:
                        continue
                    data = {"uri": params.text_document.uri, "code": d.code, "data": d.data, "title": fix.title}
                    out.append(
                        t.CodeAction(
                            title=fix.title, kind=KIND, diagnostics=[d], is_preferred=fix.preferred or None, data=data
                        )
                    )
            for provider in providers:  # (vault, conv, path, params) -> list[CodeAction], listed without model work
                out += provider(vault, conv, path, params)
            return out

        return instant + (await ls.query(job, t.TEXT_DOCUMENT_CODE_ACTION) or []) or None

    @server.feature(t.CODE_ACTION_RESOLVE)
    async def resolve(ls, action: t.CodeAction):
        data = action.data if isinstance(action.data, dict) else {}
        if "command" in data:  # a provider's action runs a command (model work with progress); listed without it
            action.command = t.Command(action.title, data["command"], arguments=data.get("arguments"))
            return action
        path = ls.path_of(data.get("uri", ""))
        if path is None:
            return action

        def job(vault, conv):
            for fix in _fixes(vault, path, data.get("code"), data.get("data")):
                if fix.title == data.get("title"):
                    action.edit = conv.workspace_edit(fix.change, ls.document_changes or bool(fix.change.creates))
                    if fix.change.creates and ls.client_has("window.show_document.support"):
                        # a client applies the edit, then runs the command: the new note opens
                        # where the user is instead of in a hidden buffer
                        new = conv.uri(fix.change.creates[0][0])
                        action.command = t.Command("Open the new note", "ponder.showDocument", arguments=[new])
                    break
            return action

        return await ls.query(job, t.CODE_ACTION_RESOLVE, default=action)
