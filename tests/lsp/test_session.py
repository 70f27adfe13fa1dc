"""The index thread's scheduling: stepped background work runs at idle priority."""

from __future__ import annotations

import asyncio

from ponder.index.settings import EmbeddingSettings, IndexSettings
from ponder.lsp.session import IDLE_S, Session


async def test_stepped_work_waits_for_quiet_and_lets_requests_through(tmp_path):
    (tmp_path / "a.md").write_text("# A\n", "utf-8")
    s = Session(tmp_path, IndexSettings(), EmbeddingSettings(enabled=False))
    await s.open()
    order: list[str] = []

    def work(vault):
        assert vault is s.vault
        for i in range(3):
            order.append(f"step {i}")
            yield
        return "hints"

    task = asyncio.ensure_future(s.run_steps(work))
    for i in range(6):  # a burst of requests, closer together than IDLE_S: no step may start
        await s.run(lambda v, i=i: order.append(f"request {i}"))
        await asyncio.sleep(IDLE_S / 3)
    assert order == [f"request {i}" for i in range(6)]
    assert await asyncio.wait_for(task, 10) == "hints"
    assert order[6:] == ["step 0", "step 1", "step 2"]
    await s.close()
