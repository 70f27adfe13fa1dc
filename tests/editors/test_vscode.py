"""The VS Code extension: its settings match the server's model, it builds, lints and
packages into a .vsix with the right contents, and the exact server command line it builds
starts a server that answers over the protocol (pytest-lsp)."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from lsprotocol import types as t
from pygls.protocol import default_converter
from pygls.uris import from_fs_path
from pytest_lsp import LanguageClient, client_capabilities
from pytest_lsp.client import register_lsp_features

REPO = Path(__file__).resolve().parents[2]
EXT = REPO / "clients" / "vscode"
GEN = EXT / "scripts" / "gen_settings.py"
BIN = Path(sys.executable).parent


def test_manifest_settings_match_the_model():
    proc = subprocess.run([sys.executable, str(GEN), "--check"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_drift_is_detected(tmp_path: Path):
    package = json.loads((EXT / "package.json").read_text("utf-8"))
    props = package["contributes"]["configuration"][1]["properties"]
    props.pop(next(iter(props)))
    stale = tmp_path / "package.json"
    stale.write_text(json.dumps(package), "utf-8")
    proc = subprocess.run(
        [sys.executable, str(GEN), "--check", "--package", str(stale)], capture_output=True, text=True
    )
    assert proc.returncode == 1 and "out of date" in proc.stderr


def manifest_defaults() -> dict:
    """What the extension sends as the `ponder` section with no user settings: the manifest's
    defaults, nested, without the extension's own keys (extension.ts: serverSettings)."""
    out: dict = {}
    for section in json.loads((EXT / "package.json").read_text("utf-8"))["contributes"]["configuration"]:
        for key, prop in section["properties"].items():
            parts = key.split(".")[1:]
            if parts[0] in ("server", "trace"):
                continue
            node = out
            for p in parts[:-1]:
                node = node.setdefault(p, {})
            node[parts[-1]] = prop["default"]
    return out


@pytest.mark.editor
def test_vsix_contents(vsix: Path, npm):
    listed = set(npm("exec", "--", "vsce", "ls").stdout.split())
    for need in (
        "package.json",
        "README.md",
        "LICENSE",
        "language-configuration.json",
        "syntaxes/pseudo.tmLanguage.json",
        "out/extension.js",
        "out/serverCommand.js",
        "out/status.js",
        "out/commands.js",
        "node_modules/vscode-languageclient/package.json",
    ):
        assert need in listed, f"{need} missing from the package"
    leaked = [
        f
        for f in listed
        if f.startswith(("src/", "scripts/", ".cache/")) or f.endswith((".ts", ".vsix")) and not f.endswith(".d.ts")
    ]
    assert not leaked, leaked

    with zipfile.ZipFile(vsix) as z:
        names = set(z.namelist())
        assert (
            "extension/out/extension.js" in names
            and "extension/node_modules/vscode-languageclient/lib/node/main.js" in names
        )
        manifest = json.loads(z.read("extension/package.json"))
        grammar = json.loads(z.read("extension/syntaxes/pseudo.tmLanguage.json"))
    ours = json.loads((EXT / "package.json").read_text("utf-8"))
    assert manifest["contributes"]["configuration"] == ours["contributes"]["configuration"]
    assert {c["command"] for c in manifest["contributes"]["commands"]} == {
        "ponder.reindexVault",
        "ponder.generateImplementation",
        "ponder.explainHere",
        "ponder.showStatus",
        "ponder.ignorePairHere",
        "ponder.restartServer",
        "ponder.showOutput",
    }
    assert manifest["contributes"]["languages"][0]["extensions"] == [".pseudo"]
    keywords = json.dumps(grammar["repository"]["keyword"], ensure_ascii=False)
    assert "WHILE" in keywords and "ПОКА" in keywords and "ВЕРНУТЬ" in keywords
    assert not manifest.get("extensionDependencies")


def server_command(settings: dict, path: str) -> dict:
    """The extension's own resolver (out/serverCommand.js) under plain Node."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node not found")
    proc = subprocess.run(
        [node, str(EXT / "out" / "serverCommand.js"), json.dumps(settings)],
        capture_output=True,
        text=True,
        env={**os.environ, "PATH": path},
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.mark.editor
def test_server_not_found_names_the_install_command(vsix: Path, tmp_path: Path):
    got = server_command({}, str(tmp_path))
    assert "error" in got and got["install"] in got["error"] and "ponder.server.pythonPath" in got["error"]


@pytest.mark.editor
@pytest.mark.parametrize("how", ["PATH", "pythonPath", "command"])
async def test_extension_command_line_serves(vsix: Path, how: str, example_vault: Path):
    settings = {"pythonPath": sys.executable} if how == "pythonPath" else {}
    if how == "command":
        settings = {"command": ["${workspaceFolder}/bin/ponder", "serve"], "workspaceFolder": str(BIN.parent)}
    got = server_command(settings, f"{BIN}{os.pathsep}/usr/bin:/bin")
    expected = {
        "PATH": {"command": str(BIN / "ponder"), "args": ["serve"], "source": "PATH"},
        "pythonPath": {
            "command": sys.executable,
            "args": ["-m", "ponder.lsp", "serve"],
            "source": "ponder.server.pythonPath",
        },
        "command": {"command": str(BIN / "ponder"), "args": ["serve"], "source": "ponder.server.command"},
    }[how]
    assert got == expected

    options = manifest_defaults()
    options["embedding"]["enabled"] = False  # keep the test fast; everything else as the manifest says
    # As in extension.ts: the same settings go in initializationOptions and answer workspace/configuration.
    client = LanguageClient(configuration={"ponder": options}, converter_factory=default_converter)
    register_lsp_features(client)
    await client.start_io(got["command"], *got["args"], env={**os.environ, "HF_HUB_OFFLINE": "1"})
    try:
        root = from_fs_path(str(example_vault))
        await client.initialize_session(
            t.InitializeParams(
                capabilities=client_capabilities("visual-studio-code"),
                root_uri=root,
                workspace_folders=[t.WorkspaceFolder(root, "vault")],
                initialization_options=options,
            )
        )
        uri = from_fs_path(str(example_vault / "Главная.md"))
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not client.diagnostics.get(uri):
            await asyncio.sleep(0.05)
        assert {d.code for d in client.diagnostics.get(uri, [])} == {"broken-link"}
        status = await client.workspace_execute_command_async(t.ExecuteCommandParams(command="ponder.status"))
        assert status["notes"] >= 10 and status["embedding"] is not None
        # the manifest's defaults are all valid for the server's model: no "using the default" warnings
        assert not [m.message for m in client.messages if "ponder." in m.message], client.messages
    finally:
        await client.shutdown_session()
        await client.stop()
