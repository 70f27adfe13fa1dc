"""Shared fixtures of the runtime tests: the bundled model file, tiny generated Qwen3 GGUFs and
scripted-backend settings."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest
from tiny_gguf import MOE, TinySpec, write_tiny

from ponder.runtime.settings import ModelSettings


@pytest.fixture(scope="session")
def gemma_path() -> Path:
    """The bundled Gemma 3 270M, assembled once per machine into ~/.cache/ponder/models."""
    from ponder.runtime.backend import bundled_model_path

    return bundled_model_path()


@pytest.fixture(scope="session")
def tiny_gguf(tmp_path_factory: pytest.TempPathFactory):
    """`tiny_gguf(spec)` -> path of a tiny random GGUF of that shape, written once per session."""
    root = tmp_path_factory.mktemp("tiny-gguf")

    def make(spec: TinySpec = MOE) -> Path:
        return write_tiny(root / spec.name, spec)

    return make


@pytest.fixture
def script(tmp_path: Path):
    """Write a scripted-backend script and return settings that replay it."""

    def make(answers: list[Any] | None = None, by_hash: dict[str, Any] | None = None, **extra: Any) -> ModelSettings:
        path = tmp_path / "script.json"
        path.write_text(json.dumps({"answers": answers or [], "by_hash": by_hash or {}}))
        return ModelSettings(backend="scripted", script_path=str(path), **extra)

    return make


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead for our purposes (its parent has not reaped it yet).
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def wait_dead(pid: int, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            return True
        time.sleep(0.05)
    return False


def kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


class Pids:
    alive = staticmethod(pid_alive)
    wait_dead = staticmethod(wait_dead)
    kill = staticmethod(kill)


@pytest.fixture
def pids() -> type[Pids]:
    return Pids
