"""vscode-markdown-languageserver as a baseline: install it, and be the client it expects.

The server (the one VS Code's built-in markdown support runs) reads nothing itself: it
asks the client for the files (`markdown/findMarkdownFilesInWorkspace`,
`markdown/fs/readFile|stat|readDirectory`), for markdown-it tokens (`markdown/parse`)
and for file watchers. This module answers those the way VS Code's own client does
(extensions/markdown-language-features/src/client/client.ts), with markdown-it-py for
the tokens. Settings are VS Code's defaults, with validation on (it is off by default
in VS Code) so that didOpen -> diagnostics can be measured.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import zlib
from pathlib import Path
from typing import Any

from lsp_client import BenchClient, RawJSON, field
from markdown_it import MarkdownIt
from pygls.uris import from_fs_path, to_fs_path

PACKAGE = "vscode-markdown-languageserver"
VERSION = "0.5.0"  # pinned: the token fields below were checked against this version's workerMain.js
CACHE = Path(__file__).resolve().parent / ".cache" / PACKAGE
MAIN = CACHE / "node_modules" / PACKAGE / "dist" / "node" / "workerMain.js"

# VS Code's defaults for the `markdown` section (package.json of markdown-language-features)
SETTINGS = {
    "markdown": {
        "server": {"log": "off"},
        "preferredMdPathExtensionStyle": "auto",
        "suggest": {"paths": {"enabled": True, "includeWorkspaceHeaderCompletions": "onDoubleHash"}},
        "occurrencesHighlight": {"enabled": False},
        "validate": {
            "enabled": True,
            "referenceLinks": {"enabled": "warning"},
            "fragmentLinks": {"enabled": "warning"},
            "fileLinks": {"enabled": "warning", "markdownFragmentLinks": "inherit"},
            "ignoredLinks": [],
            "unusedLinkDefinitions": {"enabled": "hint"},
            "duplicateLinkDefinitions": {"enabled": "warning"},
        },
    }
}


class Unavailable(Exception):
    """node or npm is missing, or the install failed."""


def install() -> Path:
    """The server's entry point, installed from npm into bench/.cache on first use."""
    if shutil.which("node") is None:
        raise Unavailable("node is not on PATH; install Node.js (20+) to run --compare")
    pkg = MAIN.parent.parent.parent / "package.json"
    if MAIN.exists() and json.loads(pkg.read_text()).get("version") == VERSION:
        return MAIN
    npm = shutil.which("npm")
    if npm is None:
        raise Unavailable(f"npm is not on PATH; it is needed once to install {PACKAGE}@{VERSION} into {CACHE}")
    CACHE.mkdir(parents=True, exist_ok=True)
    cmd = [
        npm,
        "install",
        "--prefix",
        str(CACHE),
        "--no-audit",
        "--no-fund",
        "--loglevel=error",
        f"{PACKAGE}@{VERSION}",
    ]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0 or not MAIN.exists():
        raise Unavailable(f"`{' '.join(cmd)}` failed:\n{done.stderr.strip()}")
    return MAIN


# --- markdown/parse --------------------------------------------------------------------

_MD = MarkdownIt("js-default", {"html": True})  # VS Code: markdown-it's default preset, html on


def _front_matter_end(lines: list[str]) -> int:
    """Lines taken by YAML front matter (VS Code's engine has markdown-it-front-matter), else 0."""
    if not lines or lines[0].rstrip() != "---":
        return 0
    for i in range(1, len(lines)):
        if lines[i].rstrip() in ("---", "..."):
            return i + 1
    return 0


def tokens(text: str) -> list[dict]:
    """markdown-it tokens as the server reads them.

    VS Code sends whole markdown-it Token objects; the server reads only `type`, `map`,
    `markup` (heading level), `content` (html blocks, heading text) and `children`
    (heading text), so other fields and the text of non-heading inline tokens are left
    out to keep the JSON small.
    """
    lines = text.split("\n")
    fm = _front_matter_end(lines)
    body = "\n" * fm + "\n".join(lines[fm:]) if fm else text
    out: list[dict] = [{"type": "front_matter", "map": [0, fm], "markup": "---", "content": ""}] if fm else []
    in_heading = False
    for tok in _MD.parse(body):
        d: dict[str, Any] = {"type": tok.type, "map": tok.map}
        if tok.type == "heading_open":
            d["markup"] = tok.markup
            in_heading = True
        elif tok.type == "heading_close":
            in_heading = False
        elif tok.type in ("html_block", "fence", "code_block"):
            d["content"] = tok.content
            d["info"] = tok.info
        elif tok.type == "inline" and in_heading:
            d["content"] = tok.content
            d["children"] = [{"type": c.type, "content": c.content} for c in tok.children or []]
        out.append(d)
    return out


# --- the client ----------------------------------------------------------------------


