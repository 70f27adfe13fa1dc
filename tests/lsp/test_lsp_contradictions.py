"""The model's background judgement of contradictions over the real protocol, with the scripted
backend (a real worker replaying verdicts keyed by the exact prompt) and the bundled MiniLM
for the candidates: both sides shown, cached across restarts, re-judged per edited sentence,
ignored pairs hidden, nothing started when judging is off, the vault sweep cancellable."""

from __future__ import annotations

import asyncio
import itertools
import json
from pathlib import Path

from conftest import Vault, write_vault
from lsprotocol import types as t
from test_lsp_explain import until

from ponder.index import Candidate
from ponder.index.settings import EmbeddingSettings
from ponder.index.vault import Vault as Index
from ponder.lsp.llm.contradictions.judge import EXPLAIN, explain_task, judge_task, oriented
from ponder.runtime.scripted_backend import messages_hash

DESIGN = (
    "# Cache\n\nEach worker keeps at most 256 MB of thumbnails in its memory cache.\n\n"
    "## Storage\n\nThumbnails are stored as WebP files on the shared disk.\n"
)
FILES = {
    "design.md": DESIGN,
    "decision.md": "# Decision\n\nThe thumbnail cache of a worker may hold up to 512 megabytes in memory.\n\n"
    "Old thumbnails are written in PNG format to the local SSD.\n",
}
EDITED = {**FILES, "design.md": DESIGN.replace("256 MB", "128 MB")}
RULES = [
    ("256 MB", "512 megabytes", "contradiction"),
    ("128 MB", "512 megabytes", "contradiction"),
    ("", "", "compatible"),
]


def verdict(label: str) -> str:
    return json.dumps({"label": label})


def reason(why: str) -> str:
    return json.dumps({"explanation": why})


def judge_script(
    tmp_path: Path, versions: list[dict[str, str]], rules=RULES, token_delay_s: float = 0.0
) -> tuple[Path, Path]:
    """A scripted-backend file answering every pair of claims in `versions` by the first matching
    (A substring, B substring, label) rule, keyed by the exact prompt the server builds; and its calls log."""
    by_hash = {}
    for i, files in enumerate(versions):
        root = write_vault(tmp_path / f"prompts{i}", files).root
        index = Index(root, embedding=EmbeddingSettings(enabled=False))
        index.update()
        claims = [(p, text, rng) for p in files for _, text, rng, h in index.store.sentence_rows(p) if h]
        for (pa, ta, ra), (pb, tb, rb) in itertools.permutations(claims, 2):
            c = oriented(Candidate(pa, ta, ra, pb, tb, rb, 1.0))
            label = next(
                label for a, b, label in rules if a in c.a_text and b in c.b_text or a in c.b_text and b in c.a_text
            )
            why = "The limits differ: 256 MB vs 512 MB." if "256" in c.a_text + c.b_text else "Now 128 MB vs 512 MB."
            first = judge_task(index, c)
            by_hash.setdefault(messages_hash(first.messages), verdict(label))
            if label == "contradiction":  # the explanation is asked for contradictions only
                by_hash.setdefault(messages_hash(explain_task(first).messages), reason(why))
        index.close()
    log = tmp_path / "calls.jsonl"
    path = tmp_path / "judge-script.json"
    script = {
        "by_hash": by_hash,
        "answers": [verdict("unsure")] * 50,
        "token_delay_s": token_delay_s,
        "calls_log": str(log),
    }
    path.write_text(json.dumps(script), "utf-8")
    return path, log


def calls(log: Path) -> list[dict]:
    return [json.loads(x) for x in log.read_text("utf-8").splitlines()] if log.exists() else []


def generated(log: Path, explanations: bool = False) -> list[str]:
    """The last user message of each model call: the label requests (or the explanation requests)."""
    return [c["user"] for c in calls(log) if c["event"] == "generate" and (c["user"] == EXPLAIN) == explanations]


def options(script: Path, **contradictions) -> dict:
    return {"model": {"backend": "scripted", "script_path": str(script)}, "contradictions": contradictions}


def contradictions(ds) -> list[t.Diagnostic]:
    return [d for d in ds if d.code == "contradiction"]


async def status(s) -> dict:
    return (await s.client.workspace_execute_command_async(t.ExecuteCommandParams("ponder.status", [])))[
        "contradictions"
    ]


async def idle(s, timeout: float = 30) -> dict:
    async def done():
        st = await status(s)
        return st if st["idle"] else None

    return await until(done, timeout=timeout)


def R(l1, c1, l2, c2):
    return t.Range(t.Position(l1, c1), t.Position(l2, c2))


