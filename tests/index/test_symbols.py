from ponder.index.editor.outline import SymbolRows, SymbolTable, folding_ranges, outline
from ponder.index.graph.graph import Graph
from ponder.index.parsing.markdown import parse_note
from ponder.index.settings import EmbeddingSettings, IndexSettings
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
    base, generation = SymbolRows.of_store(v.store.symbol_rows()), v.store.generation
    queries = ["", "ш", "шард", "sharding", "same", "ребал", "rbl", "rebalance", "открыто", "plain", "zzz", "e"]
    full, lazy = SymbolTable(g), SymbolTable(g, [base])
    for q in queries:
        assert lazy.search(q) == full.search(q), q
    # a note changed on disk and one deleted: a layer of the changed rows hides their old ones
    (tmp_path / "b/same.md").write_text("# Rewritten heading\n", "utf-8")
    (tmp_path / "d/fn.md").unlink()
    v.update()
    changed = v.store.changed_since(generation)
    assert {"b/same.md", "d/fn.md"} <= changed
    layered = SymbolTable(g, [base, SymbolRows.of_store(v.store.symbol_rows(sorted(changed)), covers=changed)])
    full = SymbolTable(g)
    for q in queries + ["rewritten", "fn"]:
        if q:
            assert layered.search(q) == full.search(q), q
        else:  # no query: the first names, in no particular order
            assert sorted(map(repr, layered.search(q))) == sorted(map(repr, full.search(q)))


def test_symbol_search_limit_keeps_the_best_of_each_tier():
    g = Graph()
    for i in range(30):
        g.put(parse_note(f"n{i}.md", f"# ab{'x' * i}\n# x ab{i}\n# zab{i}\n# a-b{i}\n"))
    table = SymbolTable(g)
    for q in ("ab", "a", "b", "-", "x", "9"):
        everything = table.search(q, limit=10_000)
        for limit in (1, 5, 30, 45, 70, 100, 130):
            assert table.search(q, limit=limit) == everything[:limit], (q, limit)
