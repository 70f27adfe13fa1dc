"""A vault is untrusted input, for its files: links out of the vault, FIFOs and devices, names
that are not UTF-8, unreadable folders, front matter bombs, quick fixes that would write outside.

Each test asserts that nothing outside the vault is read, no note changes, the bad file is
reported by name with a reason, the rest of the vault is indexed and checked, in bounded time.
"""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

import pytest

from ponder.index.editor.fixes import new_note_location
from ponder.index.parsing.markdown import parse_note
from ponder.index.settings import EmbeddingSettings
from ponder.index.store import files as files_module
from ponder.index.vault import Vault
from tests.conftest import write_vault

SECRET = "SECRET-7f3a outside the vault"
NOTES = {
    "Главная.md": "# Главная\n\nSee [[beta]] and [[архив/старое]].\n",
    "beta.md": "# Beta\n\nThe retry delay is 5 s.\n",
    "архив/старое.md": "# Старое\n\nТаймаут — 30 с.\n",
}


def no_embed() -> EmbeddingSettings:
    return EmbeddingSettings(enabled=False)


def indexed_text(v: Vault) -> str:
    """Every sentence the store holds, to prove what was (not) read."""
    return "\n".join(r[0] for r in v.store.conn.execute("SELECT text FROM sentences"))


def skipped(report) -> dict[str, str]:
    return dict(report.skipped)


@pytest.fixture
def outside(tmp_path) -> Path:
    d = tmp_path / "outside"
    d.mkdir()
    (d / "secret.md").write_text(f"# Secret\n\n{SECRET}.\n", encoding="utf-8")
    return d


# --- item 2: links out, special files ------------------------------------------------------


def test_links_out_of_the_vault_and_special_files_are_skipped_with_a_reason(tmp_path, outside):
    root = write_vault(tmp_path / "v", NOTES)
    (root / "passwd.md").symlink_to("/etc/passwd")
    (root / "secret.md").symlink_to(outside / "secret.md")
    (root / "kmsg.md").symlink_to("/proc/kmsg")
    (root / "folder-out").symlink_to(outside, target_is_directory=True)
    (root / "beta-link.md").symlink_to(root / "beta.md")  # inside the vault: fine
    os.mkfifo(root / "pipe.md")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(root / "sock.md"))
    devices = False
    try:
        os.mknod(root / "zero.md", 0o600 | 0o020000, os.makedev(1, 5))  # a character device
        devices = True
    except (OSError, PermissionError):
        pass
    t = time.perf_counter()
    v = Vault(root, embedding=no_embed())
    r = v.update()
    elapsed = time.perf_counter() - t
    sock.close()
    s = skipped(r)
    assert "outside the vault" in s["passwd.md"] and "outside the vault" in s["secret.md"]
    assert "outside the vault" in s["kmsg.md"] and "folder outside the vault" in s["folder-out"]
    assert "FIFO" in s["pipe.md"] and "socket" in s["sock.md"]
    if devices:
        assert "character device" in s["zero.md"]
    assert SECRET not in indexed_text(v) and "root:" not in indexed_text(v)
    assert {"Главная.md", "beta.md", "архив/старое.md", "beta-link.md"} <= set(v.graph.notes)
    assert not [d for d in v.check() if d.code == "broken-link"]
    assert v.read_text("pipe.md") is None and v.read_text("secret.md") is None
    assert v.update(paths=["pipe.md", "secret.md", "../outside/secret.md"]).parsed == 0
    assert elapsed < 10
    v.close()


def test_read_note_never_blocks_on_a_fifo_or_follows_a_link_out(tmp_path, outside):
    root = tmp_path / "v"
    root.mkdir()
    os.mkfifo(root / "pipe.md")
    (root / "secret.md").symlink_to(outside / "secret.md")
    t = time.perf_counter()
    res = files_module.read_note(root / "pipe.md", 1000, root.resolve())
    assert res.text is None and "FIFO" in res.skip_reason and time.perf_counter() - t < 2
    res = files_module.read_note(root / "secret.md", 1000, root.resolve())
    assert res.text is None and "outside the vault" in res.skip_reason


def test_create_note_fix_stays_in_the_vault(tmp_path, outside):
    from ponder.index.graph.graph import Graph

    root = write_vault(tmp_path / "v", NOTES).resolve()
    (root / "out").symlink_to(outside, target_is_directory=True)
    g = Graph()
    assert new_note_location(g, "Главная.md", "новая", "wiki", root) == "новая.md"
    assert new_note_location(g, "Главная.md", "архив/новая", "wiki", root) == "архив/новая.md"
    assert new_note_location(g, "Главная.md", "out/evil", "wiki", root) is None
    assert new_note_location(g, "Главная.md", "out/deeper/evil", "wiki", root) is None
    assert new_note_location(g, "Главная.md", "../evil", "wiki", root) is None
    assert new_note_location(g, "Главная.md", ".git/hooks/post-commit", "wiki", root) is None
    assert new_note_location(g, "Главная.md", ".ponder/x", "wiki", root) is None
    assert new_note_location(g, "Главная.md", "a\x00b", "wiki", root) is None
    assert new_note_location(g, "Главная.md", "line\nbreak", "wiki", root) is None
    assert new_note_location(g, "Главная.md", "я" * 200, "wiki", root) is None  # 400 bytes
    assert new_note_location(g, "Главная.md", "a/" * 600 + "b", "wiki", root) is None
    assert list(outside.iterdir()) == [outside / "secret.md"]


