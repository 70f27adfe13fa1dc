from ponder.index.graph import Graph
from ponder.index.parse import parse_note
from ponder.index.symbols import SymbolTable, folding_ranges, outline


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
