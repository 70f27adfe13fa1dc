"""The model's judgement of candidate pairs: is this a contradiction?

One pair at a time (pairwise judging is where models are strong), with both sentences,
their notes' heading paths and status/date front matter, asking for a JSON verdict.
Only `contradiction` becomes a diagnostic. Verdicts are cached by the runtime under
(the prompt's inputs, the model fingerprint, PROMPT_VERSION): the prompt holds only the
two sentences and their own context, so an edit invalidates exactly the pairs that
touch the edited sentences, and a restart repeats no model work. A pair is always asked
in one orientation (A is the smaller of (path, text)), whichever note found it, so the
editor, `ponder check --semantic` and the vault sweep share their cached verdicts.

This lives in `lsp/` because it needs both the index (candidates) and the runtime.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Literal

from pydantic import BaseModel, Field

from ponder.index import (
    Candidate,
    Diagnostic,
    Range,
    Related,
    Vault,
    candidates,
    pair_key,
)
from ponder.runtime.client import ModelClient
from ponder.runtime.tasks import ModelError, Priority, Task

log = logging.getLogger(__name__)

PROMPT_VERSION = 1

SYSTEM = (
    "You check a personal knowledge base for contradictions. You get two statements from the "
    "user's notes (possibly in different languages) with where they stand. Decide whether both "
    "can be true at once. Answer 'contradiction' only when they cannot both hold for the same "
    "thing in the same scope. Different environments, components, versions or points in time, "
    "a rejected or superseded proposal, a question, or a value inside an allowed range are "
    "'different_scope' or 'compatible'. If unsure, say 'unsure'. Quote the conflicting words."
)


class ContradictionSettings(BaseModel):
    """The model's judgement of candidate contradictions in the editor (background, cached)."""

    judge: Literal["open", "vault", "off"] = Field(
        "open",
        description="open: judge the candidate pairs of open notes after each edit; vault: also sweep the whole vault "
        "in the background (cancellable progress; fills the cache so later opens are "
        "instant); off: never start the model for this. "
        "Needs a configured model (model.path, or the openai backend): the bundled Gemma only proves the plumbing.",
    )
    max_pairs_per_edit: int = Field(
        8,
        ge=1,
        le=200,
        description="New (uncached) pairs queued for the model per open or edit of a note; cached "
        "verdicts are always shown.",
    )
    top_k: int = Field(5, ge=1, le=50, description="Nearest claims in other notes considered per sentence.")
    min_similarity: float = Field(
        0.35,
        ge=0.0,
        le=1.0,
        description="Cosine similarity of two claims above which the model judges them; pairs that "
        "share rare words or where one "
        "defines a term the other uses are judged below it too. Contradicting statements "
        "are often only loosely similar (0.3-0.6 with MiniLM).",
    )


class Verdict(BaseModel):
    label: Literal["contradiction", "compatible", "different_scope", "unsure"]
    # Length limits are part of the grammar: a rambling model must still close the JSON
    # within the token budget instead of being cut off mid-string.
    explanation: str = Field(description="One or two sentences, in the language of statement A.", max_length=240)
    quote_a: str = Field(description="The words of A that conflict (empty if none).", max_length=120)
    quote_b: str = Field(description="The words of B that conflict (empty if none).", max_length=120)


@dataclass(frozen=True, slots=True)
class Judged:
    pair: Candidate
    label: str
    explanation: str
    cached: bool

    @property
    def a_path(self) -> str:
        return self.pair.a_path

    @property
    def b_path(self) -> str:
        return self.pair.b_path

    @property
    def a_line(self) -> int:
        return self.pair.a_range.start.line

    @property
    def b_line(self) -> int:
        return self.pair.b_range.start.line


def _context(vault: Vault, path: str, rng: Range) -> str:
    note = vault.note(path)
    if note is None:
        return f"note {path}"
    heading = max((i for i, h in enumerate(note.headings) if h.range.start.line <= rng.start.line), default=None)
    parts = [f"note '{note.title}' ({path})"]
    if heading is not None:
        parts.append("section " + " > ".join(note.heading_path(heading)))
    for key in ("status", "date", "version", "updated"):
        if key in note.front_matter:
            parts.append(f"{key}: {note.front_matter[key]}")
    return "; ".join(parts)


def judge_task(vault: Vault, c: Candidate) -> Task:
    user = (
        f"Statement A — {_context(vault, c.a_path, c.a_range)}:\n{c.a_text}\n\n"
        f"Statement B — {_context(vault, c.b_path, c.b_range)}:\n{c.b_text}\n\n"
        "Can A and B both be true? Answer with the JSON verdict."
    )
    return Task(
        name="judge",
        messages=[{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}],
        output=Verdict,
        version=PROMPT_VERSION,
        max_tokens=320,
        temperature=0.0,
    )


