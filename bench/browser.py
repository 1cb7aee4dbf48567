"""Benchmarks in a real browser (Debian's Chromium via Playwright): app start, loading a
1,000-message session, and typing into a tool-result box with short and long histories."""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import Browser, sync_playwright

from bench.sessions import conversation
from core.conversation import Conversation
from core.store import Store

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def streamlit(script: str, env: dict[str, str]) -> Iterator[tuple[str, float]]:
    """A server for `script`; yields its URL and the seconds it took to answer health."""
    port = _free_port()
    start = time.perf_counter()
    # Toolsmith as `make run` serves it; a peer script with plain `streamlit run`.
    bin_dir = ROOT / ".venv" / "bin"
    command = ([str(bin_dir / "python"), "-m", "toolsmith.serve"] if script == "app.py"
               else [str(bin_dir / "streamlit"), "run", script])
    process = subprocess.Popen(
        [*command, "--server.port", str(port),
         "--server.headless", "true", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    try:
        deadline = start + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1)
                break
            except OSError:
                if time.perf_counter() > deadline or process.poll() is not None:
                    raise RuntimeError(f"{script} did not start") from None
                time.sleep(0.02)
        yield f"http://127.0.0.1:{port}", time.perf_counter() - start
    finally:
        process.terminate()
        process.wait(10)


def _start(browser: Browser, script: str, ready: str, env: dict[str, str]) -> tuple[float, float]:
    start = time.perf_counter()
    with streamlit(script, env) as (url, health):
        page = browser.new_page()
        page.goto(url)
        page.locator(ready).first.wait_for(timeout=60_000)
        shown = time.perf_counter() - start
        page.close()
    return health, shown


def app_start(browser: Browser, env: dict[str, str], repeat: int = 5) -> list[dict[str, object]]:
    # Interleaved, so a machine that slows down or speeds up mid-run weighs on both alike.
    ours, peer = [], []
    for _ in range(repeat):
        ours.append(_start(browser, "app.py", "[data-testid=stChatInputTextArea]", env))
        peer.append(_start(browser, "bench/hello.py", "[data-testid=stChatInputTextArea]", env))
    health = statistics.median(o[0] for o in ours), statistics.median(p[0] for p in peer)
    shown = statistics.median(o[1] for o in ours), statistics.median(p[1] for p in peer)
    return [
        {"name": "app start to healthy /_stcore/health: Toolsmith vs hello-world",
         "value": health[0] * 1000, "unit": "ms", "peer": health[1] * 1000,
         "ratio": health[0] / health[1], "target": "<= 1.5"},
        {"name": "app start to Chat page rendered in the browser: Toolsmith vs hello-world",
         "value": shown[0] * 1000, "unit": "ms", "peer": shown[1] * 1000,
         "ratio": shown[0] / shown[1], "target": "<= 1.5"},
    ]


def long_session(browser: Browser, env: dict[str, str], db_url: str,
                 session_id: str) -> list[dict[str, object]]:
    def load(script: str, query: str, extra: dict[str, str]) -> float:
        with streamlit(script, {**env, **extra}) as (url, _):
            page = browser.new_page()
            page.goto(url)  # warm the server and the browser cache
            page.locator("[data-testid=stChatInputTextArea]").wait_for(timeout=60_000)
            times = []
            for _ in range(3):
                start = time.perf_counter()
                page.goto(url + query)
                page.get_by_text("Answer 249:").last.wait_for(timeout=120_000)
                times.append(time.perf_counter() - start)
            page.close()
            return statistics.median(times)

    ours = load("app.py", f"/?session={session_id}", {})
    naive = load("bench/naive_chat.py", "/", {"NAIVE_DB_URL": db_url,
                                              "NAIVE_SESSION": session_id})
    return [{"name": "browser: load to last message visible, 1,000 messages: Toolsmith vs "
                     "naive page", "value": ours * 1000, "unit": "ms", "peer": naive * 1000,
             "ratio": ours / naive, "target": "(reported)"}]


def typing(browser: Browser, env: dict[str, str], store: Store) -> list[dict[str, object]]:
    """Typing into a result box must not slow down as the history grows."""
    def per_key(n: int) -> float:
        conv = conversation(n, pending=True)
        store.record(conv, provider="demo", model="toolsmith-demo")
        with streamlit("app.py", env) as (url, _):
            page = browser.new_page()
            page.goto(f"{url}/?session={conv.id}")
            box = page.get_by_label("Result of get_current_weather (call_pending)")
            box.wait_for(timeout=120_000)
            box.click()
            text = '{"temperature": 21, "unit": "celsius", "conditions": "light rain"}' * 2
            samples = []
            for _ in range(3):
                box.fill("")
                box.click()
                start = time.perf_counter()
                page.keyboard.type(text)
                page.wait_for_function("([el, n]) => el.value.length >= n",
                                       arg=[box.element_handle(), len(text)])
                samples.append((time.perf_counter() - start) / len(text))
            page.close()
            return statistics.median(samples)

    short, long = per_key(10), per_key(1000)
    return [{"name": "browser: typing into a result box, per key, 1,000 vs 10 messages",
             "value": long * 1000, "unit": "ms", "peer": short * 1000, "ratio": long / short,
             "target": "~1.0 (flat)"}]


@dataclass
class Rig:
    """What every browser benchmark starts from: a Chromium, the environment of a server with
    no key (the demo model answers) and an empty data directory holding one recorded session."""

    browser: Browser
    env: dict[str, str]
    db_url: str
    store: Store
    session: Conversation


@contextmanager
def rig(messages: int) -> Iterator[Rig]:
    # The app's modules with their bytecode written, as `make run` serves them.
    subprocess.run([str(ROOT / ".venv" / "bin" / "python"), "-m", "compileall", "-q",
                    "components", "core", "toolsmith"], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)
    with tempfile.TemporaryDirectory() as data_dir, sync_playwright() as pw:
        env = {"TOOLSMITH_DATA_DIR": data_dir, "TOOLSMITH_DEMO_DELAY": "0"}
        for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "ANTHROPIC_API_KEY"):
            env[name] = ""
        db_url = f"sqlite:///{data_dir}/toolsmith.db"
        store = Store.open(db_url)
        conv = conversation(messages)
        store.record(conv, provider="demo", model="toolsmith-demo")
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            yield Rig(browser, env, db_url, store, conv)
        finally:
            browser.close()
            store.engine.dispose()


def run() -> list[dict[str, object]]:
    with rig(1000) as r:
        return (app_start(r.browser, r.env)
                + long_session(r.browser, r.env, r.db_url, r.session.id)
                + typing(r.browser, r.env, r.store))
