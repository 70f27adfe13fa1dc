"""Benchmark `ponder serve` over LSP on a vault (default: the generated 20k-note vault).

Measures initialize time, time until the indexing progress ends (cold, then warm from
the store), warm start to first answer, didOpen -> first diagnostics, p50/p95 latency of
hover, definition, references, completion, document symbols and workspace symbols
over a sample of positions, and the server's peak RSS. Prints a table.

    python bench/lsp_bench.py [FOLDER] [--notes 20000] [--samples 200]

`--compare` (running vscode-markdown-languageserver on the same folder) is not
implemented yet; see the README.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import random
import shutil
import statistics
import sys
import time
from pathlib import Path

from lsprotocol import types as t
from pygls.lsp.client import LanguageClient
from pygls.uris import from_fs_path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))


def generated_vault(n: int) -> Path:
    root = HERE / ".data" / f"vault-{n}"
    if not (root / ".done").exists():
        spec = importlib.util.spec_from_file_location("vaultgen", HERE / "vaultgen.py")
        gen = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(gen)
        if root.exists():
            shutil.rmtree(root)
        gen.generate(root, n)
        (root / ".done").write_text("")
    return root


class Client:
    def __init__(self):
        self.lc = LanguageClient("bench", "1")
        self.progress_end = asyncio.Event()
        self.first_diag: dict[str, float] = {}
        lc = self.lc

        @lc.feature(t.WINDOW_WORK_DONE_PROGRESS_CREATE)
        def create(params):
            return None

        @lc.feature(t.PROGRESS)
        def progress(params):
            v = params.value
            kind = v.get("kind") if isinstance(v, dict) else getattr(v, "kind", None)
            if kind == "end":
                self.progress_end.set()

        @lc.feature(t.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def diags(params):
            self.first_diag.setdefault(params.uri, time.perf_counter())

        @lc.feature(t.WORKSPACE_CONFIGURATION)
        def config(params):
            return [None for _ in params.items]

        @lc.feature(t.CLIENT_REGISTER_CAPABILITY)
        def register(params):
            return None

        @lc.feature(t.WINDOW_SHOW_MESSAGE)
        def show(params):
            print("server:", params.message, file=sys.stderr)

    async def start(self, root: Path) -> tuple[float, int]:
        await self.lc.start_io(sys.executable, "-m", "ponder.lsp")
        caps = t.ClientCapabilities(
            window=t.WindowClientCapabilities(work_done_progress=True),
            workspace=t.WorkspaceClientCapabilities(configuration=True),
        )
        t0 = time.perf_counter()
        await self.lc.initialize_async(
            t.InitializeParams(
                capabilities=caps,
                root_uri=from_fs_path(str(root)),
                initialization_options={"embedding": {"enabled": False}, "index": {"whole_vault_diagnostics": False}},
            )
        )
        dt = time.perf_counter() - t0
        self.lc.initialized(t.InitializedParams())
        return dt, self.lc._server.pid

    async def stop(self):
        await self.lc.shutdown_async(None)
        self.lc.exit(None)
        await asyncio.sleep(0.2)
        await self.lc.stop()


def peak_rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def sample_positions(root: Path, k: int, seed: int = 1):
    from ponder.index.parse import parse_note

    rng = random.Random(seed)
    files = sorted(p for p in root.rglob("*.md") if ".ponder" not in p.parts)
    links, notes = [], []
    for p in rng.sample(files, min(len(files), k)):
        rel = p.relative_to(root).as_posix()
        note = parse_note(rel, p.read_text("utf-8"))
        notes.append((p, note))
        for ln in note.links[:2]:
            if ln.kind != "url":
                links.append((p, t.Position(ln.target_range.start.line, ln.target_range.start.character + 1)))
    return files, notes, links[:k]


async def timed(samples: list[float], coro):
    t0 = time.perf_counter()
    await coro
    samples.append((time.perf_counter() - t0) * 1000)


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))] if xs else float("nan")


async def run(root: Path, samples: int, fresh: bool) -> None:
    if fresh:
        shutil.rmtree(root / ".ponder", ignore_errors=True)
    n_files = sum(1 for _ in root.rglob("*.md"))
    rows: list[tuple[str, str]] = [("notes", str(n_files))]

    # cold start
    c = Client()
    t0 = time.perf_counter()
    init, pid = await c.start(root)
    await asyncio.wait_for(c.progress_end.wait(), 1800)
    rows += [("initialize (cold)", f"{init * 1000:.0f} ms"), ("indexing done (cold)", f"{time.perf_counter() - t0:.2f} s")]
    rows.append(("peak RSS after cold index", f"{peak_rss_mb(pid):.0f} MB"))
    await c.stop()

    # warm start
    c = Client()
    files, notes, links = sample_positions(root, samples)
    t0 = time.perf_counter()
    init, pid = await c.start(root)
    first_file, first_pos = links[0]
    await c.lc.text_document_definition_async(t.DefinitionParams(t.TextDocumentIdentifier(from_fs_path(str(first_file))), first_pos))
    first_answer = time.perf_counter() - t0
    await asyncio.wait_for(c.progress_end.wait(), 600)
    rows += [
        ("initialize (warm)", f"{init * 1000:.0f} ms"),
        ("warm start to first answer", f"{first_answer * 1000:.0f} ms"),
        ("indexing done (warm)", f"{time.perf_counter() - t0:.2f} s"),
    ]

    # didOpen -> first diagnostics
    opened = []
    for p, note in notes[:20]:
        uri = from_fs_path(str(p))
        text = p.read_text("utf-8") + "\n[[no-such-note-xyz]]\n"
        t1 = time.perf_counter()
        c.lc.text_document_did_open(t.DidOpenTextDocumentParams(t.TextDocumentItem(uri, "markdown", 1, text)))
        while uri not in c.first_diag:
            await asyncio.sleep(0.002)
        opened.append((c.first_diag[uri] - t1) * 1000)
    rows.append(("didOpen -> diagnostics p50", f"{pct(opened, 0.5):.0f} ms (debounce 200 ms)"))

    lat: dict[str, list[float]] = {k: [] for k in ("hover", "definition", "references", "completion", "documentSymbol", "workspaceSymbol")}
    for p, pos in links:
        doc = t.TextDocumentIdentifier(from_fs_path(str(p)))
        await timed(lat["hover"], c.lc.text_document_hover_async(t.HoverParams(doc, pos)))
        await timed(lat["definition"], c.lc.text_document_definition_async(t.DefinitionParams(doc, pos)))
        await timed(lat["references"], c.lc.text_document_references_async(t.ReferenceParams(text_document=doc, position=pos, context=t.ReferenceContext(False))))
    for p, note in notes:
        doc = t.TextDocumentIdentifier(from_fs_path(str(p)))
        await timed(lat["documentSymbol"], c.lc.text_document_document_symbol_async(t.DocumentSymbolParams(doc)))
    rng = random.Random(2)
    for p, note in notes[:20]:  # the opened ones: complete after `[[` + two letters on the appended line
        uri = from_fs_path(str(p))
        line = len((p.read_text("utf-8") + "\n").split("\n")) - 1
        c.lc.text_document_did_change(
            t.DidChangeTextDocumentParams(t.VersionedTextDocumentIdentifier(2, uri), [t.TextDocumentContentChangePartial(range=t.Range(t.Position(line, 0), t.Position(line, 21)), text="[[" + note.name[:2])])
        )
        for _ in range(5):
            await timed(lat["completion"], c.lc.text_document_completion_async(t.CompletionParams(t.TextDocumentIdentifier(uri), t.Position(line, 4))))
    for p, note in notes:
        q = note.name[rng.randrange(0, max(1, len(note.name) - 3)) :][:3]
        await timed(lat["workspaceSymbol"], c.lc.workspace_symbol_async(t.WorkspaceSymbolParams(query=q)))
    for k, xs in lat.items():
        rows.append((f"{k} p50 / p95 (n={len(xs)})", f"{pct(xs, 0.5):.1f} / {pct(xs, 0.95):.1f} ms"))
    rows.append(("peak RSS", f"{peak_rss_mb(pid):.0f} MB"))
    await c.stop()

    width = max(len(a) for a, _ in rows)
    print(f"\nponder serve on {root}")
    for a, b in rows:
        print(f"  {a:<{width}}  {b}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("folder", nargs="?", type=Path)
    ap.add_argument("--notes", type=int, default=20000, help="size of the generated vault when no folder is given")
    ap.add_argument("--samples", type=int, default=200)
    ap.add_argument("--keep-index", action="store_true", help="do not delete <vault>/.ponder before the cold run")
    ap.add_argument("--compare", action="store_true", help="also run vscode-markdown-languageserver (not implemented yet)")
    args = ap.parse_args()
    root = (args.folder or generated_vault(args.notes)).resolve()
    if args.compare:
        print("--compare: not implemented yet (needs the client-side handlers of vscode-markdown-languageserver)", file=sys.stderr)
    asyncio.run(run(root, args.samples, fresh=not args.keep_index))
    return 0


if __name__ == "__main__":
    sys.exit(main())
