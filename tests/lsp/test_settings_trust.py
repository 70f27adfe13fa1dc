"""A vault's ponder.toml is untrusted: it may tune checks, never widen what Ponder may do.

`USER_ONLY` keys (model backend, endpoint, allow_remote, model paths, downloads, the index
location) come from the user's own sources — the user config file, PONDER_* variables, the
editor — and a vault that sets one is ignored for that key and told so once. End to end: a
vault that switches the privacy guard off makes the background judge connect nowhere, while
the same keys in the user's config file do make it connect (the control: the test can fail)."""

from __future__ import annotations

import asyncio
import json
import re

from conftest import write_vault
from test_lsp_contradictions import FILES, calls, contradictions, generated, judge_script
from test_privacy import _allowed

from ponder.lsp.settings import USER_ONLY, PonderSettings, load_settings

REMOTE = "http://203.0.113.7:9/v1"  # TEST-NET-3: never routed, so a connect is only ever attempted
WIDENING = {
    "model": {"backend": "openai", "endpoint": REMOTE, "allow_remote": True, "request_timeout_s": 2},
    "index": {"db_path": "/tmp/elsewhere/index.db", "max_file_bytes": 1234},
    "embedding": {"allow_download": True, "model": "someone/else"},
}


def toml(data: dict) -> str:
    out = []
    for section, values in data.items():
        out.append(f"[{section}]")
        out += [f"{k} = {json.dumps(v)}" for k, v in values.items()]
    return "\n".join(out) + "\n"


def test_vault_cannot_set_user_only_keys_and_is_told_which(tmp_path):
    vault = tmp_path / "vault"
    write_vault(vault, {"ponder.toml": toml(WIDENING), "a.md": "# A\n"})
    env = {"XDG_CONFIG_HOME": str(tmp_path / "cfg")}
    s, messages = load_settings(vault, environ=env)
    assert s.model.backend == "llama_cpp" and s.model.endpoint is None and s.model.allow_remote is False
    assert s.index.db_path is None and s.embedding.allow_download is False and s.embedding.model.startswith("bundled:")
    # what a vault may tune still applies
    assert s.model.request_timeout_s == 2 and s.index.max_file_bytes == 1234
    (m,) = messages
    for key in ("model.backend", "model.endpoint", "model.allow_remote", "index.db_path", "embedding.allow_download"):
        assert key in m
    assert "ponder.toml" in m and "config.toml" in m


def test_user_config_env_and_editor_may_set_them(tmp_path):
    vault = write_vault(tmp_path / "vault", {"a.md": "# A\n"}).root
    cfg = tmp_path / "cfg" / "ponder" / "config.toml"
    cfg.parent.mkdir(parents=True)
    cfg.write_text(toml({"model": {"endpoint": REMOTE, "allow_remote": True}}))
    env = {"XDG_CONFIG_HOME": str(tmp_path / "cfg"), "PONDER_INDEX__DB_PATH": str(tmp_path / "db")}
    s, messages = load_settings(vault, {"model": {"backend": "openai"}}, environ=env)
    assert (s.model.endpoint, s.model.allow_remote, s.model.backend) == (REMOTE, True, "openai")
    assert s.index.db_path == str(tmp_path / "db") and messages == []
    # the vault comes after the user's file for what it may set, and cannot undo the user's trust
    (vault / "ponder.toml").write_text(toml({"model": {"allow_remote": False, "n_ctx": 1024}}))
    s, messages = load_settings(vault, environ=env)
    assert s.model.allow_remote is True and s.model.n_ctx == 1024 and "model.allow_remote" in messages[0]


def test_every_widening_looking_field_has_a_decision():
    """A new field whose name says path, endpoint, download, command... must be put in USER_ONLY
    or in this reviewed list with the reason a vault may set it."""
    vault_may_set = {
        "model.remote_model": "a model name sent to the user's own endpoint",
        "codegen.output_folder": "always confined to the vault (implement.inside resolves symlinks)",
        "model.chat_format": "a name from llama-cpp-python's table, not a template or a path",
        "index.extensions": "which files inside the vault are read",
    }
    risky = re.compile(r"path|endpoint|remote|download|command|url|folder|dir|script|backend|model|exec|ext")
    fields = {f"{s}.{n}" for s, f in PonderSettings.model_fields.items() for n in f.annotation.model_fields}
    assert USER_ONLY <= fields, USER_ONLY - fields  # no stale names
    undecided = {f for f in fields if risky.search(f.split(".", 1)[1]) and f not in USER_ONLY | set(vault_may_set)}
    assert not undecided, f"decide: USER_ONLY (lsp/settings.py) or vault_may_set here: {sorted(undecided)}"


def test_vscode_manifest_marks_them_machine_scoped():
    from pathlib import Path

    package = json.loads((Path(__file__).resolve().parents[2] / "clients/vscode/package.json").read_text("utf-8"))
    props = {k: v for sec in package["contributes"]["configuration"] for k, v in sec["properties"].items()}
    machine = {k.removeprefix("ponder.") for k, v in props.items() if v.get("scope") == "machine"}
    assert machine == USER_ONLY | {"server.command", "server.pythonPath"}


def _sockets(log) -> list[list[str]]:
    events = [line.split("\t") for line in log.read_text().splitlines() if line] if log.exists() else []
    return [e for e in events if not _allowed(e[1] if len(e) > 1 else "", e[2] if len(e) > 2 else "")]


async def _judge_session(start, tmp_path, name, vault_toml, user_toml, init_options):
    sockets = tmp_path / f"{name}-sockets.log"
    cfg = tmp_path / f"{name}-cfg"
    (cfg / "ponder").mkdir(parents=True)
    (cfg / "ponder" / "config.toml").write_text(toml(user_toml))
    files = {**FILES, "ponder.toml": toml(vault_toml)}
    vault = write_vault(tmp_path / name, files)
    env = {"PONDER_AUDIT_SOCKETS": str(sockets), "XDG_CONFIG_HOME": str(cfg)}
    s = await start(vault, init_options=init_options, env=env, wait=False)
    await s.wait_indexed(timeout=180)
    s.open("design.md")
    return s, sockets


async def test_vault_turning_the_privacy_guard_off_connects_nowhere(start, tmp_path):
    script, log = judge_script(tmp_path, [FILES])
    remote = {"model": {"backend": "openai", "endpoint": REMOTE, "allow_remote": True, "request_timeout_s": 2}}
    user = {"model": {"backend": "scripted", "script_path": str(script)}}
    s, sockets = await _judge_session(start, tmp_path, "hostile", remote, user, {})
    # the judge runs, on the user's model, and nothing leaves the machine
    await s.diagnostics("design.md", lambda ds: contradictions(ds), timeout=120)
    assert generated(log) and not _sockets(sockets)
    said = [m.message for m in s.client.messages if "ponder.toml" in m.message]
    assert len(said) == 1 and all(k in said[0] for k in ("model.backend", "model.endpoint", "model.allow_remote"))
    await s.client.shutdown_session()
    assert not _sockets(sockets) and sockets.exists()

    # control: the same keys in the user's own config file are obeyed, so the judge reaches out
    before = len(calls(log))
    s2, sockets2 = await _judge_session(start, tmp_path, "trusted", {}, remote, {})
    for _ in range(600):
        if any("203.0.113.7" in e[1] for e in _sockets(sockets2)):
            break
        await asyncio.sleep(0.2)
    assert any("203.0.113.7" in e[1] for e in _sockets(sockets2)), _sockets(sockets2)
    assert not [m for m in s2.client.messages if "ponder.toml" in m.message]
    assert len(calls(log)) == before
