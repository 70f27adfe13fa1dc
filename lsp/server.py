"""The Ponder language server: lifecycle, settings, background indexing, and the feature modules.

`initialize` answers at once; `initialized` reads the `ponder` configuration section,
opens the vault on its own thread (`Session`) and indexes it in the background with
`$/progress`, warm-starting from the store. Every feature lives in `lsp/features/`
and registers itself on the server; handlers call `server.query(fn, method)` which runs
`fn(vault, converter)` on the index thread, so the message loop never does CPU work.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import unquote

from cattrs import BaseValidationError, transform_error
from lsprotocol import types as t
from pygls.capabilities import get_capability
from pygls.exceptions import (
    FeatureRequestError,
    JsonRpcInternalError,
    JsonRpcInvalidParams,
    JsonRpcInvalidRequest,
    JsonRpcServerNotInitialized,
)
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol, lsp_method
from pygls.protocol.json_rpc import RPCRequest
from pygls.uris import to_fs_path

from ponder.index import Note, Vault
from ponder.lsp.convert import Converter, Paths
from ponder.lsp.events import Events
from ponder.lsp.llm.service import ModelService
from ponder.lsp.session import Session
from ponder.lsp.settings import PonderSettings, load_settings
from ponder.lsp.watcher import VaultWatcher

log = logging.getLogger(__name__)
T = TypeVar("T")
VERSION = "0.1.0"
PROGRESS_TOKEN = "ponder/index"
WATCH_GLOBS = ["**/*.md", "**/*.markdown", "**/*.pseudo"]
STARTUP_WAIT_S = 10.0
SHUTDOWN_WAIT_S = 5.0


_ANSWERED = object()  # a message already answered (with an error) while it was read
# (uri, text): the editor's text of a request's document as the request arrived, in the
# request's task (`PonderServer.text_asked`)
_ASKED: contextvars.ContextVar[tuple[str, str] | None] = contextvars.ContextVar("ponder_asked", default=None)


class PonderProtocol(LanguageServerProtocol):
    """pygls's protocol with every request answered: malformed params get InvalidParams (pygls
    would pop up "Error in server" and leave the request open), requests before `initialize`
    get ServerNotInitialized, requests after `shutdown` get InvalidRequest."""

    initialize_received = False

    def warm_up(self) -> None:
        """Build the (de)serializers of the messages every note's opening sends and receives.
        cattrs builds one on a type's first use (and part of it on the second): 4-8 ms that
        the first opened note's diagnostics waited for."""
        r = t.Range(t.Position(0, 0), t.Position(0, 1))
        related = [t.DiagnosticRelatedInformation(t.Location("file:///x.md", r), "x")]
        d = t.Diagnostic(
            r, "x", t.DiagnosticSeverity.Warning, "x", source="x", related_information=related, data={"x": 1}
        )
        push = t.PublishDiagnosticsNotification(params=t.PublishDiagnosticsParams("file:///x.md", [d], version=1))
        for _ in range(2):
            self._converter.unstructure(push)
        doc = {"uri": "file:///x.md", "version": 1}
        for kind, method, params in (
            (
                t.DidOpenTextDocumentNotification,
                t.TEXT_DOCUMENT_DID_OPEN,
                {"textDocument": {**doc, "languageId": "markdown", "text": ""}},
            ),
            (
                t.DidChangeTextDocumentNotification,
                t.TEXT_DOCUMENT_DID_CHANGE,
                {"textDocument": doc, "contentChanges": [{"text": ""}]},
            ),
        ):
            self._converter.structure({"jsonrpc": "2.0", "method": method, "params": params}, kind)

    def structure_message(self, data: dict[str, Any]):
        try:
            _check_strings(data)
            return super().structure_message(data)
        except (JsonRpcInvalidParams, JsonRpcInternalError) as exc:
            method = data.get("method")
            why = _short_error(exc.__cause__ or exc)
            if "id" in data and isinstance(method, str):
                log.warning("invalid params in %s request %r: %s", method, data.get("id"), why)
                self._send_error(data["id"], JsonRpcInvalidParams.CODE, f"invalid params for {method}: {why}")
            else:
                log.warning("dropped a malformed message (%s): %s", method or "no method", why)
            return _ANSWERED

    def handle_message(self, message):
        if message is _ANSWERED:
            return
        method = getattr(message, "method", None)
        if isinstance(message, RPCRequest) and method is not None:
            if not self.initialize_received and method != t.INITIALIZE:
                self._send_error(message.id, JsonRpcServerNotInitialized.CODE, "the server is not initialized yet")
                return
            if self._shutdown:
                self._send_error(message.id, JsonRpcInvalidRequest.CODE, "the server is shutting down")
                return
            # pygls starts the handler's task here and the task copies this context; edits that
            # arrive before the task runs change the document but not what the request saw
            token = _ASKED.set(self._asked(message.params))
            try:
                super().handle_message(message)
            finally:
                _ASKED.reset(token)
            return
        elif method is not None and not self.initialize_received and method != t.EXIT:
            log.warning("dropped %s: it came before initialize", method)
            return
        super().handle_message(message)

    def _asked(self, params: Any) -> tuple[str, str] | None:
        uri = getattr(getattr(params, "text_document", None), "uri", None)
        if not isinstance(uri, str) or not hasattr(params, "position"):
            return None
        doc = self._server.open_document(uri)
        return None if doc is None else (uri, doc.source)

    def _send_error(self, msg_id: Any, code: int, message: str) -> None:
        if not isinstance(msg_id, (int, str)) or isinstance(msg_id, bool):
            msg_id = None  # JSON-RPC: an id we cannot echo is answered with null
        self._send_data({"jsonrpc": self.VERSION, "id": msg_id, "error": {"code": code, "message": message}})

    @lsp_method(t.INITIALIZE)
    def lsp_initialize(self, params: t.InitializeParams):
        """Negotiate positions: UTF-8 whenever the client offers it, else UTF-16 (never UTF-32)."""
        self.initialize_received = True
        general = params.capabilities.general
        if general is not None and general.position_encodings:
            offered = [getattr(e, "value", e) for e in general.position_encodings]
            general.position_encodings = [
                t.PositionEncodingKind.Utf8 if "utf-8" in offered else t.PositionEncodingKind.Utf16
            ]
        return (yield from super().lsp_initialize(params))

    def _send_response(self, msg_id, result=None, error=None):
        """A result a handler built as JSON (dicts) is sent as is: pygls would walk it with
        cattrs against the method's result type, which costs more than building it."""
        if error is None and (
            isinstance(result, dict) or (isinstance(result, list) and result and isinstance(result[0], dict))
        ):
            self._result_types.pop(msg_id, None)
            self._send_data({"jsonrpc": self.VERSION, "id": msg_id, "result": result})
        else:
            super()._send_response(msg_id, result, error)


