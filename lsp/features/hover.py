"""Hover: a list of sections from providers, joined by rules.

Providers are `(vault, path, spot) -> list[str]` (markdown) and run on the index thread;
`server.hover_providers` is the list, so model-written explanations can join later
without touching this module's handler.
"""

from __future__ import annotations

from lsprotocol import types as t

from ponder.index import Spot, Vault, function_info, note_preview, spot_at


def link_preview(vault: Vault, path: str, spot: Spot) -> list[str]:
    """The target section of a link (front matter stripped, capped) and its backlink count."""
    if spot.kind != "link" or spot.link.kind == "url":
        return []
    g = vault.graph
    res = g.resolve(spot.link, path)
    if res.path is None:
        return [f"No note or file named `{spot.link.target}` in the vault."]
    note = g.notes.get(res.path)
    if note is None:
        return [f"File `{res.path}`"]
    backlinks = g.backlink_count(res.path)
    where = f" › {res.heading.text}" if res.heading else (f" › ^{spot.link.block}" if spot.link.block else "")
    head = f"**{note.title or note.name}**{where} — `{res.path}` · {backlinks} backlink{'s' if backlinks != 1 else ''}"
    if not res.anchor_ok:
        head += f"\n\n⚠ no {'heading' if spot.link.heading else 'block'} `{spot.link.heading or spot.link.block}` there"
    body = note_preview(note, vault.read_text(res.path) or "", res.heading, res.block_line)
    return [head + ("\n\n" + body if body else "")]


def pseudocode(vault: Vault, path: str, spot: Spot) -> list[str]:
    """Signature, the text of the definition, and where the function is used."""
    if spot.kind not in ("function", "call"):
        return []
    infos = function_info(vault.graph, spot.name, vault.read_text)
    if not infos:
        return [f"`{spot.name}` is defined nowhere in the vault."]
    out = []
    for info in infos:
        used = ", ".join(f"`{p}:{line + 1}`" for p, line in info.used_in[:8])
        more = f" and {len(info.used_in) - 8} more" if len(info.used_in) > 8 else ""
        out.append(
            f"**{info.kind}** `{info.signature}` — `{info.path}:{info.line + 1}`\n\n"
            f"```pseudo\n{info.source}\n```\n\n"
            + (
                f"Used {info.calls} time{'s' if info.calls != 1 else ''}: {used}{more}"
                if info.calls
                else "Not called anywhere."
            )
        )
    return out


def register(server) -> None:
    server.hover_providers += [link_preview, pseudocode]

    @server.feature(t.TEXT_DOCUMENT_HOVER)
    async def hover(ls, params: t.HoverParams):
        def job(vault: Vault, conv, path, note):
            spot = spot_at(note, conv.pos_in(path, params.position))
            sections = [s for provider in ls.hover_providers for s in provider(vault, path, spot)]
            if not sections:
                return None
            return t.Hover(
                t.MarkupContent(t.MarkupKind.Markdown, "\n\n---\n\n".join(sections)), conv.range(path, spot.range)
            )

        return await ls.query_note(params.text_document.uri, job, t.TEXT_DOCUMENT_HOVER)
