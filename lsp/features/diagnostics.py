"""Diagnostics, pushed (debounced, only changed sets, stale versions dropped) or pulled.

When the client supports `textDocument/diagnostic` it pulls (and is asked to refresh
after changes elsewhere); otherwise we push `publishDiagnostics`. The structural checks
come from the index; more providers (fact conflicts, the model's judgements) join
`server.diagnostic_providers` later: `(vault, path) -> list[Diagnostic]`.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass

from lsprotocol import types as t

from ponder.index import Vault

DEBOUNCE_S = 0.2
BATCH = 500
CROSS_FILE_CODES = {
    "broken-link",
    "undefined-symbol",
    "duplicate-definition",
    "fact-conflict",
    "contradiction",
    "missing-link",
}


@dataclass
class Result:
    result_id: str
    items: list[t.Diagnostic]
    cross_file: bool  # has findings that other notes' changes can fix
    partners: frozenset[str] = frozenset()  # notes on the other side of its conflicts

    @property
    def facts(self) -> bool:
        """Has fact conflicts (which the quick first check leaves out)."""
        return any(d.code == "fact-conflict" for d in self.items)


PAIRED_CODES = {"fact-conflict", "contradiction"}  # findings shown on both sides of a pair


def _result_id(diags) -> str:
    h = hashlib.blake2b(digest_size=8)
    for d in diags:
        h.update(repr((d.range, d.severity, d.code, d.message, d.related, sorted((d.data or {}).items()))).encode())
    return h.hexdigest()


class Diagnostics:
    def __init__(self, server):
        self.server = server
        self.pending: set[str] = set()
        self.timer: asyncio.TimerHandle | None = None
        self.last: dict[str, Result] = {}  # what the client has (pushed) or was last computed
        self.quick_sent: dict[str, int | None] = {}  # note -> version whose quick set left with its parse

    @property
    def pull(self) -> bool:
        return self.server.client_has("text_document.diagnostic")

    def wanted(self, path: str, open_paths: set[str]) -> bool:
        return self.server.settings.index.whole_vault_diagnostics or path in open_paths

    # --- computing ----------------------------------------------------------------------

    def compute(self, vault: Vault, conv, paths, facts: bool = True) -> dict[str, tuple[Result, int | None]]:
        """(index thread) fresh results for `paths`, each with the document version it describes;
        without `facts`, only what needs no fact lookups (the first, quick answer for a note)."""
        from ponder.lsp.session import checkpoint

        out = {}
        for path in paths:
            checkpoint()
            if path not in vault.graph.notes:
                out[path] = (Result(_result_id([]), [], False), None)
                continue
            found = vault.check([path], facts=facts)
            for provider in self.server.diagnostic_providers:
                found += provider(vault, path)
            items = [conv.diagnostic(d) for d in found]
            partners = frozenset(d.related[0].path for d in found if d.code in PAIRED_CODES and d.related) - {path}
            res = Result(_result_id(found), items, any(d.code in CROSS_FILE_CODES for d in found), partners)
            out[path] = (res, self.server.session.versions.get(path))
        return out

    def quick_first(self, path: str) -> bool:
        """Whether `path` gets its quick set pushed before the full check: not when the client
        pulls, nor where it would hide fact conflicts shown before (no flicker)."""
        prev = self.last.get(path)
        return not self.pull and (prev is None or not prev.facts)

    def quick_on_open(self, vault: Vault, conv, path: str):
        """(index thread, in the job that parsed `path` just opened) its quick set, sent as soon as
        the job answers: no hop to the loop and back to the index thread before it leaves."""
        if not self.quick_first(path):
            return None
        quick = self.compute(vault, conv, [path], facts=False)

        def send() -> None:
            self._send(quick)
            self.quick_sent[path] = quick[path][1]

        return send

    # --- push ---------------------------------------------------------------------------

    def schedule(self, paths, delay: float = DEBOUNCE_S) -> None:
        """Check `paths` once nothing else was scheduled for `delay` seconds (typing coalesces;
        a note just opened passes 0 and is checked at once, with whatever else is pending)."""
        self.pending |= set(paths)
        if self.timer is not None:
            self.timer.cancel()
        self.timer = asyncio.get_running_loop().call_later(delay, lambda: self.server.spawn(self.flush()))

    def closed(self, path: str) -> None:
        self.quick_sent.pop(path, None)
        if not self.server.settings.index.whole_vault_diagnostics and not self.pull:
            self.last.pop(path, None)
            self.server.text_document_publish_diagnostics(t.PublishDiagnosticsParams(self.server.paths.uri(path), []))

    def closed_with(self, path: str, affected: set[str]) -> None:
        """`path` was closed: forget what was pushed for it, re-check it and the notes it affects."""
        self.closed(path)
        self.schedule(affected | {path})

    async def flush(self) -> None:
        self.timer = None
        open_paths = set(self.server.open_paths())
        paths = {p for p in self.pending if self.wanted(p, open_paths)}
        self.pending.clear()
        if paths:
            await self.publish(sorted(paths), quick_first=open_paths)

    async def publish(self, paths: list[str], quick_first: set[str] = frozenset()) -> None:
        """Check `paths` one job each (a request waits for one note's checks, not a batch's) and
        send what changed. A note in `quick_first` (an open document) gets what needs no fact
        lookups first, its links and pseudocode at once, and then the whole set with fact
        conflicts; the quick set is sent only where it hides no fact conflict shown before (no
        flicker). A note whose conflict partners changed gets its partners re-checked: the
        other side of a conflict that appeared or went away shows or drops it too."""
        changed = False
        for path in paths:
            sent = self.quick_sent.pop(path, -1)
            if path in quick_first and sent != self.server.session.versions.get(path) and self.quick_first(path):
                quick = await self.server.query(lambda v, c, path=path: self.compute(v, c, [path], facts=False))
                changed |= self._send(quick or {})
            fresh = await self.server.query(lambda v, c, path=path: self.compute(v, c, [path]), default={})
            changed |= self._send(fresh)
        if changed and self.pull and self.server.client_has("workspace.diagnostics.refresh_support"):
            self.server.spawn(self.server.workspace_diagnostic_refresh_async(None))

    def _send(self, fresh: dict[str, tuple[Result, int | None]]) -> bool:
        """Push the results that differ from what the client has; whether any did."""
        changed = False
        for path, (res, version) in fresh.items():
            uri = self.server.paths.uri(path)
            doc = self.server.open_document(uri)
            if doc is not None and version is not None and doc.version != version:
                continue  # the text moved on: a newer check is already scheduled
            prev = self.last.get(path)
            if prev is not None and prev.result_id == res.result_id:
                continue
            if prev is None and not res.items:
                continue  # nothing to say, nothing said before
            self.remember(path, res)
            changed = True
            if not self.pull:
                self.server.text_document_publish_diagnostics(
                    t.PublishDiagnosticsParams(uri, res.items, version=version)
                )
        return changed

    def remember(self, path: str, res: Result) -> None:
        """Record what the client has for `path`; the notes that became or stopped being the other
        side of its conflicts are re-checked (debounced, with whatever else is pending)."""
        prev = self.last.get(path)
        self.last[path] = res
        moved = res.partners ^ (prev.partners if prev is not None else frozenset())
        if moved:
            self.schedule(moved)

    async def refresh_all(self) -> None:
        """After indexing: every note (whole-vault mode) or every open note, in batches."""
        if self.server.settings.index.whole_vault_diagnostics:
            paths = await self.server.query(lambda v, c: sorted(v.graph.notes), default=[])
        else:
            paths = sorted(self.server.open_paths())
        paths = sorted(set(paths) | set(self.last))
        for start in range(0, len(paths), BATCH):
            await self.publish(paths[start : start + BATCH])

    async def after_index_batch(self, changed: list[str], also: set[str] = frozenset()) -> None:
        """Files changed on disk: re-check them, their dependents and the notes with cross-file findings."""
        from ponder.index import dependents

        def affected(vault: Vault, _conv) -> set[str]:
            out = set(changed)
            for p in changed:
                out |= dependents(vault.graph, p)
            return out

        paths = await self.server.query(affected, default=set())
        self.schedule(paths | set(also) | {p for p, r in self.last.items() if r.cross_file})


def register(server) -> None:
    diags = Diagnostics(server)
    server.opened_followers.append(diags.quick_on_open)
    ev = server.events
    ev.document_changed.subscribe(
        lambda path, affected, opened: diags.schedule({path} | affected, delay=0 if opened else DEBOUNCE_S)
    )
    ev.document_closed.subscribe(diags.closed_with)
    ev.files_changed.subscribe(diags.after_index_batch)
    ev.index_batch.subscribe(diags.after_index_batch)
    ev.index_parsed.subscribe(diags.refresh_all)
    ev.findings_changed.subscribe(lambda paths, now: diags.publish(sorted(paths)) if now else diags.schedule(paths))

    @server.feature(
        t.TEXT_DOCUMENT_DIAGNOSTIC,
        t.DiagnosticOptions(identifier="ponder", inter_file_dependencies=True, workspace_diagnostics=True),
    )
    async def document_diagnostic(ls, params: t.DocumentDiagnosticParams):
        path = ls.path_of(params.text_document.uri)
        if path is None:
            return t.RelatedFullDocumentDiagnosticReport(items=[])
        res, _ = (
            await ls.query(
                lambda v, c: diags.compute(v, c, [path]),
                t.TEXT_DOCUMENT_DIAGNOSTIC,
                default={path: (Result("", [], False), None)},
            )
        )[path]
        diags.remember(path, res)
        if params.previous_result_id and params.previous_result_id == res.result_id:
            return t.RelatedUnchangedDocumentDiagnosticReport(result_id=res.result_id)
        return t.RelatedFullDocumentDiagnosticReport(items=res.items, result_id=res.result_id)

    @server.feature(t.WORKSPACE_DIAGNOSTIC)
    async def workspace_diagnostic(ls, params: t.WorkspaceDiagnosticParams):
        previous = {}
        for p in params.previous_result_ids or []:
            path = ls.path_of(p.uri)
            if path:
                previous[path] = p.value

        def job(vault: Vault, conv):
            open_paths = set(ls.open_paths())
            paths = [p for p in sorted(vault.graph.notes) if diags.wanted(p, open_paths)]
            return diags.compute(vault, conv, sorted(set(paths) | set(previous)))

        fresh = await ls.query(job, t.WORKSPACE_DIAGNOSTIC, default={})
        items = []
        for path, (res, version) in fresh.items():
            diags.remember(path, res)
            uri = ls.paths.uri(path)
            if previous.get(path) == res.result_id:
                items.append(
                    t.WorkspaceUnchangedDocumentDiagnosticReport(uri=uri, version=version, result_id=res.result_id)
                )
            elif res.items or path in previous:
                items.append(
                    t.WorkspaceFullDocumentDiagnosticReport(
                        uri=uri, version=version, items=res.items, result_id=res.result_id
                    )
                )
        return t.WorkspaceDiagnosticReport(items=items)