# Fields that cattrs would coerce to a string from anything (`"newName": null` renames a note
# to "None.md"): checked before structuring. lsprotocol's generated hooks inline `str(...)`.
_STRING_PARAMS = {t.TEXT_DOCUMENT_RENAME: ("newName",), t.WORKSPACE_SYMBOL: ("query",)}


def _check_strings(data: dict[str, Any]) -> None:
    params = data.get("params")
    for name in _STRING_PARAMS.get(data.get("method"), ()):  # type: ignore[arg-type]
        if isinstance(params, dict) and not isinstance(params.get(name), str):
            raise JsonRpcInvalidParams(f"{name} must be a string")


def _short_error(exc: BaseException) -> str:
    """One line about what was wrong with a message's params (cattrs' paths, e.g. `$.params.position`)."""
    if isinstance(exc, BaseValidationError):
        return "; ".join(transform_error(exc))[:300]
    return f"{type(exc).__name__}: {exc}"[:300]


class PonderServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__(
            "ponder",
            VERSION,
            protocol_cls=PonderProtocol,
            text_document_sync_kind=t.TextDocumentSyncKind.Incremental,
        )
        self.settings = PonderSettings()
        self.init_options: dict = {}
        self.root: Path | None = None  # None until a workspace folder, or the first opened note's folder
        self.client_settings: dict | None = None  # the client's `ponder` section, once pulled
        self.client_pid: int | None = None  # `processId` of initialize: we exit when it dies
        self.paths: Paths | None = None
        self.session: Session | None = None
        self._session_ready = asyncio.Event()
        self.startup_messages: list[str] = []
        self._settings_shown: set[str] = set()  # each settings message is shown once per session
        self._errors_shown: set[str] = set()  # kinds of out-of-band errors already shown
        self.hover_providers: list[Callable] = []  # (vault, path, spot, conv) -> list[HoverSection]
        self.diagnostic_providers: list[Callable] = []  # (vault, path) -> list[Diagnostic]
        # (vault, conv, path) -> a callable for the loop, or None: run on the index thread in the
        # job that parsed a note just opened (its first diagnostics leave with that job's answer)
        self.opened_followers: list[Callable] = []
        self.code_action_providers: list[Callable] = []  # (vault, conv, path, CodeActionParams) -> list[CodeAction]
        self.model = ModelService(self)  # the one model client (lazy: the worker starts on the first job)
        self.background: set[asyncio.Task] = set()
        self.loop: asyncio.AbstractEventLoop | None = None  # the message loop, once serving
        self.events = Events()  # what changed; features subscribe (lsp/events.py)
        self.status_providers: dict[str, Callable[[], Any]] = {}  # ponder.status sections read on the loop
        self.watcher = VaultWatcher(self)  # the vault's folder, watched here when the client does not
        self.client_watches = False  # the client registered our file watchers

    # --- client facts -------------------------------------------------------------------

    @property
    def encoding(self) -> str:
        enc = self.server_capabilities.position_encoding or "utf-16"
        return getattr(enc, "value", enc)

    def client_has(self, field: str) -> bool:
        return bool(get_capability(self.client_capabilities, field, None))

    @property
    def document_changes(self) -> bool:
        return self.client_has("workspace.workspace_edit.document_changes")

    @property
    def resource_operations(self) -> set[str]:
        ops = get_capability(self.client_capabilities, "workspace.workspace_edit.resource_operations", None) or []
        return {getattr(o, "value", o) for o in ops}

    # --- asking the index ---------------------------------------------------------------

    def converter(self, vault: Vault | None) -> Converter:
        texts = vault.read_text if vault is not None else (lambda p: None)
        return Converter(self.paths, self.encoding, texts)

    async def query(self, fn: Callable[[Vault, Converter], T], method: str | None = None, default: T = None) -> T:
        """Run `fn(vault, converter)` on the index thread (the answer is `default` before the vault opens)."""
        if self.session is None and not await self.session_started():
            return default
        return await self.session.run(
            lambda vault: default if vault is None else fn(vault, self.converter(vault)), method=method
        )

    async def query_note(
        self, uri: str, fn: Callable[[Vault, Converter, str, Note], T], method: str | None = None, local: bool = False
    ) -> T | None:
        """`query` for a request about one note: None when the URI is outside the vault or the
        note is unknown, else `fn(vault, converter, path, note)` on the index thread.

        `local`: `fn` reads nothing but that note's parse and text (an outline, folding ranges)
        and takes well under a millisecond. When the note is open and the vault holds the parse
        of the editor's current text, it is answered here on the loop: the hop to the index
        thread and back would cost more than the work, and nothing queued there can change it."""
        path = self.path_of(uri)
        if path is None:
            return None
        if local and not (self.session is not None and self.session.delayed(method)):
            note = self.current_parse(uri, path)
            if note is not None:
                return fn(self.session.vault, self.converter(self.session.vault), path, note)

        def job(vault: Vault, conv: Converter):
            note = vault.graph.notes.get(path)
            return None if note is None else fn(vault, conv, path, note)

        return await self.query(job, method)

    def current_parse(self, uri: str, path: str) -> Note | None:
        """The vault's parse of an open document when it is of the editor's current version."""
        session = self.session
        if session is None or session.vault is None:
            return None
        doc = self.open_document(uri)
        if doc is None or doc.version is None or session.versions.get(path) != doc.version:
            return None  # not open, or an edit is still on its way to the index thread
        return session.vault.open_note(path)

    def text_asked(self, uri: str) -> str | None:
        """The editor's text of the open document `uri` as the request being handled arrived:
        the text its position is in. The vault's may be newer by then (a parse queued behind
        other work reads the latest text) or older (that parse has not run yet)."""
        asked = _ASKED.get()
        return asked[1] if asked is not None and asked[0] == uri else None

    def open_document(self, uri: str):
        """The editor's open document at `uri`, or None. pygls 2 keys open documents by the unquoted
        URI while our URIs are quoted (`Paths.uri`), so a plain lookup misses names with spaces
        or Cyrillic."""
        return self.workspace.text_documents.get(unquote(uri))

    async def session_started(self) -> bool:
        """Whether there is a session, waiting up to `STARTUP_WAIT_S` for one being started: a
        request sent right after `initialized` (while the configuration is pulled) or during
        a restart gets the answer from the store instead of an empty one."""
        if self.session is None:
            try:
                await asyncio.wait_for(self._session_ready.wait(), STARTUP_WAIT_S)
            except TimeoutError:
                pass
        return self.session is not None

    def path_of(self, uri: str) -> str | None:
        return self.paths.path(uri) if self.paths else None

    def soon(self, fn: Callable[[], Any]) -> bool:
        """Call `fn` on the message loop; safe from the index thread. False before serving."""
        if self.loop is None:
            return False
        self.loop.call_soon_threadsafe(fn)
        return True

    def spawn(self, coro) -> asyncio.Task:
        task = asyncio.ensure_future(coro)
        self.background.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task) -> None:
        self.background.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("background task failed", exc_info=task.exception())

    def report_server_error(self, error: Exception, source: Any) -> None:
        """Errors nobody waits for (a malformed message, a failing notification handler) are
        logged; the editor hears of them once per kind, not with a popup per message."""
        log.error("%s: %s", getattr(source, "__name__", source), error, exc_info=error)
        kind = getattr(source, "__name__", str(source))
        if source is FeatureRequestError:
            return  # the request was answered with the error already
        if kind not in self._errors_shown:
            self._errors_shown.add(kind)
            self.show(f"Ponder: {error} (further errors of this kind go to the log only)", t.MessageType.Error)

    def show(self, message: str, kind: t.MessageType = t.MessageType.Warning) -> None:
        self.window_show_message(t.ShowMessageParams(kind, message))

    # --- settings -----------------------------------------------------------------------

    def show_settings_message(self, message: str) -> None:
        """A settings problem, shown once: a configuration change must not repeat the popup."""
        if message not in self._settings_shown:
            self._settings_shown.add(message)
            self.show(message)

    def read_settings(self, client: dict | None) -> list[str]:
        overrides = dict(self.init_options)
        if isinstance(client, dict):
            from ponder.lsp.settings import _deep_merge

            overrides = _deep_merge(overrides, client)
        settings, messages = load_settings(self.root, overrides)
        self.settings = settings
        return messages

    async def pull_configuration(self) -> dict | None:
        if not self.client_has("workspace.configuration"):
            return None
        try:
            got = await self.workspace_configuration_async(
                t.ConfigurationParams([t.ConfigurationItem(section="ponder")])
            )
        except Exception as e:  # a client that fails this request keeps the init options
            log.warning("workspace/configuration failed: %s", e)
            return None
        return got[0] if got and isinstance(got[0], dict) else None

    async def apply_settings(self, client: dict | None) -> None:
        previous = self.settings
        before = (self.settings.index, self.settings.embedding)
        for m in self.read_settings(client):
            self.show_settings_message(m)
        if self.session is not None and (self.settings.index, self.settings.embedding) != before:
            await self.restart()
        self.events.settings_changed.emit(previous)

    # --- the vault ----------------------------------------------------------------------

    async def adopt_root(self, uri: str) -> None:
        """A client that names no workspace folder (an editor started on a lone file) gets the
        first opened note's folder as the vault, and is told so once: never a temporary folder,
        which would index nothing and be left behind."""
        if self.root is not None or not uri.startswith("file:"):
            return
        self.root = Path(to_fs_path(uri)).resolve().parent
        self.paths = Paths(self.root)
        for m in self.read_settings(self.client_settings):
            self.show(m)
        self.show(
            f"Ponder: no workspace folder was given, so {self.root} is the vault. To pin it, put a "
            "ponder.toml (or .git) in the vault's folder, or set the client's root (Neovim: root_dir "
            "in vim.lsp.config('ponder', ...); VS Code: open the folder).",
            t.MessageType.Info,
        )
        if self.loop is not None:  # `initialized` has run: open the vault now
            await self.start_session()

    async def start_session(self) -> None:
        self.loop = self.model.loop = asyncio.get_running_loop()  # index-thread code may schedule work at once
        # the index thread's messages reach the user through the loop (window/showMessage)
        tell = lambda message: self.soon(lambda: self.show(message))
        self.session = Session(self.root, self.settings.index, self.settings.embedding, tell)
        self._session_ready.set()  # jobs queue behind the vault's opening
        await self.session.open()
        if not self.client_watches:
            self.watcher.start(self.root, self.settings.index)
        self.spawn(self.index_in_background())

    async def restart(self) -> None:
        old = self.session
        self.session = None
        self._session_ready.clear()
        self.watcher.stop()
        await self.model.close()  # its result cache lives in the old index database
        if old is not None:
            await old.close()
        await self.start_session()

    async def index_in_background(self, full_check: bool = True) -> None:
        session = self.session
        progress = Reporter(self)
        await progress.begin("Ponder: indexing")
        try:
            await session.run(
                lambda v: [
                    v.open_document(p, self.workspace.get_text_document(self.paths.uri(p)).source)
                    for p in self.open_paths()
                ]
            )
            await session.index(progress.report, on_batch=self.events.index_batch.emit_async)
            await session.run(lambda vault: vault.warm_up())  # the units, before the first note asks
            self.protocol.warm_up()
            self.spawn(session.keep_heap())
            # the model's fingerprint (0.2 s of CPU on a thread) once the index is up, not while
            # the first requests are answered; a hover that needs it before starts it itself
            self.model.attach(asyncio.get_running_loop())
            if full_check:
                await self.events.index_parsed.emit_async()
            try:
                await session.embed(progress.report)
            except Exception as e:
                log.exception("embedding failed")
                self.show(f"Ponder: embeddings unavailable ({e}); search falls back to keywords")
            self.events.index_embedded.emit()  # the claims have vectors now: judge the open notes
        finally:
            progress.end(f"{len(session.vault.graph.notes) if session.vault else 0} notes")

    def open_paths(self) -> list[str]:
        out = []
        for uri in list(self.workspace.text_documents):
            p = self.path_of(uri)
            if p is not None:
                out.append(p)
        return out


