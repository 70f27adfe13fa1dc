from ponder.index.completion import FoldedKeys, complete, fuzzy_score
from ponder.index.graph import Graph
from ponder.index.model import Position
from ponder.index.parse import parse_note
from ponder.index.text import fold


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
