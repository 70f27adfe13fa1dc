from ponder.index.graph import Graph
from ponder.index.parse import parse_note
from ponder.index.settings import EmbeddingSettings, IndexSettings
from ponder.index.symbols import SymbolRows, SymbolTable, folding_ranges, outline
from ponder.index.vault import Vault


def test_outline_nests_functions_under_sections():
    text = "# A\n\n## B\n\n```pseudo\nFUNCTION f()\nEND FUNCTION\n```\n\n# C\n"
    note = parse_note("a.md", text)
    roots = outline(note, len(text.split("\n")))
    assert [r.name for r in roots] == ["A", "C"]
    assert [c.name for c in roots[0].children[0].children] == ["f"]


def test_symbol_table_fuzzy_and_substring():
    g = Graph()
    g.put(parse_note("n.md", "---\naliases: [Шардирование]\n---\n# Ключи\n"))
    table = SymbolTable(g)
    assert [s.name for s in table.search("шард")] == ["Шардирование"]
    assert "Ключи" in [s.name for s in table.search("клчи")]


def test_folding_drops_trailing_blank_lines():
    text = "# A\n\ntext\n\n\n# B\n"
    lines = text.split("\n")
    folds = folding_ranges(parse_note("a.md", text), lines)
    assert (0, 2) in {(f.start, f.end) for f in folds}


def test_symbol_table_from_the_store_equals_the_one_from_notes(tmp_path):
    files = {
        "a/Шардирование.md": "---\ntitle: Sharding guide\naliases: [Шарды, shards]\n---\n# Ключи\n## Ребалансировка\n",
        "b/same.md": "---\ntitle: Same\n---\n# same\n",
        "c/plain.md": "no headings\n",
        "d/fn.md": "# Code\n```pseudo\nFUNCTION rebalance(shard)\nEND FUNCTION\n```\n",
    }
    for p, text in files.items():
        (tmp_path / p).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / p).write_text(text, "utf-8")
    v = Vault(tmp_path, IndexSettings(db_path=str(tmp_path / "i.db")), EmbeddingSettings(enabled=False))
    v.update()
    v.open_document("c/plain.md", "# Открыто в редакторе\n")  # an open document shadows the store
    g = v.graph
    full, lazy = SymbolTable(g), SymbolTable(g, SymbolRows.of_store(v.store.symbol_rows()))
    for q in ["", "ш", "шард", "sharding", "same", "ребал", "rbl", "rebalance", "открыто", "plain", "zzz"]:
        assert lazy.search(q) == full.search(q), q
