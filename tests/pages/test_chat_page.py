"""The Chat and Tools pages, driven through streamlit.testing.v1.AppTest on the real app.py.

Every test starts a fresh AppTest with a clean environment (see conftest.py): no OPENAI_*
variables, so the offline demo model answers, streaming without pauses.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.errors import AppTestError

from core.types import Message, ToolCall

SEED = "What's the weather like in Boston today?"
PARALLEL = "What's the weather in Boston and Tokyo?"
RESULT = '{"temperature": 22, "unit": "celsius"}'
USAGE = re.compile(r"prompt \d+ · .*completion \d+ · .*total \d+ tokens · \(estimated\)")

MakeApp = Callable[[], AppTest]


# --- helpers ---------------------------------------------------------------------------------

def run(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def ask(at: AppTest, text: str) -> AppTest:
    at.chat_input(key="chat.input").set_value(text)
    return run(at)


def messages(at: AppTest) -> list[Message]:
    return at.session_state["chat.state"].conversation.messages


def pending_calls(at: AppTest) -> list[ToolCall]:
    last = messages(at)[-1]
    assert last.role == "assistant", last
    return last.tool_calls


def result_boxes(at: AppTest) -> list:
    return [t for t in at.text_area if (t.key or "").startswith("chat.result.")]


def send_results(at: AppTest) -> AppTest:
    at.button(key="chat.send_results").click()
    return run(at)


def markdown_texts(at: AppTest) -> list[str]:
    return [m.value for m in at.markdown]


def card_for(at: AppTest, call: ToolCall) -> str:
    """The tool-call card's heading line, which names the tool and the call id."""
    heads = [t for t in markdown_texts(at) if "🔧" in t and f"`{call.id}`" in t]
    assert len(heads) == 1, markdown_texts(at)
    return heads[0]


def is_demo_page(at: AppTest) -> bool:
    return any("Offline demo model" in i.value for i in at.info)


# --- (a) the whole demo loop -------------------------------------------------------------------

def test_demo_model_tool_call_loop(make_app: MakeApp) -> None:
    at = make_app()
    assert is_demo_page(at)
    assert not result_boxes(at)

    ask(at, SEED)

    assert [m.role for m in messages(at)] == ["user", "assistant"]
    assert messages(at)[0].content == SEED
    [call] = pending_calls(at)
    assert call.name == "get_current_weather"
    assert call.id
    card = card_for(at, call)
    assert "`get_current_weather`" in card
    assert any('"location": "Boston, MA"' in c.value for c in at.code), [c.value for c in at.code]
    [box] = result_boxes(at)
    assert box.label == f"Result of get_current_weather ({call.id})"
    assert box.key == f"chat.result.{call.id}"
    assert box.value == ""

    box.input(RESULT)
    send_results(at)

    assert not at.error, [e.value for e in at.error]
    roles = [m.role for m in messages(at)]
    assert roles == ["user", "assistant", "tool", "assistant"]
    tool_msg, answer = messages(at)[2], messages(at)[3]
    assert (tool_msg.tool_call_id, tool_msg.name, tool_msg.content) == (
        call.id, "get_current_weather", RESULT)
    assert "22" in answer.content and "celsius" in answer.content
    assert "Boston, MA" in answer.content
    assert answer.content in markdown_texts(at)
    assert not result_boxes(at)
    assert not at.chat_input(key="chat.input").disabled

    usage_captions = [c.value for c in at.caption if USAGE.search(c.value)]
    # One usage line for the tool-call turn, one for the answer.
    assert len(usage_captions) == 2, [c.value for c in at.caption]
    assert "finish: stop" in usage_captions[-1]


# --- (b) parallel calls ------------------------------------------------------------------------

def test_parallel_calls_need_every_result(make_app: MakeApp) -> None:
    at = ask(make_app(), PARALLEL)

    calls = pending_calls(at)
    assert len(calls) == 2
    assert {c.name for c in calls} == {"get_current_weather"}
    assert len({c.id for c in calls}) == 2
    assert [card_for(at, c) for c in calls]
    arguments = " ".join(c.arguments for c in calls)
    assert "Boston, MA" in arguments and "Tokyo" in arguments
    boxes = result_boxes(at)
    assert [b.label for b in boxes] == [f"Result of get_current_weather ({c.id})" for c in calls]

    # Only the first box filled: an error naming the missing call; nothing is sent.
    boxes[0].input("sunny, 20 C")
    send_results(at)
    [error] = at.error
    assert "Type a result for every call" in error.value
    assert calls[1].id in error.value
    assert calls[0].id not in error.value
    assert [m.role for m in messages(at)] == ["user", "assistant"]
    boxes = result_boxes(at)
    assert [b.value for b in boxes] == ["sunny, 20 C", ""]

    boxes[1].input("rain, 12 C")
    send_results(at)

    assert not at.error, [e.value for e in at.error]
    tool_msgs = [m for m in messages(at) if m.role == "tool"]
    assert [(m.tool_call_id, m.content) for m in tool_msgs] == [
        (calls[0].id, "sunny, 20 C"), (calls[1].id, "rain, 12 C")]
    answer = messages(at)[-1]
    assert answer.role == "assistant" and not answer.tool_calls
    assert "sunny, 20 C" in answer.content and "rain, 12 C" in answer.content
    assert not result_boxes(at)


