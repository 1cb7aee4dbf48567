"""The Chat page against hostile servers (AppTest on the real app.py, the local wire server):
a stream cut once is retried and the answer arrives; a whole answer with a broken trailer is
kept and says what was lost; a 50 MB answer ends in a clear error with its exchange kept; an
echoed key shows nowhere."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from streamlit.testing.v1 import AppTest

from tests.support.apptest import ask, messages, rendered_text
from tests.support.wire_server import WireServer

MakeApp = Callable[[], AppTest]
KEY = "sk-test-HOSTILE-0123456789abcdef"


def use(clean_env: pytest.MonkeyPatch, server: WireServer, model: str) -> None:
    clean_env.setenv("OPENAI_BASE_URL", server.base_url)
    clean_env.setenv("OPENAI_API_KEY", KEY)
    clean_env.setenv("OPENAI_MODEL", model)


def captions(at: AppTest) -> list[str]:
    return [c.value for c in at.caption]


def test_a_stream_cut_once_is_retried_and_the_answer_arrives(
        make_app: MakeApp, clean_env: pytest.MonkeyPatch, wire_server: WireServer) -> None:
    use(clean_env, wire_server, "fault-cut-then-ok")
    at = ask(make_app(), "Weather in Boston?")
    assert not at.error, [e.value for e in at.error]
    last = messages(at)[-1]
    assert last.role == "assistant" and last.tool_calls
    assert any("succeeded on attempt 2" in c for c in captions(at)), captions(at)


def test_a_broken_trailer_keeps_the_answer_and_says_what_was_lost(
        make_app: MakeApp, clean_env: pytest.MonkeyPatch, wire_server: WireServer) -> None:
    use(clean_env, wire_server, "fault-trailer-not-json")
    at = ask(make_app(), "Weather in Boston?")
    assert not at.error, [e.value for e in at.error]
    assert messages(at)[-1].tool_calls
    assert any("The answer is complete" in c and "usage figures" in c for c in captions(at))


def test_a_50_mb_answer_ends_in_a_clear_error_and_is_recorded(
        make_app: MakeApp, clean_env: pytest.MonkeyPatch, wire_server: WireServer) -> None:
    use(clean_env, wire_server, "fault-huge-args")
    at = ask(make_app(), "Weather in Boston?")
    [error] = at.error
    assert "grew past 8 MB" in error.value and "get_current_weather" in error.value
    chat = at.session_state["chat.state"]
    assert [m.role for m in chat.conversation.messages] == ["user"]
    [exchange] = chat.conversation.exchanges.values()
    assert exchange.error == error.value.split("\n")[0] or "grew past" in (exchange.error or "")
    assert len(rendered_text(at)) < 2_000_000  # the page never carries the 50 MB


def test_an_echoed_key_shows_nowhere_on_the_page(
        make_app: MakeApp, clean_env: pytest.MonkeyPatch, wire_server: WireServer) -> None:
    use(clean_env, wire_server, "fault-echo-key-everywhere")
    at = ask(make_app(), "Weather in Boston?")
    assert messages(at)[-1].tool_calls
    at.button(key=f"chat.inspect.{messages(at)[-1].exchange_id}").click()
    at.run()
    assert KEY not in rendered_text(at)
    assert KEY[:16] not in rendered_text(at)
