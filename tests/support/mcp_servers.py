"""Real MCP servers for tests: the reference `mcp-server-time` (PyPI) over stdio, the reference
`@modelcontextprotocol/server-everything` (npm, installed into tests/node by `make test`) over
streamable HTTP on 127.0.0.1, a misbehaving stdio server, and an HTTP endpoint answering 401.

Every stdio server gets a marker in its environment, so a test can count the processes that
really exist (one per server after reconnects, none after shutdown) by reading /proc.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from core.tools.mcp_config import McpServerConfig

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
TIME_SERVER = BIN / "mcp-server-time"
ODD_SERVER = ROOT / "tests" / "support" / "mcp_odd_server.py"
EVERYTHING = (ROOT / "tests" / "node" / "node_modules" / "@modelcontextprotocol"
              / "server-everything" / "dist" / "index.js")
MARK = "TOOLSMITH_TEST_MARK"


def new_mark() -> str:
    return uuid.uuid4().hex


def time_server(name: str = "time", mark: str = "", **changes: object) -> McpServerConfig:
    config = McpServerConfig(name=name, command=str(TIME_SERVER),
                             args=("--local-timezone", "UTC"),
                             env=((MARK, mark),) if mark else ())
    return McpServerConfig(**{**config.__dict__, **changes})  # type: ignore[arg-type]


def odd_server(name: str = "odd", mark: str = "", env: tuple[tuple[str, str], ...] = (),
               timeout_s: float = 60.0) -> McpServerConfig:
    return McpServerConfig(name=name, command=sys.executable, args=(str(ODD_SERVER),),
                           env=(*(((MARK, mark),) if mark else ()), *env), timeout_s=timeout_s)


def everything_stdio(name: str = "everything", mark: str = "",
                     timeout_s: float = 60.0) -> McpServerConfig:
    need_everything()
    return McpServerConfig(name=name, command="node", args=(str(EVERYTHING), "stdio"),
                           env=((MARK, mark),) if mark else (), timeout_s=timeout_s)


def marked_processes(mark: str) -> list[int]:
    """Pids of live processes whose environment carries this marker."""
    needle = f"{MARK}={mark}".encode()
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if needle in (entry / "environ").read_bytes().split(b"\0"):
                status = (entry / "status").read_text()
                if "\nState:\tZ" not in status:  # a zombie has exited already
                    pids.append(int(entry.name))
        except OSError:
            continue
    return pids


def wait_for(predicate, timeout_s: float = 20.0, what: str = "condition") -> None:
    """Poll a condition (process exits are not events we can wait on from here)."""
    deadline = time.monotonic() + timeout_s
    event = threading.Event()
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        event.wait(0.05)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def need_everything() -> None:
    if not EVERYTHING.exists():
        pytest.skip("server-everything is not installed: run `make test` (npm ci in tests/node)")


@contextmanager
def everything_http() -> Iterator[str]:
    """server-everything over streamable HTTP on a free port; yields its /mcp URL."""
    need_everything()
    port = free_port()
    process = subprocess.Popen(
        ["node", str(EVERYTHING), "streamableHttp"], env={**os.environ, "PORT": str(port)},
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        def listening() -> bool:
            if process.poll() is not None:
                raise AssertionError(f"server-everything exited with {process.returncode}")
            with socket.socket() as sock:
                return sock.connect_ex(("127.0.0.1", port)) == 0
        wait_for(listening, 30, "server-everything to listen")
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


class _Unauthorized(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.server.seen_headers.append(dict(self.headers))  # type: ignore[attr-defined]
        body = b'{"error": "invalid_token"}'
        self.send_response(401)
        self.send_header("WWW-Authenticate", 'Bearer error="invalid_token"')
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def unauthorized_http() -> Iterator[tuple[str, list[dict[str, str]]]]:
    """An endpoint on 127.0.0.1 that answers every POST with 401; yields (URL, headers seen)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Unauthorized)
    server.seen_headers = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/mcp", server.seen_headers  # type: ignore[attr-defined]
    finally:
        server.shutdown()
        server.server_close()
