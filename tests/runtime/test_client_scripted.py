"""The client, queue, pipe and worker process for real, with recorded answers (fast, no model)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time

import pytest
from pydantic import BaseModel

from ponder.runtime import protocol as rpc
from ponder.runtime.client import ModelClient
from ponder.runtime.scripted_backend import messages_hash
from ponder.runtime.tasks import JobCancelled, ModelOutputError, Priority, Task, WorkerUnavailable


class Verdict(BaseModel):
    contradiction: bool
    reason: str


def ask(text: str, **kw) -> Task:
    return Task(name="t", messages=[{"role": "user", "content": text}], **kw)


def test_worker_speaks_json_lines_only_on_stdout(script) -> None:
    settings = script(["hello there world"])
    proc = subprocess.Popen(
        [sys.executable, "-m", "ponder.runtime.worker"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    requests = [
        rpc.request(1, "load", {"settings": settings.model_dump(mode="json")}),
        rpc.request(2, "generate", {"job_id": "j", "messages": [{"role": "user", "content": "hi"}]}),
        rpc.request(3, "nonsense"),
    ]
    proc.stdin.write(b"".join(requests))
    proc.stdin.flush()
    lines: list[dict] = []
    while len(lines) < 7:  # heartbeats ("alive") may come in between at any time
        msg = json.loads(proc.stdout.readline())
        if msg.get("method") != "heartbeat":
            lines.append(msg)
    proc.stdin.write(rpc.request(4, "shutdown"))
    proc.stdin.flush()
    assert proc.wait(10) == 0
    by_id = {m["id"]: m for m in lines if "id" in m}
    assert by_id[1]["result"]["backend"] == "scripted"
    assert by_id[2]["result"]["text"] == "hello there world"
    assert by_id[3]["error"]["code"] == rpc.METHOD_NOT_FOUND
    phases = [m["params"]["phase"] for m in lines if m.get("method") == "progress"]
    assert phases == ["prefill_done", "tokens", "tokens", "tokens"]
    assert b"worker ready" in proc.stderr.read()


async def test_text_task_streams_progress(script) -> None:
    client = ModelClient(script(["one two three"]))
    seen: list[rpc.Progress] = []
    try:
        result = await client.run(ask("x"), on_progress=seen.append)
    finally:
        await client.close()
    assert result.value == "one two three" and result.tokens == 3 and not result.cached
    assert [p.phase for p in seen] == ["prefill_done", "tokens", "tokens", "tokens"]


async def test_structured_output_retries_once_then_fails_typed(script) -> None:
    good = '{"contradiction": true, "reason": "dates differ"}'
    client = ModelClient(script(["not json", good, '{"contradiction": tr', "still not"]))
    try:
        first = await client.run(ask("a", output=Verdict))
        assert first.value == Verdict(contradiction=True, reason="dates differ") and first.attempts == 2
        with pytest.raises(ModelOutputError) as err:
            await client.run(ask("b", output=Verdict))
        assert err.value.text == "still not"
    finally:
        await client.close()


async def test_reasoning_before_json_is_stripped(script) -> None:
    client = ModelClient(script(['<think>{"no": 1} hmm</think>{"contradiction": false, "reason": "same"}']))
    try:
        result = await client.run(ask("a", output=Verdict))
    finally:
        await client.close()
    assert result.value.reason == "same"


async def test_priority_order_and_one_job_at_a_time(script) -> None:
    answers = [{"text": "w a b c", "token_delay_s": 0.05}, "x", "y", "z"]
    client = ModelClient(script(answers))
    order: list[str] = []

    async def run(name: str, prio: Priority) -> None:
        await client.run(ask(name), priority=prio)
        order.append(name)

    try:
        first = asyncio.create_task(run("warm", Priority.BACKGROUND))
        await asyncio.sleep(0.5)  # the worker starts and the first job is running
        rest = [
            asyncio.create_task(run("background", Priority.BACKGROUND)),
            asyncio.create_task(run("open", Priority.OPEN_DOCUMENT)),
            asyncio.create_task(run("interactive", Priority.INTERACTIVE)),
        ]
        await asyncio.gather(first, *rest)
    finally:
        await client.close()
    assert order == ["warm", "interactive", "open", "background"]


async def test_cancel_running_and_queued_jobs(script) -> None:
    slow = {"text": " ".join(["tok"] * 200), "token_delay_s": 0.05}
    client = ModelClient(script([slow, "after"]))
    try:
        progress = asyncio.Event()
        running = client.submit(ask("slow"), on_progress=lambda p: progress.set())
        queued = client.submit(ask("queued"), priority=Priority.BACKGROUND)
        await asyncio.wait_for(progress.wait(), 30)
        assert client.cancel(queued)
        t0 = time.monotonic()
        assert client.cancel(running)
        with pytest.raises(JobCancelled):
            await client.wait(running)
        assert time.monotonic() - t0 < 1.0
        with pytest.raises(JobCancelled):
            await client.wait(queued)
        assert (await client.run(ask("next"))).value == "after"
    finally:
        await client.close()


async def test_cancel_event_and_caller_cancellation_stop_the_job(script) -> None:
    slow = {"text": " ".join(["tok"] * 200), "token_delay_s": 0.05}
    client = ModelClient(script([slow, slow, "ok"]))
    try:
        event = asyncio.Event()
        job = asyncio.create_task(client.run(ask("a"), cancel_event=event))
        await asyncio.sleep(1.0)
        event.set()
        with pytest.raises(JobCancelled):
            await asyncio.wait_for(job, 2)
        caller = asyncio.create_task(client.run(ask("b")))
        await asyncio.sleep(0.5)
        caller.cancel()  # an LSP $/cancelRequest cancels the handler's task
        with pytest.raises(asyncio.CancelledError):
            await caller
        assert (await asyncio.wait_for(client.run(ask("c")), 5)).value == "ok"
    finally:
        await client.close()


async def test_sigkill_during_job_restarts_and_reruns_it(script, pids) -> None:
    msgs = [{"role": "user", "content": "survive"}]
    slow = {"text": "a b c d e f g h", "token_delay_s": 0.2}
    client = ModelClient(script(by_hash={messages_hash(msgs): slow}, restart_backoff_s=0.1))
    try:
        started = asyncio.Event()
        job = asyncio.create_task(client.run(Task(name="t", messages=msgs), on_progress=lambda p: started.set()))
        await asyncio.wait_for(started.wait(), 30)
        first_pid = client.worker_pid
        os.kill(first_pid, signal.SIGKILL)
        result = await asyncio.wait_for(job, 30)
        assert result.value == "a b c d e f g h"
        assert client.restarts == 1 and client.worker_pid not in (None, first_pid)
        assert any("worker died" in e for e in (await client.status())["events"])
    finally:
        await client.close()


async def test_gives_up_after_max_restarts(script) -> None:
    client = ModelClient(
        script(["x"], max_restarts=2, restart_backoff_s=0.01),
        worker_command=[sys.executable, "-c", "import sys; sys.exit(3)"],
    )
    try:
        with pytest.raises(WorkerUnavailable, match="3 times in a row"):
            await asyncio.wait_for(client.run(ask("a")), 30)
        assert client.restarts == 2
    finally:
        await client.close()


async def test_load_refusal_is_reported_not_retried(tmp_path) -> None:
    from ponder.runtime.settings import ModelSettings

    client = ModelClient(ModelSettings(backend="scripted"))
    try:
        with pytest.raises(WorkerUnavailable, match="needs `script_path`"):
            await client.run(ask("a"))
        assert client.restarts == 0
    finally:
        await client.close()


async def test_idle_unload_then_lazy_restart(script, pids) -> None:
    client = ModelClient(script(["a", "b"], idle_unload_s=0.3))
    try:
        await client.run(ask("1"))
        pid = client.worker_pid
        assert pid is not None
        await asyncio.sleep(1.0)
        assert client.worker_pid is None and pids.wait_dead(pid, 5)
        assert (await client.run(ask("2"))).value == "a"  # a fresh worker replays from the start
    finally:
        await client.close()


async def test_results_are_cached_across_clients(script, tmp_path) -> None:
    settings = script(['{"contradiction": false, "reason": "r"}', '{"contradiction": true, "reason": "v2"}'])
    db = tmp_path / "index.db"
    client = ModelClient(settings, cache_path=db)
    try:
        first = await client.run(ask("q", output=Verdict))
        again = await client.run(ask("q", output=Verdict))
    finally:
        await client.close()
    assert not first.cached and again.cached and again.value == first.value
    client = ModelClient(settings, cache_path=db)
    try:
        assert (await client.run(ask("q", output=Verdict))).cached
        bumped = await client.run(ask("q", output=Verdict, version=2))
        assert not bumped.cached  # a new prompt version is new model work
    finally:
        await client.close()


@pytest.mark.parametrize("how", ["exit", "sigkill"])
def test_no_orphan_worker_when_parent_dies(script, pids, how) -> None:
    settings = script(["x"], eager_start=True)
    code = f"""
