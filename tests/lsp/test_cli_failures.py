"""The CLI's exit codes are a contract (0 fine, 1 problems found, 2 could not run): a crash must
never look like "problems found", and every failure is one clear line naming the file and the
reason, with the traceback only under PONDER_DEBUG=1."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

from ponder.lsp import cli
from tests.conftest import write_vault

NOTES = {
    "требования.md": "# Требования\n\nТаймаут запроса — не более 30 с.\n\nСм. [[beta]].\n",
    "beta.md": "# Beta\n\nThe retry delay is 5 s.\n",
    "ponder.toml": "[embedding]\nenabled = false\n",  # `check` has no --no-embed
}


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_db_at_a_note_exits_2_with_one_line_and_keeps_the_note(tmp_path, capsys):
    root = write_vault(tmp_path / "v", NOTES)
    note = root / "требования.md"
    before = hashlib.sha256(note.read_bytes()).hexdigest()
    code, _, err = run(capsys, "index", str(root), "--no-embed", "--db", str(note))
    assert code == 2
    assert "требования.md" in err and "not an SQLite file" in err and "Traceback" not in err
    assert hashlib.sha256(note.read_bytes()).hexdigest() == before


def test_an_unexpected_crash_exits_2_and_shows_the_traceback_only_when_asked(tmp_path, capsys, monkeypatch):
    from ponder.index import Vault

    root = write_vault(tmp_path / "v", NOTES)

    def boom(self, *a, **k):
        raise RuntimeError("boom [/] in the [bold]index")  # rich markup in a message must not crash

    monkeypatch.setattr(Vault, "update", boom)
    monkeypatch.delenv("PONDER_DEBUG", raising=False)
    code, _, err = run(capsys, "check", str(root))
    assert code == 2 and "unexpected RuntimeError: boom [/] in the [bold]index" in err
    assert "Traceback" not in err and "PONDER_DEBUG=1" in err
    monkeypatch.setenv("PONDER_DEBUG", "1")
    code, _, err = run(capsys, "check", str(root))
    assert code == 2 and "Traceback" in err


def test_check_of_a_vault_with_bad_files_reports_them_and_exits_on_its_findings(tmp_path, capsys, monkeypatch):
    root = write_vault(tmp_path / "v", {**NOTES, "bomb.md": "---\na: &a [*a]\n---\n# Bomb\n"})
    (root / "passwd.md").symlink_to("/etc/passwd")
    os.mkfifo(root / "pipe.md")
    code, out, err = run(capsys, "check", str(root), "--no-related")
    assert code in (0, 1)
    assert "bomb.md:2:1: warning front-matter" in out
    assert "passwd.md: symbolic link to a file outside the vault" in err and "pipe.md: not a regular file" in err


def test_a_crash_in_a_real_process_exits_2(tmp_path):
    """The same through the installed entry point, as a script or CI sees it."""
    root = write_vault(tmp_path / "v", NOTES)
    fifo = tmp_path / "index.db"
    os.mkfifo(fifo)
    r = subprocess.run(
        [sys.executable, "-m", "ponder.lsp.cli", "index", str(root), "--no-embed", "--db", str(fifo)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PONDER_DEBUG": ""},
    )
    assert r.returncode == 2, r.stderr
    assert "not a regular file" in r.stderr and "Traceback" not in r.stderr


def test_a_full_disk_exits_2_with_a_clear_message(tmp_path, tmpfs, capsys):
    notes = {f"n{i:03}.md": f"# Note {i}\n\n" + f"Заметка {i} about retention of {i} days. " * 20 for i in range(300)}
    root = write_vault(tmp_path / "v", notes)
    code, _, err = run(capsys, "index", str(root), "--no-embed", "--db", str(Path(tmpfs) / "index.db"))
    assert code == 2 and "disk is full" in err and "Traceback" not in err
