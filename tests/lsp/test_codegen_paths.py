"""Code generation never reads or writes through a FIFO, a device or a link out of the vault:
the earlier-output lookup reads regular files only, without blocking, and the target is
checked again right before its edit is built."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from ponder.lsp.llm.codegen import implement as cg


def test_a_fifo_among_earlier_outputs_is_skipped_without_blocking(tmp_path: Path):
    (tmp_path / "src").mkdir()
    os.mkfifo(tmp_path / "src" / "clamp.py")
    t0 = time.monotonic()
    assert cg._regular_head(tmp_path / "src" / "clamp.py", 1000) is None
    assert time.monotonic() - t0 < 1.0
    (tmp_path / "src" / "ok.py").write_text("# generated from x\nprint(1)\n", "utf-8")
    assert cg._regular_head(tmp_path / "src" / "ok.py", 1000).startswith("# generated")


def test_the_target_is_checked_again_before_the_edit(tmp_path: Path):
    root = tmp_path / "vault"
    (root / "src").mkdir(parents=True)
    assert cg.writable_target(root, "src/new.py") == "src/new.py"  # absent: may be created
    os.mkfifo(root / "src" / "pipe.py")
    with pytest.raises(cg.PathRefused, match="not a regular file"):
        cg.writable_target(root, "src/pipe.py")
    outside = tmp_path / "outside"
    outside.mkdir()
    (root / "gen").symlink_to(outside)  # a folder swapped for a link out of the vault
    with pytest.raises(cg.PathRefused, match="escapes"):
        cg.writable_target(root, "gen/clamp.py")
    assert list(outside.iterdir()) == []
