"""Implementations from pseudocode: the prompt, the output path, the header, the syntax check.

The prompt carries the block, the definitions of every pseudocode function it calls,
the notes that link to its note and that it links to, related requirements and decisions
from search, the implementation generated before (regenerate = update) and the user's
style notes; the answer is a JSON `Implementation`. Generated files start with a header
that links back to the note and names the source (`Ponder source: note.md#function`),
which is how a later run finds the file to update. Paths are normalised and must stay in
the workspace. The protocol side is `feature.py` beside it.
"""

from __future__ import annotations

import ast
import asyncio
import functools
import os
import re
import shutil
import stat
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, create_model

from ponder.index import (
    CodeBlock,
    Note,
    Vault,
    fold,
    function_info,
    note_preview,
    paragraph_lines,
    split_lines,
)
from ponder.lsp.llm.explain.grounding import handle, heading_index
from ponder.runtime.tasks import Task

PROMPT_VERSION = 1
MAX_SECTION_CHARS = 400
MAX_LINKED = 4
MAX_RELATED = 4


class CodegenSettings(BaseModel):
    """Code generation from pseudocode and explanations on hover."""

    output_folder: str = Field("src", description="Folder (inside the workspace) for generated files.")
    default_language: str = Field(
        "python", description="Language offered first when a block names none (`pseudo python`)."
    )
    languages: list[str] = Field(
        default_factory=lambda: ["python", "typescript", "rust", "go", "cpp"], description="Languages always offered."
    )
    insert: Literal["file", "block"] = Field(
        "file",
        description="file: a new file in output_folder named after the main function; block: a fenced "
        "block under the pseudocode.",
    )
    style_notes: str = Field(
        "", description="Style wishes sent with every generation (naming, typing, error handling...)."
    )
    max_tokens: int = Field(2048, description="Token budget of one generation.")
    max_code_chars: int = Field(8000, description="Longest code the model may return (part of the JSON schema).")
    check_timeout_s: float = Field(30.0, description="Seconds a language checker (tsc, gofmt...) may run.")
    explain_hover: Literal["symbols", "sentences", "off"] = Field(
        "symbols",
        description="Model explanations on hover: symbols (pseudocode functions, glossary terms), sentences (also any "
        "sentence: bind this to a modifier or key in the editor), off. `ponder.explain` works in every mode.",
    )
    explain_max_tokens: int = Field(400, description="Token budget of one explanation.")


@dataclass(frozen=True)
class Language:
    key: str
    title: str
    ext: str
    comment: str
    fence: str
    checker: tuple[str, ...] = ()  # command; the file path is appended. Empty: checked in-process (Python)


LANGUAGES = {
    "python": Language("python", "Python", ".py", "#", "python"),
    "typescript": Language(
        "typescript",
        "TypeScript",
        ".ts",
        "//",
        "typescript",
        ("tsc", "--noEmit", "--skipLibCheck", "--target", "es2020"),
    ),
    "javascript": Language("javascript", "JavaScript", ".js", "//", "javascript", ("node", "--check")),
    "rust": Language("rust", "Rust", ".rs", "//", "rust", ("rustfmt", "--edition", "2021", "--emit", "stdout")),
    "go": Language("go", "Go", ".go", "//", "go", ("gofmt", "-e")),
    "cpp": Language("cpp", "C++", ".cpp", "//", "cpp", ("g++", "-fsyntax-only", "-std=c++17", "-x", "c++")),
    "c": Language("c", "C", ".c", "//", "c", ("gcc", "-fsyntax-only", "-std=c11", "-x", "c")),
    "java": Language("java", "Java", ".java", "//", "java"),
    "kotlin": Language("kotlin", "Kotlin", ".kt", "//", "kotlin"),
    "csharp": Language("csharp", "C#", ".cs", "//", "csharp"),
    "lua": Language("lua", "Lua", ".lua", "--", "lua", ("luac", "-p")),
    "bash": Language("bash", "Bash", ".sh", "#", "bash", ("bash", "-n")),
}
ALIASES = {
    "py": "python", "ts": "typescript", "js": "javascript", "rs": "rust", "golang": "go", "c++": "cpp", "cxx": "cpp",
    "kt": "kotlin", "c#": "csharp", "cs": "csharp", "sh": "bash", "shell": "bash",
}  # fmt: skip


