"""The import direction is an invariant (ARCHITECTURE.md, README "Layout"):

- `lsp -> index`, `lsp -> runtime`; never the other way, and `index` never imports `runtime`;
  only `lsp/` imports pygls or lsprotocol;
- `lsp` reaches `index` through its surface (`index/__init__.py`) only;
- inside `index`, each layer imports only from the layers before it:
  notes/settings -> parsing -> store -> graph -> knowledge -> editor -> vault;
- no import circles between modules of `index` or of `lsp`.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("index", "runtime", "lsp")

FORBIDDEN = {
    "index": ("ponder.lsp", "ponder.runtime", "pygls", "lsprotocol"),
    "runtime": ("ponder.lsp", "pygls", "lsprotocol"),
}
INDEX_LAYERS = ["notes", "settings", "parsing", "store", "graph", "knowledge", "editor", "vault", "__init__"]
# notes and settings are both plain data: neither imports the other, so they share a rank
RANK = {"notes": 0, "settings": 0, **{name: i for i, name in enumerate(INDEX_LAYERS) if i > 1}}


def module_name(path: Path) -> str:
    rel = path.relative_to(REPO).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(["ponder", *parts])


def imports(path: Path, runtime_only: bool = False) -> list[str]:
    """Modules `path` imports (relative imports resolved). With `runtime_only`, imports under
    `if TYPE_CHECKING:` are left out: they are annotations, not a dependency at run time."""
    tree = ast.parse(path.read_text("utf-8"), str(path))
    skip: set[int] = set()
    if runtime_only:
        for node in ast.walk(tree):
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                skip |= {id(n) for n in ast.walk(node)}
    package = module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    out = []
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            out += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                out.append(".".join(base + ([node.module] if node.module else [])))
            elif node.module:
                out.append(node.module)
            # `from ponder.index.editor import navigate` imports the module ponder.index.editor.navigate
            if node.module and node.module.startswith("ponder."):
                out += [f"{node.module}.{a.name}" for a in node.names]
    return out


def sources(pkg: str) -> list[Path]:
    return sorted((REPO / pkg).rglob("*.py"))


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_import_direction(layer):
    files = sources(layer)
    assert files, f"no python files in {layer}/"
    bad = [
        f"{f.relative_to(REPO)} imports {m}"
        for f in files
        for m in imports(f)
        if any(m == x or m.startswith(x + ".") for x in FORBIDDEN[layer])
    ]
    assert bad == []


def test_lsp_uses_the_index_surface_only():
    bad = [
        f"{f.relative_to(REPO)} imports {m}"
        for f in sources("lsp")
        for m in imports(f)
        if m.startswith("ponder.index.") and module_exists(m)
    ]
    assert bad == []


def module_exists(name: str) -> bool:
    parts = name.split(".")[1:]
    return (REPO.joinpath(*parts).with_suffix(".py")).exists() or (REPO.joinpath(*parts) / "__init__.py").exists()


def index_layer(module: str) -> str:
    return module.split(".")[2] if module.count(".") >= 2 else "__init__"


def test_index_layers_point_down():
    assert sorted(p.name for p in (REPO / "index").iterdir() if p.is_dir() and (p / "__init__.py").exists()) == sorted(
        ["parsing", "store", "graph", "knowledge", "editor"]
    ), "a new sub-package of index needs its place in INDEX_LAYERS"
    bad = []
    for f in sources("index"):
        here = index_layer(module_name(f))
        for m in imports(f, runtime_only=True):
            if not m.startswith("ponder.index.") or not module_exists(m):
                continue
            there = index_layer(m)
            if RANK[there] > RANK[here] or (RANK[there] == RANK[here] and there != here):
                bad.append(f"{f.relative_to(REPO)} ({here}) imports {m} ({there})")
    assert bad == []


@pytest.mark.parametrize("pkg", ["index", "lsp"])
def test_no_import_circles(pkg):
    graph = {
        module_name(f): {
            m for m in imports(f, runtime_only=True) if m.startswith(f"ponder.{pkg}.") and module_exists(m)
        }
        for f in sources(pkg)
    }
    graph = {k: {m for m in v if m != k and m in graph} for k, v in graph.items()}
    cycles = []
    state: dict[str, int] = {}

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(" -> ".join(stack[stack.index(nxt) :] + [nxt]))
            elif nxt not in state:
                visit(nxt, stack + [nxt])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    # a package's __init__ that re-exports its modules is not a circle with them
    cycles = [c for c in cycles if not any(part.endswith(f"ponder.{pkg}") for part in c.split(" -> "))]
    assert cycles == []


def test_nothing_installs_a_generic_top_level_module():
    import importlib.util

    import ponder.index  # noqa: F401

    for name in PACKAGES:
        spec = importlib.util.find_spec(name)
        assert spec is None or "site-packages" not in str(spec.origin or ""), f"top-level module {name!r} is installed"
