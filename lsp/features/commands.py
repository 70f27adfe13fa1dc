"""`workspace/executeCommand`: ponder.reindex and ponder.status (model commands join later)."""

from __future__ import annotations

from lsprotocol import types as t


def register(server) -> None:
    @server.command("ponder.reindex")
    async def reindex(ls, *args):
        if ls.session is None:
            return {"started": False}
        ls.spawn(ls.index_in_background())
        return {"started": True}

    @server.command("ponder.showDocument")
    async def show_document(ls, *args):
        """Open a note in the editor (after "Create note" made it)."""
        uri = args[0] if args and isinstance(args[0], str) else None
        if uri is None or not ls.client_has("window.show_document.support"):
            return {"shown": False}
        res = await ls.window_show_document_async(t.ShowDocumentParams(uri, take_focus=True))
        return {"shown": bool(res and res.success)}

    @server.command("ponder.status")
    async def status(ls, *args):
        if ls.session is None:
            return {"vault": None}
        s = ls.session

        def job(vault, conv):
            counts = vault.store.counts()
            return {
                "vault": str(vault.root),
                "notes": len(vault.graph.notes),
                "indexed": s.indexed,
                "embedding": s.embedding_state if ls.settings.embedding.enabled else "off",
                "chunks": counts.get("chunks"),
                "embedded": counts.get("embedded"),
                "open": sorted(s.versions),
                "positionEncoding": ls.encoding,
            }

        out = await ls.query(job, t.WORKSPACE_EXECUTE_COMMAND)
        if isinstance(out, dict):
            for name, status in ls.status_providers.items():
                out[name] = status()  # loop-thread state: read here, not on the index thread
        return out
