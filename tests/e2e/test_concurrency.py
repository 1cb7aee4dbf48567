"""Five people at once on one server: five browser contexts run the seed tool-call loop on the
offline demo model at the same time. All finish, no page ever shows another's messages, and
the database holds five sessions, each with its own messages.

(Two writers on one SQLite file are covered without a browser in tests/core/test_store.py:
threads and processes writing different sessions at once lose nothing.)
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.e2e.conftest import UI_TIMEOUT_MS, StartServer
from tests.e2e.ui import SEED, ask, bubbles, main, no_exception, result_box, user_bubble

pytestmark = pytest.mark.e2e

PEOPLE = 5
# Every demo chunk waits this long, so each turn lasts about a second and the five overlap.
DEMO_DELAY_S = "0.04"


def marker(n: int) -> str:
    return f"fog-bank-{n}-c0ncurr3nt"


def result(n: int) -> str:
    return json.dumps({"temperature": 10 + n, "unit": "celsius", "sky": marker(n)})


@pytest.fixture
def contexts(browser: Browser) -> Iterator[list[BrowserContext]]:
    made = [browser.new_context(viewport={"width": 1200, "height": 900})
            for _ in range(PEOPLE)]
    for context in made:
        context.set_default_timeout(UI_TIMEOUT_MS)
    yield made
    for context in made:
        context.close()


def watch_for_strangers(page: Page, own: int) -> None:
    """From now on, note any other person's marker the moment it appears on this page."""
    foreign = [marker(n) for n in range(PEOPLE) if n != own]
    page.evaluate("""(foreign) => {
        window.__strangers = [];
        const look = () => {
            const text = document.body.textContent;
            for (const m of foreign)
                if (text.includes(m) && !window.__strangers.includes(m)) window.__strangers.push(m);
        };
        new MutationObserver(look).observe(document.body,
            {subtree: true, childList: true, characterData: true});
    }""", foreign)


def overlapping(spans: list[tuple[float, float]]) -> int:
    """How many of the time spans run at the moment the most of them do."""
    edges = sorted([(start, 1) for start, _ in spans] + [(end, -1) for _, end in spans])
    running = most = 0
    for _, step in edges:
        running += step
        most = max(most, running)
    return most


def test_five_people_at_once_each_see_only_their_own_turns(
    start_server: StartServer, contexts: list[BrowserContext],
) -> None:
    server = start_server(env={"TOOLSMITH_DEMO_DELAY": DEMO_DELAY_S})
    pages = [context.new_page() for context in contexts]
    # Everyone opens the Chat page at once (navigation only committed here, waited on below).
    for page in pages:
        page.goto(server.url + "/", wait_until="commit")
    for page in pages:
        expect(main(page).get_by_role("heading", name="Chat")).to_be_visible()
        expect(page.get_by_test_id("stChatInputTextArea")).to_be_enabled()
    for n, page in enumerate(pages):
        watch_for_strangers(page, n)

    # Everyone asks at once (each press returns as soon as the browser has sent it).
    for page in pages:
        ask(page, SEED)
    for page in pages:
        expect(result_box(page)).to_be_visible()
        expect(page.get_by_role("button", name="Send tool results")).to_be_enabled()
    # Everyone answers their tool call at once.
    for n, page in enumerate(pages):
        result_box(page).fill(result(n))
    for page in pages:
        page.get_by_role("button", name="Send tool results").click()

    session_ids: list[str] = []
    for n, page in enumerate(pages):
        answer = bubbles(page).filter(has_text="Here is what I found")
        expect(answer).to_have_count(1)
        expect(answer).not_to_contain_text("▌")
        expect(answer).to_contain_text(marker(n))
        expect(page).to_have_url(re.compile(r"[?&]session=ses_[0-9a-f]+"))
        found = re.search(r"session=(ses_[0-9a-f]+)", page.url)
        assert found
        session_ids.append(found.group(1))
    for n, page in enumerate(pages):
        # Exactly one person's conversation: question, tool call, result, answer.
        expect(bubbles(page)).to_have_count(4)
        expect(user_bubble(page, SEED)).to_have_count(1)
        expect(bubbles(page).filter(has_text=marker(n))).to_have_count(2)
        expect(page.get_by_test_id("stChatInputTextArea")).to_be_enabled()
        no_exception(page)
        assert page.evaluate("() => window.__strangers") == [], f"person {n}"
        text = page.content()
        assert [m for m in map(marker, range(PEOPLE)) if m in text] == [marker(n)]
    assert len(set(session_ids)) == PEOPLE

    # The database: five sessions, each with only its own messages and two requests.
    db = server.log_path.parent / "data" / "toolsmith.db"
    stored = read_sessions(db)
    assert sorted(stored) == sorted(session_ids)
    spans: dict[int, list[tuple[float, float]]] = {0: [], 1: []}
    for n, session_id in enumerate(session_ids):
        messages, exchanges = stored[session_id]
        assert [role for role, _ in messages] == ["user", "assistant", "tool", "assistant"]
        assert messages[0][1] == SEED
        assert messages[2][1] == result(n)
        assert marker(n) in messages[3][1]
        others = [marker(m) for m in range(PEOPLE) if m != n]
        assert not [m for m in others for _, content in messages if m in content]
        assert len(exchanges) == 2
        for turn, span in enumerate(exchanges):
            spans[turn].append(span)
    # The turns really ran at the same time (so this was a test of concurrency at all).
    assert overlapping(spans[0]) >= 2 or overlapping(spans[1]) >= 2, spans


def read_sessions(db: Path) -> dict[str, tuple[list[tuple[str, str]], list[tuple[float, float]]]]:
    """Per session: its messages (role, content) in order, and its requests' time spans."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        ids = [r[0] for r in conn.execute("SELECT id FROM sessions")]
        out = {}
        for session_id in ids:
            messages = [(r[0], r[1]) for r in conn.execute(
                "SELECT role, content FROM messages WHERE session_id = ? ORDER BY position",
                (session_id,))]
            spans = [(r[0], r[1]) for r in conn.execute(
                "SELECT started_at, ended_at FROM exchanges WHERE session_id = ? "
                "ORDER BY started_at", (session_id,))]
            out[session_id] = (messages, spans)
    return out
