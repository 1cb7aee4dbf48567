"""The app in a real browser: Debian Chromium, driven by Playwright, against `streamlit run`."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import ROOT, StartServer

pytestmark = pytest.mark.e2e

SEED = "What's the weather like in Boston today?"
SCREENSHOT = ROOT / "docs" / "chat.png"


def no_exception(page: Page) -> None:
    expect(page.get_by_test_id("stException")).to_have_count(0)


def ask(page: Page, text: str) -> None:
    box = page.get_by_test_id("stChatInputTextArea")
    expect(box).to_be_enabled()
    box.fill(text)
    box.press("Enter")


def test_demo_loop_in_the_browser(start_server: StartServer, page: Page) -> None:
    server = start_server()
    page.goto(server.url + "/")
    main = page.get_by_test_id("stMainBlockContainer")
    expect(main.get_by_text("Offline demo model", exact=False).first).to_be_visible()

    ask(page, SEED)

    # The assistant's bubble holds the tool-call card: name, call id, arguments.
    turn = main.get_by_test_id("stChatMessage").filter(has_text="call id")
    expect(turn).to_have_count(1)
    heading = turn.get_by_text(re.compile(r"get_current_weather\s*·\s*call id\s*call_\w+"))
    expect(heading).to_be_visible()
    expect(turn.get_by_test_id("stCode").first).to_contain_text('"location": "Boston, MA"')
    result = page.get_by_label(re.compile(r"^Result of get_current_weather \(call_\w+\)$"))
    expect(result).to_be_visible()
    expect(page.get_by_test_id("stChatInputTextArea")).to_be_disabled()
    no_exception(page)

    SCREENSHOT.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)

    result.fill('{"temperature": 17, "unit": "celsius", "sky": "drizzle"}')
    page.get_by_role("button", name="Send tool results").click()

    answer = main.get_by_text(re.compile(r"Here is what I found: .*drizzle"))
    expect(answer).to_be_visible()
    expect(answer).to_contain_text("17")
    expect(page.get_by_label(re.compile(r"^Result of get_current_weather"))).to_have_count(0)
    expect(page.get_by_test_id("stChatInputTextArea")).to_be_enabled()
    expect(main.get_by_text("(estimated)", exact=False)).to_have_count(2)
    no_exception(page)
    assert SCREENSHOT.stat().st_size > 10_000


def test_deep_link_to_tools_on_a_fresh_server(start_server: StartServer, page: Page) -> None:
    server = start_server()
    page.goto(server.url + "/tools")

    main = page.get_by_test_id("stMainBlockContainer")
    expect(main.get_by_role("heading", name="Tools")).to_be_visible()
    expect(main.get_by_text("get_current_weather").first).to_be_visible()
    nav = page.get_by_test_id("stSidebarNav")
    expect(nav).to_be_visible()
    links = nav.get_by_role("link")
    expect(links).to_have_count(2)
    expect(links.filter(has_text="Chat")).to_have_count(1)
    expect(links.filter(has_text="Tools")).to_have_count(1)
    expect(nav.get_by_text(re.compile(r"^app$"))).to_have_count(0)
    # The shared sidebar from app.py is there too (legacy multipage mode would lose it).
    expect(page.get_by_test_id("stSidebar").get_by_text("Model server")).to_be_visible()
    no_exception(page)

    links.filter(has_text="Chat").click()
    expect(page).to_have_url(re.compile(r"/$"))
    expect(main.get_by_role("heading", name="Chat")).to_be_visible()
    expect(page.get_by_test_id("stChatInputTextArea")).to_be_visible()
    no_exception(page)
