"""Change events the server publishes and features subscribe to, instead of callers fanning out
to every feature that cares by name (adding a feature that reacts to edits is one `subscribe`).

Subscribers run in the order they subscribed (the order of `features.FEATURES`). `emit` is for
synchronous subscribers; `emit_async` also awaits the coroutines subscribers return, in order.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any


class Event:
    def __init__(self, name: str) -> None:
        self.name = name
        self._subscribers: list[Callable[..., Any]] = []

    def subscribe(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        self._subscribers.append(fn)
        return fn

    def emit(self, *args: Any) -> None:
        for fn in self._subscribers:
            result = fn(*args)
            if inspect.isawaitable(result):
                raise TypeError(f"{self.name}: {fn.__qualname__} is async; use emit_async")

    async def emit_async(self, *args: Any) -> None:
        for fn in self._subscribers:
            result = fn(*args)
            if inspect.isawaitable(result):
                await result


class Events:
    """Every event the server publishes, with its arguments."""

    def __init__(self) -> None:
        # an open note's text changed (or it was opened): (path, other notes it affects, opened)
        self.document_changed = Event("document_changed")
        # an open note was closed: (path, notes whose diagnostics may change)
        self.document_closed = Event("document_closed")
        # files changed on disk and were re-indexed: (changed paths, their dependents before)
        self.files_changed = Event("files_changed")
        # a batch of the background index was stored: (changed paths)
        self.index_batch = Event("index_batch")
        # the background index finished its parse (before embeddings): ()
        self.index_parsed = Event("index_parsed")
        # embeddings are done: candidates can be retrieved by meaning: ()
        self.index_embedded = Event("index_embedded")
        # these notes' findings changed: (paths, now) - `now` sends them without the debounce
        self.findings_changed = Event("findings_changed")
        # the settings changed: (the previous settings)
        self.settings_changed = Event("settings_changed")
