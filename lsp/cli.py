"""The `ponder` command line: serve | index | search | check | plan | doctor | worker.

Exit codes: 0 fine, 1 an error-severity diagnostic was found (check) or a problem (doctor),
2 usage or I/O error, or a crash of the doctor itself.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
import traceback
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from ponder.lsp.settings import PonderSettings, load_settings

SEVERITY_RANK = {"error": 0, "warning": 1, "information": 2, "hint": 3}


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ponder", description="Ponder: a language server for personal knowledge bases.")
    p.add_argument("-v", "--verbose", action="store_true", help="log to stderr")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("serve", help="run the language server (stdio by default)")
    s.add_argument("--tcp", metavar="HOST:PORT", help="listen on TCP instead of stdio (debugging)")

    i = sub.add_parser("index", help="build or update the index of a vault")
    i.add_argument("path", type=Path)
    i.add_argument("--no-embed", action="store_true", help="skip embeddings")
    _common(i)

    q = sub.add_parser("search", help="hybrid keyword + semantic search")
    q.add_argument("path", type=Path)
    q.add_argument("query")
    q.add_argument("-k", type=int, default=10)
    q.add_argument("--format", choices=["text", "json"], default="text")
    _common(q)

    c = sub.add_parser("check", help="print diagnostics like a compiler")
    c.add_argument("path", type=Path)
    c.add_argument("--format", choices=["text", "json"], default="text")
    c.add_argument(
        "--fail-on", choices=["error", "warning"], default="error", help="lowest severity that makes the exit code 1"
    )
    c.add_argument("--semantic", action="store_true", help="also let the model judge candidate contradictions (cached)")
    c.add_argument(
        "--max-pairs", type=int, default=None, help="with --semantic: judge at most this many candidate pairs"
    )
    c.add_argument("--no-related", action="store_true", help="skip missing-link hints")
    _common(c)

    d = sub.add_parser("doctor", help="check the installation, GPU, model file, embeddings, index and settings")
    d.add_argument("path", type=Path, nargs="?", default=Path.cwd(), help="the vault (default: this folder)")
    d.add_argument("--format", choices=["text", "json"], default="text")
    d.add_argument("--no-embed", action="store_true", help="do not load the embedding model")
    _common(d)

    sub.add_parser("plan", help="plan GPU/RAM placement of a GGUF model", add_help=False)
    sub.add_parser("worker", help="run the model worker process (used by the server)", add_help=False)
    return p


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", help="index database path (default <vault>/.ponder/index.db)")
    p.add_argument("--embedding-model", help="sentence-transformers model name or path")


def _settings(args, console: Console) -> PonderSettings:
    overrides: dict = {}
    if getattr(args, "db", None):
        overrides.setdefault("index", {})["db_path"] = str(Path(args.db).resolve())
    if getattr(args, "embedding_model", None):
        overrides.setdefault("embedding", {})["model"] = args.embedding_model
    if getattr(args, "no_embed", False):
        overrides.setdefault("embedding", {})["enabled"] = False
    settings, messages = load_settings(args.path, overrides)
    for m in messages:
        console.print(f"[yellow]warning:[/] {escape(m)}", highlight=False, soft_wrap=True)
    return settings


def _open_vault(args, console: Console):
    from ponder.index import Vault

    if not args.path.is_dir():
        console.print(f"[red]error:[/] {escape(str(args.path))} is not a folder", highlight=False, soft_wrap=True)
        raise SystemExit(2)
    s = _settings(args, console)
    return Vault(args.path, s.index, s.embedding)


def main(argv: list[str] | None = None) -> int:
    """Run one command. Exit codes are a contract for scripts and CI (1 means "problems found"), so
    a crash is never allowed to look like one: every failure is one clear line and exit 2, with the
    traceback only when PONDER_DEBUG=1."""
    err = Console(stderr=True)
    try:
        return _main(argv, err)
    except SystemExit:
        raise
    except KeyboardInterrupt:
        err.print("[red]error:[/] interrupted", highlight=False, soft_wrap=True)
        return 2
    except Exception as e:  # the edge of the program: nothing below may crash it with a traceback
        if os.environ.get("PONDER_DEBUG"):
            traceback.print_exc()
        err.print(f"[red]error:[/] {escape(_explain(e))}", highlight=False, soft_wrap=True)
        return 2


def _explain(e: Exception) -> str:
    """One line for a failure: a known kind in words, else its type and message."""
    from ponder.index import describe_store_error

    known = describe_store_error(e)
    if known:
        return known
    hint = "" if os.environ.get("PONDER_DEBUG") else " (set PONDER_DEBUG=1 for the traceback)"
    return f"unexpected {type(e).__name__}: {e}{hint}"


def _main(argv: list[str] | None, err: Console) -> int:
    argv = sys.argv[1:] if argv is None else argv
    # plan and worker own their arguments (they live in the runtime package)
    if argv and argv[0] == "plan":
        from ponder.runtime.planner import main as plan_main

        return plan_main(argv[1:])
    if argv and argv[0] == "worker":
        from ponder.runtime.worker import main as worker_main

        return worker_main(argv[1:])
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, stream=sys.stderr)
    try:
        if args.command == "serve":
            from ponder.lsp.server import serve

            return serve(args.tcp)
        if args.command == "index":
            return cmd_index(args, err)
        if args.command == "search":
            return cmd_search(args, err)
        if args.command == "check":
            return cmd_check(args, err)
        if args.command == "doctor":
            return cmd_doctor(args, err)
    except OSError as e:
        err.print(f"[red]error:[/] {escape(str(e))}", highlight=False, soft_wrap=True)
        return 2
    return 2


def cmd_doctor(args, err: Console) -> int:
    """0 all well, 1 problems found, 2 the doctor itself crashed (with the traceback)."""
    from ponder.lsp.doctor import main as doctor_main

    overrides: dict = {}
    if args.db:
        overrides.setdefault("index", {})["db_path"] = str(Path(args.db).resolve())
    if args.embedding_model:
        overrides.setdefault("embedding", {})["model"] = args.embedding_model
    try:
        return doctor_main(args.path, args.format, not args.no_embed, overrides or None)
    except Exception:
        import traceback

        sys.stderr.write("ponder doctor crashed (please report this):\n" + traceback.format_exc())
        return 2


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("{task.description:<12}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
        disable=not console.is_terminal,
    )


def run_index(vault, console: Console, embed: bool = True):
    """Update the index (and embeddings) with a progress bar; returns the report."""
    with _progress(console) as bar:
        tasks: dict[str, int] = {}

        def progress(phase: str, done: int, total: int) -> None:
            label = {"parse": "files", "embed": "embeddings"}.get(phase, phase)
            if phase not in tasks:
                tasks[phase] = bar.add_task(label, total=total)
            bar.update(tasks[phase], completed=done, total=total)

        report = vault.update(progress)
        if embed and vault.embedding.enabled:
            t = time.perf_counter()
            report.embedded = vault.embed(progress)
            report.embed_seconds = time.perf_counter() - t
    return report


def cmd_index(args, err: Console) -> int:
    vault = _open_vault(args, err)
    try:
        report = run_index(vault, err, embed=not args.no_embed)
        g = vault.graph
        counts = vault.store.counts()
        out = Console()
        table = Table(title=f"Ponder index of {escape(str(vault.root))}", show_header=False)
        links = sum(len(n.links) for n in g.notes.values())
        symbols = sum(len(n.functions) for n in g.notes.values())
        for k, v in [
            ("files", report.files),
            ("notes", report.notes),
            ("assets", report.assets),
            ("parsed now", report.parsed),
            ("unchanged", report.unchanged),
            ("deleted", report.deleted),
            ("links", links),
            ("pseudocode functions", symbols),
            ("chunks", counts["chunks"]),
            ("embedded now", report.embedded),
            ("vectors", counts["embedded"]),
            ("time", f"{report.seconds:.2f} s index + {report.embed_seconds:.2f} s embeddings"),
        ]:
            table.add_row(k, str(v))
        out.print(table)
        for w in report.warnings:
            err.print(f"[yellow]warning:[/] {escape(w)}", highlight=False, soft_wrap=True)
        for path, reason in report.skipped:
            out.print(f"skipped {path}: {reason}", highlight=False, markup=False, soft_wrap=True)
        return 0
    finally:
        vault.close()


def cmd_search(args, err: Console) -> int:
    vault = _open_vault(args, err)
    try:
        vault.update()
        hits = vault.search(args.query, args.k)
        if args.format == "json":
            print(
                json.dumps(
                    [
                        {
                            "file": h.path,
                            "range": h.range.to_json(),
                            "heading_path": list(h.heading_path),
                            "snippet": h.snippet,
                            "score": round(h.score, 6),
                        }
                        for h in hits
                    ],
                    ensure_ascii=False,
                    indent=2,
                )
            )
        else:
            for h in hits:
                where = " > ".join(h.heading_path)
                print(f"{h.path}:{h.range.start.line + 1}: [{where}] {h.snippet}")
        return 0
    finally:
        vault.close()


def cmd_check(args, err: Console) -> int:
    vault = _open_vault(args, err)
    try:
        report = vault.update()
        for w in report.warnings:
            err.print(f"[yellow]warning:[/] {escape(w)}", highlight=False, soft_wrap=True)
        for path, reason in report.skipped:
            err.print(f"[yellow]skipped[/] {escape(path)}: {escape(reason)}", highlight=False, soft_wrap=True)
        if args.semantic and vault.embedding.enabled:
            run_index(vault, err)  # candidates need the claim vectors
        diags = vault.check(related_notes=not args.no_related)
        if args.semantic:
            diags = sorted(diags + _semantic(vault, args, err), key=lambda d: (d.path, d.range.start, d.code))
        if args.format == "json":
            print(
                json.dumps(
                    {"version": 1, "root": str(vault.root), "diagnostics": [d.to_json() for d in diags]},
                    ensure_ascii=False,
                    indent=2,
                )
            )
        else:
            for d in diags:
                print(
                    f"{d.path}:{d.range.start.line + 1}:{d.range.start.character + 1}: {d.severity} "
                    f"{d.code}: {d.message}"
                )
                for r in d.related:
                    print(f"    {r.path}:{r.range.start.line + 1}:{r.range.start.character + 1}: note: {r.message}")
            counts = {s: sum(1 for d in diags if d.severity == s) for s in SEVERITY_RANK}
            err.print(
                f"{len(vault.graph.notes)} notes checked: " + ", ".join(f"{n} {s}" for s, n in counts.items() if n)
                if diags
                else f"{len(vault.graph.notes)} notes checked: no problems",
                highlight=False,
            )
        limit = SEVERITY_RANK[args.fail_on]
        return 1 if any(SEVERITY_RANK[d.severity] <= limit for d in diags) else 0
    finally:
        vault.close()


def _semantic(vault, args, err: Console) -> list:
    """Model verdicts on candidate pairs (the configured model, else the bundled Gemma)."""
    import asyncio

    from ponder.lsp.llm.contradictions.judge import (
        contradiction_diagnostics,
        judge_vault,
    )

    settings = _settings(args, err)
    judged = asyncio.run(judge_vault(vault, settings.model, console=err, limit=args.max_pairs))
    fresh = sum(1 for j in judged if not j.cached)
    err.print(
        f"model judged {len(judged)} pairs ({fresh} new, {len(judged) - fresh} from cache)",
        highlight=False,
        soft_wrap=True,
    )
    return contradiction_diagnostics(judged)


if __name__ == "__main__":
    sys.exit(main())
