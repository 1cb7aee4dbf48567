"""Untrusted text in the real browser: no remote image loads and no link is injected.

A local server answers with Markdown images in the text and a tool call whose name and id
carry Markdown (a link, an image, a colour, a backtick that would close a code span); a stored
session's title carries an image and a link. The rendered DOM must hold no <img> pointing at
that server and no <a> to the injected addresses, and the server must receive no request for
an image — until the user presses "Load image", which then fetches it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from core.conversation import Conversation
from core.store import Store
from core.types import Message
from tests.e2e.conftest import StartServer
from tests.e2e.ui import ask, bubbles, go_to, main, no_exception, open_chat
from tests.support.wire_server import WireServer, chunks_to_sse, sse_reply

pytestmark = pytest.mark.e2e

EVIL = "http://evil.invalid"


def hostile_answer(server: WireServer) -> bytes:
    pixel = f"http://{server.host}:{server.port}/pixel.png"
    base = {"id": "chatcmpl-Hostile", "object": "chat.completion.chunk", "created": 1,
            "model": "gpt-4o"}
    name = f"get_weather` **[URGENT: Login again]({EVIL}/login)** :red[ALERT] `"
    call_id = f"call_![x](http://{server.host}:{server.port}/id.png)"
    return chunks_to_sse([
        {**base, "choices": [{"index": 0, "delta": {
            "role": "assistant", "content": f"Here is the chart: ![chart]({pixel}) done."},
            "finish_reason": None}]},
        {**base, "choices": [{"index": 0, "delta": {"tool_calls": [
            {"index": 0, "id": call_id, "type": "function",
             "function": {"name": name, "arguments": "{}"}}]}, "finish_reason": None}]},
        {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]},
    ])


def remote_images(page: Page, server: WireServer) -> list[str]:
    return page.evaluate(
        """(host) => [...document.querySelectorAll('img')].map(i => i.src)
              .filter(s => s.includes(host) || s.includes('evil.invalid'))""",
        f"{server.host}:{server.port}")


def injected_links(page: Page, server: WireServer) -> list[str]:
    """Each link to an injected address, with the element around it (to say where it is)."""
    return page.evaluate(
        """(host) => [...document.querySelectorAll('a')]
              .filter(a => a.href.includes('evil.invalid') || a.href.includes(host))
              .map(a => a.href + ' in ' + a.parentElement.outerHTML.slice(0, 300))""",
        f"{server.host}:{server.port}")


def image_requests(server: WireServer) -> list[str]:
    return [r.path for r in server.requests if r.method == "GET" and r.path.endswith(".png")]


def test_untrusted_text_loads_nothing_and_links_nowhere(
        start_server: StartServer, page: Page, tmp_path: Path) -> None:
    with WireServer() as wire:
        db_file = tmp_path / "hostile.db"
        store = Store.open(f"sqlite:///{db_file}")
        stored = Conversation(messages=[Message(role="user", content="hello")])
        store.record(stored, title=f"![t](http://{wire.host}:{wire.port}/title.png) "
                                   f"[Login again]({EVIL}/title)")
        store.engine.dispose()
        server = start_server(env={"OPENAI_BASE_URL": wire.base_url, "OPENAI_API_KEY": "",
                                   "OPENAI_MODEL": "gpt-4o",
                                   "TOOLSMITH_DATABASE_URL": f"sqlite:///{db_file}"})
        wire.script(sse_reply(hostile_answer(wire)))
        open_chat(page, server.url)
        ask(page, "Show me the weather chart")
        expect(main(page).get_by_text("image not loaded")).to_be_visible()
        expect(main(page).get_by_text("get_weather").first).to_be_visible()
        no_exception(page)
        assert remote_images(page, wire) == []
        assert injected_links(page, wire) == []
        # The tool name shows whole, as text, backticks and all.
        expect(bubbles(page).get_by_text(re.compile(r"URGENT: Login again\]")).first) \
            .to_be_visible()

        go_to(page, "History")
        expect(main(page).get_by_text(re.compile(r"\[Login again\]"))).to_be_visible()
        assert remote_images(page, wire) == []
        assert injected_links(page, wire) == []
        assert image_requests(wire) == []  # nothing was fetched behind the user's back

        # Asked for, the image loads.
        go_to(page, "Chat")
        main(page).get_by_role("button", name=re.compile(r"Load 1 image")).click()
        expect(main(page).locator(f"img[src*='{wire.port}/pixel.png']")).to_have_count(1)
        # Loaded (or failed: the test server has no such picture) means it was requested.
        page.wait_for_function(
            "() => [...document.querySelectorAll('img')]"
            ".some(i => i.src.includes('pixel.png') && i.complete)")
        # Only the picture asked for (a rerun while it loads may draw it, and fetch it, twice).
        assert set(image_requests(wire)) == {"/pixel.png"}