def test_whitespace_only_result_counts_as_missing(make_app: MakeApp) -> None:
    at = ask(make_app(), SEED)
    [box] = result_boxes(at)
    box.input("   \n ")
    send_results(at)
    assert any("Type a result for every call" in e.value for e in at.error)
    assert [m.role for m in messages(at)] == ["user", "assistant"]


# --- (d) New chat ----------------------------------------------------------------------------

def test_new_chat_clears_the_conversation(make_app: MakeApp) -> None:
    at = ask(make_app(), SEED)
    [box] = result_boxes(at)
    box.input(RESULT)
    send_results(at)
    assert len(messages(at)) == 4

    at.button(key="chat.new").click()
    run(at)

    assert messages(at) == []
    assert at.session_state["chat.state"].conversation.exchanges == {}
    assert SEED not in markdown_texts(at)
    assert not [t for t in markdown_texts(at) if "🔧" in t]
    assert not result_boxes(at)
    assert not at.chat_input(key="chat.input").disabled
    assert is_demo_page(at)


def test_new_chat_while_results_are_pending_discards_them(make_app: MakeApp) -> None:
    at = ask(make_app(), SEED)
    [box] = result_boxes(at)
    box.input("typed before New chat")
    run(at)

    at.button(key="chat.new").click()
    run(at)
    assert messages(at) == []
    assert not result_boxes(at)
    assert not at.chat_input(key="chat.input").disabled

    # The demo model is deterministic, so the same question brings the same call id back:
    # the old typed text must not come back with it.
    ask(at, SEED)
    [box] = result_boxes(at)
    assert box.value == ""


# --- (e) the chat input while results are pending --------------------------------------------

def test_chat_input_disabled_while_results_pending(make_app: MakeApp) -> None:
    at = make_app()
    assert not at.chat_input(key="chat.input").disabled

    ask(at, SEED)
    chat_input = at.chat_input(key="chat.input")
    assert chat_input.disabled
    assert "Answer the pending tool calls first" in chat_input.placeholder

    # The widget really is disabled: AppTest, like a browser, refuses to type into it.
    with pytest.raises(AppTestError, match="disabled"):
        chat_input.set_value("And in Paris?")
    run(at)
    assert [m.role for m in messages(at)] == ["user", "assistant"]

    [box] = result_boxes(at)
    box.input(RESULT)
    send_results(at)
    assert not at.chat_input(key="chat.input").disabled


def test_typed_result_survives_a_visit_to_the_tools_page(make_app: MakeApp) -> None:
    at = ask(make_app(), SEED)
    [box] = result_boxes(at)
    box.input("kept while away")
    run(at)

    at.switch_page("app_pages/tools.py")
    run(at)
    assert not result_boxes(at)
    at.switch_page("app_pages/chat.py")
    run(at)

    [box] = result_boxes(at)
    assert box.value == "kept while away"
    send_results(at)
    assert "kept while away" in messages(at)[-1].content


# --- (f) streaming off -------------------------------------------------------------------------

def test_demo_loop_without_streaming(make_app: MakeApp) -> None:
    at = make_app()
    at.toggle(key="sidebar.stream").set_value(False)
    run(at)

    ask(at, SEED)
    [call] = pending_calls(at)
    assert call.name == "get_current_weather"
    assert "Boston, MA" in call.arguments
    card_for(at, call)
    [box] = result_boxes(at)
    box.input(RESULT)
    send_results(at)

    answer = messages(at)[-1]
    assert answer.role == "assistant"
    assert "22" in answer.content and "celsius" in answer.content
    exchanges = list(at.session_state["chat.state"].conversation.exchanges.values())
    assert len(exchanges) == 2
    assert all(not ex.stream for ex in exchanges)
    assert all(not ex.request_body.get("stream") for ex in exchanges)
    assert all("stream_options" not in ex.request_body for ex in exchanges)
    assert len([c for c in at.caption if USAGE.search(c.value)]) == 2


# --- (g) the Tools page ------------------------------------------------------------------------

def test_tools_page_toggle_controls_the_tools_sent(make_app: MakeApp) -> None:
    at = make_app()
    at.switch_page("app_pages/tools.py")
    run(at)

    assert [t.value for t in at.title] == ["Tools"]
    assert any("`get_current_weather`" in m for m in markdown_texts(at))
    switch = at.toggle(key="tools.enable.get_current_weather")
    assert switch.value is True

    switch.set_value(False)
    run(at)
    assert at.toggle(key="tools.enable.get_current_weather").value is False
    assert any("0 sent with each Chat request" in c.value for c in at.caption)

    at.switch_page("app_pages/chat.py")
    run(at)
    assert any("tools sent: none" in c.value for c in at.caption)
    ask(at, SEED)

    [exchange] = at.session_state["chat.state"].conversation.exchanges.values()
    assert "tools" not in exchange.request_body or exchange.request_body["tools"] == []
    answer = messages(at)[-1]
    assert answer.role == "assistant" and not answer.tool_calls
    assert not result_boxes(at)

    # Back on: the next request sends the tool again.
    at.switch_page("app_pages/tools.py")
    run(at)
    assert at.toggle(key="tools.enable.get_current_weather").value is False
    at.toggle(key="tools.enable.get_current_weather").set_value(True)
    run(at)
    at.switch_page("app_pages/chat.py")
    run(at)
    ask(at, "What's the weather in Chicago?")
    last = list(at.session_state["chat.state"].conversation.exchanges.values())[-1]
    assert [t["function"]["name"] for t in last.request_body["tools"]] == ["get_current_weather"]
    [call] = pending_calls(at)
    assert "Chicago, IL" in call.arguments
