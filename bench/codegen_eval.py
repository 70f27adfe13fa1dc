"""pass@1 of implementations generated from pseudocode, checked by unit tests.

    python bench/codegen_eval.py [--model PATH.gguf | --backend openai --endpoint URL]
                                 [--max-tokens 1024] [--max-code-chars 2000] [--only 07_retry_delays] [--no-cache]

Ten pseudocode tasks of increasing difficulty (`bench/data/codegen/vault/NN_*.md`, some
needing context from other notes: a retry policy, a decision record, a helper defined
elsewhere) each with a `check(module)` test (`tests/NN_*.py`) and a hand-written reference
(`reference/NN_*.py`). The vault is copied and indexed; each block goes through the same
prompt, syntax check and single retry as `ponder.generate`, with the configured model
(settings from `ponder.toml` / `PONDER_*` / the flags). The references, run in the same
pass, are the baseline that shows the tests themselves are right. The number is
recorded, not targeted: the bundled Gemma 3 270M proves plumbing only.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from rich.console import Console
from rich.table import Table

from ponder.index.vault import Vault
from ponder.lsp import codegen as cg
from ponder.lsp.settings import load_settings
from ponder.runtime.client import ModelClient
from ponder.runtime.tasks import ModelError

DATA = Path(__file__).resolve().parent / "data" / "codegen"
RUNNER = """
import importlib.util, sys
def load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m); return m
load("t", sys.argv[2]).check(load("impl", sys.argv[1]))
"""


def run_tests(code_path: Path, test_path: Path, timeout_s: float = 20.0) -> tuple[bool, str]:
    try:
        p = subprocess.run(
            [sys.executable, "-c", RUNNER, str(code_path), str(test_path)],
            capture_output=True,
            text=True,
            timeout=timeout_s,
        )
    except subprocess.TimeoutExpired:
        return False, "timeout"
    last = (p.stderr.strip().splitlines() or [""])[-1]
    return p.returncode == 0, last[:80]


async def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", help="GGUF file (llama_cpp backend)")
    ap.add_argument("--backend", choices=["llama_cpp", "openai"])
    ap.add_argument("--endpoint", help="OpenAI-compatible base URL (loopback)")
    ap.add_argument("--max-tokens", type=int, help="token budget of one generation (default: the codegen setting)")
    ap.add_argument("--max-code-chars", type=int, help="longest code the schema allows (default: the codegen setting)")
    ap.add_argument("--n-ctx", type=int, default=4096)
    ap.add_argument("--only", action="append", help="task name(s), e.g. 07_retry_delays")
    ap.add_argument("--no-cache", action="store_true", help="do not reuse earlier answers (a fresh index database)")
    args = ap.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="ponder-codegen-"))
    vault_dir = work / "vault"
    shutil.copytree(DATA / "vault", vault_dir)
    overrides: dict = {"embedding": {"enabled": False}, "model": {"n_ctx": args.n_ctx}}
    for key, value in (("path", args.model), ("backend", args.backend), ("endpoint", args.endpoint)):
        if value:
            overrides["model"][key] = value
    for key, value in (("max_tokens", args.max_tokens), ("max_code_chars", args.max_code_chars)):
        if value:
            overrides.setdefault("codegen", {})[key] = value
    settings, messages = load_settings(Path.cwd(), overrides)
    console = Console(width=None if sys.stdout.isatty() else 140)
    for m in messages:
        console.print(f"[yellow]{m}")
    if not args.no_cache:  # keep answers across runs in a fixed place: a rerun with the same model costs nothing
        cache_dir = Path.home() / ".cache" / "ponder" / "codegen-eval"
        cache_dir.mkdir(parents=True, exist_ok=True)
        settings.index.db_path = str(cache_dir / "index.db")
    vault = Vault(vault_dir, settings.index, settings.embedding)
    vault.update()
    python = cg.LANGUAGES["python"]
    tasks = sorted(p.stem for p in (DATA / "tests").glob("*.py"))
    if args.only:
        tasks = [t for t in tasks if t in args.only]
    client = ModelClient(settings.model, cache_path=vault.db_path)
    await client.start()
    table = Table(
        title=f"codegen pass@1 — {settings.model.backend} "
        f"{Path(settings.model.path).name if settings.model.path else '(bundled Gemma 3 270M)'}"
    )
    for col in ("task", "reference", "model", "check", "attempts", "tokens", "seconds", "failure"):
        table.add_column(col)
    passed = ref_passed = 0
    try:
        for name in tasks:
            test = DATA / "tests" / f"{name}.py"
            ref_ok, ref_msg = run_tests(DATA / "reference" / f"{name}.py", test)
            ref_passed += ref_ok
            note = vault.note(f"{name}.md")
            block = cg.block_at(vault, note, next(b.range.start.line for b in note.code_blocks if b.is_pseudo))
            task = cg.codegen_task(cg.gather(vault, block), python, settings.codegen)
            started = time.monotonic()
            run = lambda t, retry: client.run(t)
            try:
                res, check, attempts = await cg.generate_checked(run, task, python, settings.codegen.check_timeout_s)
            except ModelError as e:
                table.add_row(
                    name,
                    "pass" if ref_ok else f"FAIL {ref_msg}",
                    "error",
                    "-",
                    "-",
                    "-",
                    f"{time.monotonic() - started:.1f}",
                    str(e)[:60],
                )
                continue
            code_path = work / f"{name}.py"
            code_path.write_text(res.value.code, "utf-8")
            ok, msg = (
                run_tests(code_path, test)
                if check.ok is not False
                else (False, "syntax: " + check.message.splitlines()[0][:70])
            )
            passed += ok
            status = {True: "ok", False: "failed", None: "unchecked"}[check.ok]
            table.add_row(
                name, "pass" if ref_ok else f"FAIL {ref_msg}", "pass" if ok else "fail", status, str(attempts),
                str(res.tokens),
                f"{time.monotonic() - started:.1f}{' (cached)' if res.cached else ''}",
                "" if ok else msg,
            )  # fmt: skip
    finally:
        await client.close()
        vault.close()
    console.print(table)
    n = len(tasks)
    console.print(
        f"pass@1: model {passed}/{n} = {passed / n if n else 0:.2f}   reference "
        f"{ref_passed}/{n} (baseline: the tests are right)"
    )
    console.print(f"generated code kept in {work}")
    return 0 if ref_passed == n else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