class VsCodeMarkdownClient(BenchClient):
    name = "vscode-markdown-languageserver"

    def __init__(self, root: Path) -> None:
        super().__init__()
        self.root = root
        self.requests: dict[str, int] = {}  # server -> client requests, by method
        self._tokens: dict[str, tuple[tuple[int, int], bytes]] = {}
        lc = self.lc

        def count(method: str) -> None:
            self.requests[method] = self.requests.get(method, 0) + 1

        def path_of(uri: str) -> Path:
            return Path(to_fs_path(uri))

        @lc.feature("markdown/parse")
        def parse(params):
            count("markdown/parse")
            uri, text = params.uri, getattr(params, "text", None)
            if text is not None:
                return tokens(text)
            p = path_of(uri)
            try:
                st = p.stat()
            except OSError:
                return []
            # VS Code's engine caches tokens per document version; the file's stat stands in
            # for it. Kept compressed: 20k notes' tokens would take gigabytes as dicts.
            key = (st.st_mtime_ns, st.st_size)
            hit = self._tokens.get(uri)
            if hit is None or hit[0] != key:
                body = json.dumps(tokens(p.read_text("utf-8", errors="replace")))
                hit = (key, zlib.compress(body.encode(), 1))
                self._tokens[uri] = hit
            return RawJSON(zlib.decompress(hit[1]).decode())

        @lc.feature("markdown/fs/readFile")
        def read_file(params):
            count("markdown/fs/readFile")
            return list(path_of(params.uri).read_bytes())  # VS Code sends the bytes as a number array

        @lc.feature("markdown/fs/stat")
        def stat(params):
            count("markdown/fs/stat")
            p = path_of(params.uri)
            return {"isDirectory": p.is_dir()} if p.exists() else None

        @lc.feature("markdown/fs/readDirectory")
        def read_directory(params):
            count("markdown/fs/readDirectory")
            p = path_of(params.uri)
            return [[e.name, {"isDirectory": e.is_dir()}] for e in os.scandir(p)] if p.is_dir() else []

        @lc.feature("markdown/findMarkdownFilesInWorkspace")
        def find_files(params):
            count("markdown/findMarkdownFilesInWorkspace")
            return [from_fs_path(str(p)) for p in markdown_files(self.root)]

        @lc.feature("markdown/fs/watcher/create")
        def watch(params):
            count("markdown/fs/watcher/create")
            return None  # nothing changes on disk during the benchmark

        @lc.feature("markdown/fs/watcher/delete")
        def unwatch(params):
            return None

        @lc.feature("client/registerCapability")
        def register(params):
            return None

        @lc.feature("workspace/diagnostic/refresh")
        def refresh(params):
            return None

        @lc.feature("window/logMessage")
        def log(params):
            pass

    async def start(self) -> float:
        """Spawn and initialize; returns the initialize round trip in seconds."""
        await self.spawn("node", str(install()), "--stdio")
        uri = from_fs_path(str(self.root))
        t0 = time.perf_counter()
        await self.request(
            "initialize",
            {
                "processId": os.getpid(),
                "rootUri": uri,
                "workspaceFolders": [{"uri": uri, "name": self.root.name}],
                "capabilities": {
                    "textDocument": {
                        "diagnostic": {"dynamicRegistration": True},
                        "completion": {"dynamicRegistration": True},
                    },
                    "workspace": {"workspaceFolders": True, "diagnostics": {"refreshSupport": True}},
                },
                "initializationOptions": {"markdownFileExtensions": ["md"]},
            },
        )
        dt = time.perf_counter() - t0
        self.notify("initialized", {})
        self.notify("workspace/didChangeConfiguration", {"settings": SETTINGS})
        return dt

    async def ready(self, uri: str, position: dict) -> str:
        """Fill the server's workspace caches: it has no index of its own and builds one per
        feature on first use (symbols from every note's tokens, links for references).
        Ready when a second workspace/symbol and references call return the same counts as
        the first ones (which had to read and tokenize every note)."""
        refs = {"textDocument": {"uri": uri}, "position": position, "context": {"includeDeclaration": False}}
        first = (
            len(await self.request("workspace/symbol", {"query": ""}) or []),
            len(await self.request("textDocument/references", refs) or []),
        )
        again = (
            len(await self.request("workspace/symbol", {"query": ""}) or []),
            len(await self.request("textDocument/references", refs) or []),
        )
        if again != first:
            raise RuntimeError(f"{self.name}: workspace caches not stable ({first} then {again})")
        return (
            f"{first[0]} workspace symbols; {self.requests.get('markdown/fs/readFile', 0)} "
            f"files read, {self.requests.get('markdown/parse', 0)} parse requests"
        )

    async def settle(self, uris: list[str]) -> None:
        """Nothing should run in the background (diagnostics are pulled); checked as for Ponder."""
        from lsp_bench import settle_by_probing

        await settle_by_probing(self, uris[0])

    async def diagnose(self, uri: str, text: str) -> tuple[float, int]:
        """didOpen, then pull diagnostics as VS Code does: (ms until they arrive, how many)."""
        t0 = time.perf_counter()
        self.notify(
            "textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "markdown", "version": 1, "text": text}}
        )
        got = await self.request("textDocument/diagnostic", {"textDocument": {"uri": uri}})
        return (time.perf_counter() - t0) * 1000, len(field(got, "items") or [])


def markdown_files(root: Path) -> list[Path]:
    """What `workspace.findFiles('**/*.md', '**/node_modules/**')` finds (hidden folders left out too)."""
    out = []
    for dirpath, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "node_modules")
        out += [Path(dirpath) / f for f in sorted(files) if f.lower().endswith(".md")]
    return out
