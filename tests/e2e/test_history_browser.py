"""Session history in a real browser: a tool-call turn survives a reload (the URL carries
?session=…), is listed on the History page, exports as a file, and is counted on Usage.

Debian Chromium driven by Playwright against `streamlit run` (fixtures in conftest.py: a fresh
server per test, data dir in tmp, the demo model answering without pauses).
"""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import ROOT, StartServer

pytestmark = pytest.mark.e2e

SEED = "What's the weather like in Boston today?"
RESULT = '{"temperature": 17, "unit": "celsius", "sky": "drizzle"}'
USAGE_SHOT = ROOT / "docs" / "usage.png"
TOOLS_SHOT = ROOT / "docs" / "tools.png"


def no_exception(page: Page) -> None:
    expect(page.get_by_test_id("stException")).to_have_count(0)


def go_to(page: Page, name: str) -> None:
    page.get_by_test_id("stSidebarNav").get_by_role("link").filter(has_text=name).click()
    expect(page.get_by_test_id("stMainBlockContainer").get_by_role(
        "heading", name=name, exact=True)).to_be_visible()


def screenshot(page: Page, path, height: int) -> None:
    """The whole page: Streamlit scrolls inside its own container, so the viewport must be
    tall enough for full_page to include everything."""
    path.parent.mkdir(exist_ok=True)
    page.set_viewport_size({"width": 1400, "height": height})
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000


def test_a_turn_survives_a_reload_and_shows_on_usage(start_server: StartServer,
                                                     page: Page) -> None:
    server = start_server()
    page.goto(server.url + "/")
    main = page.get_by_test_id("stMainBlockContainer")
    expect(main.get_by_text("Offline demo model", exact=False).first).to_be_visible()

    # The seed tool-call turn, answered by hand.
    box = page.get_by_test_id("stChatInputTextArea")
    expect(box).to_be_enabled()
    box.fill(SEED)
    box.press("Enter")
    result = page.get_by_label(re.compile(r"^Result of get_current_weather"))
    expect(result).to_be_visible()
    result.fill(RESULT)
    page.get_by_role("button", name="Send tool results").click()
    answer = main.get_by_test_id("stChatMessage").filter(has_text="Here is what I found")
    expect(answer).to_have_count(1)
    expect(answer).not_to_contain_text("▌")  # the streamed answer is complete
    expect(answer).to_contain_text(re.compile(r"17.*drizzle"))
    expect(page).to_have_url(re.compile(r"[?&]session=ses_[0-9a-f]+"))
    found = re.search(r"session=(ses_[0-9a-f]+)", page.url)
    assert found
    session_id = found.group(1)
    no_exception(page)

    # A reload starts a new browser session; the conversation comes back from the database.
    page.reload()
    expect(main.get_by_role("heading", name="Chat")).to_be_visible()
    expect(main.get_by_test_id("stChatMessage").filter(has_text=SEED)).to_have_count(1)
    expect(answer).to_have_count(1)
    expect(answer).to_contain_text(re.compile(r"17.*drizzle"))
    expect(main.get_by_test_id("stChatMessage").filter(has_text="call id")).to_have_count(1)
    expect(page.get_by_label(re.compile(r"^Result of get_current_weather"))).to_have_count(0)
    expect(page.get_by_test_id("stChatInputTextArea")).to_be_enabled()
    assert session_id in page.url
    expect(main.get_by_text("No saved session", exact=False)).to_have_count(0)
    no_exception(page)

    # Listed on the History page, and exported as one JSON file.
    go_to(page, "History")
    expect(main.get_by_text(SEED, exact=True)).to_be_visible()
    expect(main.get_by_text(re.compile(r"4 messages · 2 requests"))).to_be_visible()
    with page.expect_download() as download_info:
        main.get_by_role("button", name="Export").click()
    download = download_info.value
    assert download.suggested_filename == f"toolsmith-{session_id}.json"
    document = json.loads(download.path().read_text(encoding="utf-8"))
    assert document["format"] == "toolsmith.session"
    assert document["session"]["id"] == session_id
    assert [m["role"] for m in document["messages"]] == ["user", "assistant", "tool",
                                                         "assistant"]
    assert document["messages"][2]["content"] == RESULT
    no_exception(page)

    # Counted on the Usage page.
    go_to(page, "Usage")
    requests = main.get_by_test_id("stMetric").filter(has_text="Requests")
    expect(requests.get_by_test_id("stMetricValue")).to_have_text("2")
    expect(main.get_by_test_id("stMetric").filter(has_text="Estimated cost")
           .get_by_test_id("stMetricValue")).to_have_text("$0")
    expect(main.get_by_text("Tokens per request", exact=True)).to_be_visible()
    expect(main.get_by_text("Latency and time to first token", exact=True)).to_be_visible()
    # The charts are drawn (Vega renders into a canvas or svg inside each chart element).
    expect(main.locator("[data-testid=stVegaLiteChart] canvas, "
                        "[data-testid=stVegaLiteChart] svg").first).to_be_visible()
    no_exception(page)
    screenshot(page, USAGE_SHOT, 2100)

    page.set_viewport_size({"width": 1400, "height": 1000})
    go_to(page, "Tools")
    expect(main.get_by_text("get_current_weather").first).to_be_visible()
    no_exception(page)
    screenshot(page, TOOLS_SHOT, 1400)


def test_rename_by_typing_then_clicking(start_server: StartServer, page: Page) -> None:
    server = start_server()
    page.goto(server.url + "/")
    main = page.get_by_test_id("stMainBlockContainer")
    box = page.get_by_test_id("stChatInputTextArea")
    expect(box).to_be_enabled()
    box.fill("hello there")
    box.press("Enter")
    expect(page).to_have_url(re.compile(r"[?&]session=ses_[0-9a-f]+"))
    go_to(page, "History")
    main.get_by_role("button", name="Manage").click()
    title = main.get_by_label("Title", exact=True)
    expect(title).to_have_value("hello there")

    title.fill("Weather questions")
    main.get_by_role("button", name="Rename").click()

    flash = main.get_by_text(re.compile(r"^Renamed to "))
    expect(flash).to_be_visible()
    assert flash.inner_text() == "Renamed to “Weather questions”."
