"""The import direction is an invariant: lsp -> index, lsp -> runtime; never the other way,
and index never imports runtime. Only lsp/ may import pygls or lsprotocol."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

FORBIDDEN = {
    "index": ("ponder.lsp", "ponder.runtime", "pygls", "lsprotocol"),
    "runtime": ("ponder.lsp", "pygls", "lsprotocol"),
}


def imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text("utf-8"), str(path))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the package folder
                pkg = path.relative_to(REPO).parts[0]
                out.append(f"ponder.{pkg}.{node.module or ''}" if node.level == 1 else f"ponder.{node.module or ''}")
            elif node.module:
                out.append(node.module)
    return out


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_import_direction(layer):
    files = sorted((REPO / layer).rglob("*.py"))
    assert files, f"no python files in {layer}/"
    bad = [
        f"{f.relative_to(REPO)} imports {m}"
        for f in files
        for m in imports(f)
        if any(m == x or m.startswith(x + ".") for x in FORBIDDEN[layer])
    ]
    assert bad == []


def test_nothing_installs_a_generic_top_level_module():
    import importlib.util

    import ponder.index  # noqa: F401

    for name in ("index", "runtime", "lsp"):
        spec = importlib.util.find_spec(name)
        assert spec is None or "site-packages" not in str(spec.origin or ""), f"top-level module {name!r} is installed"
