"""Commands behind the conflict code actions: ignore / un-ignore a pair, show the other side.

An ignored pair is persisted in the index database (by the hash of both sentences'
text), so it survives restarts and line moves; `ponder.unignorePair` undoes it.
"""

from __future__ import annotations

from lsprotocol import types as t


def register(server) -> None:
    async def _set(ls, args, ignored: bool):
        if ls.session is None or not args:
            return {"ok": False}
        if isinstance(args[0], dict):  # the editors' shape: {uri, position, range?, diagnostic?}
            diag = args[0].get("diagnostic") or {}
            data = diag.get("data") if isinstance(diag, dict) else None
            if not isinstance(data, dict) or not data.get("pair"):
                return {
                    "ok": False,
                    "message": "Put the cursor on a fact-conflict or contradiction to ignore its pair.",
                }
            args = [data["pair"], ls.path_of(args[0].get("uri", "")) or "", data.get("other", "")]
        key = str(args[0])
        a = str(args[1]) if len(args) > 1 else ""
        b = str(args[2]) if len(args) > 2 else ""
        await ls.query(lambda v, c: v.ignore_pair(key, a, b, ignored), t.WORKSPACE_EXECUTE_COMMAND)
        ls.events.findings_changed.emit({p for p in (a, b) if p} | set(ls.open_paths()), False)
        return {"ok": True, "pair": key, "ignored": ignored}

    @server.command("ponder.ignorePair")
    async def ignore_pair(ls, *args):
        return await _set(ls, list(args[0]) if len(args) == 1 and isinstance(args[0], list) else list(args), True)

    @server.command("ponder.unignorePair")
    async def unignore_pair(ls, *args):
        return await _set(ls, list(args[0]) if len(args) == 1 and isinstance(args[0], list) else list(args), False)

    @server.command("ponder.showLocation")
    async def show_location(ls, *args):
        params = list(args[0]) if len(args) == 1 and isinstance(args[0], list) else list(args)
        if not params:
            return {"ok": False}
        uri, rng = params[0], params[1] if len(params) > 1 else None
        selection = None
        if isinstance(rng, dict):
            selection = t.Range(t.Position(**rng["start"]), t.Position(**rng["end"]))
        elif isinstance(rng, t.Range):
            selection = rng
        res = await ls.window_show_document_async(t.ShowDocumentParams(uri=uri, take_focus=True, selection=selection))
        return {"ok": bool(res and res.success)}
