import pytest

from ponder.index.editor.rename import RenameError, move_edits, new_note_path, rename
from ponder.index.graph.graph import Graph
from ponder.index.notes import Position
from ponder.index.parsing.markdown import parse_note


def graph(files):
    g = Graph()
    for p, text in files.items():
        g.put(parse_note(p, text))
    return g


def test_new_note_path():
    assert new_note_path("a/b.md", "c") == "a/c.md"
    assert new_note_path("a/b.md", "x/c") == "x/c.md"
    with pytest.raises(RenameError):
        new_note_path("a/b.md", "../../c")


def test_move_keeps_bare_wikilinks_and_rewrites_paths():
    g = graph({"a.md": "[[b]] [[d/b]] [m](d/b.md)", "d/b.md": "[up](../a.md)"})
    edits = sorted((e.path, e.new_text) for e in move_edits(g, {"d/b.md": "e/f/b.md"}).edits)
    assert edits == [("a.md", "e/f/b"), ("a.md", "e/f/b.md"), ("d/b.md", "../../a.md")]


def test_rename_function_everywhere():
    files = {"x.pseudo": "FUNCTION f(a)\n    RETURN f(a)\nEND FUNCTION\n"}
    g = graph(files)
    change = rename(g, "x.pseudo", Position(0, 9), "g", files.get)
    assert len(change.edits) == 2 and all(e.new_text == "g" for e in change.edits)
