"""Link resolution follows Obsidian: names, path suffixes, aliases, relative paths, anchors."""

from __future__ import annotations

import pytest

from ponder.index.graph.graph import Graph
from ponder.index.parsing.markdown import parse_note

VAULT = {
    "Home.md": "# Home\n",
    "notes/Deep Note.md": "---\naliases: [Глубокая]\n---\n# Deep Note\n## Ключ Шарда\nText ^blk-1\n",
    "other/Deep Note.md": "# Other deep note\n",
    "a/b/c/Deep Note.md": "# Deepest\n",
    "a/sibling.md": "# Sibling\n",
    "a/b/here.md": "# Here\n",
    "Ёлка.md": "# Ёлка\n",
    "img/photo.png": None,
}


def graph() -> Graph:
    g = Graph()
    for path, text in VAULT.items():
        if text is None:
            g.add_asset(path)
        else:
            g.put(parse_note(path, text))
    return g


def resolve(target_md: str, from_path: str = "a/b/here.md"):
    g = graph()
    (link,) = parse_note(from_path, target_md).links
    r = g.resolve(link, from_path)
    return r.path, r.anchor_ok


@pytest.mark.parametrize(
    "text, expected",
    [
        ("[[home]]", ("Home.md", True)),  # case-insensitive
        ("[[Deep Note]]", ("notes/Deep Note.md", True)),  # shortest path wins on a tie of names
        ("[[other/Deep Note]]", ("other/Deep Note.md", True)),  # path suffix
        ("[[c/deep note.md]]", ("a/b/c/Deep Note.md", True)),
        ("[[глубокая]]", ("notes/Deep Note.md", True)),  # alias, case-folded Cyrillic
        ("[[елка]]", ("Ёлка.md", True)),  # ё and е match
        ("[[../sibling]]", ("a/sibling.md", True)),  # relative to the linking note
        ("[[./c/Deep Note]]", ("a/b/c/Deep Note.md", True)),
        ("[[Deep Note#ключ шарда]]", ("notes/Deep Note.md", True)),  # heading by text
        ("[[Deep Note#ключ-шарда]]", ("notes/Deep Note.md", True)),  # heading by slug
        ("[[Deep Note#Nope]]", ("notes/Deep Note.md", False)),
        ("[[Deep Note#^blk-1]]", ("notes/Deep Note.md", True)),
        ("[[Deep Note#^blk-2]]", ("notes/Deep Note.md", False)),
        ("![[photo.png]]", ("img/photo.png", True)),
        ("[[Missing]]", (None, True)),
        ("[x](../sibling.md)", ("a/sibling.md", True)),
        ("[x](../../notes/Deep%20Note.md#Ключ%20Шарда)", ("notes/Deep Note.md", True)),
        ("[x](/Home.md)", ("Home.md", True)),  # vault-absolute
        ("[x](../../../outside.md)", (None, True)),
        ("[x](#here)", ("a/b/here.md", True)),
        ("[x](#nowhere)", ("a/b/here.md", False)),
    ],
)
def test_resolution(text, expected):
    assert resolve(text) == expected


def test_backlinks_and_removal():
    g = graph()
    g.put(parse_note("x.md", "[[Home]] and [[глубокая]] and [[Home#Home]]"))
    assert [(src, l.raw) for src, l in g.backlinks("Home.md")] == [("x.md", "[[Home]]"), ("x.md", "[[Home#Home]]")]
    g.remove("x.md")
    assert g.backlinks("Home.md") == []


def test_rename_changes_what_resolves():
    g = graph()
    g.remove("notes/Deep Note.md")
    (link,) = parse_note("z.md", "[[Deep Note]]").links
    assert g.resolve_note(link, "z.md") == "other/Deep Note.md"


def test_paths_version_follows_paths_not_edits():
    """Completion keeps its path tables while the vault's paths stay the same: editing a note
    (even its aliases) must not look like a change of paths; adding or removing one must."""
    from ponder.index.parsing.markdown import parse_note

    g = Graph()
    g.put(parse_note("a.md", "# A\n"))
    v = g.paths_version
    g.put(parse_note("a.md", "# A\n\nedited\n"))
    g.put(parse_note("a.md", "---\naliases: [Alpha]\n---\n# A\n"))
    assert g.paths_version == v
    g.put(parse_note("b.md", "# B\n"))
    assert g.paths_version != v
    v = g.paths_version
    g.add_asset("img.png")
    assert g.paths_version != v
    v = g.paths_version
    g.remove("b.md")
    assert g.paths_version != v and Graph().paths_version != Graph().paths_version


def test_backlink_count_from_stored_link_targets_equals_backlinks(eval_vault):
    """Hover counts backlinks from the store's link rows; references list them from the notes.
    Both must agree, for stored notes and with an open document's links overlaid."""
    from ponder.index.settings import EmbeddingSettings
    from ponder.index.vault import Vault

    v = Vault(eval_vault, embedding=EmbeddingSettings(enabled=False))
    v.update()
    g = v.graph
    some = sorted(g.notes)[0]
    v.open_document(
        some, (v.read_text(some) or "") + "\n[[" + sorted(g.notes)[1].rsplit("/", 1)[-1][:-3] + "]] [[#x]]\n"
    )
    counts = {p: (g.backlink_count(p), len(g.backlinks(p))) for p in sorted(g.notes)}
    assert all(a == b for a, b in counts.values()), {p: c for p, c in counts.items() if c[0] != c[1]}
    assert sum(a for a, _ in counts.values()) > 20
    v.close()