# --- item 6: names that are not UTF-8 ----------------------------------------------------------


def test_a_file_name_that_is_not_utf8_is_skipped_not_fatal(tmp_path):
    root = write_vault(tmp_path / "v", NOTES)
    bad = os.path.join(os.fsencode(root), b"\xff\xfe-\xd0.md")
    with open(bad, "wb") as f:
        f.write(b"# bad name\n")
    os.mkdir(os.path.join(os.fsencode(root), b"dir-\xff"))
    with open(os.path.join(os.fsencode(root), b"dir-\xff", b"inner.md"), "wb") as f:
        f.write(b"# inner\n")
    v = Vault(root, embedding=no_embed())
    r = v.update()
    reasons = [(p, why) for p, why in r.skipped if "not valid UTF-8" in why]
    assert len(reasons) == 2 and all("\ufffd" in p for p, _ in reasons)
    assert r.notes == 3 and not [d for d in v.check() if d.code == "broken-link"]
    v.close()


# --- item 8: unreadable folders -------------------------------------------------------------


def test_an_unreadable_folder_is_skipped_and_its_notes_kept(tmp_path, monkeypatch):
    root = write_vault(tmp_path / "v", {**NOTES, "lost+found/x.md": "# x\n"})
    v = Vault(root, embedding=no_embed())
    assert v.update().notes == 4
    real = os.scandir

    def scandir(path="."):
        if Path(path).name in ("архив", "lost+found"):
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(files_module.os, "scandir", scandir)
    r = v.update()
    s = skipped(r)
    assert "cannot read folder" in s["архив"] and "Permission denied" in s["lost+found"]
    assert r.deleted == 0 and "архив/старое.md" in v.graph.notes
    assert not [d for d in v.check() if d.code == "broken-link"]
    # the server's path: its own scan, then `stale_paths`
    found, scan_skipped = files_module.walk(v.root, v.settings)
    on_disk = {f.path: f for f in found}
    assert v.stale_paths(on_disk, set(on_disk) | {p for p, _ in scan_skipped}) == []
    v.close()
    # a fresh index of a vault with an unreadable folder still indexes the rest
    fresh = Vault(root, embedding=no_embed())
    fresh.store.conn.execute("DELETE FROM files")
    r = fresh.update()
    assert {"Главная.md", "beta.md"} <= set(fresh.graph.notes) and "cannot read folder" in skipped(r)["архив"]
    fresh.close()


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a chmod 000 folder anyway")
def test_a_chmod_000_folder_is_skipped(tmp_path):
    root = write_vault(tmp_path / "v", NOTES)
    (root / "архив").chmod(0)
    try:
        v = Vault(root, embedding=no_embed())
        r = v.update()
        assert "cannot read folder" in skipped(r)["архив"] and r.notes == 2
        v.close()
    finally:
        (root / "архив").chmod(0o755)


def test_an_unreadable_gitignore_does_not_abort_the_scan(tmp_path, monkeypatch):
    root = write_vault(tmp_path / "v", NOTES)
    os.mkfifo(root / ".gitignore")  # a FIFO would block a plain read
    t = time.perf_counter()
    v = Vault(root, embedding=no_embed())
    assert v.update().notes == 3 and time.perf_counter() - t < 10
    v.close()


# --- item 5: front matter bombs --------------------------------------------------------------

LAUGHS = (
    "---\n"
    'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
    "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
    "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
    "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
    "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
    "g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
    "h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\n"
    "i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]\n"
    "---\n# Laughs\n\nSee [[beta]].\n"
)
BOMBS = {
    "self.md": "---\na: &a [*a]\n---\n# Self\n\nSee [[beta]].\n",
    "laughs.md": LAUGHS,
    "deep.md": "---\nx: " + "[" * 3000 + "\n---\n# Deep\n\nSee [[beta]].\n",
    "huge.md": "---\nx: |\n" + "  строка текста\n" * 8000 + "---\n# Huge\n\nSee [[beta]].\n",
    "dates.md": "---\nnested: {2024-05-01: a date key}\nwhen: 2024-05-01\n---\n# Dates\n\nSee [[beta]].\n",
}


@pytest.mark.parametrize("name", sorted(BOMBS))
def test_a_front_matter_bomb_is_a_problem_on_that_note(name):
    t = time.perf_counter()
    note = parse_note(name, BOMBS[name])
    assert time.perf_counter() - t < 2
    assert [link.target for link in note.links] == ["beta"]
    if name != "dates.md":
        assert [p.code for p in note.problems] == ["front-matter"]
        assert note.front_matter == {}


def test_front_matter_bombs_leave_the_vault_indexed(tmp_path):
    root = write_vault(tmp_path / "v", {**NOTES, **BOMBS})
    t = time.perf_counter()
    v = Vault(root, embedding=no_embed())
    r = v.update()
    assert r.notes == 3 + len(BOMBS) and time.perf_counter() - t < 20
    diags = v.check()
    fm = {d.path for d in diags if d.code == "front-matter"}
    assert fm == set(BOMBS) - {"dates.md"}
    assert not [d for d in diags if d.code == "broken-link"]
    assert v.store.load("dates.md").front_matter["nested"] == {"2024-05-01": "a date key"}
    v.close()
