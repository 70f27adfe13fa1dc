"""The LSP methods, one module each; each has `register(server)`. The model's features (the
contradiction judge, explanations, code generation) live in `lsp/llm/` and register here too,
in this order (code actions and hover sections are listed in registration order)."""

from __future__ import annotations

FEATURES = [
    "features.documents",
    "features.files",
    "features.diagnostics",
    "features.definition",
    "features.references",
    "features.hover",
    "features.completion",
    "features.symbols",
    "features.links",
    "features.folding",
    "features.rename",
    "features.code_actions",
    "features.commands",
    "llm.codegen.feature",
    "llm.explain.feature",
    "features.conflict_commands",
    "llm.contradictions.scheduler",
    "features.related_notes",
]


def register_all(server) -> None:
    import importlib

    for name in FEATURES:
        importlib.import_module(f"ponder.lsp.{name}").register(server)
