"""Two tabs, one session: the tab that saves second keeps its message as a fork.

Tab A and tab B show the same ?session=. A sends, then B sends: B's history no longer matches
the stored one. B's message and its answer must survive as a new session with fresh ids, the
page must say so (naming and linking both sessions), B's URL must point at the fork so a reload
shows it, and A's session must stay as A left it.
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.conftest import UI_TIMEOUT_MS, StartServer
from tests.e2e.ui import SEED, answer_call, ask, main, no_exception, open_chat, user_bubble

pytestmark = pytest.mark.e2e

A_TEXT = "Tab A asks about Tokyo weather"
B_TEXT = "Tab B asks about Paris weather"


def session_of(url: str) -> str:
    found = re.search(r"[?&]session=([\w-]+)", url)
    assert found, url
    return found[1]


def stored(db: Path) -> dict[str, list[str]]:
    """Each session's user messages, from the SQLite file the server writes."""
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT session_id, role, content, id FROM messages "
                            "ORDER BY session_id, position").fetchall()
    out: dict[str, list[str]] = {}
    for session, role, content, _ in rows:
        if role == "user":
            out.setdefault(session, []).append(content)
    return out


def message_ids(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        return [r[0] for r in conn.execute("SELECT id FROM messages")]


def test_the_losing_tab_keeps_its_message_as_a_linked_fork(
        browser: Browser, start_server: StartServer, tmp_path: Path) -> None:
    server = start_server()
    db = tmp_path / "server0" / "data" / "toolsmith.db"
    context = browser.new_context(viewport={"width": 1300, "height": 1000})
    context.set_default_timeout(UI_TIMEOUT_MS)
    try:
        a = context.new_page()
        open_chat(a, server.url)
        ask(a, SEED)
        answer_call(a, '{"temperature": 21, "unit": "celsius"}')
        expect(a.get_by_test_id("stChatInputTextArea")).to_be_enabled()
        a.wait_for_url(re.compile(r"session="))
        original = session_of(a.url)

        b = context.new_page()
        b.goto(f"{server.url}/?session={original}")
        expect(user_bubble(b, SEED)).to_be_visible()
        expect(b.get_by_test_id("stChatInputTextArea")).to_be_enabled()

        ask(a, A_TEXT)
        expect(user_bubble(a, A_TEXT)).to_be_visible()
        expect(a.get_by_label(re.compile(r"^Result of "))).to_be_visible()  # A's turn is saved

        ask(b, B_TEXT)
        notice = main(b).get_by_test_id("stAlert").filter(has_text="another tab")
        expect(notice).to_be_visible()
        expect(user_bubble(b, B_TEXT)).to_be_visible()
        b.wait_for_url(re.compile(r"session=(?!" + original + r")"))
        fork = session_of(b.url)
        assert fork != original
        expect(notice).to_contain_text(original)
        expect(notice).to_contain_text(fork)
        expect(notice.locator(f"a[href*='session={original}']")).to_have_count(1)
        no_exception(b)

        # A reload of B shows B's fork, with B's message; the notice stays.
        b.reload()
        expect(user_bubble(b, B_TEXT)).to_be_visible()
        expect(user_bubble(b, A_TEXT)).to_have_count(0)
        no_exception(b)

        sessions = stored(db)
        assert sessions[original] == [SEED, A_TEXT]
        assert sessions[fork] == [SEED, B_TEXT]
        ids = message_ids(db)
        assert len(ids) == len(set(ids))
    finally:
        context.close()