class Reporter:
    """Work-done progress for background indexing: files parsed, then chunks embedded (throttled)."""

    def __init__(self, server: PonderServer):
        self.server = server
        self.enabled = server.client_has("window.work_done_progress")
        self._last = 0.0
        self.token = PROGRESS_TOKEN

    async def begin(self, title: str) -> None:
        if not self.enabled:
            return
        try:
            self.token = f"{PROGRESS_TOKEN}/{id(self)}"
            await self.server.work_done_progress.create_async(self.token)
        except Exception:
            self.enabled = False
            return
        self.server.work_done_progress.begin(
            self.token, t.WorkDoneProgressBegin(title=title, cancellable=False, percentage=0)
        )

    def report(self, phase: str, done: int, total: int) -> None:
        if not self.enabled:
            return
        loop_time = asyncio.get_event_loop().time()
        if done not in (0, total) and loop_time - self._last < 0.1:
            return
        self._last = loop_time
        what = "files parsed" if phase == "parse" else "chunks embedded"
        pct = int(100 * done / total) if total else 100
        self.server.work_done_progress.report(
            self.token, t.WorkDoneProgressReport(message=f"{done}/{total} {what}", percentage=pct)
        )

    def end(self, message: str) -> None:
        if self.enabled:
            self.server.work_done_progress.end(self.token, t.WorkDoneProgressEnd(message=message))


