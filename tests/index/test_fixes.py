from ponder.index.editor.fixes import edit_distance, new_note_location, stub_definition
from ponder.index.graph.graph import Graph
from ponder.index.parsing.markdown import parse_note


def test_edit_distance_with_cutoff():
    assert edit_distance("шардирование", "шардированье") == 1
    assert edit_distance("abc", "abc") == 0
    assert edit_distance("a", "abcdef", limit=2) == 3


def test_new_note_location_stays_in_vault():
    g = Graph()
    g.put(parse_note("x/a.md", ""))
    assert new_note_location(g, "x/a.md", "Новая", "wiki") == "x/Новая.md"
    assert new_note_location(g, "x/a.md", "d/e", "wiki") == "d/e.md"
    assert new_note_location(g, "x/a.md", "../../etc/passwd.md", "markdown") is None
    assert new_note_location(g, "x/a.md", "a", "wiki") is None  # exists


def test_stub_definition_names_parameters_from_arguments():
    assert (
        stub_definition("f", "cfg.repo, 3, x") == "FUNCTION f(repo, arg2, x)\n    // TODO: describe f\nEND FUNCTION\n"
    )
