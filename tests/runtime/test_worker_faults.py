"""A hung, mute or garbling worker never blocks the model queue: each job has a deadline, the
worker a heartbeat; a silent worker is killed and restarted with the job failed and a message
that says why; cancel frees the queue even when the worker ignores it; and the next job runs."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from pathlib import Path

import pytest

from ponder.runtime.client import ModelClient
from ponder.runtime.tasks import BackendFailure, JobCancelled, Task

FAULT = [sys.executable, str(Path(__file__).with_name("fault_worker.py"))]


def ask(text: str) -> Task:
    return Task(name="t", messages=[{"role": "user", "content": text}])


def faulty(script, tmp_path: Path, mode: str, **settings) -> ModelClient:
    env = {"FAULT_MODE": mode, "FAULT_STATE": str(tmp_path / "spawns")}
    return ModelClient(script([], **settings), worker_command=FAULT, worker_env=env)


async def test_a_stopped_worker_is_killed_the_job_fails_and_the_next_runs(script) -> None:
    slow = {"text": " ".join(["tok"] * 100), "token_delay_s": 0.05}
    client = ModelClient(script([slow], worker_silence_s=3.0))
    try:
        running = client.submit(ask("slow"))
        while client.worker_pid is None:
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)
        pid = client.worker_pid
        os.kill(pid, signal.SIGSTOP)
        t0 = time.monotonic()
        with pytest.raises(BackendFailure, match="silent"):
            await asyncio.wait_for(client.wait(running), 30)
        assert time.monotonic() - t0 < 15
        # the next job runs on a new worker (a new process replays the script from its start)
        assert (await asyncio.wait_for(client.run(ask("next")), 60)).value.startswith("tok")
        assert client.worker_pid != pid
    finally:
        await client.close()


async def test_a_reply_with_a_wrong_id_fails_at_the_deadline(script, tmp_path) -> None:
    client = faulty(script, tmp_path, "wrong_id", job_timeout_s=2.0)
    try:
        t0 = time.monotonic()
        with pytest.raises(BackendFailure, match="did not answer"):
            await asyncio.wait_for(client.run(ask("first")), 30)
        assert time.monotonic() - t0 < 10
        assert (await asyncio.wait_for(client.run(ask("next")), 30)).value == "ok"
    finally:
        await client.close()


async def test_a_line_over_the_limit_kills_the_worker_not_the_queue(script, tmp_path) -> None:
    client = faulty(script, tmp_path, "huge_line")
    try:
        with pytest.raises(BackendFailure, match="64 MB"):
            await asyncio.wait_for(client.run(ask("first")), 60)
        assert (await asyncio.wait_for(client.run(ask("next")), 30)).value == "ok"
    finally:
        await client.close()


async def test_cancel_frees_the_queue_when_the_worker_ignores_it(script, tmp_path) -> None:
    client = faulty(script, tmp_path, "deaf", cancel_grace_s=1.0)
    try:
        job = client.submit(ask("never answered"))
        queued = client.submit(ask("after"))
        while client.worker_pid is None:
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)
        t0 = time.monotonic()
        assert client.cancel(job)
        with pytest.raises(JobCancelled):
            await asyncio.wait_for(client.wait(job), 20)
        assert (await asyncio.wait_for(client.wait(queued), 20)).value == "ok"
        assert time.monotonic() - t0 < 10
    finally:
        await client.close()
