"""A job that breaks the backend fails alone, with a message: never a crash loop (issue 17).

The worker really dies here (a job that kills its process, as llama-cpp-python does when it
samples with a grammar llama.cpp refused), and answers really break the limits the grammar
could not carry.
"""

from __future__ import annotations

import asyncio
import sys
import time

import pytest
from pydantic import BaseModel, Field

from ponder.runtime.client import ModelClient
from ponder.runtime.schema_grammar import simplify_schema
from ponder.runtime.tasks import JobCrashed, LimitExceeded, ModelOutputError, Task, parse_output

# The real worker, except that every generation kills it the way a null grammar does.
SEGFAULTING_WORKER = """
import ctypes, sys
from ponder.runtime import worker
worker.Worker._generate = lambda self, g: ctypes.string_at(0)  # a null read: SIGSEGV
sys.exit(worker.main([]))
"""


class Implementation(BaseModel):
    path: str = Field(max_length=160)
    code: str = Field(max_length=8000)


def ask(text: str, **kw) -> Task:
    return Task(name="codegen-python", messages=[{"role": "user", "content": text}], **kw)


def test_simplify_drops_only_large_limits_and_says_which() -> None:
    schema = Implementation.model_json_schema()
    schema["properties"]["tags"] = {"type": "array", "items": {"type": "string", "maxLength": 40}, "maxItems": 500}
    dropped: list[str] = []
    simple = simplify_schema(schema, dropped)
    assert simple["properties"]["path"]["maxLength"] == 160  # small: kept in the grammar
    assert "maxLength" not in simple["properties"]["code"]
    assert simple["properties"]["tags"]["items"]["maxLength"] == 40 and "maxItems" not in simple["properties"]["tags"]
    assert dropped == ["$.properties.code.maxLength=8000", "$.properties.tags.maxItems=500"]
    assert schema["properties"]["code"]["maxLength"] == 8000  # the input is not changed


def test_limits_are_enforced_after_generation_with_a_clear_error() -> None:
    long = '{"path": "a.py", "code": "' + "x" * 8001 + '"}'
    with pytest.raises(LimitExceeded, match=r"code: string should have at most 8000 characters \(got 8001\)"):
        parse_output(Implementation, long)
    with pytest.raises(ValueError) as other:  # a wrong shape is not a limit
        parse_output(Implementation, '{"path": "a.py"}')
    assert not isinstance(other.value, LimitExceeded)
    assert parse_output(Implementation, '{"path": "a.py", "code": "' + "x" * 8000 + '"}').code == "x" * 8000


async def test_over_limit_answer_fails_at_once_without_retry(script) -> None:
    too_long = '{"path": "a.py", "code": "' + "y" * 9000 + '"}'
    client = ModelClient(script([too_long, '{"path": "b.py", "code": "ok"}']))
    try:
        with pytest.raises(ModelOutputError, match="codegen-python: .*code: string should have at most 8000"):
            await client.run(ask("a", output=Implementation))
        assert (await client.run(ask("b", output=Implementation))).value.path == "b.py"  # no second try used it
    finally:
        await client.close()


async def test_job_that_kills_the_worker_twice_is_dropped_not_rerun(script) -> None:
    settings = script(["never"], restart_backoff_s=0.05, max_restarts=5)
    client = ModelClient(settings, worker_command=[sys.executable, "-c", SEGFAULTING_WORKER])
    started = time.monotonic()
    try:
        with pytest.raises(JobCrashed, match=r"crashed 2 times running codegen-python; the job was dropped") as err:
            await asyncio.wait_for(client.run(ask("a")), 60)
        assert "exited with code -11" in str(err.value)
        assert client.restarts == 1  # re-run once (a worker can die of other causes), then given up
        events = (await client.status())["events"]
        assert sum("worker died" in e for e in events) == 2
    finally:
        await client.close()
    assert time.monotonic() - started < 30
