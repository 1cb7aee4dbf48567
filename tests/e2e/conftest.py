"""Real Streamlit server processes and a real (Debian) Chromium driven by Playwright.

Each test gets its own server on a free port with a clean environment: no OPENAI_* or other
provider variables unless the test passes them, HOME and TOOLSMITH_DATA_DIR in the test's tmp
dir, the demo model streaming without pauses, and cwd the repository root. The server is
always terminated in teardown. Playwright never downloads a browser here: it runs
/usr/bin/chromium.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Callable, Generator, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx
import pluggy
import pytest
from playwright.sync_api import Browser, Page, Playwright, expect, sync_playwright

ROOT = Path(__file__).resolve().parents[2]
PYTHON = ROOT / ".venv" / "bin" / "python"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
SERVER_START_TIMEOUT_S = 45.0
# Generous for 2 busy cores; a passing run waits far less.
UI_TIMEOUT_MS = 20_000
expect.set_options(timeout=UI_TIMEOUT_MS)
# Variables that would point the app at a real server, change its start-up choice, or
# override the Streamlit options the fixture sets on the command line.
_DROPPED_PREFIXES = ("OPENAI_", "ANTHROPIC_", "TOOLSMITH_", "STREAMLIT_")


def free_port() -> int:
    """A TCP port nothing listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class StreamlitServer:
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def wait_until_healthy(server: StreamlitServer, timeout_s: float = SERVER_START_TIMEOUT_S) -> None:
    """Poll /_stcore/health until it answers "ok"; fail early if the process exits."""
    deadline = time.monotonic() + timeout_s
    health = f"{server.url}/_stcore/health"
    with httpx.Client(timeout=2.0) as client:
        while time.monotonic() < deadline:
            try:
                if client.get(health).text.strip() == "ok":
                    return
            except httpx.HTTPError:
                pass
            try:
                # The pause between probes, which also notices a server that died on start.
                code = server.process.wait(timeout=0.1)
            except subprocess.TimeoutExpired:
                continue
            raise AssertionError(f"streamlit exited with {code} on start:\n{server.log()}")
    raise AssertionError(f"streamlit not healthy after {timeout_s} s:\n{server.log()}")


def clean_env(tmp: Path, extra: Mapping[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(_DROPPED_PREFIXES)}
    home = tmp / "home"
    home.mkdir(exist_ok=True)
    env.update({
        "HOME": str(home),
        "TOOLSMITH_DATA_DIR": str(tmp / "data"),
        "TOOLSMITH_DEMO_DELAY": "0",
        "PYTHONUNBUFFERED": "1",
    })
    env.update(extra)
    return env


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


StartServer = Callable[..., StreamlitServer]


def launch(tmp: Path, env: Mapping[str, str] | None = None,
           secrets_for: Callable[[int], str] | None = None,
           port: int | None = None) -> StreamlitServer:
    """Start the app (`python -m toolsmith.serve`, as `make run` does) on a free port with its
    HOME, data dir and log in `tmp` (which must exist and be empty); healthy on return. The
    caller stops it with stop(). `secrets_for(port)`: the secrets file's text (team mode
    needs the app's own address)."""
    port = port or free_port()
    # An empty secrets file instead of .streamlit/secrets.toml, so a developer's real key
    # cannot reach these tests.
    secrets = tmp / "secrets.toml"
    secrets.write_text(secrets_for(port) if secrets_for else "")
    log_path = tmp / "streamlit.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(PYTHON), "-m", "toolsmith.serve",
             "--server.port", str(port), "--server.headless", "true",
             "--server.address", "127.0.0.1",
             "--server.fileWatcherType", "none",
             "--browser.gatherUsageStats", "false",
             "--secrets.files", str(secrets)],
            cwd=ROOT, env=clean_env(tmp, env or {}),
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )
    server = StreamlitServer(process, port, log_path)
    try:
        wait_until_healthy(server)
    except BaseException:
        stop(process)
        raise
    return server


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[StartServer]:
    """Start the app on a free port; `start_server(env={...})` adds variables."""
    started: list[StreamlitServer] = []

    def start(env: Mapping[str, str] | None = None,
              secrets_for: Callable[[int], str] | None = None) -> StreamlitServer:
        tmp = tmp_path / f"server{len(started)}"
        tmp.mkdir()
        server = launch(tmp, env, secrets_for)
        started.append(server)
        return server

    yield start
    for server in started:
        stop(server.process)


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing (install Debian's chromium: make browser)")
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(UI_TIMEOUT_MS)
    page = context.new_page()
    yield page
    context.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None],
) -> Generator[None, pluggy.Result[pytest.TestReport], None]:
    """On a failed browser test, add what every open page showed to the report: CI prints
    only the report, and a flaky failure is seldom reproduced at will."""
    outcome = yield
    report = outcome.get_result()
    browser = getattr(item, "funcargs", {}).get("browser")
    if report.when != "call" or not report.failed or browser is None:
        return
    shown = []
    for c, context in enumerate(browser.contexts):
        for p, open_page in enumerate(context.pages):
            try:
                body = open_page.locator("body").inner_text(timeout=2_000)
            except Exception as error:  # a report, never a second failure
                body = f"(not readable: {error})"
            shown.append(f"--- context {c} page {p} {open_page.url}\n{body[-3_000:]}")
    report.sections.append(("pages at failure", "\n".join(shown)))
