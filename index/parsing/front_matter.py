"""YAML front matter read as untrusted input: no aliases, bounded size and nesting.

`yaml.safe_load` runs no code, but an alias can make a value contain itself (`a: &a [*a]`, which
nothing downstream can serialise) or expand a few hundred bytes into gigabytes ("billion
laughs"). Front matter has no use for aliases, so the composer refuses them; an anchor alone
is harmless and allowed.
"""

from __future__ import annotations

import yaml
from yaml.composer import ComposerError
from yaml.events import AliasEvent, CollectionStartEvent

MAX_BYTES = 64 * 1024  # far above any real front matter; a bigger one is data, not metadata
MAX_DEPTH = 40


class _Loader(yaml.SafeLoader):
    """SafeLoader whose composer rejects aliases and deep nesting before anything is built."""

    def __init__(self, stream):
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent, index):
        if self.check_event(AliasEvent):
            event = self.peek_event()
            raise ComposerError(None, None, "aliases (*name) are not allowed in front matter", event.start_mark)
        collection = self.check_event(CollectionStartEvent)
        if collection:
            self._depth += 1
            if self._depth > MAX_DEPTH:
                raise ComposerError(
                    None, None, f"nested more than {MAX_DEPTH} levels deep", self.peek_event().start_mark
                )
        try:
            return super().compose_node(parent, index)
        finally:
            if collection:
                self._depth -= 1


def load(raw: str) -> object:
    """The YAML value of `raw`; `yaml.YAMLError` (with a mark where known) when it is not
    acceptable front matter."""
    if len(raw.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise yaml.YAMLError(f"front matter is larger than {MAX_BYTES // 1024} KiB")
    loader = _Loader(raw)
    try:
        return loader.get_single_data()
    except RecursionError as e:
        raise yaml.YAMLError("front matter is nested too deeply") from e
    finally:
        loader.dispose()
