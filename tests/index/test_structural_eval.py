"""Structural checks against labelled vaults: precision and recall must both be 1.0."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import EVAL_LABELS, EXAMPLE_LABELS

CODES = ("broken-link", "undefined-symbol", "duplicate-definition", "duplicate-heading")


def expected(labels: dict) -> set[tuple[str, str, int, str]]:
    """(code, file, 1-based line, key) for every labelled structural problem."""
    out = set()
    for b in labels["broken_links"]:
        out.add(("broken-link", b["file"], b["line"], b["target"]))
    for u in labels["undefined_calls"]:
        out.add(("undefined-symbol", u["file"], u["line"], u["name"]))
    for d in labels["duplicate_definitions"]:
        for p in d["places"]:
            out.add(("duplicate-definition", p["file"], p["line"], d["name"]))
    for h in labels["duplicate_headings"]:
        out.add(("duplicate-heading", h["file"], h["line"], h["heading"]))
    return out


def found(vault: Path) -> set[tuple[str, str, int, str]]:
    proc = subprocess.run(
        [sys.executable, "-m", "ponder.lsp.cli", "check", str(vault), "--format", "json"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 1, proc.stderr  # the labelled vaults contain errors
    report = json.loads(proc.stdout)
    assert report["version"] == 1
    text = {
        p.relative_to(vault).as_posix(): p.read_text("utf-8").splitlines()
        for p in vault.rglob("*")
        if p.is_file() and ".ponder" not in p.parts
    }
    out = set()
    for d in report["diagnostics"]:
        if d["code"] not in CODES:
            continue
        line = d["range"]["start"]["line"]
        src = text[d["file"]][line]
        start, end = d["range"]["start"]["character"], d["range"]["end"]["character"]
        span = src.encode("utf-16-le")[2 * start : 2 * end].decode("utf-16-le")
        key = d["data"]["heading"] if d["code"] == "duplicate-heading" else span
        out.add((d["code"], d["file"], line + 1, key))
    return out


def check_labels(vault: Path, labels_path: Path) -> None:
    labels = json.loads(labels_path.read_text("utf-8"))
    want, got = expected(labels), found(vault)
    assert got - want == set(), "false positives"
    assert want - got == set(), "missed"


def test_eval_vault_structural_precision_and_recall(eval_vault):
    if not EVAL_LABELS.exists():
        pytest.skip("labels missing")
    check_labels(eval_vault, EVAL_LABELS)


def test_example_vault_russian_and_english(example_vault):
    check_labels(example_vault, EXAMPLE_LABELS)


def test_check_text_format_and_exit_codes(tmp_path):
    ok = tmp_path / "ok"
    ok.mkdir()
    (ok / "a.md").write_text("# A\n[[b]]\n", encoding="utf-8")
    (ok / "b.md").write_text("# B\n", encoding="utf-8")
    run = lambda *a: subprocess.run(
        [sys.executable, "-m", "ponder.lsp.cli", *a], capture_output=True, text=True, timeout=120
    )
    assert run("check", str(ok)).returncode == 0
    (ok / "b.md").unlink()
    proc = run("check", str(ok))
    assert proc.returncode == 0  # a broken link is a warning...
    assert proc.stdout.strip() == "a.md:2:1: warning broken-link: Broken link [[b]]: no note named 'b' in the vault"
    assert run("check", str(ok), "--fail-on", "warning").returncode == 1  # ...unless warnings fail too
    assert run("check", str(tmp_path / "nope")).returncode == 2
