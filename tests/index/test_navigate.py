from ponder.index.editor.navigate import definition, references, spot_at
from ponder.index.graph.graph import Graph
from ponder.index.notes import Position
from ponder.index.parsing.markdown import parse_note


def graph(files):
    g = Graph()
    for p, text in files.items():
        g.put(parse_note(p, text))
    return g


def test_spot_and_definition_of_heading_link():
    g = graph({"a.md": "x [[b#Два]]", "b.md": "# B\n\n## Два\n"})
    assert spot_at(g.notes["a.md"], Position(0, 4)).kind == "link"
    (loc,) = definition(g, "a.md", Position(0, 4))
    assert (loc.path, loc.range.start.line) == ("b.md", 2)


def test_references_to_heading_only_count_that_heading():
    g = graph({"a.md": "[[b#Два]] [[b#Один]] [[b]]", "b.md": "# B\n\n## Один\n\n## Два\n"})
    refs = references(g, "b.md", Position(4, 3))
    assert [(r.path, r.range.start.character) for r in refs] == [("a.md", 0)]
