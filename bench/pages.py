"""Page speed a person notices, in a real browser (issue 13), each against a hello-world peer
measured in the same run, interleaved: every page's first visit on a fresh server; a page
switch; opening a 200-message session by its link. Also where the time goes on the server
(imports, database, drawing), so a slow figure can be traced."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

from playwright.sync_api import Browser, Page

from bench.browser import ROOT, rig, streamlit
from core.store import Store

PAGES = {"Chat": "/", "Tools": "/tools", "Evals": "/evals", "History": "/history",
         "Usage": "/usage"}
HELLO = "bench/hello_nav.py"  # two pages, "One" and "Two", each a title and a line
REPEAT = 3


def _heading(page: Page, name: str) -> None:
    page.get_by_role("heading", name=name, exact=True).wait_for(timeout=60_000)


# A person opens the page a moment after the server says it is up (`make run` prints the
# address): the first visit is measured after this pause, for both servers. The start itself,
# with the browser opening at once, is the "app start to Chat page rendered" row
# (bench/browser.py).
SETTLE_S = 2.0


def _first_visit(browser: Browser, script: str, path: str, heading: str,
                 env: dict[str, str]) -> float:
    """A fresh server (healthy, then the pause), then the time from asking for the page to
    its heading."""
    with streamlit(script, env) as (url, _):
        time.sleep(SETTLE_S)
        page = browser.new_page()
        start = time.perf_counter()
        page.goto(url + path)
        _heading(page, heading)
        took = time.perf_counter() - start
        page.close()
    return took


def first_visits(browser: Browser, env: dict[str, str]) -> list[dict[str, object]]:
    rows = []
    for name, path in PAGES.items():
        ours, peer = [], []
        for _ in range(REPEAT):
            ours.append(_first_visit(browser, "app.py", path, name, env))
            peer.append(_first_visit(browser, HELLO, "/", "One", env))
        o, p = statistics.median(ours), statistics.median(peer)
        rows.append({"name": f"first visit of {path} on a fresh server: Toolsmith {name} vs "
                             "hello-world page", "value": o * 1000, "unit": "ms",
                     "peer": p * 1000, "ratio": o / p, "target": "<= 1.5"})
    return rows


# A person looks at a page before clicking on: the switch row clicks half a second after the
# heading appears, for both apps. Clicking the moment it appears also catches the end of the
# previous page's drawing (the Usage charts, say); that is the "clicking fast" row.
READING_S = 0.5


def _switches(browser: Browser, script: str, names: list[str], env: dict[str, str],
              rounds: int, pause: float) -> float:
    """Median time from a click in the navigation to the next page's heading, between pages
    visited once already (each page's first visit is its own row), each click `pause`
    seconds after the previous heading appeared."""
    with streamlit(script, env) as (url, _):
        page = browser.new_page()
        page.goto(url)
        _heading(page, names[0])
        times = []
        for round_number in range(rounds + 1):
            for name in [*names[1:], names[0]]:
                time.sleep(pause)
                start = time.perf_counter()
                page.get_by_test_id("stSidebarNav").get_by_role("link").filter(
                    has_text=name).first.click()
                _heading(page, name)
                if round_number:  # the first round visits each page once, untimed
                    times.append(time.perf_counter() - start)
        page.close()
    return statistics.median(times)


def page_switches(browser: Browser, env: dict[str, str]) -> list[dict[str, object]]:
    rows = []
    for pause, label, target in ((READING_S, "a click half a second after the page appeared",
                                  "<= 2.0"),
                                 (0.0, "clicking fast: a click the moment the heading appeared",
                                  "(reported)")):
        ours, peer = [], []
        for _ in range(REPEAT):
            ours.append(_switches(browser, "app.py", list(PAGES), env, 2, pause))
            peer.append(_switches(browser, HELLO, ["One", "Two"], env, 5, pause))
        o, p = statistics.median(ours), statistics.median(peer)
        rows.append({"name": f"page switch (Chat, Tools, Evals, History, Usage in turn), {label}: "
                             "Toolsmith vs hello-world switch", "value": o * 1000, "unit": "ms",
                     "peer": p * 1000, "ratio": o / p, "target": target})
    return rows


def session_link(browser: Browser, env: dict[str, str], session_id: str,
                 last_text: str) -> list[dict[str, object]]:
    """A new tab on ?session=… of a warm server, to the session's last message; the peer is
    a new tab on the hello-world page of a warm server, to its heading."""
    def open_in_new_tabs(script: str, path: str, ready: str, is_text: bool) -> float:
        with streamlit(script, env) as (url, _):
            warm = browser.new_page()
            warm.goto(url)
            warm.wait_for_load_state("networkidle")
            warm.close()
            times = []
            for _ in range(REPEAT + 2):
                page = browser.new_page()
                start = time.perf_counter()
                page.goto(url + path)
                if is_text:
                    page.get_by_text(ready).last.wait_for(timeout=60_000)
                else:
                    _heading(page, ready)
                times.append(time.perf_counter() - start)
                page.close()
            return statistics.median(times)

    ours = open_in_new_tabs("app.py", f"/?session={session_id}", last_text, True)
    peer = open_in_new_tabs(HELLO, "/", "One", False)
    return [{"name": "open a 200-message session by its link in a new tab: Toolsmith vs "
                     "hello-world page load", "value": ours * 1000, "unit": "ms",
             "peer": peer * 1000, "ratio": ours / peer, "target": "<= 1.5"}]


def where_time_goes(db_url: str, session_id: str) -> list[dict[str, object]]:
    """Server-side parts, each reported: importing the app's modules (cold, in a fresh
    interpreter) vs importing Streamlit alone, and reading the 200-message session."""
    def cold(code: str) -> float:
        samples = []
        for _ in range(REPEAT):
            start = time.perf_counter()
            subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)
            samples.append(time.perf_counter() - start)
        return statistics.median(samples)

    app_modules = ("import streamlit, components.state, components.sidebar, "
                   "components.history_sync, components.messages, components.live_turn, "
                   "components.tool_results, components.inspector, core.store")
    ours, peer = cold(app_modules), cold("import streamlit")
    store = Store.open(db_url)
    loads = []
    for _ in range(5):
        start = time.perf_counter()
        store.load(session_id)
        loads.append(time.perf_counter() - start)
    store.engine.dispose()
    return [
        {"name": "where the time goes: importing the Chat page's modules (cold) vs "
                 "`import streamlit`", "value": ours * 1000, "unit": "ms", "peer": peer * 1000,
         "ratio": ours / peer, "target": "(reported)"},
        {"name": "where the time goes: reading the 200-message session (Store.load) vs the "
                 "whole hello-world page load", "value": statistics.median(loads) * 1000,
         "unit": "ms", "peer": 0.0, "ratio": 0.0, "target": "(reported)"},
    ]


def run() -> list[dict[str, object]]:
    with rig(200) as r:
        r.store.engine.dispose()  # the servers measured open the file themselves
        parts = where_time_goes(r.db_url, r.session.id)
        link = session_link(r.browser, r.env, r.session.id, r.session.messages[-1].content)
        parts[1]["peer"] = link[0]["peer"]
        parts[1]["ratio"] = parts[1]["value"] / link[0]["peer"]
        return parts + first_visits(r.browser, r.env) + page_switches(r.browser, r.env) + link