def language(name: str | None) -> Language | None:
    key = (name or "").strip().lower()
    return LANGUAGES.get(ALIASES.get(key, key))


def offered_languages(block_lang: str | None, settings: CodegenSettings) -> list[Language]:
    """The block's target language, the configured default, then the common ones; each once."""
    out: list[Language] = []
    for name in [block_lang, settings.default_language, *settings.languages]:
        lang = language(name)
        if lang is not None and lang not in out:
            out.append(lang)
    return out


@functools.cache
def implementation_model(max_code_chars: int) -> type[BaseModel]:
    """The output schema; the code's length limit is part of it, so it follows the setting."""
    return create_model(
        "Implementation",
        path=(str, Field(description="Suggested file path, relative to the output folder.", max_length=160)),
        code=(str, Field(description="The whole file, without markdown fences.", max_length=max_code_chars)),
        assumptions=(str, Field(description="Assumptions made where the notes are silent.", max_length=600)),
    )


# --- the block --------------------------------------------------------------------------


@dataclass(frozen=True)
class Block:
    path: str
    ordinal: int  # 1-based among the note's pseudocode blocks
    code: CodeBlock
    text: str
    functions: tuple[str, ...]
    calls: tuple[str, ...]  # called, not defined in the block
    heading_path: tuple[str, ...]

    @property
    def main(self) -> str | None:
        """The block's function that no other function of the block calls (else its first)."""
        return self.functions[0] if self.functions else None

    @property
    def source_key(self) -> str:
        return f"{self.path}#{self.main or f'block-{self.ordinal}'}"


def block_at(vault: Vault, note: Note, line: int) -> Block | None:
    pseudo_file = note.path.endswith(".pseudo")
    ordinal = 0
    for i, b in enumerate(note.code_blocks):
        if not b.is_pseudo:
            continue
        ordinal += 1
        if not (b.range.start.line <= line <= b.range.end.line):
            continue
        lines = split_lines(vault.read_text(note.path) or "")
        index = -1 if pseudo_file else i
        fns = [f for f in note.functions if f.block == index]
        names = [f.name for f in fns]
        called_inside = {
            fold(c.name)
            for c in note.calls
            if c.block == index
            for f in fns
            if f.range.contains(c.range.start) and fold(c.name) != fold(f.name)
        }
        mains = [n for n in names if fold(n) not in called_inside] or names
        calls = []
        for c in note.calls:
            if c.block == index and fold(c.name) not in {fold(n) for n in names} and c.name not in calls:
                calls.append(c.name)
        text = "\n".join(lines[b.body_start : b.body_end])
        hp = tuple(note.heading_path(heading_index(note, b.range.start.line)))
        return Block(note.path, ordinal, b, text, tuple(mains + [n for n in names if n not in mains]), tuple(calls), hp)
    return None


# --- the prompt -------------------------------------------------------------------------


def _cap(text: str, n: int = MAX_SECTION_CHARS) -> str:
    text = text.strip()
    return text if len(text) <= n else text[:n].rstrip() + "…"


def _linking(vault: Vault, block: Block) -> list[tuple[str, str]]:
    """(handle, text) of notes that link to the block's note, then of notes it links to."""
    out: list[tuple[str, str]] = []
    seen = {block.path}
    for src, link in vault.graph.backlinks(block.path):
        if src in seen:
            continue
        seen.add(src)
        note = vault.note(src)
        lines = split_lines(vault.read_text(src) or "")
        start, end = paragraph_lines(lines, link.range.start.line) if link.range.start.line < len(lines) else (0, 0)
        hp = note.heading_path(heading_index(note, link.range.start.line)) if note else []
        out.append((handle(vault, src, hp), _cap("\n".join(lines[start:end]))))
        if len(out) >= MAX_LINKED:
            break
    note = vault.note(block.path)
    for link in note.links if note else ():
        if len(out) >= 2 * MAX_LINKED:
            break
        res = vault.graph.resolve(link, block.path)
        if res.path is None or res.path in seen or res.path not in vault.graph.notes:
            continue
        seen.add(res.path)
        target = vault.graph.notes[res.path]
        hp = target.heading_path(target.headings.index(res.heading)) if res.heading else []
        out.append(
            (handle(vault, res.path, hp), _cap(note_preview(target, vault.read_text(res.path) or "", res.heading)))
        )
    return out