async def register_watchers(ls: PonderServer, reg: t.Registration) -> None:
    """Ask the client to watch the vault's notes; where it refuses, the server watches them."""
    try:
        await ls.client_register_capability_async(t.RegistrationParams([reg]))
    except Exception as e:
        log.warning("the client did not register file watchers (%s): watching the vault here", e)
        ls.client_watches = False
        if ls.session is not None and ls.root is not None:
            ls.watcher.start(ls.root, ls.settings.index)


def build() -> PonderServer:
    server = PonderServer()

    @server.feature(t.INITIALIZE)
    def initialize(ls: PonderServer, params: t.InitializeParams) -> None:
        root = None
        if params.workspace_folders:
            root = to_fs_path(params.workspace_folders[0].uri)
        elif params.root_uri:
            root = to_fs_path(params.root_uri)
        elif params.root_path:
            root = params.root_path
        # no root: the first opened note's folder becomes the vault (`adopt_root`)
        ls.root = Path(root).resolve() if root else None
        ls.paths = Paths(ls.root) if ls.root else None
        ls.client_pid = params.process_id if isinstance(params.process_id, int) and params.process_id > 0 else None
        ls.init_options = params.initialization_options if isinstance(params.initialization_options, dict) else {}
        ls.startup_messages = ls.read_settings(None)

    @server.feature(t.INITIALIZED)
    async def initialized(ls: PonderServer, params: t.InitializedParams) -> None:
        for m in ls.startup_messages:
            ls.show_settings_message(m)
        client = ls.client_settings = await ls.pull_configuration()
        if client:
            for m in ls.read_settings(client):
                ls.show_settings_message(m)
        if ls.client_has("workspace.did_change_watched_files.dynamic_registration"):
            watchers = [t.FileSystemWatcher(glob_pattern=g) for g in WATCH_GLOBS]
            reg = t.Registration(
                "ponder-watch",
                t.WORKSPACE_DID_CHANGE_WATCHED_FILES,
                t.DidChangeWatchedFilesRegistrationOptions(watchers),
            )
            ls.client_watches = True
            ls.spawn(register_watchers(ls, reg))
        if ls.root is not None:
            await ls.start_session()
        else:
            ls.loop = ls.model.loop = asyncio.get_running_loop()
            docs = list(ls.workspace.text_documents)
            if docs:  # a note opened before `initialized` came
                await ls.adopt_root(docs[0])

    @server.feature(t.WORKSPACE_DID_CHANGE_CONFIGURATION)
    async def did_change_configuration(ls: PonderServer, params: t.DidChangeConfigurationParams) -> None:
        client = await ls.pull_configuration()
        if client is None and isinstance(params.settings, dict):
            client = params.settings.get("ponder", params.settings)
        ls.client_settings = client
        await ls.apply_settings(client)

    @server.feature(t.SHUTDOWN)
    async def shutdown(ls: PonderServer, params: Any) -> None:
        """Always answered within about `2 * SHUTDOWN_WAIT_S`: an index thread stuck in a slow
        job is left behind (`exit` ends the process regardless)."""
        ls.watcher.stop()
        for task in list(ls.background):
            task.cancel()
        closing = [ls.model.close()] + ([ls.session.close()] if ls.session is not None else [])
        for step in closing:
            try:
                await asyncio.wait_for(step, SHUTDOWN_WAIT_S)
            except TimeoutError:
                log.warning("shutdown: a step did not finish in %.0fs; going on", SHUTDOWN_WAIT_S)

    @server.feature(t.EXIT)
    def exit_(ls: PonderServer, params: Any) -> None:
        """End the process now, whatever the index thread is doing (pygls's `sys.exit` waits for it)."""
        _exit_now(0 if ls.protocol._shutdown else 1)

    from ponder.lsp.features import register_all

    register_all(server)
    return server


