"""`ponder doctor` on this machine and on broken model files: a missing file, a truncated one
(header cut, and tensors cut), a split model with a part missing. Each problem must come with
its fix and make the exit status 1; a healthy setup exits 0."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import llama_cpp
import pytest

from ponder.lsp.doctor import diagnose

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "runtime"))
from tiny_gguf import DENSE, write_tiny

GPU_BUILD = bool(llama_cpp.llama_supports_gpu_offload())


def vault(tmp_path: Path, toml: str = "", user: str = "") -> Path:
    """A vault whose settings are the user's own (the model's path is a user-only setting: a
    vault's ponder.toml may not set it), in `user_env(root)`'s config folder."""
    root = tmp_path / "vault"
    root.mkdir(exist_ok=True)
    user_dir = tmp_path / "xdg" / "ponder"
    user_dir.mkdir(parents=True, exist_ok=True)
    (user_dir / "config.toml").write_text(user, "utf-8")
    (root / "note.md").write_text("# Заметка\n\nКэш держит 256 МБ.\n", "utf-8")
    (root / "ponder.toml").write_text(toml, "utf-8")
    return root


def user_env(root: Path) -> dict[str, str]:
    return {"XDG_CONFIG_HOME": str(root.parent / "xdg")}


def model_toml(path: Path) -> str:
    return f'[model]\npath = "{path}"\noffload = "none"\n'


def doctor(root: Path, *extra: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "ponder.lsp.cli", "doctor", str(root), "--no-embed", *extra]
    env = {"PATH": "/usr/bin:/bin", **user_env(root)}
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env)


def problems(report) -> list[str]:
    return [p["problem"] for p in report.problems]


def test_this_machine_text_and_json(tmp_path):
    tiny = write_tiny(tmp_path / "m" / "tiny.gguf", DENSE)
    root = vault(tmp_path, "[contradictions]\nmax_pairs_per_edit = 3\n", user=model_toml(tiny))
    text = doctor(root)
    assert text.returncode == 0, text.stdout + text.stderr
    assert f"Python {sys.version.split()[0]}" in text.stdout and "Ponder " in text.stdout
    if not GPU_BUILD:  # this machine: say so, and how to get CUDA
        assert "CPU only (built without GPU support)" in text.stdout
        assert "make install GPU=cuda" in text.stdout
    assert "qwen3, 4 layers, dense" in text.stdout and "chat template: yes" in text.stdout
    assert "fits: yes" in text.stdout and "no problems found" in text.stdout
    assert f"contradictions.max_pairs_per_edit = 3  ({root / 'ponder.toml'})" in text.stdout

    js = doctor(root, "--format", "json")
    d = json.loads(js.stdout)
    assert js.returncode == 0 and d["ok"] is True and d["problems"] == []
    assert d["llama_cpp"]["gpu_offload"] is GPU_BUILD and isinstance(d["gpus"], list)
    assert d["model"]["architecture"] == "qwen3" and d["model"]["parts"] == ["tiny.gguf"]
    assert d["plan"]["n_gpu_layers"] == 0 and d["plan"]["fits"] is True
    user_cfg = tmp_path / "xdg" / "ponder" / "config.toml"
    assert d["settings"]["model.path"] == {"value": str(tiny), "source": str(user_cfg)}
    assert d["settings"]["model.n_ctx"]["source"] == "default"
    assert d["index"]["exists"] is False and d["ram"]["total_bytes"] > 0


def test_settings_sources_env_and_invalid(tmp_path):
    root = vault(tmp_path, "[model]\nn_ctx = 'lots'\n")
    env = {"PONDER_MODEL__N_BATCH": "256"}
    report = diagnose(root, environ=env, load_embedding=False)
    s = report.sections["settings"]
    assert s["model.n_batch"] == {"value": 256, "source": "env PONDER_MODEL__N_BATCH"}
    assert s["model.n_ctx"]["source"] == f"default (invalid value in {root / 'ponder.toml'})"
    assert any(p.startswith("ponder.model.n_ctx:") for p in problems(report))


def test_missing_model_file(tmp_path):
    root = vault(tmp_path, user=model_toml(tmp_path / "nowhere.gguf"))
    out = doctor(root)
    assert out.returncode == 1
    assert f"PROBLEM: model file not found: {tmp_path / 'nowhere.gguf'}" in out.stdout
    assert "fix: set model.path in ponder.toml" in out.stdout


@pytest.mark.parametrize(
    ("keep", "message"), [(600, "the GGUF header cannot be read"), (-4096, "model file is truncated")]
)
def test_truncated_model_file(tmp_path, keep, message):
    whole = write_tiny(tmp_path / "m" / "tiny.gguf", DENSE).read_bytes()
    cut = tmp_path / "cut.gguf"
    cut.write_bytes(whole[:keep])
    root = vault(tmp_path, user=model_toml(cut))
    report = diagnose(root, environ=user_env(root), load_embedding=False)
    assert len(report.problems) == 1 and report.problems[0]["problem"].startswith(message), report.problems
    assert "download cut.gguf again" in report.problems[0]["fix"]


def test_split_model_complete_then_missing_a_part(tmp_path):
    first = write_tiny(tmp_path / "m" / "tiny.gguf", DENSE, split_max_tensors=20)
    assert first.name == "tiny-00001-of-00003.gguf"
    root = vault(tmp_path, user=model_toml(first))
    report = diagnose(root, environ=user_env(root), load_embedding=False)
    assert report.problems == [] and len(report.sections["model"]["parts"]) == 3
    assert report.sections["model"]["architecture"] == "qwen3"

    (first.parent / "tiny-00002-of-00003.gguf").unlink()
    out = doctor(root)
    assert out.returncode == 1
    assert "split into 3 parts, MISSING tiny-00002-of-00003.gguf" in out.stdout
    assert "PROBLEM: split model is incomplete: missing tiny-00002-of-00003.gguf of 3 parts" in out.stdout
    assert f"fix: download the missing parts into {first.parent}" in out.stdout


def test_index_is_described(tmp_path):
    root = vault(tmp_path, "[embedding]\nenabled = false\n")
    subprocess.run([sys.executable, "-m", "ponder.lsp.cli", "index", str(root)], check=True, capture_output=True)
    report = diagnose(root, environ=user_env(root), load_embedding=False)
    idx = report.sections["index"]
    assert idx["notes"] == 1 and idx["schema_version"] == idx["expected_schema_version"] and idx["bytes"] > 0


def test_an_index_path_that_is_a_note_or_a_fifo_is_a_problem_never_a_delete(tmp_path):
    import os

    root = vault(tmp_path)
    note = root / "требования.md"
    note.write_text("# Требования\n\nСервер хранит снимки 30 дней.\n", "utf-8")
    report = diagnose(root, environ={"PONDER_INDEX__DB_PATH": str(note)}, load_embedding=False)
    (found,) = [p for p in report.problems if "not an index database" in p["problem"]]
    assert "delete" not in found["fix"] and note.read_text("utf-8").startswith("# Требования")
    fifo = tmp_path / "index.fifo"
    os.mkfifo(fifo)
    report = diagnose(root, environ={"PONDER_INDEX__DB_PATH": str(fifo)}, load_embedding=False)  # must not block
    assert any("not a regular file" in p["problem"] for p in report.problems)
