from ponder.index.completion import complete, fuzzy_score
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