def _audit_sockets(path: str) -> None:
    """Record every socket connect / address lookup of this process (the privacy test reads it)."""
    out = open(path, "a", buffering=1, encoding="utf-8")

    def hook(event: str, args: tuple) -> None:
        if event in ("socket.connect", "socket.getaddrinfo", "socket.bind", "socket.sendto"):
            try:
                target = args[1] if event != "socket.getaddrinfo" else args[0]
                out.write(f"{event}\t{target!r}\t{getattr(args[0], 'family', '')}\n")
            except Exception:
                out.write(f"{event}\t?\n")

    sys.addaudithook(hook)


class _PipeReader:
    """stdin as an asyncio stream. pygls's stdio reader reads each header line and each body
    on a worker thread: three thread hops per message, about a third of a small request's
    round trip."""

    def __init__(self, stream: asyncio.StreamReader):
        self.stream = stream

    async def readline(self) -> bytes:
        return await self.stream.readline()

    async def readexactly(self, n: int) -> bytes:
        try:
            return await self.stream.readexactly(n)
        except asyncio.IncompleteReadError as e:  # end of input: pygls stops on a short read
            return e.partial


def start_stdio(server: PonderServer) -> None:
    """`server.start_io()`, reading stdin on the event loop where it is a pipe or socket (what
    an editor gives a language server); anything else is read as pygls does.

    The process ends promptly, whatever its threads are doing (a long parse, a blocked read),
    when stdin reaches its end, when the parent or the client process named in `initialize`
    dies, or on `exit`: the index and pool threads are not daemons and would keep an orphaned
    process alive."""
    from pygls.io_ import StdinAsyncReader, StdoutWriter, run_async

    stdin = sys.stdin.buffer
    server._stop_event = threading.Event()
    server.protocol.set_writer(StdoutWriter(sys.stdout.buffer))

    async def main() -> None:
        loop = asyncio.get_running_loop()
        try:
            stream = asyncio.StreamReader(limit=1 << 20)
            await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stream), stdin)
            reader = _PipeReader(stream)
        except (ValueError, OSError, NotImplementedError):  # a regular file, or a loop without pipes
            reader = StdinAsyncReader(stdin, server.thread_pool)
        serving = asyncio.ensure_future(
            run_async(
                stop_event=server._stop_event,
                reader=reader,
                protocol=server.protocol,
                logger=log,
                error_handler=server.report_server_error,
            )
        )
        watch = asyncio.ensure_future(_watch_parent(server))
        done, _ = await asyncio.wait({serving, watch}, return_when=asyncio.FIRST_COMPLETED)
        log.warning("%s: exiting", "the client is gone" if watch in done else "end of input")
        await _leave(server, 0 if server.protocol._shutdown else 1)

    try:
        asyncio.run(main())
    except BrokenPipeError:
        log.error("Connection to the client is lost! Shutting down the server.")
        _exit_now(1)
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        server._stop_event.set()


