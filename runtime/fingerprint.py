"""The model's identity for the result cache, computed in the server without starting the worker.

Same file, same metadata, same backend knobs that change answers -> same fingerprint; so a
server restart finds its earlier results without loading a 140 GB model to ask who it is.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from ponder.runtime.settings import ModelSettings


def model_fingerprint(settings: ModelSettings) -> str:
    from ponder.runtime.backend import model_path

    ident: dict[str, object] = {"backend": settings.backend, "seed": settings.seed, "chat_format": settings.chat_format}
    if settings.backend == "llama_cpp":
        from ponder.runtime.gguf_info import read_gguf

        ident["gguf"] = read_gguf(model_path(settings)).fingerprint()
    elif settings.backend == "openai":
        ident["endpoint"] = settings.endpoint
        ident["model"] = settings.remote_model
    elif settings.backend == "scripted" and settings.script_path:
        ident["script"] = hashlib.sha256(Path(settings.script_path).read_bytes()).hexdigest()
    return hashlib.sha256(json.dumps(ident, sort_keys=True).encode()).hexdigest()