import asyncio, os, sys
from ponder.runtime.client import ModelClient
from ponder.runtime.settings import ModelSettings
async def main():
    client = ModelClient(ModelSettings.model_validate_json({settings.model_dump_json()!r}))
    await client.start()
    print(client.worker_pid, flush=True)
    if {how!r} == "exit":
        sys.stdin.readline()  # exit only once the test has seen the worker alive (else a race)
        os._exit(0)
    await asyncio.sleep(60)
asyncio.run(main())
"""
    parent = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    worker_pid = int(parent.stdout.readline())
    assert pids.alive(worker_pid)
    if how == "sigkill":
        parent.kill()
    else:
        parent.stdin.write("go\n")
        parent.stdin.flush()
    parent.wait(10)
    assert pids.wait_dead(worker_pid, 10), "the worker outlived its parent"


async def test_calls_log_records_loads_and_prompts(tmp_path) -> None:
    from ponder.runtime.settings import ModelSettings

    log = tmp_path / "calls.jsonl"
    path = tmp_path / "script.json"
    path.write_text(json.dumps({"answers": ["a", "b"], "calls_log": str(log)}))
    client = ModelClient(ModelSettings(backend="scripted", script_path=str(path)))
    try:
        await client.run(ask("first"))
        await client.run(ask("second"))
    finally:
        await client.close()
    entries = [json.loads(line) for line in log.read_text().splitlines()]
    assert [e["event"] for e in entries] == ["load", "generate", "generate"]
    assert [e["user"] for e in entries[1:]] == ["first", "second"]
    assert entries[1]["hash"] == messages_hash([{"role": "user", "content": "first"}])