PARENT_POLL_S = 1.0
LEAVE_GRACE_S = 3.0


async def _watch_parent(server: PonderServer) -> None:
    """Return when our parent (the editor, or the shell that started us) or the client process
    that `initialize` named has gone: a vanished editor must not leave a server running."""
    parent = os.getppid()
    while True:
        await asyncio.sleep(PARENT_POLL_S)
        if os.getppid() != parent:
            return
        pid = server.client_pid
        if pid and pid != os.getpid() and not _alive(pid):
            return


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


async def _leave(server: PonderServer, code: int) -> None:
    """Stop the model worker (a process group of its own), briefly; then end the process."""
    try:
        await asyncio.wait_for(server.model.close(), LEAVE_GRACE_S)
    except BaseException:
        log.warning("the model did not close in %.0fs", LEAVE_GRACE_S)
    _exit_now(code)


def _exit_now(code: int) -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass
    logging.shutdown()
    os._exit(code)


def serve(tcp: str | None = None) -> int:
    """Run the server on stdio, or on TCP (`HOST:PORT`) for debugging."""
    if os.environ.get("PONDER_AUDIT_SOCKETS"):
        _audit_sockets(os.environ["PONDER_AUDIT_SOCKETS"])
    server = build()
    if tcp:
        host, _, port = tcp.rpartition(":")
        server.start_tcp(host or "127.0.0.1", int(port))
    else:
        start_stdio(server)
    return 0
