"""One module per LSP feature; each has `register(server)`."""

from __future__ import annotations

FEATURES = [
    "documents", "files", "diagnostics", "definition", "references", "hover", "completion",
    "symbols", "links", "folding", "rename", "code_actions", "commands", "generate", "explain", "conflicts",
    "contradictions", "related_notes",
]


def register_all(server) -> None:
    import importlib

    for name in FEATURES:
        importlib.import_module(f"{__name__}.{name}").register(server)
