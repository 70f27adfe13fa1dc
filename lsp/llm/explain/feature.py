"""Explanations: a hover section (cached or scheduled, never awaited), `ponder.explain`, "Explain this block".

The hover shows what the index knows at once and the model's explanation when it is
cached; otherwise it says one is being prepared and queues it (interactive priority), so
the next hover shows it. The command runs the same task with cancellable progress and
can insert the explanation as a callout below the passage.
"""

from __future__ import annotations

import logging

from lsprotocol import types as t

from ponder.index import Position, Range, Vault, spot_at
from ponder.lsp.llm.explain import grounding as ex
from ponder.runtime.tasks import JobCancelled, ModelError, Priority

log = logging.getLogger(__name__)
KIND = t.CodeActionKind.RefactorRewrite
MEMORY = 256
PREPARING = "_The local model is preparing an explanation; hover again in a moment._"


def _uri_of(conv):
    return lambda path, line: f"{conv.uri(path)}#L{line + 1}"


class HoverExplanations:
    """State of the hover's model work, keyed by the task's input hash (index thread and loop both touch it)."""

    def __init__(self, server):
        self.server = server
        self.results: dict[str, ex.Explanation] = {}
        self.pending: set[str] = set()
        self.failed: dict[str, str] = {}

    def provider(self, vault: Vault, path: str, spot) -> list[str]:
        mode = self.server.settings.codegen.explain_hover
        if mode == "off":
            return []
        note = vault.note(path)
        if note is None:
            return []
        passage = ex.passage_for_hover(vault, note, spot, spot.range.start, sentences=mode == "sentences")
        if passage is None:
            return []
        ctx = ex.gather(vault, passage)
        task = ex.explain_task(ctx, self.server.settings.codegen.explain_max_tokens)
        uri_of = _uri_of(self.server.converter(vault))
        sections = [s for s in [ex.render_index(vault, ctx, uri_of)] if s]
        key = task.input_hash()
        if self.server.model.unavailable():  # what the index knows, and no promise
            return sections
        value = self.results.get(key) or self.server.model.cached(task)
        if value is not None:
            self.remember(key, value)
            sections.append(ex.render(vault, ctx, value, uri_of))
        elif key in self.failed:
            sections.append(f"_No explanation: {self.failed[key]}_")
        else:
            if key not in self.pending and self.server.soon(lambda: self.server.spawn(self._prepare(task, key))):
                self.pending.add(key)
            sections.append(PREPARING)
        return sections

    def remember(self, key: str, value: ex.Explanation) -> None:
        """Keep recent explanations in memory (the runtime's cache keeps them all, on disk)."""
        self.results[key] = value
        while len(self.results) > MEMORY:
            self.results.pop(next(iter(self.results)))

    async def _prepare(self, task, key: str) -> None:
        try:
            res = await self.server.model.client().run(task, priority=Priority.INTERACTIVE)
            self.remember(key, res.value)
        except ModelError as e:
            self.failed[key] = str(e)[:200]
        except Exception as e:  # a model that cannot start: the hover says so instead of promising
            log.warning("hover explanation failed: %s", e)
            self.failed[key] = str(e)[:200]
        finally:
            self.pending.discard(key)


def _target(vault: Vault, conv, path: str, args: dict):
    note = vault.note(path)
    if note is None:
        return None
    r = args.get("range")
    if isinstance(r, dict) and r.get("start") != r.get("end"):  # a selection: explain exactly that
        rng = conv.range_in(path, t.Range(t.Position(**r["start"]), t.Position(**r["end"])))
        passage = ex.selection_passage(vault, note, rng)
        return ex.gather(vault, passage) if passage else None
    p = args.get("position") or {"line": args.get("line", 0), "character": args.get("character", 0)}
    pos = conv.pos_in(path, t.Position(int(p["line"]), int(p["character"])))
    passage = ex.passage_at(vault, note, spot_at(note, pos), pos)
    return ex.gather(vault, passage) if passage else None


def _insert_edit(vault: Vault, conv, ctx: ex.Context, value: ex.Explanation) -> t.WorkspaceEdit | None:
    """A callout on the lines after the passage (after the closing fence of a block)."""
    p = ctx.passage
    if p.path.endswith(".pseudo"):
        return None
    line = p.range.end.line + 1
    rng = conv.range(p.path, Range(Position(line, 0), Position(line, 0)))
    edit = t.TextEdit(rng, "\n" + ex.callout(value) + "\n")
    return t.WorkspaceEdit(changes={conv.uri(p.path): [edit]})


def register(server) -> None:
    hovers = HoverExplanations(server)
    server.hover_providers.append(hovers.provider)

    @server.command("ponder.explain")
    async def explain(ls, *args):
        """args: {uri, position | line, insert?}; returns {markdown, cached} or {cancelled} / {error}."""
        a = args[0] if args and isinstance(args[0], dict) else {}
        path = ls.path_of(a.get("uri", ""))
        if path is None:
            return {"error": "not a note of this vault"}
        ctx = await ls.query(lambda v, conv: _target(v, conv, path, a), t.WORKSPACE_EXECUTE_COMMAND)
        if ctx is None:
            return {"error": "nothing to explain here"}
        task = ex.explain_task(ctx, ls.settings.codegen.explain_max_tokens)
        what = ctx.passage.name or ctx.passage.kind
        try:
            res = await ls.model.run(task, f"Ponder: explaining {what}")
        except JobCancelled:
            return {"cancelled": True}
        except ModelError as e:
            ls.show(f"Ponder: no explanation: {e}")
            return {"error": str(e), "shown": True}  # the clients say nothing more
        hovers.remember(task.input_hash(), res.value)

        def finish(vault, conv):
            md = ex.render(vault, ctx, res.value, _uri_of(conv))
            return md, (_insert_edit(vault, conv, ctx, res.value) if a.get("insert") else None)

        markdown, edit = await ls.query(finish, t.WORKSPACE_EXECUTE_COMMAND)
        inserted = False
        if edit is not None:
            answer = await ls.workspace_apply_edit_async(t.ApplyWorkspaceEditParams(edit, label="Insert explanation"))
            inserted = bool(answer and answer.applied)
        return {"markdown": markdown, "cached": res.cached, "inserted": inserted}

    def actions(vault: Vault, conv, path: str, params: t.CodeActionParams) -> list[t.CodeAction]:
        note = vault.note(path)
        line = params.range.start.line
        if note is None or path.endswith(".pseudo") or ex.block_passage(vault, note, line) is None:
            return []
        args = {"uri": params.text_document.uri, "line": line, "insert": True}
        return [t.CodeAction("Explain this block", kind=KIND, data={"command": "ponder.explain", "arguments": [args]})]

    server.code_action_providers.append(actions)
