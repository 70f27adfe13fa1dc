"""Pseudocode actions: "Generate implementation (LANG)", "Check block against the notes".

Listed instantly as commands; `ponder.generate` runs the model with cancellable
progress, checks the code (one retry with the checker's message), and applies the
result through `workspace/applyEdit`: a new file under the output folder, an edit of the
file an earlier run generated ("Regenerate"), or a fenced block under the pseudocode.
A path that leaves the workspace is refused; a file Ponder did not generate is replaced
only when the user says so. `ponder.checkBlock` turns the model's findings into
`contradiction` diagnostics on the block.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass

from lsprotocol import types as t
from pydantic import BaseModel, Field

from ponder.index import (
    Diagnostic,
    Position,
    Range,
    Related,
    Vault,
    fold,
    split_lines,
    utf16_len,
)
from ponder.lsp.llm.codegen import implement as cg
from ponder.lsp.llm.explain.grounding import WIKILINK
from ponder.runtime.tasks import JobCancelled, ModelError, Task

log = logging.getLogger(__name__)
KIND = t.CodeActionKind.RefactorRewrite
CHECK_VERSION = 1


@dataclass
class Prepared:
    block: cg.Block
    ctx: cg.Context
    task: Task
    target: str | None  # file mode: the file to write (None: the model's suggestion decides)
    generated: str | None  # file mode: the file an earlier run generated from this block
    existing: str | None  # the earlier implementation (sent to the model)
    refused: str | None = None


def _prepare(
    vault: Vault, root, path: str, line: int, lang: cg.Language, settings: cg.CodegenSettings
) -> Prepared | str:
    note = vault.note(path)
    block = cg.block_at(vault, note, line) if note else None
    if block is None:
        return "no pseudocode block here"
    ctx = cg.gather(vault, block)
    mode = "file" if path.endswith(".pseudo") else settings.insert
    generated = existing = target = None
    refused = None
    if mode == "file":
        generated = cg.find_generated(root, block, lang, settings)
        target = generated or cg.canonical_path(block, lang, settings)
        if target is not None:
            try:
                target = cg.inside(root, target)
            except cg.PathRefused as e:
                refused = str(e)
        if generated:
            existing = _strip_header(vault.read_text(generated) or "", lang)
    else:
        gb = cg.generated_block(note, vault.read_text(path) or "", block)
        if gb is not None:
            lines = split_lines(vault.read_text(path) or "")
            existing = "\n".join(lines[gb.body_start + 1 : gb.body_end])
    return Prepared(block, ctx, cg.codegen_task(ctx, lang, settings, existing), target, generated, existing, refused)


def _strip_header(text: str, lang: cg.Language) -> str:
    lines = text.split("\n")
    i = 0
    while i < len(lines) and lines[i].startswith(lang.comment) and i < 40:
        i += 1
    return "\n".join(lines[i:]).strip("\n")


def _whole(conv, vault: Vault, path: str) -> t.Range:
    lines = split_lines(vault.read_text(path) or "")
    last = max(len(lines) - 1, 0)
    return conv.range(path, Range(Position(0, 0), Position(last, utf16_len(lines[last]) if lines else 0)))


class BlockFindings:
    """Model findings on pseudocode blocks, shown while the block's text is unchanged (a diagnostics provider)."""

    def __init__(self):
        self.by_path: dict[
            str, list[tuple[str, int, Diagnostic]]
        ] = {}  # path -> (block text hash, ordinal, diagnostic)

    @staticmethod
    def digest(text: str) -> str:
        return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()

    def put(self, block: cg.Block, diags: list[Diagnostic], code: str) -> None:
        keep = [x for x in self.by_path.get(block.path, []) if not (x[1] == block.ordinal and x[2].code == code)]
        self.by_path[block.path] = keep + [(self.digest(block.text), block.ordinal, d) for d in diags]

    def provider(self, vault: Vault, path: str) -> list[Diagnostic]:
        items = self.by_path.get(path)
        if not items:
            return []
        note = vault.note(path)
        current = {}
        for b in note.code_blocks if note else ():
            blk = cg.block_at(vault, note, b.range.start.line) if b.is_pseudo else None
            if blk:
                current[blk.ordinal] = self.digest(blk.text)
        return [d for h, o, d in items if current.get(o) == h]


