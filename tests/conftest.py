"""Shared fixtures: inline vaults, the project's labelled vaults, offline model settings.

Every fixture reads the repository only, so that a fresh clone runs every test: the labelled
evaluation vault of the tests is the project's own `bench/eval/vault-dacha` (mostly Russian).
`../shared/eval` (vault-orbit) stays for evaluations and benchmarks (`bench/`)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
EVAL_VAULT = REPO / "bench" / "eval" / "vault-dacha"
EVAL_LABELS = REPO / "bench" / "eval" / "vault-dacha.labels.json"
EXAMPLE_VAULT = REPO / "examples" / "vault"
EXAMPLE_LABELS = REPO / "examples" / "vault.labels.json"

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


# Two unlinked notes about one thing (a heat pump's defrost cycle, with a value both state)
# among unrelated ones: the missing-link tests of the index and of the LSP share them.
RELATED_NOTES = {
    "heat-pump.md": "# Heat pump\n\nThe outdoor unit defrosts its evaporator coil when frost builds up on the fins.\n"
    "The defrost cycle reverses the refrigerant flow every 40 minutes in frost.\n",
    "winter-log.md": "# Winter log\n\nFrost on the evaporator fins again; the defrost cycle reversed "
    "the refrigerant flow every 40 minutes tonight.\n",
    "bread.md": "# Bread\n\nThe sourdough starter is fed with rye flour twice a day.\nA long cold "
    "proof gives the crumb more flavour.\n",
    "bike.md": "# Bike\n\nThe chain is cleaned and oiled after every rainy ride.\nBrake pads are checked monthly.\n",
    "garden.md": "# Garden\n\nTomato seedlings move outside once nights stay warm.\nThe compost "
    "heap is turned weekly.\n",
    "Home.md": "# Home\n\n[[bread]] [[bike]] [[garden]]\n",
}


def write_vault(root: Path, files: dict[str, str | bytes]) -> Path:
    """Write {relative path: text or bytes} under root and return root."""
    for rel, content in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            p.write_bytes(content)
        else:
            p.write_text(content, encoding="utf-8")
    return root


def cursor(text: str) -> tuple[str, int, int]:
    """Strip the `$0` marker; return (text, line, UTF-16 character) of where it was."""
    before, _, after = text.partition("$0")
    line = before.count("\n")
    col_text = before.rsplit("\n", 1)[-1]
    return before + after, line, len(col_text.encode("utf-16-le")) // 2


@pytest.fixture
def eval_vault(tmp_path: Path) -> Path:
    """A writable copy of the labelled evaluation vault (bench/eval/vault-dacha)."""
    dst = tmp_path / "vault-dacha"
    shutil.copytree(EVAL_VAULT, dst, ignore=shutil.ignore_patterns(".ponder"))
    return dst


@pytest.fixture
def example_vault(tmp_path: Path) -> Path:
    dst = tmp_path / "example"
    shutil.copytree(EXAMPLE_VAULT, dst, ignore=shutil.ignore_patterns(".ponder"))
    return dst


@pytest.fixture
def tmpfs(tmp_path):
    """A 2 MB tmpfs (root only), for a full disk or a read-only mount; skipped where it cannot be mounted."""
    mnt = tmp_path / "tmpfs"
    mnt.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mnt)], capture_output=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs: {r.stderr.decode(errors='replace').strip()}")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], capture_output=True)
