"""The model's judgement of candidate pairs: is this a contradiction?

One pair at a time (pairwise judging is where models are strong), in two requests: the label
alone first (`{"label": ...}`, a handful of output tokens), and only for a `contradiction` a
second request for the explanation (the same conversation plus one turn, so the model's KV
cache computes only that turn). Most pairs are not contradictions, so most verdicts cost one
short prompt and ~6 output tokens instead of a 100-token explanation. The prompt is kept short
(measured with `bench/judge_cost.py`). Only `contradiction` becomes a diagnostic.

Verdicts are cached by the runtime under (the prompt's inputs, the model fingerprint,
PROMPT_VERSION), each request separately: the prompt holds only the two sentences and their own
context, so an edit invalidates exactly the pairs that touch the edited sentences, and a restart
repeats no model work. A pair is always asked in one orientation (A is the smaller of (path,
text)), whichever note found it, so the editor, `ponder check --semantic` and the vault sweep
share their cached verdicts. Pairs are judged most suspicious first (`suspicion`: close in
meaning, sharing words, stating different numbers, one side negated), so a bounded sweep spends
the model on the likeliest contradictions.

This lives in `lsp/` because it needs both the index (candidates) and the runtime.
"""

from __future__ import annotations

import json
import logging
import re
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
from ponder.runtime.tasks import JobCancelled, ModelError, Priority, Task

log = logging.getLogger(__name__)

PROMPT_VERSION = 2  # 2: label first, explanation only for a contradiction; shorter prompt

SYSTEM = (
    "Two statements from a user's notes (any language). Label them: contradiction only if both "
    "cannot hold for the same thing in the same scope; different_scope for other environments, "
    "components, versions or times, or a rejected or superseded proposal; compatible if both can "
    "hold (a question, a value inside an allowed range); unsure otherwise."
)
EXPLAIN = "Why? One or two sentences, in the language of statement A, quoting the conflicting words."


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
    sweep_pairs_per_note: int = Field(
        3,
        ge=1,
        le=100,
        description="Candidate pairs the vault sweep judges per note, the most suspicious first (similar, "
        "sharing words, different numbers, one side negated). Bounds a first sweep: 20,000 notes x 3 pairs.",
    )
    min_similarity: float = Field(
        0.35,
        ge=0.0,
        le=1.0,
        description="Cosine similarity of two claims above which the model judges them; pairs that "
        "share rare words or where one "
        "defines a term the other uses are judged below it too. Contradicting statements "
        "are often only loosely similar (0.3-0.6 with MiniLM).",
    )


class Label(BaseModel):
    """The first request's answer: the label alone."""

    label: Literal["contradiction", "compatible", "different_scope", "unsure"]


class Reason(BaseModel):
    """The second request's answer, asked only for a contradiction."""

    # The limit is part of the grammar: a rambling model must still close the JSON within the
    # token budget instead of being cut off mid-string.
    explanation: str = Field(description="One or two sentences, in the language of statement A.", max_length=240)


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
    """Where a statement stands, briefly: `path > heading > sub`, then status/date/version front matter."""
    note = vault.note(path)
    if note is None:
        return path
    heading = max((i for i, h in enumerate(note.headings) if h.range.start.line <= rng.start.line), default=None)
    where = " > ".join([path, *(note.heading_path(heading) if heading is not None else [])])
    meta = [f"{k}: {note.front_matter[k]}" for k in ("status", "date", "version", "updated") if k in note.front_matter]
    return where + (f" ({', '.join(meta)})" if meta else "")


def judge_task(vault: Vault, c: Candidate) -> Task:
    """The first request: the pair, asking for the label only."""
    user = (
        f"A [{_context(vault, c.a_path, c.a_range)}]: {c.a_text}\n"
        f"B [{_context(vault, c.b_path, c.b_range)}]: {c.b_text}"
    )
    return Task(
        name="judge",
        messages=[{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}],
        output=Label,
        version=PROMPT_VERSION,
        max_tokens=16,
        temperature=0.0,
    )


def explain_task(first: Task, label: str = "contradiction") -> Task:
    """The second request: the first conversation, its answer (canonical, so the cache key does not
    depend on the model's spacing) and one more question."""
    answer = json.dumps({"label": label})
    messages = [*first.messages, {"role": "assistant", "content": answer}, {"role": "user", "content": EXPLAIN}]
    return Task("judge-explain", messages, Reason, PROMPT_VERSION, max_tokens=160, temperature=0.0)