@dataclass
class Context:
    block: Block
    handle: str
    definitions: list[tuple[str, str, str]] = field(default_factory=list)  # (handle, signature, source)
    linked: list[tuple[str, str]] = field(default_factory=list)
    related: list[tuple[str, str]] = field(default_factory=list)


def gather(vault: Vault, block: Block) -> Context:
    ctx = Context(block, handle(vault, block.path, block.heading_path))
    for name in block.calls:
        for info in function_info(vault.graph, name, vault.read_text)[:1]:
            dnote = vault.note(info.path)
            hp = dnote.heading_path(heading_index(dnote, info.line)) if dnote else []
            ctx.definitions.append((handle(vault, info.path, hp), info.signature, info.source))
    ctx.linked = _linking(vault, block)
    seen = {ctx.handle} | {h for h, _ in ctx.linked} | {h for h, _, _ in ctx.definitions}
    for hit in vault.search(" ".join(block.heading_path) + "\n" + block.text, k=MAX_RELATED * 3):
        if (
            hit.path == block.path
            and hit.range.start.line <= block.code.range.end.line
            and hit.range.end.line >= block.code.range.start.line
        ):
            continue
        h = handle(vault, hit.path, hit.heading_path)
        if h not in seen:
            seen.add(h)
            ctx.related.append((h, hit.snippet))
        if len(ctx.related) >= MAX_RELATED:
            break
    return ctx


def system_prompt(lang: Language) -> str:
    return (
        f"You turn pseudocode from the user's notes into a real, complete implementation in {lang.title}. "
        "Follow the requirements and decisions in the context; keep the names of the pseudocode; implement the "
        "functions it calls when no implementation is given, or import them if the context says where they live. "
        "Do not wrap the code in markdown fences. Answer with one JSON object: path (a file name), code, assumptions."
    )


def codegen_task(ctx: Context, lang: Language, settings: CodegenSettings, existing: str | None = None) -> Task:
    b = ctx.block
    parts = [
        f"Pseudocode block from {ctx.handle} ({b.path}, line {b.code.range.start.line + 1}):\n```pseudo\n{b.text}\n```"
    ]
    if ctx.definitions:
        parts.append(
            "Definitions of the pseudocode functions it calls:\n"
            + "\n\n".join(f"{h} {sig}:\n{src}" for h, sig, src in ctx.definitions)
        )
    if ctx.linked:
        parts.append("Linked notes:\n" + "\n".join(f"{h}: {text}" for h, text in ctx.linked))
    if ctx.related:
        parts.append("Related requirements and decisions:\n" + "\n".join(f"{h}: {text}" for h, text in ctx.related))
    if existing:
        parts.append(
            f"The current implementation (update it, keep what still fits):\n```{lang.fence}\n{existing.strip()}\n```"
        )
    if settings.style_notes.strip():
        parts.append(f"Style: {settings.style_notes.strip()}")
    parts.append(f"Write the implementation in {lang.title}. Answer with the JSON object.")
    return Task(
        name=f"codegen-{lang.key}",
        messages=[{"role": "system", "content": system_prompt(lang)}, {"role": "user", "content": "\n\n".join(parts)}],
        output=implementation_model(settings.max_code_chars),
        version=PROMPT_VERSION,
        max_tokens=settings.max_tokens,
        temperature=0.0,
    )


def retry_task(task: Task, answer_text: str, lang: Language, error: str) -> Task:
    """The same conversation plus the failed answer and the checker's complaint: one more try."""
    fix = (
        f"That code fails the {lang.title} check:\n{_cap(error, 800)}\nFix it and answer "
        f"with the whole JSON object again."
    )
    messages = [*task.messages, {"role": "assistant", "content": answer_text}, {"role": "user", "content": fix}]
    return Task(task.name, messages, task.output, task.version, task.max_tokens, task.temperature)