class Finding(BaseModel):
    quote: str = Field(description="The words of the pseudocode that conflict.", max_length=160)
    source: str = Field(description="The handle of the note it contradicts, e.g. [[note#heading]].", max_length=120)
    explanation: str = Field(
        description="One sentence: what the note requires and how the pseudocode differs.", max_length=300
    )


class Findings(BaseModel):
    findings: list[Finding] = Field(default_factory=list, max_length=5)


CHECK_SYSTEM = (
    "You check pseudocode from the user's notes against the requirements and decisions in other notes. "
    "Report only real contradictions: the pseudocode does something a note forbids, or uses a value a note "
    "sets differently for the same thing. A rejected or superseded proposal, another component or a question "
    "is not a contradiction. Quote the pseudocode's words and give the note's handle exactly as written. "
    "No findings is a fine answer."
)


def check_task(ctx: cg.Context) -> Task:
    b = ctx.block
    parts = [f"Pseudocode block from {ctx.handle}:\n```pseudo\n{b.text}\n```"]
    notes = ctx.linked + ctx.related
    parts.append("Notes:\n" + ("\n".join(f"{h}: {text}" for h, text in notes) if notes else "(none)"))
    parts.append("Which notes does the pseudocode contradict? Answer with the JSON object.")
    return Task(
        "check-block",
        [{"role": "system", "content": CHECK_SYSTEM}, {"role": "user", "content": "\n\n".join(parts)}],
        Findings,
        CHECK_VERSION,
        600,
    )


def finding_diagnostics(vault: Vault, block: cg.Block, findings: Findings) -> list[Diagnostic]:
    lines = split_lines(vault.read_text(block.path) or "")
    out = []
    for f in findings.findings:
        line = block.code.range.start.line
        q = fold(f.quote)
        for i in range(block.code.body_start, block.code.body_end):
            if q and i < len(lines) and (q in fold(lines[i]) or fold(lines[i].strip()) in q and lines[i].strip()):
                line = i
                break
        rng = Range(Position(line, 0), Position(line, utf16_len(lines[line]) if line < len(lines) else 0))
        related: tuple[Related, ...] = ()
        where = f.source
        m = WIKILINK.search(f.source)
        if m:
            from ponder.index import Link

            lk = Link(
                "wiki",
                (m.group(1) or "").strip(),
                m.group(2),
                m.group(3),
                None,
                False,
                Range.of(0, 0),
                Range.of(0, 0),
                m.group(0),
            )
            res = vault.graph.resolve(lk, block.path)
            if res.path:
                hl = res.heading.range if res.heading else Range.of(0, 0)
                related = (Related(res.path, hl, f.explanation or "the note"),)
                where = f"{res.path}:{hl.start.line + 1}"
        msg = f"Contradiction (model): {f.explanation} — see {where} (“{' '.join(f.quote.split())[:100]}”)"
        out.append(
            Diagnostic(
                block.path,
                rng,
                "warning",
                "contradiction",
                msg,
                related,
                {"source": "model", "block": block.source_key},
            )
        )
    return out


