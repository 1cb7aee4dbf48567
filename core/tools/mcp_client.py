"""Connections to MCP servers, owned by one process-wide manager.

A Streamlit script run lasts a fraction of a second, but an MCP server (a child process, or an
HTTP session) must outlive it: so every connection lives in one background thread running an
asyncio loop, and the page asks the manager for snapshots and blocking calls. Each server has
at most one connection at a time; Reconnect ends the old one (its process with it) before the
new one starts, and `shutdown` (registered with atexit) ends them all when the app stops.

The official `mcp` SDK (major version 1) speaks the protocol; this module adds what a
playground needs around it: states with reasons, the stderr tail, timeouts, failures turned
into messages a person can act on, and the outputs kept as plain JSON.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import logging
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import IO, TYPE_CHECKING, Any, Literal

import anyio
import httpx

from core import egress
from core.tools.mcp_config import (
    McpServerConfig,
    MissingVariable,
    redact_secrets,
    resolved,
    secret_values,
)

if TYPE_CHECKING:  # the SDK (with pydantic and starlette, ~0.5 s) is imported on first use:
    from mcp import ClientSession, types  # every page imports this module, few use a server

log = logging.getLogger("toolsmith")
CONNECT_TIMEOUT_S = 30.0
STDERR_TAIL_CHARS = 4000
STDERR_FILE_CAP = 1_000_000
CLIENT_NAME, CLIENT_VERSION = "toolsmith", "1.0"

State = Literal["starting", "connected", "failed", "stopped"]


@dataclass(frozen=True)
class McpTool:
    """One tool a server lists, as JSON (the SDK's models stay inside this module)."""

    server: str
    name: str
    description: str
    input_schema: dict[str, Any]
    output_schema: dict[str, Any] | None = None
    annotations: dict[str, Any] = field(default_factory=dict)
    title: str | None = None


@dataclass(frozen=True)
class ServerStatus:
    name: str
    state: State
    transport: str
    target: str  # the command line or URL as configured (references unresolved)
    server_name: str = ""
    server_version: str = ""
    protocol_version: str = ""
    instructions: str = ""
    tools: tuple[McpTool, ...] = ()
    reason: str = ""  # why it failed (or stopped)
    stderr_tail: str = ""
    since: float = 0.0
    connects: int = 0  # how many times this server was started since the app began


@dataclass
class ToolRun:
    """One tools/call and what came of it: the server's answer, or why there was none."""

    server: str
    tool: str
    arguments: dict[str, Any]
    started_at: float
    ended_at: float = 0.0
    result: dict[str, Any] | None = None  # the CallToolResult as JSON
    error: str = ""
    error_kind: str = ""  # not_connected | timeout | exited | invalid | protocol | cancelled

    @property
    def duration_s(self) -> float:
        return max(0.0, self.ended_at - self.started_at)

    @property
    def is_error(self) -> bool:
        return bool(self.error) or bool((self.result or {}).get("isError"))


class _Connection:
    """The loop-side state of one server (touched from the loop thread, except `status`,
    which is replaced whole so other threads always read a consistent snapshot)."""

    def __init__(self, config: McpServerConfig, connects: int) -> None:
        self.config = config
        self.status = ServerStatus(config.name, "starting", config.transport, config.target(),
                                   since=time.time(), connects=connects)
        self.session: ClientSession | None = None
        self.stop = asyncio.Event()
        self.closed = asyncio.Event()
        self.task: asyncio.Task[None] | None = None
        self.stderr: IO[str] | None = None
        self.secrets: list[str] = []
        self.protocol_notes: list[str] = []
        self.in_flight = 0

    def stderr_tail(self) -> str:
        if self.stderr is None:
            return ""
        try:
            fd = self.stderr.fileno()
            size = os.fstat(fd).st_size
            start = max(0, size - STDERR_TAIL_CHARS)
            text = os.pread(fd, size - start, start).decode("utf-8", "replace")
            if size > STDERR_FILE_CAP:  # a chatty server: keep only the tail on disk
                os.ftruncate(fd, 0)
                os.write(fd, text.encode())
        except (OSError, ValueError):
            return ""
        return redact_secrets(text, self.secrets)

    def set(self, **changes: Any) -> None:
        self.status = replace(self.status, **changes)


def _root_cause(exc: BaseException) -> BaseException:
    """The first real error inside the task groups' exception groups."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = next((e for e in exc.exceptions if not isinstance(e, asyncio.CancelledError)),
                   exc.exceptions[0])
    return exc


def describe_failure(exc: BaseException, config: McpServerConfig) -> str:
    """A connection failure in words that say what to check."""
    from mcp import types
    from mcp.shared.exceptions import McpError
    from pydantic import ValidationError

    exc = _root_cause(exc)
    if isinstance(exc, egress.EgressRefused):
        return exc.message
    if isinstance(exc, FileNotFoundError) or (isinstance(exc, OSError) and exc.errno == 2):
        return (f"The command '{config.command}' was not found. Install it, or give its full "
                "path in 'command', then Reconnect.")
    if isinstance(exc, PermissionError):
        return f"The command '{config.command}' cannot be run (permission denied)."
    if isinstance(exc, httpx.HTTPStatusError):
        status = exc.response.status_code
        if status in (401, 403):
            return (f"The server at {config.url} answered {status} "
                    f"{'Unauthorized' if status == 401 else 'Forbidden'}: it wants credentials. "
                    "Set an 'Authorization' header (e.g. 'Bearer ${TOKEN}') for this server.")
        return (f"The server at {config.url} answered HTTP {status}. Check that the URL is the "
                "server's streamable-HTTP endpoint (usually …/mcp).")
    if isinstance(exc, httpx.ConnectError):
        return (f"Nothing answers at {config.url} (connection refused or host unknown). Is the "
                "server running?")
    if isinstance(exc, httpx.TimeoutException):
        return f"The server at {config.url} did not answer in time."
    if isinstance(exc, httpx.HTTPError):
        return f"The HTTP connection to {config.url} failed: {exc.__class__.__name__}."
    if isinstance(exc, TimeoutError):
        return (f"The server did not finish starting (initialize) within "
                f"{CONNECT_TIMEOUT_S:g} s.")
    if isinstance(exc, McpError):
        if exc.error.code == types.CONNECTION_CLOSED:
            return "The server exited before it finished starting (see its stderr below)."
        return f"The server refused to start the session: {exc.error.message}"
    if isinstance(exc, ValidationError):
        return "The server's answer to initialize is not a valid MCP message."
    return f"Connecting failed: {exc.__class__.__name__}: {str(exc)[:200]}"


def _without_secrets(value: Any, secrets: list[str]) -> Any:
    """A server that echoes a configured secret back (in a result) does not get it shown or
    stored: every string in the answer is redacted."""
    if not secrets:
        return value
    if isinstance(value, str):
        return redact_secrets(value, secrets)
    if isinstance(value, list):
        return [_without_secrets(v, secrets) for v in value]
    if isinstance(value, dict):
        return {k: _without_secrets(v, secrets) for k, v in value.items()}
    return value


def _tool_of(server: str, tool: types.Tool) -> McpTool:
    annotations = tool.annotations.model_dump(exclude_none=True) if tool.annotations else {}
    return McpTool(server=server, name=tool.name, description=tool.description or "",
                   input_schema=dict(tool.inputSchema or {"type": "object"}),
                   output_schema=dict(tool.outputSchema) if tool.outputSchema else None,
                   annotations=annotations, title=tool.title or annotations.get("title"))


class McpManager:
    """Every configured server's connection, in one background asyncio loop."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self._environ = environ
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="toolsmith-mcp",
                                        daemon=True)
        self._thread.start()
        self._connections: dict[str, _Connection] = {}
        self._connects: dict[str, int] = {}
        self._lock = threading.Lock()
        self._closed = False

    # --- what the pages call (any thread) ---------------------------------------------------

    def sync(self, servers: list[McpServerConfig]) -> None:
        """Start servers that are new or whose configuration changed; stop removed ones."""
        with self._lock:
            wanted = {s.name: s for s in servers}
            for name in list(self._connections):
                if name not in wanted:
                    self._run(self._stop(name))
            for name, config in wanted.items():
                current = self._connections.get(name)
                if current is None or current.config != config:
                    self._run(self._start(config))

    def statuses(self) -> dict[str, ServerStatus]:
        return {name: self._snapshot(conn) for name, conn in list(self._connections.items())}

    def status(self, name: str) -> ServerStatus | None:
        conn = self._connections.get(name)
        return None if conn is None else self._snapshot(conn)

    def calls_in_flight(self, name: str) -> int:
        conn = self._connections.get(name)
        return 0 if conn is None else conn.in_flight

    def reconnect(self, name: str) -> None:
        with self._lock:
            conn = self._connections.get(name)
            if conn is not None:
                self._run(self._start(conn.config))

    def wait_ready(self, name: str, timeout_s: float = CONNECT_TIMEOUT_S) -> ServerStatus | None:
        """Block until the server is no longer starting (or the timeout passes)."""
        conn = self._connections.get(name)
        if conn is None:
            return None
        future = asyncio.run_coroutine_threadsafe(self._until_settled(conn), self._loop)
        with contextlib.suppress(TimeoutError, asyncio.CancelledError):
            future.result(timeout_s)
        return self._snapshot(self._connections.get(name, conn))

    def call(self, server: str, tool: str, arguments: dict[str, Any],
             timeout_s: float | None = None) -> ToolRun:
        """Run one tool; never raises: a failure is described in the ToolRun."""
        run = ToolRun(server=server, tool=tool, arguments=arguments, started_at=time.time())
        status = self.wait_ready(server)
        conn = self._connections.get(server)
        if conn is None or status is None:
            return self._failed(run, "not_connected", f"No MCP server named {server!r} is "
                                "configured (it may have been removed).")
        if status.state != "connected" or conn.session is None:
            return self._failed(run, "not_connected", f"The server {server!r} is not connected"
                                f"{': ' + status.reason if status.reason else ''}. Reconnect it "
                                "on the Tools page, then Run again.")
        timeout = timeout_s or conn.config.timeout_s
        future = asyncio.run_coroutine_threadsafe(self._call(conn, run, timeout), self._loop)
        try:
            return future.result(timeout + 10)
        except TimeoutError:  # the loop itself is stuck: should not happen
            future.cancel()
            return self._failed(run, "timeout", f"The call did not finish within {timeout:g} s.")

    def shutdown(self, timeout_s: float = 10.0) -> None:
        """End every connection (and server process); called at exit."""
        if self._closed:
            return
        self._closed = True
        future = asyncio.run_coroutine_threadsafe(self._stop_all(), self._loop)
        with contextlib.suppress(Exception):
            future.result(timeout_s)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout_s)

    # --- loop side ---------------------------------------------------------------------------

    def _run(self, coroutine: Any) -> None:
        """Run a start or stop on the loop; a start returns once the server is starting."""
        asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(30)

    def _snapshot(self, conn: _Connection) -> ServerStatus:
        tail = conn.stderr_tail()  # live while the process runs; kept in the status after
        return replace(conn.status, stderr_tail=tail) if tail else conn.status

    def _failed(self, run: ToolRun, kind: str, message: str) -> ToolRun:
        run.error, run.error_kind, run.ended_at = message, kind, time.time()
        return run

    async def _until_settled(self, conn: _Connection) -> None:
        while conn.status.state == "starting":
            await asyncio.sleep(0.02)

    async def _start(self, config: McpServerConfig) -> None:
        await self._stop(config.name)
        count = self._connects.get(config.name, 0) + 1
        self._connects[config.name] = count
        conn = _Connection(config, count)
        self._connections[config.name] = conn
        conn.task = asyncio.create_task(self._serve(conn))

    async def _stop(self, name: str) -> None:
        conn = self._connections.pop(name, None)
        if conn is None or conn.task is None:
            return
        conn.stop.set()
        try:
            await asyncio.wait_for(asyncio.shield(conn.task), 10)
        except (TimeoutError, asyncio.CancelledError):
            conn.task.cancel()
            with contextlib.suppress(BaseException):
                await conn.task

    async def _stop_all(self) -> None:
        await asyncio.gather(*(self._stop(n) for n in list(self._connections)),
                             return_exceptions=True)

    async def _serve(self, conn: _Connection) -> None:
        """Connect, list tools, then hold the connection until stopped or the server goes."""
        config = conn.config
        environ = os.environ if self._environ is None else self._environ
        conn.secrets = secret_values(config, environ)
        try:
            real = resolved(config, environ)
        except MissingVariable as exc:
            conn.set(state="failed", reason=f"Not started: {exc}.", since=time.time())
            return
        from mcp import ClientSession, types

        relay: asyncio.Task[None] | None = None
        try:
            async with contextlib.AsyncExitStack() as stack:
                if real.transport == "stdio":
                    read, write = await self._open_stdio(stack, conn, real)
                else:
                    read, write = await self._open_http(stack, real)
                # Our own end of the read stream tells us when the server goes away.
                send_in, receive_in = anyio.create_memory_object_stream[Any](0)
                relay = asyncio.create_task(self._relay(read, send_in, conn))
                session = await stack.enter_async_context(ClientSession(
                    receive_in, write, client_info=types.Implementation(
                        name=CLIENT_NAME, version=CLIENT_VERSION),
                    message_handler=self._notes_for(conn)))
                with anyio.fail_after(CONNECT_TIMEOUT_S):
                    init = await session.initialize()
                    tools = await self._list_tools(session, config.name)
                conn.session = session
                conn.set(state="connected", server_name=init.serverInfo.name,
                         server_version=init.serverInfo.version,
                         protocol_version=str(init.protocolVersion),
                         instructions=init.instructions or "", tools=tuple(tools),
                         reason="", since=time.time())
                stop = asyncio.create_task(conn.stop.wait())
                gone = asyncio.create_task(conn.closed.wait())
                await asyncio.wait({stop, gone}, return_when=asyncio.FIRST_COMPLETED)
                stop.cancel()
                gone.cancel()
                conn.session = None
                if not conn.stop.is_set():
                    conn.set(state="failed", since=time.time(), reason=(
                        "The server closed the connection (its process exited or crashed; "
                        "see its stderr below). Reconnect to start it again."))
        except asyncio.CancelledError:
            conn.set(state="stopped", reason="Stopped.", since=time.time())
            raise
        except BaseException as exc:  # every failure becomes a state with a reason
            if not isinstance(exc, Exception | BaseExceptionGroup):
                raise
            if conn.status.state == "connected":
                reason = "The connection failed: " + describe_failure(exc, real)
            else:
                reason = describe_failure(exc, real)
            log.info("MCP server %s: %s", config.name, redact_secrets(reason, conn.secrets))
            conn.set(state="failed", reason=redact_secrets(reason, conn.secrets),
                     since=time.time())
        finally:
            conn.session = None
            if relay is not None:
                relay.cancel()
            if conn.stderr is not None:  # the process is gone: keep its last words, close
                conn.set(stderr_tail=conn.stderr_tail())
                conn.stderr.close()
                conn.stderr = None
            if conn.stop.is_set() and conn.status.state != "failed":
                conn.set(state="stopped", reason="Stopped.", since=time.time())

    async def _open_stdio(self, stack: contextlib.AsyncExitStack, conn: _Connection,
                          real: McpServerConfig) -> tuple[Any, Any]:
        command = shutil.which(real.command)
        if command is None:
            raise FileNotFoundError(2, "not found", real.command)
        fd, path = tempfile.mkstemp(prefix="toolsmith-mcp-stderr-")
        os.close(fd)
        conn.stderr = open(path, "a+", encoding="utf-8", errors="replace")  # noqa: SIM115
        os.unlink(path)
        from mcp import StdioServerParameters
        from mcp.client.stdio import stdio_client

        params = StdioServerParameters(command=command, args=list(real.args),
                                       env=dict(real.env) or None, cwd=real.cwd)
        return await stack.enter_async_context(stdio_client(params, errlog=conn.stderr))

    async def _open_http(self, stack: contextlib.AsyncExitStack,
                         real: McpServerConfig) -> tuple[Any, Any]:
        from mcp.client.streamable_http import streamable_http_client

        egress.current().check_url(real.url)  # a team server refuses internal addresses
        client = httpx.AsyncClient(headers=dict(real.headers),
                                   timeout=httpx.Timeout(30.0, read=300.0),
                                   transport=egress.async_guarded_transport())
        await stack.enter_async_context(client)
        read, write, _ = await stack.enter_async_context(
            streamable_http_client(real.url, http_client=client))
        return read, write

    async def _relay(self, source: Any, sink: Any, conn: _Connection) -> None:
        try:
            async with sink:
                async for message in source:
                    await sink.send(message)
        except (anyio.ClosedResourceError, anyio.BrokenResourceError, anyio.EndOfStream):
            pass
        finally:
            conn.closed.set()

    def _notes_for(self, conn: _Connection) -> Any:
        async def handle(message: Any) -> None:
            if isinstance(message, Exception):  # a line that is not a JSON-RPC message
                note = f"The server sent something that is not an MCP message " \
                       f"({message.__class__.__name__})."
                conn.protocol_notes = [*conn.protocol_notes[-4:], note]
        return handle

    async def _list_tools(self, session: ClientSession, server: str) -> list[McpTool]:
        from mcp import types

        tools: list[McpTool] = []
        cursor: str | None = None
        for _ in range(100):  # pages; a server that pages forever is cut off
            page = await session.list_tools(
                params=types.PaginatedRequestParams(cursor=cursor) if cursor else None)
            tools.extend(_tool_of(server, t) for t in page.tools)
            cursor = page.nextCursor
            if not cursor:
                break
        return tools

    async def _cancel(self, session: ClientSession, request_id: Any, reason: str) -> None:
        """notifications/cancelled for a request we stopped waiting for (best effort)."""
        from mcp import types

        if not isinstance(request_id, int):
            return
        with contextlib.suppress(Exception):
            await session.send_notification(types.ClientNotification(types.CancelledNotification(
                params=types.CancelledNotificationParams(requestId=request_id, reason=reason))))

    async def _call(self, conn: _Connection, run: ToolRun, timeout: float) -> ToolRun:
        from mcp import types
        from mcp.shared.exceptions import McpError
        from pydantic import ValidationError

        session = conn.session
        if session is None:
            return self._failed(run, "not_connected", "The server is no longer connected.")
        notes_before = len(conn.protocol_notes)
        request = types.ClientRequest(types.CallToolRequest(
            params=types.CallToolRequestParams(name=run.tool, arguments=run.arguments)))
        conn.in_flight += 1
        # The id send_request is about to use (it reads and bumps it before its first await),
        # so a call that times out can be cancelled on the server, as the spec asks.
        request_id = getattr(session, "_request_id", None)
        try:
            # send_request rather than call_tool: call_tool raises on structured content that
            # breaks the output schema, and the point here is to show such a result, named.
            result = await session.send_request(
                request, types.CallToolResult,
                request_read_timeout_seconds=timedelta(seconds=timeout))
        except McpError as exc:
            if exc.error.code == httpx.codes.REQUEST_TIMEOUT:
                await self._cancel(session, request_id, f"timed out after {timeout:g} s")
                note = " " + " ".join(conn.protocol_notes[notes_before:]) \
                    if len(conn.protocol_notes) > notes_before else ""
                return self._failed(run, "timeout", (
                    f"'{run.tool}' did not answer within {timeout:g} s (the server's timeout, "
                    f"set as 'timeout' in its configuration).{note}"))
            if exc.error.code == types.CONNECTION_CLOSED:
                return self._failed(run, "exited", (
                    f"The server {conn.config.name!r} closed the connection during the call "
                    "(its process exited or crashed; its stderr is on the Tools page). "
                    "Reconnect it and Run again."))
            return self._failed(run, "protocol", redact_secrets(
                f"The server answered the call with an error ({exc.error.code}): "
                f"{exc.error.message}", conn.secrets))
        except ValidationError as exc:
            return self._failed(run, "invalid", (
                "The server's answer is not a valid tools/call result: "
                + "; ".join(f"{'/'.join(map(str, e['loc']))}: {e['msg']}"
                            for e in exc.errors()[:3])))
        except (anyio.ClosedResourceError, anyio.BrokenResourceError):
            return self._failed(run, "exited", "The server connection closed during the call. "
                                "Reconnect it and Run again.")
        except httpx.HTTPError as exc:
            return self._failed(run, "protocol", describe_failure(exc, conn.config))
        finally:
            conn.in_flight -= 1
        run.result = _without_secrets(
            result.model_dump(mode="json", by_alias=True, exclude_none=True), conn.secrets)
        run.ended_at = time.time()
        return run


_MANAGER: McpManager | None = None
_MANAGER_LOCK = threading.Lock()


def manager() -> McpManager:
    """The one manager of this process (created on first use, shut down at exit)."""
    global _MANAGER
    with _MANAGER_LOCK:
        if _MANAGER is None:
            _MANAGER = McpManager()
            atexit.register(_MANAGER.shutdown)
        return _MANAGER