# --- the check --------------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    ok: bool | None  # None: no checker for this language on PATH
    message: str = ""
    line: int = 0  # 0-based line of the code (when the checker says)


def check_code(lang: Language, code: str, timeout_s: float = 30.0) -> Check:
    """Python: ast.parse + compile; others: the language's checker when it is on PATH."""
    if lang.key == "python":
        try:
            compile(ast.parse(code, filename="<generated>"), "<generated>", "exec")
        except SyntaxError as e:
            return Check(False, f"line {e.lineno}: {e.msg}", max((e.lineno or 1) - 1, 0))
        except ValueError as e:  # null bytes
            return Check(False, str(e))
        return Check(True)
    if not lang.checker or shutil.which(lang.checker[0]) is None:
        return Check(None, f"{lang.checker[0] if lang.checker else 'no checker'} not found")
    with tempfile.TemporaryDirectory(prefix="ponder-check-") as tmp:
        src = Path(tmp) / f"generated{lang.ext}"
        src.write_text(code, "utf-8")
        try:
            proc = subprocess.run([*lang.checker, str(src)], capture_output=True, text=True, timeout=timeout_s, cwd=tmp)
        except (OSError, subprocess.TimeoutExpired) as e:
            return Check(None, f"{lang.checker[0]}: {e}")
    if proc.returncode == 0:
        return Check(True)
    err = (proc.stderr or proc.stdout).replace(str(src), f"generated{lang.ext}").strip()
    m = re.search(rf"generated{re.escape(lang.ext)}[:(](\d+)", err)
    return Check(False, err[:1500], int(m.group(1)) - 1 if m else 0)


async def generate_checked(run, task: Task, lang: Language, timeout_s: float = 30.0):
    """Run `task`, check the code, and on a failed check run it once more with the checker's message.

    `run(task, retry: bool)` is an async callable returning a TaskResult (the server adds
    progress, the bench a bare client). Returns (result, check, attempts).
    """
    res = await run(task, False)
    check = await asyncio.to_thread(check_code, lang, res.value.code, timeout_s)
    if check.ok is not False:
        return res, check, 1
    res = await run(retry_task(task, res.text, lang, check.message), True)
    return res, await asyncio.to_thread(check_code, lang, res.value.code, timeout_s), 2


# --- where the code goes ----------------------------------------------------------------


class PathRefused(ValueError):
    """The path would leave the workspace (or write into its index or git folder)."""


def inside(root: Path, rel: str) -> str:
    """Normalise `rel` (relative to `root`) and return it as a posix path inside root, or raise PathRefused."""
    rel = rel.strip().replace("\\", "/")
    if not rel or rel.startswith("/") or re.match(r"^[A-Za-z]:", rel) or rel.startswith("~"):
        raise PathRefused(f"`{rel}` is not a relative path inside the workspace")
    root_real = os.path.realpath(root)
    full = os.path.realpath(os.path.join(root_real, os.path.normpath(rel)))
    if os.path.commonpath([root_real, full]) != root_real or full == root_real:
        raise PathRefused(f"`{rel}` escapes the workspace")
    out = Path(os.path.relpath(full, root_real)).as_posix()
    if out.split("/", 1)[0] in (".git", ".ponder"):
        raise PathRefused(f"`{rel}` is inside {out.split('/', 1)[0]}/")
    return out


def file_stem(name: str) -> str:
    return re.sub(r"[^\w]+", "_", name).strip("_").lower() or "generated"


def canonical_path(block: Block, lang: Language, settings: CodegenSettings) -> str | None:
    """`<output>/<main function><ext>`, or None when the block defines no function (the model names it)."""
    if block.main is None:
        return None
    return f"{settings.output_folder.strip('/')}/{file_stem(block.main)}{lang.ext}"


