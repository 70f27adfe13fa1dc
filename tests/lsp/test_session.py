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


class _Cycle:
    def __init__(self) -> None:
        self.me = self


def test_tidy_heap_freezes_survivors_and_a_full_tidy_frees_frozen_garbage():
    import gc
    import weakref

    from ponder.lsp.session import _tidy_heap

    try:
        young = _Cycle()
        ref_young = weakref.ref(young)
        del young
        _tidy_heap(False)  # garbage made since the last tidy is collected
        assert ref_young() is None
        kept = _Cycle()
        _tidy_heap(False)  # a survivor is frozen: later collections skip it
        assert gc.get_freeze_count() > 0
        ref_kept = weakref.ref(kept)
        del kept
        gc.collect()
        assert ref_kept() is not None  # frozen garbage stays until a full tidy...
        _tidy_heap(True)
        assert ref_kept() is None  # ...which collects it
    finally:
        gc.unfreeze()


async def test_keep_heap_tidies_after_activity_and_stops_with_the_session(tmp_path):
    import gc

    (tmp_path / "a.md").write_text("# A\n", "utf-8")
    s = Session(tmp_path, IndexSettings(), EmbeddingSettings(enabled=False))
    await s.open()
    try:
        gc.unfreeze()
        before = gc.get_threshold()
        await s.run(lambda v: None)  # activity
        keeper = asyncio.ensure_future(s.keep_heap())
        for _ in range(50):
            await asyncio.sleep(IDLE_S / 2)
            if gc.get_freeze_count():
                break
        assert gc.get_freeze_count() > 0
        # Python's own full collections are off while the session keeps the heap; young ones stay
        assert gc.get_threshold()[:2] == before[:2] and gc.get_threshold()[2] > 10**6
        await s.close()
        await asyncio.wait_for(keeper, 5)  # ends with the session
        assert gc.get_threshold() == before  # and gives Python its collections back
    finally:
        gc.unfreeze()


async def test_keep_heap_freezes_what_a_busy_session_made(tmp_path, monkeypatch):
    """A session that is never quiet for IDLE_S (notes opened one after another) still has what
    it made frozen after HEAP_BUSY_S, so that no later collection walks it."""
    import gc

    from ponder.lsp import session as session_module

    monkeypatch.setattr(session_module, "HEAP_BUSY_S", 0.2)
    (tmp_path / "a.md").write_text("# A\n", "utf-8")
    s = Session(tmp_path, IndexSettings(), EmbeddingSettings(enabled=False))
    await s.open()
    try:
        gc.unfreeze()
        keeper = asyncio.ensure_future(s.keep_heap())
        end = asyncio.get_running_loop().time() + 5
        while not gc.get_freeze_count() and asyncio.get_running_loop().time() < end:
            await s.run(lambda v: None)  # activity every 0.1 s: never IDLE_S of quiet
            await asyncio.sleep(0.1)
        assert gc.get_freeze_count() > 0
        await s.close()
        await asyncio.wait_for(keeper, 5)
    finally:
        gc.unfreeze()
