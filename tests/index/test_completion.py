from ponder.index.editor.completion import FoldedKeys, complete, fuzzy_score
from ponder.index.graph.graph import Graph
from ponder.index.notes import Position
from ponder.index.parsing.markdown import parse_note
from ponder.index.parsing.positions import fold


def test_fuzzy_order_prefix_word_substring_subsequence():
    scores = [fuzzy_score(fold("шар"), fold(c)) for c in ("Шардирование", "ключи шардов", "башар", "шхаxр")]
    assert scores[0] > scores[1] > scores[2] > scores[3] > 0
    assert fuzzy_score("xyz", "abc") is None


def test_wikilink_completion_range_and_closing():
    g = Graph()
    for p, t in {"Ёж.md": "# Ёж\n", "cur.md": "[[еж"}.items():
        g.put(parse_note(p, t))
    res = complete(g, g.notes["cur.md"], "[[еж", Position(0, 4))
    (item,) = [i for i in res.items if i.label == "Ёж"]
    assert item.insert == "Ёж]]" and item.replace.start.character == 2


def test_folded_keys_match_like_fuzzy_score():
    keys = ["шардирование", "ключи шардов", "a.b[c]", "x\\y", "", "аб\nвг", "башар", "шхаxр", "ш"]
    for q in ["шар", "шрд", "ш", "a.b", "[c", "\\", "бв", "xyz", "р", ""]:
        want = [(fuzzy_score(q, k), i) for i, k in enumerate(keys) if fuzzy_score(q, k) is not None]
        assert FoldedKeys(keys).matching(q) == want, q
        assert FoldedKeys(keys[:5]).matching(q) == [w for w in want if w[1] < 5], q  # no newline: the regex path


def test_path_completion_in_a_typed_folder_stays_in_it():
    """After `](/a/b/` the folder exists, so its files are the candidates (as a shell completes
    a path); a folder that does not exist falls back to fuzzy over all paths."""
    g = Graph()
    for p in ["a/b/xylophone.md", "a/bx/xylem.md", "a/b/other.md", "c/xyz.md", "src.md"]:
        g.put(parse_note(p, "# T\n"))
    src = g.notes["src.md"]

    def labels(line: str) -> list[str]:
        return sorted(c.label for c in complete(g, src, line, Position(0, len(line))).items)

    assert labels("see [x](/a/b/xy") == ["/a/b/xylophone.md"]
    assert labels("see [x](/a/bx/xy") == ["/a/bx/xylem.md"]
    assert "/a/bx/xylem.md" in labels("see [x](/ab/xy")  # no such folder: fuzzy over every path
