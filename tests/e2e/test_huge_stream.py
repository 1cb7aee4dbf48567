"""50 MB of tool-call arguments, streamed to the real browser.

Before: the live card re-sent the whole growing text every 50 ms (12 MB websocket frames), the
browser fell minutes behind and the server dropped the session, losing the turn. Now the live
view sends a bounded tail, the answer is cut at the cap with a clear message, the exchange is
kept (🔍), and the page stays usable.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, WebSocket, expect

from tests.e2e.conftest import StartServer
from tests.e2e.ui import ask, error_box, main, no_exception, open_chat
from tests.support.wire_server import WireServer

pytestmark = pytest.mark.e2e

FRAME_LIMIT = 300_000  # bytes: the bounded live view plus the page around it


def test_a_50_mb_stream_keeps_frames_small_and_the_turn_recorded(
        start_server: StartServer, page: Page) -> None:
    frames: list[int] = []

    def watch(socket: WebSocket) -> None:
        socket.on("framereceived", lambda payload: frames.append(len(payload)))

    page.on("websocket", watch)
    with WireServer() as wire:
        server = start_server(env={"OPENAI_BASE_URL": wire.base_url,
                                   "OPENAI_MODEL": "fault-huge-args"})
        open_chat(page, server.url)
        ask(page, "Weather in Boston?")
        error = error_box(page)
        expect(error).to_contain_text(re.compile(r"grew past 8 MB"), timeout=120_000)
        expect(error.get_by_role("button", name="search")).to_be_visible()
        no_exception(page)
        assert frames and max(frames) < FRAME_LIMIT, max(frames)
        # The session survived: the page still answers (Retry is there, the box works).
        expect(main(page).get_by_role("button", name="Retry", exact=True)).to_be_enabled()
        expect(page.get_by_test_id("stChatInputTextArea")).to_be_enabled()
