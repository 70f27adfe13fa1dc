"""Files changed outside the editor (watched files, git pull) and file operations.

`willRenameFiles` answers the link edits that keep every link pointing at a renamed or
moved note (folders included); `did*Files` and watched-file events update the index.
"""

from __future__ import annotations

from lsprotocol import types as t

from ponder.index import Vault, dependents, move_edits, notes_under

NOTE_GLOB = "**/*.{md,markdown,pseudo}"


def _filters() -> t.FileOperationRegistrationOptions:
    return t.FileOperationRegistrationOptions(
        filters=[
            t.FileOperationFilter(
                pattern=t.FileOperationPattern(glob=NOTE_GLOB, matches=t.FileOperationPatternKind.File), scheme="file"
            ),
            t.FileOperationFilter(
                pattern=t.FileOperationPattern(glob="**/*", matches=t.FileOperationPatternKind.Folder), scheme="file"
            ),
        ]
    )


async def reindex_paths(ls, paths: list[str]) -> None:
    """Bring `paths` (files, or folders: rescan everything) in line with the disk, then re-check."""
    if ls.session is None or not paths:
        return

    def job(vault: Vault, _conv) -> tuple[list[str], set[str]]:
        before = set().union(*(dependents(vault.graph, p) for p in paths if p in vault.graph.notes))
        known = set(vault.graph.notes) | vault.graph.assets
        files = [p for p in paths if p in known or p.lower().endswith(tuple(vault.settings.extensions))]
        folders = [p for p in paths if p not in files]
        report = vault.update() if folders else vault.update(paths=files)
        if report.changed_paths:
            ls.session.changed()
        return report.changed_paths, before

    changed, before = await ls.query(job, default=([], set()))
    if changed:
        await ls.events.files_changed.emit_async(changed, before)


def register(server) -> None:
    @server.feature(t.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    async def watched(ls, params: t.DidChangeWatchedFilesParams) -> None:
        paths = [p for p in (ls.path_of(c.uri) for c in params.changes) if p]
        await reindex_paths(ls, paths)

    @server.feature(t.WORKSPACE_WILL_RENAME_FILES, _filters())
    async def will_rename(ls, params: t.RenameFilesParams):
        pairs = [(ls.path_of(f.old_uri), ls.path_of(f.new_uri)) for f in params.files]
        pairs = [(a, b) for a, b in pairs if a and b]
        if not pairs:
            return None

        def job(vault: Vault, conv):
            moves: dict[str, str] = {}
            for old, new in pairs:
                if old in vault.graph.notes:
                    moves[old] = new
                else:  # a folder: every note under it moves along
                    for p in notes_under(vault.graph, old):
                        moves[p] = new.rstrip("/") + p[len(old.rstrip("/")) :]
            change = move_edits(vault.graph, moves)
            if not change.edits:
                return None
            return conv.workspace_edit(change, document_changes=False)

        return await ls.query(job, t.WORKSPACE_WILL_RENAME_FILES)

    @server.feature(t.WORKSPACE_DID_RENAME_FILES, _filters())
    async def did_rename(ls, params: t.RenameFilesParams) -> None:
        paths = []
        for f in params.files:
            paths += [p for p in (ls.path_of(f.old_uri), ls.path_of(f.new_uri)) if p]
        await reindex_paths(ls, paths)

    @server.feature(t.WORKSPACE_DID_CREATE_FILES, _filters())
    async def did_create(ls, params: t.CreateFilesParams) -> None:
        await reindex_paths(ls, [p for p in (ls.path_of(f.uri) for f in params.files) if p])

    @server.feature(t.WORKSPACE_DID_DELETE_FILES, _filters())
    async def did_delete(ls, params: t.DeleteFilesParams) -> None:
        await reindex_paths(ls, [p for p in (ls.path_of(f.uri) for f in params.files) if p])
