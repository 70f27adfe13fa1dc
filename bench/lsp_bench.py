"""Benchmark `ponder serve` over LSP on a vault (default: the generated 20k-note vault).

Measures initialize time, time until the indexing progress ends (cold, then warm from
the store), warm start to first answer, didOpen -> first diagnostics, p50/p95 latency of
hover, definition, references, completion, document symbols and workspace symbols over a
sample of positions, how many of those requests got a non-empty answer, and the server's
peak RSS. Prints a table.

    python bench/lsp_bench.py [FOLDER] [--notes 20000] [--samples 200] [--opens 20] [--compare]

`--compare` runs the same measurements, at the same positions, against
vscode-markdown-languageserver (VS Code's own markdown server, installed from npm into
bench/.cache on first use; see vscode_md_client.py) and prints ponder/vscode ratios.
That server reads markdown links only, so hover/definition/references/completion are
timed at markdown links (`[t](/path.md)`) for both; Ponder is also timed at wikilinks.
Every sampled note is opened (didOpen) before the timed requests, as in an editor.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import shutil
import sys
import time
from dataclasses import dataclass
from dataclasses import field as dc_field
from pathlib import Path
from typing import Any

from pygls.uris import from_fs_path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from lsp_client import BenchClient, field  # noqa: E402

WAIT = 900  # seconds: the longest wait for any one answer or phase
EDITS = 60  # notes edited for 'completion right after an edit' (a p95 of 20 is the second-worst sample)
T0 = time.perf_counter()


def say(what: str) -> None:
    print(f"[{time.perf_counter() - T0:6.1f} s] {what}", file=sys.stderr, flush=True)


def generated_vault(n: int, seed: int = 0) -> Path:
    """The seeded generated vault, in the same folder bench/index_bench.py uses (written once)."""
    from vaultgen import generate

    return generate(HERE / ".data" / f"vault-{n}-{seed}-v2", n, seed)


# --- the sample ---------------------------------------------------------------------------


def utf16(s: str) -> int:
    return len(s.encode("utf-16-le")) // 2


@dataclass
class Sample:
    """One sampled note: its text and the request positions in it."""

    path: Path
    uri: str
    name: str
    text: str
    markdown: list[dict] = dc_field(default_factory=list)  # inside `[t](/path.md)` targets
    wiki: list[dict] = dc_field(default_factory=list)  # inside `[[Note]]` targets

    def end(self) -> dict:
        lines = self.text.split("\n")
        return {"line": len(lines) - 1, "character": utf16(lines[-1])}


def sample_notes(root: Path, k: int, seed: int = 1) -> list[Sample]:
    from ponder.index.parsing.markdown import parse_note

    rng = random.Random(seed)
    files = sorted(p for p in root.rglob("*.md") if ".ponder" not in p.parts)
    out = []
    for p in rng.sample(files, min(len(files), k)):
        text = p.read_text("utf-8")
        note = parse_note(p.relative_to(root).as_posix(), text)
        s = Sample(p, from_fs_path(str(p)), note.name, text)
        lines = text.split("\n")
        for ln in note.links:
            r = ln.target_range.start
            pos = {"line": r.line, "character": utf16(lines[r.line][: r.character]) + 1}
            if ln.kind == "markdown" and len(s.markdown) < 2:
                s.markdown.append(pos)
            elif ln.kind == "wiki" and len(s.wiki) < 2:
                s.wiki.append(pos)
        out.append(s)
    return out


# --- Ponder as a client sees it -------------------------------------------------------------


class PonderClient(BenchClient):
    name = "ponder"

    def __init__(self, root: Path) -> None:
        super().__init__()
        self.root = root
        self.progress_end = asyncio.Event()
        self.published: dict[str, tuple[float, int]] = {}  # uri -> (first publish time, count)
        lc = self.lc

        @lc.feature("window/workDoneProgress/create")
        def create(params):
            return None

        @lc.feature("$/progress")
        def progress(params):
            v = params.value
            kind = v.get("kind") if isinstance(v, dict) else getattr(v, "kind", None)
            if kind == "end":
                self.progress_end.set()

        @lc.feature("textDocument/publishDiagnostics")
        def diags(params):
            # params: plain JSON, as `RawProtocol` keeps a push
            self.published.setdefault(params["uri"], (time.perf_counter(), len(params["diagnostics"])))

        @lc.feature("workspace/configuration")
        def config(params):
            return [None for _ in params.items]

        @lc.feature("client/registerCapability")
        def register(params):
            return None

        @lc.feature("window/showMessage")
        def show(params):
            print("ponder:", params.message, file=sys.stderr)

    async def start(self) -> float:
        await self.spawn(sys.executable, "-m", "ponder.lsp")
        t0 = time.perf_counter()
        await self.request(
            "initialize",
            {
                "processId": None,
                "rootUri": from_fs_path(str(self.root)),
                "capabilities": {"window": {"workDoneProgress": True}, "workspace": {"configuration": True}},
                "initializationOptions": {"embedding": {"enabled": False}, "index": {"whole_vault_diagnostics": False}},
            },
        )
        dt = time.perf_counter() - t0
        self.notify("initialized", {})
        return dt

    async def ready(self, uri: str, position: dict) -> str:
        """The index is loaded (and brought up to date) when the indexing progress ends."""
        await asyncio.wait_for(self.progress_end.wait(), WAIT * 2)
        return "indexing progress ended"

    async def settle(self, uris: list[str]) -> None:
        """Opening notes starts their diagnostics (and loads what they need) on the index
        thread; wait until it is idle (`settle_by_probing`: a document-symbol probe, which an
        open note answers on the message loop, did not wait for it)."""
        await settle_by_probing(self, uris[0])

    async def diagnose(self, uri: str, text: str) -> tuple[float, int]:
        """didOpen, then wait for the pushed diagnostics: (ms until they arrive, how many)."""
        t0 = time.perf_counter()
        self.notify(
            "textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "markdown", "version": 1, "text": text}}
        )
        end = t0 + WAIT
        while uri not in self.published and time.perf_counter() < end:
            await asyncio.sleep(0.002)
        at, n = self.published.get(uri, (float("nan"), 0))
        return (at - t0) * 1000, n


ORIGIN = {"line": 0, "character": 0}


async def settle_by_probing(c: BenchClient, uri: str, quiet_ms: float = 5.0, times: int = 3) -> None:
    """Wait until the server has nothing queued: `times` definition requests in a row (answered on
    Ponder's index thread, behind whatever it is doing) each answered in under `quiet_ms`."""
    end = time.perf_counter() + WAIT
    streak = 0
    while streak < times and time.perf_counter() < end:
        ms, _ = await c.timed("textDocument/definition", {"textDocument": {"uri": uri}, "position": ORIGIN})
        streak = streak + 1 if ms < quiet_ms else 0
        await asyncio.sleep(0.05)


# --- measuring --------------------------------------------------------------------------------

METHODS = ["hover", "definition", "references", "completion", "documentSymbol", "workspaceSymbol"]


def answered(result: Any) -> bool:
    """A non-empty answer: a hover with contents, a location, a non-empty list or completion list."""
    if result is None:
        return False
    if isinstance(result, list):
        return len(result) > 0
    if field(result, "contents") is not None:
        return bool(field(result, "contents"))
    items = field(result, "items")
    return bool(items) if items is not None else True


@dataclass
class Timing:
    ms: list[float] = dc_field(default_factory=list)
    answered: int = 0
    notes: list[str] = dc_field(default_factory=list)  # the note of each sample, where one was recorded

    def add(self, ms: float, result: Any) -> None:
        self.ms.append(ms)
        self.answered += answered(result)


@dataclass
class Result:
    server: str
    facts: dict[str, str] = dc_field(default_factory=dict)
    timings: dict[str, Timing] = dc_field(default_factory=dict)

    def timing(self, key: str) -> Timing:
        return self.timings.setdefault(key, Timing())


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))] if xs else float("nan")