async def test_judged_on_both_sides_cached_rejudged_per_sentence_and_ignored(start, tmp_path):
    script, log = judge_script(tmp_path, [FILES, EDITED])
    s = await start(FILES, init_options=options(script))
    assert calls(log) == []  # nothing is judged before a note is opened
    s.open("design.md")
    (d,) = contradictions(await s.diagnostics("design.md", lambda ds: contradictions(ds)))
    assert d.range.start.line == 2 and d.severity == t.DiagnosticSeverity.Warning and d.source == "ponder"
    assert d.message.startswith("Contradiction (model): The limits differ: 256 MB vs 512 MB. — see decision.md:3")
    (rel,) = d.related_information
    assert rel.location.uri == s.vault.uri("decision.md") and rel.location.range.start.line == 2
    assert d.data["other"] == "decision.md" and d.data["pair"]
    # the other side (not open; whole-vault diagnostics are on) points back
    (o,) = contradictions(await s.diagnostics("decision.md", lambda ds: contradictions(ds)))
    assert o.range.start.line == 2 and o.related_information[0].location.uri == s.vault.uri("design.md")
    st = await idle(s)
    first = generated(log)
    assert st["from_model"] == len(first) >= 3 and st["failed"] == 0  # the compatible pairs were judged too...
    assert len(contradictions(s.client.diagnostics[s.vault.uri("design.md")])) == 1  # ...and show nothing
    assert len(set(first)) == len(first)  # each pair asked once
    assert len(generated(log, explanations=True)) == 1  # the explanation only for the one contradiction

    # editing the sentence re-judges only the pairs that touch it
    s.change("design.md", 2, [(R(2, 26, 2, 29), "128")])
    await s.diagnostics("design.md", lambda ds: any("128 MB vs 512" in x.message for x in contradictions(ds)))
    await idle(s)
    again = generated(log)[len(first) :]
    assert again and all("128 MB" in user for user in again), again
    (d,) = contradictions(s.client.diagnostics[s.vault.uri("design.md")])
    (o,) = contradictions(
        await s.diagnostics("decision.md", lambda ds: any("128" in x.message for x in contradictions(ds)))
    )

    # the code actions of a fact conflict apply; "ignore this pair" hides it on both sides
    actions = await s.client.text_document_code_action_async(
        t.CodeActionParams(s.doc("design.md"), d.range, t.CodeActionContext([d]))
    )
    titles = [a.title for a in actions]
    assert (
        titles[0] == "Go to the other side (decision.md:3)"
        and "Ignore this pair" in titles
        and "Mark this statement superseded" in titles
    )
    ignore = t.ExecuteCommandParams("ponder.ignorePair", [d.data["pair"], "design.md", d.data["other"]])
    assert (await s.client.workspace_execute_command_async(ignore))["ignored"] is True
    await s.diagnostics("design.md", lambda ds: not contradictions(ds))
    await s.diagnostics("decision.md", lambda ds: not contradictions(ds))
    await s.client.shutdown_session()
    before = calls(log)

    # a second server on the same vault shows the disk text's verdict from the cache: no model call, no worker
    s2 = await start(Vault(s.vault.root), init_options=options(script))
    s2.open("design.md")
    (d,) = contradictions(await s2.diagnostics("design.md", lambda ds: contradictions(ds)))
    assert "256 MB vs 512 MB" in d.message
    st = await idle(s2)
    assert st["from_model"] == 0 and st["from_cache"] >= 1
    # the ignored pair stays hidden, even with its verdict in the cache
    s2.change("design.md", 2, [(R(2, 26, 2, 29), "128")])
    await s2.diagnostics("design.md", lambda ds: not contradictions(ds))
    await idle(s2)
    assert calls(log) == before


def progress_of(s, prefix: str) -> list[tuple[str, list]]:
    return [(str(k), v) for k, v in s.client.progress_reports.items() if str(k).startswith(prefix)]


async def test_off_starts_nothing_unavailable_model_said_once_and_vault_sweep_cancels(start, tmp_path):
    script, log = judge_script(tmp_path, [FILES], token_delay_s=0.15)  # about 2 s per verdict
    s = await start(FILES, init_options=options(script, judge="off"))
    s.open("design.md")
    s.change("design.md", 2, [(R(2, 26, 2, 29), "128")])
    await asyncio.sleep(1.5)  # past the debounce
    assert (await idle(s))["from_model"] == 0 and calls(log) == []  # the worker never started
    assert not contradictions(s.client.diagnostics.get(s.vault.uri("design.md"), []))

    # a model that cannot start: said once, never again on later edits; everything else still works
    def configure(section: dict) -> None:
        s.client.set_configuration(section, section="ponder")
        s.client.workspace_did_change_configuration(t.DidChangeConfigurationParams(settings=None))

    configure(
        {"contradictions": {"judge": "open"}, "model": {"backend": "llama_cpp", "path": str(tmp_path / "missing.gguf")}}
    )
    said = lambda: [m.message for m in s.client.messages if "not being judged" in m.message]
    await until(lambda: asyncio.sleep(0, said()))
    for version, text in ((3, "256"), (4, "128")):
        s.change("design.md", version, [(R(2, 26, 2, 29), text)])
    await asyncio.sleep(1.5)
    st = await status(s)
    assert len(said()) == 1 and "missing.gguf" in said()[0] and st["paused"] and st["idle"]

    # the recorded model again, whole vault: the sweep judges closed notes with cancellable progress
    s.client.text_document_did_close(t.DidCloseTextDocumentParams(s.doc("design.md")))
    configure({"contradictions": {"judge": "vault"}})
    (o,) = contradictions(await s.diagnostics("decision.md", lambda ds: contradictions(ds), timeout=30))
    assert o.related_information[0].location.uri == s.vault.uri("design.md")  # found by the sweep, both notes closed
    ((token, reports),) = progress_of(s, "ponder/contradictions")
    assert isinstance(reports[0], t.WorkDoneProgressBegin) and reports[0].cancellable
    assert any(isinstance(r, t.WorkDoneProgressReport) and "notes" in r.message for r in reports)
    s.client.window_work_done_progress_cancel(t.WorkDoneProgressCancelParams(token))
    end = await until(
        lambda: asyncio.sleep(0, next((r for r in reports if isinstance(r, t.WorkDoneProgressEnd)), None))
    )
    assert end.message == "cancelled"
    st = await idle(s)
    assert st["sweep"] is None and st["paused"] is None
    n = len(generated(log))
    await asyncio.sleep(1)
    assert len(generated(log)) == n < 4  # stopped: not every pair was judged, and nothing more is asked
    assert (await status(s))["judge"] == "vault"  # the server goes on