def register(server) -> None:
    findings = BlockFindings()
    server.diagnostic_providers.append(findings.provider)

    def actions(vault: Vault, conv, path: str, params: t.CodeActionParams) -> list[t.CodeAction]:
        note = vault.note(path)
        line = params.range.start.line
        block = cg.block_at(vault, note, line) if note else None
        if block is None:
            return []
        settings = server.settings.codegen
        uri = params.text_document.uri
        out = []
        for lang in cg.offered_languages(block.code.target_language, settings):
            if path.endswith(".pseudo") or settings.insert == "file":
                again = cg.find_generated(server.root, block, lang, settings) is not None
            else:
                again = cg.generated_block(note, vault.read_text(path) or "", block) is not None
            title = f"{'Regenerate' if again else 'Generate'} implementation ({lang.title})"
            data = {"command": "ponder.generate", "arguments": [{"uri": uri, "line": line, "language": lang.key}]}
            out.append(t.CodeAction(title, kind=KIND, data=data))
        data = {"command": "ponder.checkBlock", "arguments": [{"uri": uri, "line": line}]}
        out.append(t.CodeAction("Check block against the notes", kind=KIND, data=data))
        return out

    server.code_action_providers.append(actions)

    @server.command("ponder.generate")
    async def generate(ls, *args):
        """args: {uri, line, language?}; returns {path, applied, check, attempts}, or {refused} /
        {cancelled} / {error}."""
        a = args[0] if args and isinstance(args[0], dict) else {}
        path = ls.path_of(a.get("uri", ""))
        settings = ls.settings.codegen
        lang = cg.language(a.get("language") or settings.default_language)
        if path is None:
            return {"error": "not a note of this vault"}
        if lang is None:
            known = ", ".join(sorted(cg.LANGUAGES))
            ls.show(f"Ponder: no language `{a.get('language') or settings.default_language}` (known: {known})")
            return {"error": f"unknown language {a.get('language')!r}"}
        line = _line(a)
        prep = await ls.query(
            lambda v, c: _prepare(v, ls.root, path, line, lang, settings), t.WORKSPACE_EXECUTE_COMMAND
        )
        if not isinstance(prep, Prepared):
            return {"error": prep or "the vault is not open yet"}
        if prep.refused:
            ls.show(f"Ponder: refused to write the implementation: {prep.refused}")
            return {"refused": prep.refused}
        what = prep.block.main or f"block {prep.block.ordinal}"
        title = f"Ponder: {lang.title} for {what}"
        try:
            run = lambda task, retry: ls.model.run(task, title + (" (fixing)" if retry else ""))
            res, check, attempts = await cg.generate_checked(run, prep.task, lang, settings.check_timeout_s)
        except JobCancelled:
            return {"cancelled": True}
        except ModelError as e:
            ls.show(f"Ponder: no implementation: {e}")
            return {"error": str(e), "shown": True}
        impl = res.value
        status = {True: "ok", False: "failed", None: "unchecked"}[check.ok]
        mode = "file" if path.endswith(".pseudo") else settings.insert
        if mode == "block":
            edit, target, offset = await ls.query(
                lambda v, c: _block_edit(v, c, prep, lang, impl.code), t.WORKSPACE_EXECUTE_COMMAND
            )
        else:
            target = prep.target
            if target is None:
                try:
                    target = cg.inside(ls.root, cg.suggested_path(impl.path, lang, settings))
                except cg.PathRefused as e:
                    ls.show(f"Ponder: refused to write the implementation: {e}")
                    return {"refused": str(e)}
            text = cg.file_text(prep.block, prep.ctx.handle, lang, impl.code, impl.assumptions)
            offset = text.count("\n") - impl.code.strip("\n").count("\n") - 1
            try:
                target = cg.writable_target(ls.root, target)
            except cg.PathRefused as e:
                ls.show(f"Ponder: refused to write the implementation: {e}")
                return {"refused": str(e)}
            exists = (ls.root / target).exists()
            if exists and target != prep.generated:
                choice = await _ask(ls, f"{target} exists and was not generated from this block. Replace it?")
                if choice != "Replace":
                    return {"refused": f"{target} exists", "path": target}
            edit = await ls.query(lambda v, c: _file_edit(v, c, ls, target, text, exists), t.WORKSPACE_EXECUTE_COMMAND)
            if edit is None:
                ls.show("Ponder: the editor cannot create files through edits (resource operation 'create')")
                return {"error": "client cannot create files"}
        answer = await ls.workspace_apply_edit_async(t.ApplyWorkspaceEditParams(edit, label=title))
        applied = bool(answer and answer.applied)
        if check.ok is False:
            msg = f"Generated {lang.title} still fails its check after one retry: {check.message}"
            ls.show(f"Ponder: {msg}")
            if mode == "file":
                rng = t.Range(t.Position(offset + check.line, 0), t.Position(offset + check.line + 1, 0))
                diag = t.Diagnostic(rng, msg, t.DiagnosticSeverity.Warning, "generated-check-failed", source="ponder")
                ls.text_document_publish_diagnostics(t.PublishDiagnosticsParams(ls.paths.uri(target), [diag]))
            else:
                d = Diagnostic(path, prep.block.code.range, "warning", "generated-check-failed", msg)
                findings.put(prep.block, [d], "generated-check-failed")
                await ls.events.findings_changed.emit_async({path}, True)
        elif mode == "file" and applied:
            ls.text_document_publish_diagnostics(t.PublishDiagnosticsParams(ls.paths.uri(target), []))
        return {"path": target, "applied": applied, "check": status, "attempts": attempts, "cached": res.cached}

    @server.command("ponder.checkBlock")
    async def check_block(ls, *args):
        """args: {uri, line}; findings become `contradiction` diagnostics on the block."""
        a = args[0] if args and isinstance(args[0], dict) else {}
        path = ls.path_of(a.get("uri", ""))
        if path is None:
            return {"error": "not a note of this vault"}

        def prep(vault: Vault, conv):
            note = vault.note(path)
            block = cg.block_at(vault, note, _line(a)) if note else None
            return (block, cg.gather(vault, block)) if block else None

        got = await ls.query(prep, t.WORKSPACE_EXECUTE_COMMAND)
        if got is None:
            return {"error": "no pseudocode block here"}
        block, ctx = got
        try:
            res = await ls.model.run(check_task(ctx), "Ponder: checking the block against the notes")
        except JobCancelled:
            return {"cancelled": True}
        except ModelError as e:
            ls.show(f"Ponder: no check: {e}")
            return {"error": str(e), "shown": True}
        diags = await ls.query(lambda v, c: finding_diagnostics(v, block, res.value), t.WORKSPACE_EXECUTE_COMMAND)
        findings.put(block, diags, "contradiction")
        await ls.events.findings_changed.emit_async({path}, True)
        return {"findings": len(diags)}


