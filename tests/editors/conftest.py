"""Shared by the editor tests: the CI build of the VS Code extension (npm ci, tsc, eslint,
vsce package), done once per session."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
EXT = REPO / "clients" / "vscode"


def run_npm(*args: str, cwd: Path = EXT, timeout: float = 600, env: dict | None = None) -> subprocess.CompletedProcess:
    exe = shutil.which("npm", path=(env or {}).get("PATH"))
    if exe is None:
        pytest.skip("npm not found (the VS Code extension needs Node 20+ and npm)")
    proc = subprocess.run([exe, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)
    assert proc.returncode == 0, f"npm {' '.join(args)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


@pytest.fixture(scope="session")
def npm():
    """`npm(*args, cwd=..., env=...)`: run npm, failing the test with its output if it fails."""
    return run_npm


@pytest.fixture(scope="session")
def vsix(tmp_path_factory) -> Path:
    """The extension built as CI builds it; returns the .vsix path."""
    run_npm("ci", "--no-audit", "--no-fund", "--prefer-offline")
    run_npm("exec", "--", "tsc", "-p", ".")
    run_npm("exec", "--", "eslint", "src")
    out = tmp_path_factory.mktemp("vsix") / "ponder.vsix"
    run_npm("exec", "--", "vsce", "package", "--out", str(out))
    return out
