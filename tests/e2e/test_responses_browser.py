"""The seed question in the OpenAI Responses wire format, with the offline demo model, in a real
browser: pick the format in the sidebar, ask, see the call card, answer it, read the answer,
and check the request went to …/responses in that format's shape."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import StartServer
from tests.e2e.ui import (
    SEED,
    ask,
    bubbles,
    main,
    no_exception,
    result_box,
    sidebar,
    switch_wire,
)

pytestmark = pytest.mark.e2e


def test_seed_question_in_responses_format(start_server: StartServer, page: Page) -> None:
    server = start_server()
    page.goto(server.url + "/")
    expect(main(page).get_by_text("Offline demo model", exact=False).first).to_be_visible()

    switch_wire(page, "Responses")
    # The format's own settings appear with it.
    expect(sidebar(page).get_by_text("Reasoning effort", exact=True)).to_be_visible()

    ask(page, SEED)
    box = result_box(page)
    expect(box).to_be_visible()
    card = bubbles(page).filter(has_text="call id")
    expect(card).to_have_count(1)
    expect(card).to_contain_text(re.compile(r"get_current_weather\s*·\s*call id\s*call_demo_"))
    expect(card.get_by_test_id("stCode").first).to_contain_text('"location": "Boston, MA"')

    box.fill('{"temperature": 17, "sky": "drizzle"}')
    page.get_by_role("button", name="Send tool results").click()
    answer = bubbles(page).filter(has_text="Here is what I found")
    expect(answer).to_have_count(1)
    expect(answer).to_contain_text("temperature 17")
    no_exception(page)

    # The second request, inspected: sent to …/responses with the call and its output as items.
    inspect = main(page).locator("[class*='st-key-chat-inspect-']").last.get_by_role("button")
    inspect.click()
    exchange = main(page).get_by_text(re.compile(r"POST\s+http://toolsmith-demo\.invalid/v1/"
                                                 r"responses"))
    expect(exchange.first).to_be_visible()
    body_block = main(page).get_by_test_id("stCode").filter(has_text='"function_call_output"')
    expect(body_block.first).to_be_visible()
    body = json.loads(body_block.first.inner_text())
    assert body["store"] is False
    assert [item.get("type", "message") for item in body["input"]] == [
        "message", "function_call", "function_call_output"]
    assert body["input"][2]["output"] == '{"temperature": 17, "sky": "drizzle"}'
    no_exception(page)
