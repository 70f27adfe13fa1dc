"""The openai backend against `python -m llama_cpp.server` on 127.0.0.1 (real HTTP), and its guard."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from pydantic import BaseModel

from ponder.runtime.backend import BackendError
from ponder.runtime.client import ModelClient
from ponder.runtime.openai_backend import check_endpoint
from ponder.runtime.settings import ModelSettings
from ponder.runtime.tasks import JobCancelled, Task, WorkerUnavailable


class Person(BaseModel):
    name: str
    age: int


def ask(text: str, **kw) -> Task:
    return Task(name="t", messages=[{"role": "user", "content": text}], **kw)


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080/v1", "http://localhost:1234", "http://[::1]:8000/v1"])
def test_loopback_endpoints_pass_the_guard(url: str) -> None:
    check_endpoint(url, allow_remote=False)


@pytest.mark.parametrize(
    "url", ["http://10.1.2.3:8080/v1", "http://192.168.0.5", "http://[2001:db8::1]/v1", "ftp://127.0.0.1"]
)
def test_non_loopback_endpoints_are_refused(url: str) -> None:
    with pytest.raises(BackendError, match="not a loopback address|not an http"):
        check_endpoint(url, allow_remote=False)


def test_allow_remote_is_explicit() -> None:
    assert check_endpoint("http://10.1.2.3:8080/v1", allow_remote=True).hostname == "10.1.2.3"


async def test_client_reports_the_refusal_without_connecting(tmp_path: Path) -> None:
    audit = tmp_path / "sockets.log"
    settings = ModelSettings(backend="openai", endpoint="http://10.1.2.3:8080/v1")
    client = ModelClient(settings, worker_env={"PONDER_AUDIT_SOCKETS": str(audit)})
    try:
        with pytest.raises(WorkerUnavailable, match="allow_remote"):
            await client.run(ask("hello"))
    finally:
        await client.close()
    assert "socket.connect" not in audit.read_text()


@pytest.fixture(scope="module")
def llama_server(gemma_path: Path, tmp_path_factory: pytest.TempPathFactory):
    log = (tmp_path_factory.mktemp("server") / "server.log").open("w+b")  # a pipe would fill and block it
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            str(gemma_path),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--n_ctx",
            "1024",
            "--chat_format",
            "gemma",
        ],  # fmt: skip
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 90
    while True:
        try:
            urllib.request.urlopen(url + "/models", timeout=1).read()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                log.seek(0)
                pytest.fail(f"llama_cpp.server did not start: {log.read()[-2000:]!r}")
            time.sleep(0.3)
    yield url
    proc.terminate()
    proc.wait(10)


@pytest.mark.model
async def test_openai_backend_generates_streams_and_parses(llama_server: str, tmp_path: Path) -> None:
    audit = tmp_path / "sockets.log"
    client = ModelClient(
        ModelSettings(backend="openai", endpoint=llama_server), worker_env={"PONDER_AUDIT_SOCKETS": str(audit)}
    )
    phases: list[str] = []
    try:
        text = await client.run(
            ask("Write about the sea.", max_tokens=24), on_progress=lambda p: phases.append(p.phase)
        )
        person = await client.run(ask("A person as JSON.", output=Person, max_tokens=64))
        tokens = asyncio.Event()
        job = client.submit(ask("Tell a long story.", max_tokens=1000), on_progress=lambda p: p.tokens and tokens.set())
        await asyncio.wait_for(tokens.wait(), 60)
        t0 = time.monotonic()
        client.cancel(job)
        with pytest.raises(JobCancelled):
            await client.wait(job)
        cancel_s = time.monotonic() - t0
        after = await client.run(ask("Say hi.", max_tokens=4))
    finally:
        await client.close()
    assert text.tokens > 0 and phases[0] == "prefill_done" and "tokens" in phases
    assert isinstance(person.value, Person)
    assert cancel_s < 1.0 and after.tokens > 0
    # Positive control of the audit hook: this backend does connect, and only to loopback.
    connects = [line for line in audit.read_text().splitlines() if line.startswith("socket.connect")]
    assert connects and all("127.0.0.1" in line for line in connects)