async def cold_start(root: Path, res: Result) -> None:
    """Ponder from an empty store: initialize, then the whole vault indexed in the background."""
    c = PonderClient(root)
    say("ponder: cold start (empty store)")
    t0 = time.perf_counter()
    init = await c.start()
    await c.ready("", {})
    res.facts["initialize (cold)"] = f"{init * 1000:.0f} ms"
    res.facts["indexing done (cold)"] = f"{time.perf_counter() - t0:.1f} s"
    res.facts["peak RSS after cold index"] = f"{c.peak_rss_mb():.0f} MB"
    await c.stop()


async def measure(c: BenchClient, samples: list[Sample], fresh: list[Sample], res: Result, wiki: bool) -> None:
    """Start (warm), first answers, readiness, didOpen -> diagnostics, then the timed requests."""
    say(f"{c.name}: starting")
    t0 = time.perf_counter()
    init = await c.start()
    probe = next(s for s in samples if s.markdown)
    c.notify(
        "textDocument/didOpen",
        {"textDocument": {"uri": probe.uri, "languageId": "markdown", "version": 1, "text": probe.text}},
    )
    doc = {"textDocument": {"uri": probe.uri}, "position": probe.markdown[0]}
    first = await asyncio.wait_for(c.request("textDocument/definition", doc), WAIT)
    t_def = time.perf_counter() - t0
    refs = await asyncio.wait_for(
        c.request("textDocument/references", {**doc, "context": {"includeDeclaration": False}}), WAIT * 2
    )
    t_refs = time.perf_counter() - t0
    say(f"{c.name}: first answers; waiting until ready")
    how = await c.ready(probe.uri, probe.markdown[0])
    t_ready = time.perf_counter() - t0
    res.facts["initialize (warm)"] = f"{init * 1000:.0f} ms"
    res.facts["warm start to first answer (definition)"] = f"{t_def * 1000:.0f} ms" + (
        "" if answered(first) else " (empty)"
    )
    res.facts["warm start to first references"] = f"{t_refs * 1000:.0f} ms" + ("" if answered(refs) else " (empty)")
    res.facts["index ready (warm)"] = f"{t_ready:.2f} s"
    res.facts["ready means"] = how

    say(f"{c.name}: ready ({how}); didOpen -> diagnostics")
    # didOpen -> diagnostics, on notes not otherwise opened, each with one broken link added, each
    # opened on an idle server (as a person opens a note: not twenty in a second), and then how long
    # until a request queued behind the note's checks is answered (Ponder: fact conflicts included)
    diag = res.timing("didOpen -> diagnostics")
    done = res.timing("didOpen -> all checks done")
    for s in fresh:
        await settle_by_probing(c, s.uri)
        ms, n = await c.diagnose(s.uri, s.text + "\n[broken](/no-such-note-xyz.md)\n")
        diag.ms.append(ms)
        diag.answered += n > 0
        ms_probe, _ = await c.timed("textDocument/definition", {"textDocument": {"uri": s.uri}, "position": ORIGIN})
        done.ms.append(ms + ms_probe)
        done.answered += n > 0
        for t in (diag, done):
            t.notes.append(s.path.relative_to(c.root).as_posix())

    for s in samples:
        if s is not probe:
            c.notify(
                "textDocument/didOpen",
                {"textDocument": {"uri": s.uri, "languageId": "markdown", "version": 1, "text": s.text}},
            )
    await c.settle([s.uri for s in samples])
    say(f"{c.name}: {len(samples)} notes open; timing requests")

    async def ask(key: str, method: str, params: dict) -> None:
        ms, result = await asyncio.wait_for(c.timed(method, params), WAIT)
        res.timing(key).add(ms, result)

    sets = [("", "markdown")] + ([(" [[wiki]]", "wiki")] if wiki else [])
    for suffix, kind in sets:
        for s in samples:
            for pos in getattr(s, kind):
                doc = {"textDocument": {"uri": s.uri}, "position": pos}
                await ask("hover" + suffix, "textDocument/hover", doc)
                await ask("definition" + suffix, "textDocument/definition", doc)
                await ask(
                    "references" + suffix, "textDocument/references", {**doc, "context": {"includeDeclaration": False}}
                )
    for s in samples:
        await ask("documentSymbol", "textDocument/documentSymbol", {"textDocument": {"uri": s.uri}})

    # completion: two lines typed at the end of EDITS open notes, a markdown-link path and a
    # wikilink; asked once right after the edit (while the server may still be busy with
    # it), then four times once the server is idle again
    for s in samples[:EDITS]:
        folder = s.path.parent.relative_to(c.root).as_posix()
        end = s.end()
        md_line, wiki_line = f"see [x](/{folder}/{s.name[:2]}", f"[[{s.name[:2]}"
        c.notify(
            "textDocument/didChange",
            {
                "textDocument": {"uri": s.uri, "version": 2},
                "contentChanges": [{"range": {"start": end, "end": end}, "text": f"\n{md_line}\n{wiki_line}"}],
            },
        )
        md = {"textDocument": {"uri": s.uri}, "position": {"line": end["line"] + 1, "character": utf16(md_line)}}
        wk = {"textDocument": {"uri": s.uri}, "position": {"line": end["line"] + 2, "character": utf16(wiki_line)}}
        await ask("completion right after an edit", "textDocument/completion", md)
        if wiki:
            await ask("completion [[wiki]] right after an edit", "textDocument/completion", wk)
        await c.settle([s.uri])
        for _ in range(4):
            await ask("completion", "textDocument/completion", md)
            if wiki:
                await ask("completion [[wiki]]", "textDocument/completion", wk)

    rng = random.Random(2)
    for s in samples:
        q = s.name[rng.randrange(0, max(1, len(s.name) - 3)) :][:3]
        await ask("workspaceSymbol", "workspace/symbol", {"query": q})
    res.facts["peak RSS"] = f"{c.peak_rss_mb():.0f} MB"
    await c.stop()


