"""The automatic loop in a real browser: a server set to run automatically, a model that keeps
calling its (slow) tool, and Stop pressed while a call runs: the loop ends there, with the
calls left for the user, long before the step limit."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import StartServer
from tests.e2e.ui import ask, bubbles, by_key, go_to, main, no_exception, open_chat
from tests.support.mcp_servers import EVERYTHING, need_everything
from tests.support.wire_server import WireServer, json_reply

pytestmark = pytest.mark.e2e
SLOW = "trigger-long-running-operation"


def calling(n: int) -> dict:
    return {"id": f"chatcmpl-{n}", "object": "chat.completion", "model": "m", "choices": [{
        "index": 0, "finish_reason": "tool_calls", "message": {
            "role": "assistant", "content": None, "tool_calls": [{
                "id": f"call_{n}", "type": "function", "function": {
                    "name": SLOW, "arguments": json.dumps({"duration": 3, "steps": 3})}}]}}]}


def test_stop_ends_the_automatic_loop(start_server: StartServer, page: Page, tmp_path) -> None:
    need_everything()
    config = tmp_path / "mcp.json"
    config.write_text(json.dumps({"mcpServers": {
        "everything": {"command": "node", "args": [str(EVERYTHING), "stdio"]}}}))
    with WireServer() as wire:
        wire.script(*(json_reply(calling(n)) for n in range(30)))
        server = start_server(env={"OPENAI_BASE_URL": wire.base_url, "OPENAI_MODEL": "m",
                                   "TOOLSMITH_MCP_CONFIG": str(config)})
        open_chat(page, server.url)
        go_to(page, "Tools")
        expect(main(page).get_by_text(re.compile(r"everything\s*— .* · connected"))) \
            .to_be_visible()
        by_key(page, "tools.mcp.approval.everything").get_by_text("Run automatically").click()
        expect(by_key(page, "tools.mcp.approval.everything").get_by_role(
            "radio", name="Run automatically")).to_be_checked()
        go_to(page, "Chat")
        ask(page, "Keep going")
        stop = by_key(page, "chat.mcp.stop").get_by_role("button")
        expect(stop).to_be_visible()
        stop.click()
        expect(main(page).get_by_text("Stopped: the calls below wait for you.")) \
            .to_be_visible(timeout=30_000)
        sent = len(wire.chat_requests)
        assert 1 <= sent <= 3  # stopped within a step, far below the limit of 10
        expect(main(page).get_by_role("button", name="Continue automatically")).to_be_visible()
        expect(bubbles(page).filter(has_text="call id").last).to_contain_text(SLOW)
        no_exception(page)
        assert len(wire.chat_requests) == sent  # nothing more went out
