"""Prohibitions: "never deletes X" in one note against a plain statement doing it ("delete ... X")
in another, found both ways (this note's prohibitions against statements anywhere, and this
note's statements against prohibitions elsewhere, looked up by verb)."""

from __future__ import annotations

from ponder.index.knowledge.conflicts import GENERIC, conflict_diagnostic
from ponder.index.knowledge.facts import Fact
from ponder.index.knowledge.view import VaultView
from ponder.index.notes import Diagnostic, Range
from ponder.index.parsing.stems import content_stems


def prohibition_clash(p: Fact, sentence_stems: frozenset[str], sentence_text: str) -> tuple[str, str] | None:
    """A prohibition ("never deletes X") against a sentence that does it ("delete ... X")."""
    if p.verb is None or p.verb not in sentence_stems:
        return None
    low = sentence_text.lower()
    if any(w in low for w in ("never", "must not", "not ", "n't", "никогда", "нельзя", "не ")):
        return None
    if sentence_text.rstrip().endswith("?"):
        return None
    shared = (p.stems & sentence_stems) - GENERIC - {p.verb}
    if len(shared) < 2 or not (p.local & shared):
        return None
    return f"never {p.verb}…", f"{p.verb}…"


def _sentences_of(vault: VaultView, path: str) -> list[tuple[str, Range]]:
    note = vault.open_note(path)
    if note is not None:
        return [(s.text, s.range) for s in note.sentences]
    return [(t, r) for _, _, t, r in vault.store.sentences(path)]


def prohibition_conflicts(vault: VaultView, path: str) -> list[Diagnostic]:
    """`fact-conflict` diagnostics of `path` that involve a prohibition, on `path`'s side."""
    fi = vault.facts
    out: list[Diagnostic] = []
    # this note's prohibitions against statements anywhere
    for p in (f for f in fi.facts_of(path) if f.kind == "prohibition" and f.verb):
        for other_path, text, rng in _statements_with(vault, p):
            if other_path == path and rng == p.range:
                continue
            why = prohibition_clash(p, frozenset(content_stems(text.replace("`", ""))), text)
            if why:
                out.append(conflict_diagnostic(p, other_path, rng, text, why))
    # this note's statements against prohibitions elsewhere (looked up by verb)
    sentences = [
        (text, rng, frozenset(content_stems(text.replace("`", "")))) for text, rng in _sentences_of(vault, path)
    ]
    prohibitions = fi.prohibitions_of(set().union(*(s for _, _, s in sentences)))
    for text, rng, stems in sentences:
        for verb in stems:
            for p in prohibitions.get(verb, ()):
                if p.path == path:
                    continue
                why = prohibition_clash(p, stems, text)
                if why:
                    here = Fact(path=path, range=rng, text=text, kind="statement", stems=stems, local=stems)
                    out.append(conflict_diagnostic(here, p.path, p.range, p.text, why))
    return out


def _statements_with(vault: VaultView, p: Fact) -> list[tuple[str, str, Range]]:
    """Sentences (stored and open) that use the prohibited verb and a word near it."""
    near = sorted(p.local - {p.verb})
    open_notes = vault.open_notes()
    rows = [r for r in vault.store.sentences_with_stems(p.verb, near) if r[0] not in open_notes]
    for path, note in open_notes.items():
        for s in note.sentences:
            stems = set(content_stems(s.text.replace("`", "")))
            if p.verb in stems and stems & set(near):
                rows.append((path, s.text, s.range))
    return rows