def _line(args: dict) -> int:
    """The line of a command's `{uri, line}` or of the editors' `{uri, position}`."""
    pos = args.get("position")
    return int(pos["line"]) if isinstance(pos, dict) and "line" in pos else int(args.get("line", 0))


async def _ask(ls, message: str) -> str | None:
    if not ls.client_has("window.show_message"):
        return None
    try:
        item = await ls.window_show_message_request_async(
            t.ShowMessageRequestParams(
                t.MessageType.Warning, message, [t.MessageActionItem("Replace"), t.MessageActionItem("Cancel")]
            )
        )
    except Exception:
        return None
    return item.title if item else None


def _file_edit(vault: Vault, conv, ls, target: str, text: str, exists: bool) -> t.WorkspaceEdit | None:
    uri = conv.uri(target)
    doc = t.OptionalVersionedTextDocumentIdentifier(uri=uri, version=None)
    if exists:
        return t.WorkspaceEdit(
            document_changes=[t.TextDocumentEdit(doc, [t.TextEdit(_whole(conv, vault, target), text)])]
        )
    if "create" not in ls.resource_operations:
        return None
    create = t.CreateFile(uri=uri, options=t.CreateFileOptions(overwrite=False, ignore_if_exists=False))
    return t.WorkspaceEdit(
        document_changes=[
            create,
            t.TextDocumentEdit(doc, [t.TextEdit(t.Range(t.Position(0, 0), t.Position(0, 0)), text)]),
        ]
    )


def _block_edit(vault: Vault, conv, prep: Prepared, lang: cg.Language, code: str):
    """Replace the block an earlier run inserted under the pseudocode, or insert one after it."""
    path = prep.block.path
    note = vault.note(path)
    text = vault.read_text(path) or ""
    body = cg.fenced(prep.block, lang, code)
    gb = cg.generated_block(note, text, prep.block)
    if gb is not None:
        rng = Range(Position(gb.range.start.line, 0), Position(gb.range.end.line + 1, 0))
        new = body
        offset = gb.range.start.line + 2
    else:
        line = prep.block.code.range.end.line + 1
        rng = Range(Position(line, 0), Position(line, 0))
        new = "\n" + body
        offset = line + 3
    edit = t.WorkspaceEdit(changes={conv.uri(path): [t.TextEdit(conv.range(path, rng), new)]})
    return edit, path, offset