def oriented(c: Candidate) -> Candidate:
    """The pair with A the smaller of (path, text): one prompt, one cache entry, from either side."""
    if (c.b_path, c.b_text) < (c.a_path, c.a_text):
        return replace(
            c, a_path=c.b_path, a_text=c.b_text, a_range=c.b_range, b_path=c.a_path, b_text=c.a_text, b_range=c.a_range
        )
    return c


def sentence_ranges(vault: Vault, path: str, open_paths) -> dict[str, Range]:
    """Where each sentence of `path` stands now (an open note's editor text, else the index), by its
    whitespace-normalised text: a verdict follows its sentence across line moves and dies with it."""
    if path in open_paths:
        note = vault.note(path)
        rows = [(s.text, s.range) for s in note.sentences] if note is not None else []
    else:
        rows = [(t, r) for _, t, r, _ in vault.store.sentence_rows(path)]
    out: dict[str, Range] = {}
    for text, rng in rows:
        out.setdefault(" ".join(text.split()), rng)
    return out


def pairs_to_judge(
    vault: Vault, paths: list[str], k: int = 5, min_similarity: float = 0.35, limit: int | None = None
) -> list[Candidate]:
    """Candidate pairs of `paths`, unordered, unique and `oriented`, minus pairs the facts already
    settled or the user ignored; closest first, so a bounded sweep judges the likeliest pairs."""
    settled = {d.data["pair"] for d in vault.fact_conflicts(paths) if d.data}
    ignored = vault.store.ignored_pairs()
    seen: set[tuple] = set()
    out: list[Candidate] = []
    for p in paths:
        for c in candidates(vault, p, k=k, min_similarity=min_similarity):
            if c.a_path == c.b_path and c.a_path.endswith(".pseudo"):
                continue  # two lines of one pseudocode file: steps of one algorithm, not claims
            key = c.key()
            pk = pair_key(c.a_text, c.b_text)
            if key in seen or pk in settled or pk in ignored:
                continue
            seen.add(key)
            out.append(oriented(c))
    out.sort(key=lambda c: (c.a_path == c.b_path, -c.similarity))  # across notes first
    return out[:limit] if limit else out


async def judge(
    client: ModelClient,
    vault: Vault,
    pairs: list[Candidate],
    priority: Priority = Priority.BACKGROUND,
    on_pair: Callable[[int, int, Judged | None], None] | None = None,
) -> list[Judged]:
    """Judge `pairs` one at a time; a malformed answer (after the runtime's retry) is skipped, never applied."""
    out: list[Judged] = []
    for i, c in enumerate(pairs):
        try:
            res = await client.run(judge_task(vault, c), priority=priority)
        except ModelError as e:
            log.warning(
                "no verdict for %s:%d / %s:%d: %s",
                c.a_path,
                c.a_range.start.line + 1,
                c.b_path,
                c.b_range.start.line + 1,
                e,
            )
            if on_pair:
                on_pair(i + 1, len(pairs), None)
            continue
        v: Verdict = res.value
        j = Judged(c, v.label, v.explanation.strip(), res.cached)
        out.append(j)
        if on_pair:
            on_pair(i + 1, len(pairs), j)
    return out


def contradiction_diagnostics(judged: list[Judged]) -> list[Diagnostic]:
    """`contradiction` warnings on both sides of each pair the model called a contradiction."""
    out: list[Diagnostic] = []
    for j in judged:
        if j.label != "contradiction":
            continue
        c = j.pair
        data = {"pair": pair_key(c.a_text, c.b_text), "source": "model"}
        for here, rng, there, orng, text in (
            (c.a_path, c.a_range, c.b_path, c.b_range, c.b_text),
            (c.b_path, c.b_range, c.a_path, c.a_range, c.a_text),
        ):
            quote = " ".join(text.split())[:100]
            msg = f"Contradiction (model): {j.explanation} — see {there}:{orng.start.line + 1} (“{quote}”)"
            out.append(
                Diagnostic(
                    here,
                    rng,
                    "warning",
                    "contradiction",
                    msg,
                    (Related(there, orng, j.explanation or "the other side"),),
                    {**data, "other": there},
                )
            )
    return out


async def judge_vault(
    vault: Vault, settings, console=None, paths: list[str] | None = None, limit: int | None = None
) -> list[Judged]:
    """Judge the candidate pairs of `paths` (default: all notes) with a fresh client; for the CLI and evals."""
    paths = sorted(vault.graph.notes) if paths is None else paths
    pairs = pairs_to_judge(vault, paths, limit=limit)
    client = ModelClient(settings, cache_path=vault.db_path)
    await client.start()
    try:
        if console is None:
            return await judge(client, vault, pairs)
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        with Progress(
            TextColumn("model judge"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            disable=not console.is_terminal,
        ) as bar:
            task = bar.add_task("judge", total=len(pairs))
            return await judge(client, vault, pairs, on_pair=lambda done, total, _: bar.update(task, completed=done))
    finally:
        await client.close()
