"""Put this folder on PYTHONPATH to start a Ponder process as if the `[llm]` extra were not
installed: importing any module named in PONDER_TEST_HIDE (comma-separated) fails as it would
on such a machine. PONDER_TEST_STDERR (a file) takes the process's stderr, where its log goes,
so that a test can read the server's log from a client that does not show it."""

import importlib.abc
import os
import sys

_hidden = {m for m in os.environ.get("PONDER_TEST_HIDE", "").split(",") if m}


class _Hide(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in _hidden:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


if _hidden:
    sys.meta_path.insert(0, _Hide())
if os.environ.get("PONDER_TEST_STDERR"):
    _fd = os.open(os.environ["PONDER_TEST_STDERR"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(_fd, 2)