# --- the table ------------------------------------------------------------------------------------

FACTS = [
    "initialize (cold)",
    "indexing done (cold)",
    "peak RSS after cold index",
    "initialize (warm)",
    "warm start to first answer (definition)",
    "warm start to first references",
    "index ready (warm)",
    "peak RSS",
]


def latency(t: Timing | None) -> str:
    if t is None or not t.ms:
        return "—"
    return f"{pct(t.ms, 0.5):.1f} / {pct(t.ms, 0.95):.1f} ms ({t.answered}/{len(t.ms)})"


def ratio(a: Timing | None, b: Timing | None) -> str:
    if not a or not b or not a.ms or not b.ms:
        return ""
    return f"{pct(a.ms, 0.5) / pct(b.ms, 0.5):.2f} / {pct(a.ms, 0.95) / pct(b.ms, 0.95):.2f}"


def print_table(root: Path, n_files: int, results: list[Result]) -> None:
    keys = []
    for r in results:
        keys += [k for k in r.timings if k not in keys]
    header = ["", *(r.server for r in results)] + (["ponder / vscode"] if len(results) == 2 else [])
    rows = [header, ["notes", str(n_files)] + [""] * (len(header) - 2)]
    for f in FACTS:
        if any(f in r.facts for r in results):
            rows.append([f, *(r.facts.get(f, "—") for r in results)] + ([""] if len(results) == 2 else []))
    for k in keys:
        label = k if k.startswith("didOpen") else f"{k} p50 / p95 (answered)"
        row = [label, *(latency(r.timings.get(k)) for r in results)]
        if len(results) == 2:
            row.append(ratio(results[0].timings.get(k), results[1].timings.get(k)))
        rows.append(row)
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    print(f"\nLSP benchmark on {root}")
    for r in rows:
        print("  " + "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
    print("  (a/n): requests with a non-empty answer; ratios are ponder/vscode of p50 / p95")
    for r in results:
        print(f"  {r.server}: ready = {r.facts.get('ready means', '')}")
    print(
        "  didOpen -> diagnostics: each note opened on an idle server; Ponder checks a note at once when it is "
        "opened (the"
    )
    print(
        "  200 ms debounce is for typing) and pushes its links and pseudocode first, its fact conflicts with the "
        "second push;"
    )
    print("  the VS Code server is asked (pull) right after didOpen.")
    print(
        "  didOpen -> all checks done: until a request sent after those diagnostics, queued behind the note's "
        "remaining checks, is answered."
    )
    if len(results) == 2:
        print(
            "  vscode-markdown-languageserver hovers only image/video links and goes to "
            "definition only for #fragments and"
        )
        print("  reference links, so it answers nothing at these file links; it does not read [[wikilinks]].")


async def run(
    root: Path, n_samples: int, fresh_index: bool, compare: bool, opens: int = 20, raw: Path | None = None
) -> None:
    n_files = sum(1 for p in root.rglob("*.md") if ".ponder" not in p.parts)
    drawn = sample_notes(root, n_samples + opens)
    samples, fresh = drawn[:n_samples], drawn[n_samples:]
    results = [Result("ponder")]
    if compare:
        from vscode_md_client import Unavailable, VsCodeMarkdownClient, install

        try:
            install()
        except Unavailable as e:
            print(f"--compare: {e}", file=sys.stderr)
            compare = False
    if fresh_index:
        shutil.rmtree(root / ".ponder", ignore_errors=True)
        await cold_start(root, results[0])
        # writing the index pushes the interpreter's files out of the OS cache: one unmeasured
        # start first, so that "warm" means a warm store *and* warm caches
        c = PonderClient(root)
        await c.start()
        await c.ready("", {})
        await c.stop()
    await measure(PonderClient(root), samples, fresh, results[0], wiki=True)
    if compare:
        results.append(Result("vscode-markdown-languageserver"))
        await measure(VsCodeMarkdownClient(root), samples, fresh, results[1], wiki=False)
    print_table(root, n_files, results)
    if raw is not None:
        raw.write_text(json.dumps({r.server: {k: vars(t) for k, t in r.timings.items()} for r in results}, indent=1))
        print(f"  every sample: {raw}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("folder", nargs="?", type=Path)
    ap.add_argument("--notes", type=int, default=20000, help="size of the generated vault when no folder is given")
    ap.add_argument("--samples", type=int, default=200, help="notes sampled for the timed requests")
    ap.add_argument(
        "--opens", type=int, default=20, help="other notes timed for didOpen -> diagnostics (of 20, p95 is the slowest)"
    )
    ap.add_argument("--keep-index", action="store_true", help="keep <vault>/.ponder: skip Ponder's cold run")
    ap.add_argument(
        "--compare", action="store_true", help="also run vscode-markdown-languageserver (needs node; npm once)"
    )
    ap.add_argument("--raw", type=Path, help="write every sample (ms, and the note opened) to this JSON file")
    args = ap.parse_args()
    root = (args.folder or generated_vault(args.notes)).resolve()
    asyncio.run(
        run(root, args.samples, fresh_index=not args.keep_index, compare=args.compare, opens=args.opens, raw=args.raw)
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
