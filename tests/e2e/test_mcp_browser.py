"""MCP in a real browser: configure the reference time server (mcp-server-time, PyPI) on the
Tools page, ask the demo model "What time is it in Tokyo?", approve the call, see the result
and the answer; and no server process is left once the app has stopped."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import StartServer, stop
from tests.e2e.ui import ask, bubbles, by_key, go_to, main, no_exception, open_chat
from tests.support.mcp_servers import TIME_SERVER, marked_processes, new_mark, wait_for

pytestmark = pytest.mark.e2e


def test_time_server_approve_and_answer(start_server: StartServer, page: Page) -> None:
    server = start_server()
    mark = new_mark()
    open_chat(page, server.url)
    go_to(page, "Tools")
    main(page).get_by_text("Add an MCP server").click()
    by_key(page, "tools.mcp.new.name").get_by_role("textbox").fill("time")
    by_key(page, "tools.mcp.new.command").get_by_role("textbox").fill(str(TIME_SERVER))
    by_key(page, "tools.mcp.new.args").get_by_role("textbox").fill("--local-timezone\nUTC")
    by_key(page, "tools.mcp.new.env").get_by_role("textbox").fill(
        f"TOOLSMITH_TEST_MARK={mark}")
    page.get_by_role("button", name="Add server").click()
    expect(main(page).get_by_text(re.compile(r"time\s*— mcp-time [\d.]+ · connected"))) \
        .to_be_visible()
    expect(main(page).get_by_text("get_current_time").first).to_be_visible()
    saved = json.loads((server.log_path.parent / "data" / "mcp.json").read_text())
    assert saved["mcpServers"]["time"]["command"] == str(TIME_SERVER)

    go_to(page, "Chat")
    ask(page, "What time is it in Tokyo?")
    card = bubbles(page).filter(has_text="call id")
    expect(card).to_contain_text("get_current_time")
    expect(card.get_by_test_id("stCode").first).to_contain_text('"timezone": "Asia/Tokyo"')
    expect(main(page).get_by_text("served by time · asks before each call")).to_be_visible()
    main(page).get_by_role("button", name="Approve and run").click()
    box = page.get_by_label(re.compile(r"^Result of get_current_time \([\w-]+\)$"))
    expect(box).to_have_value(re.compile(r'"timezone": "Asia/Tokyo"'))
    expect(main(page).get_by_text(re.compile(r"Ran on time at .* in [\d.]+ s"))).to_be_visible()
    page.get_by_role("button", name="Send tool results").click()
    answer = bubbles(page).filter(has_text="Here is what I found")
    expect(answer).to_contain_text("get_current_time")
    expect(answer).to_contain_text("Asia/Tokyo")
    no_exception(page)

    assert len(marked_processes(mark)) == 1
    stop(server.process)
    wait_for(lambda: marked_processes(mark) == [], what="the time server to end with the app")
