"""The app in a real browser: Debian Chromium, driven by Playwright, against `streamlit run`."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import ROOT, StartServer
from tests.support.wire_server import WireServer, fixture_reply

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

    # The result box is drawn last, once the streamed turn has been redrawn from history.
    result = page.get_by_label(re.compile(r"^Result of get_current_weather \(call_\w+\)$"))
    expect(result).to_be_visible()
    # The assistant's bubble holds the tool-call card: name, call id, arguments.
    turn = main.get_by_test_id("stChatMessage").filter(has_text="call id")
    expect(turn).to_have_count(1)
    expect(turn).to_contain_text(re.compile(r"get_current_weather\s*·\s*call id\s*call_\w+"))
    expect(turn.get_by_test_id("stCode").first).to_contain_text('"location": "Boston, MA"')
    expect(page.get_by_test_id("stChatInputTextArea")).to_be_disabled()
    no_exception(page)

    SCREENSHOT.parent.mkdir(exist_ok=True)
    # Tall enough that the whole turn fits: Streamlit scrolls inside the page, so full_page
    # alone would still cut the top off.
    page.set_viewport_size({"width": 1400, "height": 1800})
    main.get_by_role("heading", name="Chat").scroll_into_view_if_needed()
    expect(main.get_by_role("heading", name="Chat")).to_be_in_viewport()
    page.screenshot(path=str(SCREENSHOT), full_page=True)

    result.fill('{"temperature": 17, "unit": "celsius", "sky": "drizzle"}')
    page.get_by_role("button", name="Send tool results").click()

    answer = main.get_by_test_id("stChatMessage").filter(has_text="Here is what I found")
    expect(answer).to_have_count(1)
    expect(answer).to_contain_text(re.compile(r"17.*drizzle"))
    expect(answer).not_to_contain_text("▌")  # the streaming cursor is gone: the turn is over
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
    expect(links.filter(has_text="Chat")).to_have_count(1)
    expect(links.filter(has_text="Tools")).to_have_count(1)
    # Legacy multipage mode would list the entry script itself as a page called "app".
    expect(links.filter(has_text=re.compile(r"^\s*app\s*$", re.IGNORECASE))).to_have_count(0)
    expect(nav.get_by_text(re.compile(r"^app$"))).to_have_count(0)
    # The shared sidebar from app.py is there too (legacy multipage mode would lose it).
    expect(page.get_by_test_id("stSidebar").get_by_text("Model server")).to_be_visible()
    no_exception(page)

    links.filter(has_text="Chat").click()
    expect(page).to_have_url(re.compile(r"/$"))
    expect(main.get_by_role("heading", name="Chat")).to_be_visible()
    expect(page.get_by_test_id("stChatInputTextArea")).to_be_visible()
    no_exception(page)


@pytest.mark.parametrize(("path", "title"), [("/history", "History"), ("/usage", "Usage")])
def test_other_deep_links_on_a_fresh_server(
    start_server: StartServer, page: Page, path: str, title: str,
) -> None:
    """docs/architecture.md, Streamlit traps: every page, as the first request of a fresh
    server, runs in app.py."""
    server = start_server()
    page.goto(server.url + path)
    main = page.get_by_test_id("stMainBlockContainer")
    expect(main.get_by_role("heading", name=title, exact=True)).to_be_visible()
    links = page.get_by_test_id("stSidebarNav").get_by_role("link")
    for name in ("Chat", "Tools", title):
        expect(links.filter(has_text=name)).to_have_count(1)
    expect(page.get_by_test_id("stSidebar").get_by_text("Model server")).to_be_visible()
    no_exception(page)


FAKE_KEY = "sk-test-MARKER-123456"


def test_server_error_in_the_browser(
    start_server: StartServer, page: Page, wire_server: WireServer,
) -> None:
    server = start_server(env={
        "OPENAI_BASE_URL": wire_server.base_url,
        "OPENAI_API_KEY": FAKE_KEY,
        "OPENAI_MODEL": "fault-502-html",  # an nginx HTML page with status 502, every time
    })
    page.goto(server.url + "/")
    main = page.get_by_test_id("stMainBlockContainer")
    expect(main.get_by_text("fault-502-html").first).to_be_visible()
    expect(main.get_by_text("Offline demo model")).to_have_count(0)

    ask(page, SEED)

    expect(main.get_by_text(re.compile(r"The server answered 502 \(after 3 attempts\)"))) \
        .to_be_visible()
    expect(main.get_by_text(re.compile(r"an HTML page titled .502 Bad Gateway."))).to_be_visible()
    retry = main.get_by_role("button", name="Retry", exact=True)
    expect(retry).to_be_visible()
    user_turn = main.get_by_test_id("stChatMessage").filter(has_text=SEED)
    expect(user_turn).to_have_count(1)
    expect(page.get_by_test_id("stChatInputTextArea")).to_be_enabled()
    no_exception(page)
    assert len(wire_server.chat_requests) == 3
    assert wire_server.chat_requests[0].headers["authorization"] == f"Bearer {FAKE_KEY}"
    assert FAKE_KEY not in page.content()

    # The gateway recovers: Retry brings the model's tool call.
    wire_server.script(fixture_reply("standard_tool_call"))
    retry.click()
    result = page.get_by_label(
        "Result of get_current_weather (call_4yKljCtGceYj1heJY8G9h3te)", exact=True)
    expect(result).to_be_visible()
    expect(main.get_by_text(re.compile(r"call id\s*call_4yKljCtGceYj1heJY8G9h3te"))) \
        .to_have_count(1)
    expect(main.get_by_role("button", name="Retry", exact=True)).to_have_count(0)
    expect(main.get_by_text(re.compile(r"The server answered 502"))).to_have_count(0)
    expect(user_turn).to_have_count(1)
    no_exception(page)
    assert FAKE_KEY not in page.content()


def test_load_model_list_in_the_browser(
    start_server: StartServer, page: Page, wire_server: WireServer,
) -> None:
    # No model configured: after loading, the first listed model is picked.
    server = start_server(env={"OPENAI_BASE_URL": wire_server.base_url})
    page.goto(server.url + "/")
    sidebar = page.get_by_test_id("stSidebar")
    expect(page.get_by_text("Choose or type a model name in the sidebar.")).to_be_visible()
    sidebar.get_by_role("button", name="Load model list").click()

    # Whichever comes first, a crash or a picked model, the callback's run is over.
    page.wait_for_function(
        "() => document.querySelector('[data-testid=stException]')"
        " || document.querySelector('[data-testid=stSidebar] input[aria-label=Model]').value")
    assert [r.path for r in wire_server.requests] == ["/v1/models"]
    assert page.get_by_test_id("stException").count() == 0
    expect(sidebar.get_by_role("combobox", name="Model")).to_have_value(
        re.compile(r"^(gpt-4o-2024-08-06|gpt-4o-mini|wire-echo)$"))
    expect(page.get_by_text("Choose or type a model name in the sidebar.")).to_have_count(0)
