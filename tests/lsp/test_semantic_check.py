"""`ponder check --semantic` with the bundled Gemma through the real llama-cpp worker:
verdicts are requested, parsed, cached, and a second run makes no model call."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from conftest import write_vault

pytestmark = [pytest.mark.model, pytest.mark.slow]

FILES = {
    "design.md": "# Cache\n\nEach worker keeps at most 256 MB of thumbnails in its memory cache.\n",
    "decision.md": "# Decision\n\nThe thumbnail cache of a worker may hold up to 512 megabytes in memory.\n",
}


def run(root, *extra):
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "ponder.lsp.cli",
            "check",
            str(root),
            "--semantic",
            "--max-pairs",
            "2",
            "--no-related",
            "--format",
            "json",
            *extra,
        ],
        capture_output=True,
        text=True,
        timeout=900,
    )


def judged(stderr: str) -> tuple[int, int, int]:
    m = re.search(r"model judged (\d+) pairs \((\d+) new, (\d+) from cache\)", stderr)
    assert m, stderr[-2000:]
    return int(m.group(1)), int(m.group(2)), int(m.group(3))


def test_semantic_check_asks_parses_and_caches(tmp_path):
    vault = write_vault(tmp_path / "v", FILES)
    first = run(vault.root)
    assert first.returncode in (0, 1), first.stderr[-2000:]
    total, new, cached = judged(first.stderr)
    assert total >= 1 and new == total and cached == 0  # parsed verdicts, fresh from the model
    second = run(vault.root)
    assert judged(second.stderr) == (total, 0, total)  # all from the cache: no model call
