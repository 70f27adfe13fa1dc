"""The server's own watch of the vault's folder, for clients that do not watch files for it.

Neovim registers no file watchers on Linux (`didChangeWatchedFiles.dynamicRegistration` is
false there), so a note created, deleted or edited from a shell or a `git pull` would never be
seen. `VaultWatcher` follows the folder with `watchfiles` (inotify and friends, in a thread),
coalesces bursts, drops what the index never reads (`.ponder`, `.git`, the configured and
.gitignore'd patterns, files that are not notes) and hands the changed paths to the same path
as `workspace/didChangeWatchedFiles` (`features.files.reindex_paths`): one file changed
re-reads that file, never the vault.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from ponder.index import IgnoreRules, IndexSettings

log = logging.getLogger(__name__)
ALWAYS_IGNORED = (".ponder", ".git")
DEBOUNCE_MS = 300  # a burst (a save that writes a temporary file and renames it, a pull) is one batch


class VaultWatcher:
    """Started with a session (`start`), stopped with it (`stop`)."""

    def __init__(self, server) -> None:
        self.server = server
        self._task: asyncio.Task | None = None
        self._stop: asyncio.Event | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self, root: Path, settings: IndexSettings) -> bool:
        """Watch `root`; False (and a log line) when `watchfiles` is missing."""
        self.stop()
        try:
            import watchfiles
        except ImportError:
            log.warning("watchfiles is not installed: files changed outside the editor are not seen")
            return False
        keep = Relevant(root, settings)
        self._stop = asyncio.Event()
        self._task = asyncio.ensure_future(self._run(watchfiles, root, keep, self._stop))
        return True

    def stop(self) -> None:
        if self._stop is not None:
            self._stop.set()
        if self._task is not None and not self._task.done():
            self._task.cancel()
        self._task = self._stop = None

    async def _run(self, watchfiles, root: Path, keep: Relevant, stop: asyncio.Event) -> None:
        from ponder.lsp.features.files import reindex_paths

        try:
            async for changes in watchfiles.awatch(
                root,
                watch_filter=lambda _change, path: keep(path),
                debounce=DEBOUNCE_MS,
                step=50,
                stop_event=stop,
                recursive=True,
                ignore_permission_denied=True,
            ):
                paths = sorted({p for p in (keep.rel(path) for _, path in changes) if p})
                if paths:
                    log.info("changed outside the editor: %s", ", ".join(paths[:5]))
                    await reindex_paths(self.server, paths)
        except asyncio.CancelledError:
            raise
        except Exception:  # a watch that fails (a vanished folder, inotify limits) costs only itself
            log.exception("watching %s failed; files changed outside the editor are not seen", root)


class Relevant:
    """Whether a changed path is a note the index reads."""

    def __init__(self, root: Path, settings: IndexSettings) -> None:
        self.roots = [str(root), str(root.resolve())]
        self.exts = tuple(e.lower() for e in settings.extensions)
        self.rules = IgnoreRules(settings.ignore)
        if settings.use_gitignore and (root / ".gitignore").is_file():
            try:
                for line in (root / ".gitignore").read_text("utf-8", errors="replace").splitlines():
                    self.rules.add(line)
            except OSError:
                pass

    def rel(self, path: str) -> str | None:
        for r in self.roots:
            if path.startswith(r + "/"):
                return path[len(r) + 1 :]
        return None

    def __call__(self, path: str) -> bool:
        rel = self.rel(path)
        if rel is None or not rel.lower().endswith(self.exts):
            return False
        parts = rel.split("/")
        if parts[0] in ALWAYS_IGNORED:
            return False
        for i in range(1, len(parts)):
            if self.rules.ignored("/".join(parts[:i]), True):
                return False
        return not self.rules.ignored(rel, False)