def cached_verdict(lookup: Callable[[Task], object], first: Task) -> tuple[str, str] | None:
    """(label, explanation) from the cache alone, or None when a request of it is missing."""
    got = lookup(first)
    if got is None:
        return None
    label = got.label  # type: ignore[attr-defined]
    if label != "contradiction":
        return label, ""
    reason = lookup(explain_task(first, label))
    return None if reason is None else (label, reason.explanation.strip())  # type: ignore[attr-defined]


async def run_verdict(
    client: ModelClient, first: Task, priority: Priority, track: Callable[[str], None] | None = None
) -> tuple[str, str, bool]:
    """(label, explanation, cached): the label, then the explanation only for a contradiction.
    A contradiction whose explanation fails keeps its label (with no explanation): the label is
    the verdict; `track` gets each job id (the scheduler cancels the one in flight)."""
    job = client.submit(first, priority)
    if track:
        track(job)
    res = await client.wait(job)
    label = res.value.label
    if label != "contradiction":
        return label, "", res.cached
    job = client.submit(explain_task(first, label), priority)
    if track:
        track(job)
    try:
        why = await client.wait(job)
    except JobCancelled:
        raise
    except ModelError as e:
        log.warning("a contradiction without explanation: %s", e)
        return label, "", res.cached
    return label, why.value.explanation.strip(), res.cached and why.cached


_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")
_WORD = re.compile(r"\w{4,}")
_NEGATION = {"not", "never", "no", "none", "nor", "cannot", "without", "не", "нет", "никогда", "нельзя", "без", "ни"}


def suspicion(c: Candidate) -> float:
    """How likely a pair is a contradiction, before asking the model (for ordering, not judging):
    its cosine similarity, plus the share of longer words the shorter statement has in common,
    plus 0.3 when both state numbers and they differ, plus 0.2 when exactly one side is negated."""
    a, b = c.a_text.lower(), c.b_text.lower()
    wa, wb = set(_WORD.findall(a)), set(_WORD.findall(b))
    shared = len(wa & wb) / max(min(len(wa), len(wb)), 1)
    na, nb = set(_NUMBER.findall(a)), set(_NUMBER.findall(b))
    numbers = 0.3 if na and nb and na != nb else 0.0
    negated = lambda text: bool(set(re.findall(r"\w+", text)) & _NEGATION)
    negation = 0.2 if negated(a) != negated(b) else 0.0
    return c.similarity + 0.3 * shared + numbers + negation


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
    vault: Vault,
    paths: list[str],
    k: int = 5,
    min_similarity: float = 0.35,
    limit: int | None = None,
    per_note: int | None = None,
) -> list[Candidate]:
    """Candidate pairs of `paths`, unordered, unique and `oriented`, minus pairs the facts already
    settled or the user ignored; across notes first, then most suspicious first, so a bounded
    sweep judges the likeliest pairs. `per_note`: at most that many pairs found from each note."""
    # each note's fact conflicts once: the certain ones settle their pairs, the rest are candidates
    conflicts = {p: vault.conflicts_of(p) for p in paths}
    settled = {pair_key(c.a.text, c.b.text) for found in conflicts.values() for c in found if c.certain}
    ignored = vault.store.ignored_pairs()
    seen: set[tuple] = set()
    out: list[Candidate] = []
    order = lambda c: (c.a_path == c.b_path, -suspicion(c))
    for p in paths:
        found: list[Candidate] = []
        for c in candidates(vault, p, k=k, min_similarity=min_similarity, conflicts=conflicts[p]):
            if c.a_path == c.b_path and c.a_path.endswith(".pseudo"):
                continue  # two lines of one pseudocode file: steps of one algorithm, not claims
            key = c.key()
            pk = pair_key(c.a_text, c.b_text)
            if key in seen or pk in settled or pk in ignored:
                continue
            seen.add(key)
            found.append(oriented(c))
        found.sort(key=order)
        out += found[:per_note] if per_note else found
    out.sort(key=order)
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
            label, why, cached = await run_verdict(client, judge_task(vault, c), priority)
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
        j = Judged(c, label, why, cached)
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