def suggested_path(suggestion: str, lang: Language, settings: CodegenSettings) -> str:
    """The model's path, relative to the output folder (a leading output folder is not repeated)."""
    s = suggestion.strip().replace("\\", "/")
    out = settings.output_folder.strip("/")
    if s.startswith(("/", "~")) or re.match(r"^[A-Za-z]:", s):
        return s  # absolute: `inside` refuses it rather than quietly re-rooting it
    if s.startswith("./"):
        s = s[2:]
    if out and (s == out or s.startswith(out + "/")):
        s = s[len(out) :].lstrip("/")
    if not s.endswith(lang.ext):
        s = (s.rsplit(".", 1)[0] if "." in s.rsplit("/", 1)[-1] else s) + lang.ext
    return f"{out}/{s}" if out else s


def marker(block: Block) -> str:
    return f"Ponder source: {block.source_key}"


def find_generated(root: Path, block: Block, lang: Language, settings: CodegenSettings) -> str | None:
    """The file an earlier run generated from this block (its header names the block), if any."""
    mark = marker(block)
    canon = canonical_path(block, lang, settings)
    candidates = [canon] if canon else []
    try:
        folder = Path(root) / inside(root, settings.output_folder)
    except PathRefused:
        return None
    if folder.is_dir():
        candidates += sorted(p.relative_to(root).as_posix() for p in folder.rglob(f"*{lang.ext}"))[:2000]
    for rel in candidates:
        head = _regular_head(Path(root) / rel, 1000)
        if head is None:
            continue
        if any(line.strip().endswith(mark) for line in head.splitlines()[:4]):
            return rel
    return None


def _regular_head(path: Path, n: int) -> str | None:
    """The first `n` bytes of a regular file, decoded; None for anything else. Opened without
    blocking and checked before reading: a FIFO at an output path would hang the index thread."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        return os.read(fd, n).decode("utf-8", errors="replace")
    except OSError:
        return None
    finally:
        os.close(fd)


def writable_target(root: Path, rel: str) -> str:
    """`rel` checked again right before its edit is built (a folder may have been swapped for a
    link out of the vault since the job started): inside the vault after resolving links, and
    absent or a regular file (never a FIFO, a device or a folder). Raises PathRefused."""
    rel = inside(root, rel)
    full = Path(root) / rel
    try:
        st = os.lstat(full)
    except FileNotFoundError:
        return rel
    except OSError as e:
        raise PathRefused(f"`{rel}` cannot be inspected ({e.strerror or e})") from e
    if not stat.S_ISREG(st.st_mode):
        raise PathRefused(f"`{rel}` exists and is not a regular file")
    return rel


def header(block: Block, ctx_handle: str, lang: Language, assumptions: str) -> str:
    c = lang.comment
    lines = [
        f"{c} Generated by Ponder from {ctx_handle} "
        f"({block.path}:{block.code.range.start.line + 1}). Edit the note and regenerate.",
        f"{c} {marker(block)}",
    ]
    for ln in assumptions.strip().splitlines() if assumptions.strip() else []:
        lines.append(f"{c} Assumption: {ln.strip()}" if ln.strip() else c)
    return "\n".join(lines) + "\n"


def file_text(block: Block, ctx_handle: str, lang: Language, code: str, assumptions: str) -> str:
    return header(block, ctx_handle, lang, assumptions) + "\n" + code.strip("\n") + "\n"


def fenced(block: Block, lang: Language, code: str) -> str:
    """Block mode: a fenced block under the pseudocode; its first line names the source."""
    return f"```{lang.fence}\n{lang.comment} {marker(block)}\n{code.strip(chr(10))}\n```\n"


def generated_block(note: Note, text: str, block: Block) -> CodeBlock | None:
    """In block mode, the fenced block an earlier run inserted right under `block`."""
    lines = split_lines(text)
    for b in note.code_blocks:
        if b.range.start.line > block.code.range.end.line:
            between = lines[block.code.range.end.line + 1 : b.range.start.line]
            if any(x.strip() for x in between):
                return None
            first = lines[b.body_start] if b.body_start < len(lines) else ""
            return b if first.strip().endswith(marker(block)) else None
    return None
