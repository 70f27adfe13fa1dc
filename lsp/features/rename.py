"""Rename: a heading (and every link to it), a note through a link or its title (file
rename plus link edits), a pseudocode function (definitions and calls)."""

from __future__ import annotations

from lsprotocol import types as t
from pygls.exceptions import JsonRpcInvalidRequest

from ponder.index import rename as r


def register(server) -> None:
    @server.feature(t.TEXT_DOCUMENT_PREPARE_RENAME)
    async def prepare_rename(ls, params: t.PrepareRenameParams):
        path = ls.path_of(params.text_document.uri)
        if path is None:
            return None

        def job(vault, conv):
            what = r.prepare(vault.graph, path, conv.pos_in(path, params.position), vault.read_text)
            if what is None:
                return None
            return t.PrepareRenamePlaceholder(range=conv.range(path, what.range), placeholder=what.placeholder)

        return await ls.query(job, t.TEXT_DOCUMENT_PREPARE_RENAME)

    @server.feature(t.TEXT_DOCUMENT_RENAME, t.RenameOptions(prepare_provider=True))
    async def rename(ls, params: t.RenameParams):
        path = ls.path_of(params.text_document.uri)
        if path is None:
            return None

        def job(vault, conv):
            try:
                change = r.rename(
                    vault.graph, path, conv.pos_in(path, params.position), params.new_name, vault.read_text
                )
            except r.RenameError as e:
                return e
            if change.moves and "rename" not in ls.resource_operations:
                return r.RenameError("This client cannot rename files (workspace.workspaceEdit.resourceOperations)")
            versions = {p: ls.session.versions.get(p) for p in {e.path for e in change.edits}}
            return conv.workspace_edit(change, ls.document_changes or bool(change.moves), versions)

        out = await ls.query(job, t.TEXT_DOCUMENT_RENAME)
        if isinstance(out, r.RenameError):
            raise JsonRpcInvalidRequest(str(out))
        return out
