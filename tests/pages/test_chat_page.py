"""The Chat and Tools pages, driven through streamlit.testing.v1.AppTest on the real app.py.

Every test starts a fresh AppTest with a clean environment (see conftest.py): no OPENAI_*
variables, so the offline demo model answers, streaming without pauses.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import pytest
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.errors import AppTestError

from core.types import ToolCall
from tests.support.apptest import ask, messages, rendered_text, run
from tests.support.wire_server import (
    REFERENCE_RESPONSE,
    WireServer,
    error_body,
    fixture_reply,
    json_reply,
    text_completion,
)

SEED = "What's the weather like in Boston today?"
PARALLEL = "What's the weather in Boston and Tokyo?"
RESULT = '{"temperature": 22, "unit": "celsius"}'
USAGE = re.compile(r"prompt \d+ · .*completion \d+ · .*total \d+ tokens · \(estimated\)")

MakeApp = Callable[[], AppTest]


# --- helpers ---------------------------------------------------------------------------------

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
    heads = [t for t in markdown_texts(at) if ":material/build:" in t and f"`{call.id}`" in t]
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
    assert not [t for t in markdown_texts(at) if ":material/build:" in t]
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

def send_switches(at: AppTest) -> list:
    return [t for t in at.toggle if (t.key or "").startswith("tools.enable.")]


def sent_tool_names(at: AppTest) -> list[str]:
    """The tool names the last chat request carried."""
    last = list(at.session_state["chat.state"].conversation.exchanges.values())[-1]
    return [t["function"]["name"] for t in last.request_body.get("tools") or []]


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

    at.switch_page("app_pages/chat.py")
    run(at)
    caption = next(c.value for c in at.caption if "tools sent:" in c.value)
    assert "get_current_weather" not in caption
    ask(at, SEED)
    assert "get_current_weather" not in sent_tool_names(at)
    answer = messages(at)[-1]
    assert answer.role == "assistant" and not answer.tool_calls
    assert not result_boxes(at)

    # Every switch off: the request carries no tools at all.
    at.switch_page("app_pages/tools.py")
    run(at)
    assert at.toggle(key="tools.enable.get_current_weather").value is False
    for other in send_switches(at):
        other.set_value(False)
    run(at)
    at.switch_page("app_pages/chat.py")
    run(at)
    assert any("tools sent: none" in c.value for c in at.caption)
    ask(at, "What's the weather in Chicago?")
    last = list(at.session_state["chat.state"].conversation.exchanges.values())[-1]
    assert "tools" not in last.request_body or last.request_body["tools"] == []
    assert "tool_choice" not in last.request_body
    assert not messages(at)[-1].tool_calls

    # Only the weather tool back on: it is sent, and called.
    at.switch_page("app_pages/tools.py")
    run(at)
    at.toggle(key="tools.enable.get_current_weather").set_value(True)
    run(at)
    at.switch_page("app_pages/chat.py")
    run(at)
    ask(at, "What's the weather in Seattle?")
    assert sent_tool_names(at) == ["get_current_weather"]
    [call] = pending_calls(at)
    assert call.name == "get_current_weather"
    assert "Seattle, WA" in call.arguments


def test_a_choice_whose_callback_was_skipped_is_kept_across_a_page_switch(
        make_app: MakeApp) -> None:
    """Streamlit skips a run's remaining callbacks when another request arrives during them
    (a page switch right after a choice, on a busy server): the value is applied, `keep` is
    not called. The choice must still reach the next request."""
    at = visit(make_app(), "tools")
    at.selectbox(key="tools.parallel").set_value("on")  # kept by its callback
    run(at)
    at.session_state["tools.parallel"] = "off"  # applied without its callback
    visit(run(at), "chat")
    ask(at, PARALLEL)
    assert last_request(at)["parallel_tool_calls"] is False


def visit(at: AppTest, page: str) -> AppTest:
    at.switch_page(f"app_pages/{page}.py")
    return run(at)


def last_request(at: AppTest) -> dict:
    return list(at.session_state["chat.state"].conversation.exchanges.values())[-1].request_body


def test_tool_choice_and_parallel_switches_reach_the_request(make_app: MakeApp) -> None:
    at = visit(make_app(), "tools")
    at.selectbox(key="tools.parallel").set_value("off")
    visit(run(at), "chat")

    ask(at, PARALLEL)
    assert last_request(at)["parallel_tool_calls"] is False
    assert len(pending_calls(at)) == 1  # the demo model obeys: one call, not two

    at.button(key="chat.new").click()
    run(at)
    at.switch_page("app_pages/tools.py")
    run(at)
    at.selectbox(key="tools.tool_choice").set_value("none")
    run(at)
    at.switch_page("app_pages/chat.py")
    run(at)
    ask(at, SEED)
    last = list(at.session_state["chat.state"].conversation.exchanges.values())[-1]
    assert last.request_body["tool_choice"] == "none"
    assert "get_current_weather" in sent_tool_names(at)
    assert not messages(at)[-1].tool_calls
    assert "tool_choice: none" in messages(at)[-1].content


def test_canned_result_fills_the_box(make_app: MakeApp) -> None:
    at = ask(make_app(), SEED)
    [call] = pending_calls(at)
    at.button(key=f"chat.canned.{call.id}.ok").click()
    run(at)
    [box] = result_boxes(at)
    canned = box.value
    assert json.loads(canned)["location"] == json.loads(call.arguments)["location"]
    send_results(at)
    assert messages(at)[-2].content == canned
    assert "sunny" in messages(at)[-1].content


def test_pending_banner_wording_for_one_call(make_app: MakeApp) -> None:
    at = ask(make_app(), SEED)
    banner = next(t for t in markdown_texts(at) if "is waiting for the result" in t)
    assert "result of call." not in banner


# --- (c) errors from a real (local) server ---------------------------------------------------

FAKE_KEY = "sk-test-MARKER-123456"
REFERENCE_CALL_ID = REFERENCE_RESPONSE["choices"][0]["message"]["tool_calls"][0]["id"]


def use_wire_server(clean_env: pytest.MonkeyPatch, wire: WireServer, model: str) -> None:
    clean_env.setenv("OPENAI_BASE_URL", wire.base_url)
    clean_env.setenv("OPENAI_API_KEY", FAKE_KEY)
    clean_env.setenv("OPENAI_MODEL", model)


def error_box(at: AppTest) -> str:
    [error] = at.error
    return error.value


def test_rejected_key_shows_a_clear_error_then_retry_works(
    make_app: MakeApp, clean_env: pytest.MonkeyPatch, wire_server: WireServer,
) -> None:
    use_wire_server(clean_env, wire_server, "fault-401")
    at = make_app()
    assert not is_demo_page(at)

    ask(at, SEED)

    message = error_box(at)
    assert message.startswith("The server answered 401: the API key was rejected.")
    assert "OPENAI_API_KEY" in message
    assert any("Incorrect API key provided" in c.value for c in at.caption)
    assert at.button(key="chat.retry").label == "Retry"
    assert [m.role for m in messages(at)] == ["user"]
    assert SEED in markdown_texts(at)
    # The key went out in the header, and nowhere on the page.
    [request] = wire_server.chat_requests
    assert request.headers["authorization"] == f"Bearer {FAKE_KEY}"
    assert FAKE_KEY not in rendered_text(at)
    assert "MARKER-123456" not in rendered_text(at)

    # The server answers normally from now on (scripted replies come before the fault).
    wire_server.script(
        fixture_reply("standard_tool_call"),
        text_completion("It is 11 C and foggy in Boston.", stream=True, model="fault-401"),
    )
    at.button(key="chat.retry").click()
    run(at)

    assert not at.error, [e.value for e in at.error]
    [call] = pending_calls(at)
    assert (call.id, call.name) == (REFERENCE_CALL_ID, "get_current_weather")
    card_for(at, call)
    [box] = result_boxes(at)
    assert box.label == f"Result of get_current_weather ({REFERENCE_CALL_ID})"
    box.input("11 C, fog")
    send_results(at)

    assert not at.error, [e.value for e in at.error]
    assert messages(at)[-1].content == "It is 11 C and foggy in Boston."
    assert "It is 11 C and foggy in Boston." in markdown_texts(at)
    follow_up = wire_server.chat_requests[-1].json
    assert follow_up["messages"][-1] == {
        "role": "tool", "tool_call_id": REFERENCE_CALL_ID, "content": "11 C, fog"}
    assert follow_up["messages"][-2]["tool_calls"][0]["id"] == REFERENCE_CALL_ID
    assert FAKE_KEY not in rendered_text(at)


def test_inspector_and_request_code_never_show_the_key(
    make_app: MakeApp, clean_env: pytest.MonkeyPatch, wire_server: WireServer,
) -> None:
    use_wire_server(clean_env, wire_server, "fault-401")
    at = ask(make_app(), SEED)
    assert error_box(at).startswith("The server answered 401")

    [inspect] = [b for b in at.button if (b.key or "").startswith("chat.inspect.")]
    inspect.click()
    run(at)
    at.toggle(key="chat.show_code").set_value(True)
    run(at)

    shown = rendered_text(at)
    assert "Bearer $OPENAI_API_KEY" in shown  # the header is there, as a placeholder
    assert any("curl" in c.value and wire_server.base_url in c.value for c in at.code)
    assert FAKE_KEY not in shown
    assert "MARKER-123456" not in shown


def test_server_error_is_retried_then_reported_and_retry_recovers(
    make_app: MakeApp, clean_env: pytest.MonkeyPatch, wire_server: WireServer,
) -> None:
    use_wire_server(clean_env, wire_server, "fault-500")
    at = make_app()

    ask(at, "Say hello")

    message = error_box(at)
    assert message.startswith("The server answered 500 (after 3 attempts)")
    assert "Retry" in message
    assert len(wire_server.chat_requests) == 3  # the first try and two automatic retries
    assert [m.role for m in messages(at)] == ["user"]
    assert "Say hello" in markdown_texts(at)
    assert FAKE_KEY not in rendered_text(at)

    wire_server.script(text_completion("Hello again.", stream=True, model="fault-500"))
    at.button(key="chat.retry").click()
    run(at)

    assert not at.error
    assert [m.role for m in messages(at)] == ["user", "assistant"]
    assert messages(at)[-1].content == "Hello again."
    assert "Hello again." in markdown_texts(at)
    assert not [b for b in at.button if b.key == "chat.retry"]


def test_failed_follow_up_keeps_the_sent_results(
    make_app: MakeApp, clean_env: pytest.MonkeyPatch, wire_server: WireServer,
) -> None:
    use_wire_server(clean_env, wire_server, "gpt-4o-2024-08-06")
    at = ask(make_app(), SEED)
    [call] = pending_calls(at)
    [box] = result_boxes(at)
    box.input("22 C")
    wire_server.script(json_reply(error_body(
        "messages[2]: tool message is too long", "invalid_request_error"), 400))
    send_results(at)

    assert error_box(at).startswith("The server answered 400")
    assert [m.role for m in messages(at)] == ["user", "assistant", "tool"]
    assert messages(at)[-1].content == "22 C"
    assert not result_boxes(at)
    assert not at.chat_input(key="chat.input").disabled

    at.button(key="chat.retry").click()
    run(at)
    assert not at.error
    assert messages(at)[-1].content == f"Tool results: {call.id} said 22 C"
    assert len(wire_server.chat_requests) == 3


def test_key_echoed_in_an_error_body_is_not_shown(
    make_app: MakeApp, clean_env: pytest.MonkeyPatch, wire_server: WireServer,
) -> None:
    use_wire_server(clean_env, wire_server, "gpt-4o-2024-08-06")
    at = make_app()
    wire_server.script(json_reply(error_body(
        f"Invalid token: {FAKE_KEY}", "invalid_request_error", "invalid_api_key"), 401))

    ask(at, SEED)

    assert error_box(at).startswith("The server answered 401")
    assert FAKE_KEY not in rendered_text(at)


def test_load_model_list_from_the_server(
    make_app: MakeApp, clean_env: pytest.MonkeyPatch, wire_server: WireServer,
) -> None:
    use_wire_server(clean_env, wire_server, "gpt-4o-mini")
    at = make_app()
    at.button(key="sidebar.load_models").click()
    at.run()

    assert not at.exception, [e.value for e in at.exception][:1]
    assert wire_server.requests[-1].path == "/v1/models"
    options = at.selectbox(key="sidebar.model").options
    assert {"gpt-4o-2024-08-06", "gpt-4o-mini", "wire-echo"} <= set(options)
    assert not [e for e in at.sidebar.error]


def test_sidebar_settings_and_typed_key_reach_the_request(
    make_app: MakeApp, clean_env: pytest.MonkeyPatch, wire_server: WireServer,
) -> None:
    typed_key = "sk-typed-MARKER-987654"
    clean_env.setenv("OPENAI_BASE_URL", wire_server.base_url)  # a local server: no key needed
    clean_env.setenv("OPENAI_MODEL", "gpt-4o-mini")
    at = make_app()
    assert not is_demo_page(at)
    assert at.text_input(key="sidebar.base_url").value == wire_server.base_url

    at.text_input(key="sidebar.api_key").input(typed_key)
    run(at)
    # The key leaves the widget at once and is only named, never shown.
    assert at.text_input(key="sidebar.api_key").value == ""
    assert any("API key set (typed" in c.value for c in at.sidebar.caption)
    at.text_area(key="sidebar.system_prompt").input("Answer in one sentence.")
    at.slider(key="sidebar.temperature").set_value(0.25)
    at.number_input(key="sidebar.max_tokens").set_value(256)
    run(at)

    ask(at, SEED)

    [request] = wire_server.chat_requests
    assert request.headers["authorization"] == f"Bearer {typed_key}"
    body = request.json
    assert body["model"] == "gpt-4o-mini"
    assert body["messages"][:2] == [
        {"role": "system", "content": "Answer in one sentence."},
        {"role": "user", "content": SEED}]
    assert (body["temperature"], body["max_tokens"], body["stream"]) == (0.25, 256, True)
    assert typed_key not in json.dumps(body)
    assert pending_calls(at)[0].id == REFERENCE_CALL_ID
    assert typed_key not in rendered_text(at)
    assert "MARKER-987654" not in rendered_text(at)


def test_html_page_answering_a_stream_request_is_named(
    make_app: MakeApp, clean_env: pytest.MonkeyPatch, wire_server: WireServer,
) -> None:
    use_wire_server(clean_env, wire_server, "fault-html-200")
    at = ask(make_app(), SEED)
    message = error_box(at) + " " + " ".join(c.value for c in at.caption)
    assert "HTML page" in message
    assert "base URL" in message


def test_retry_this_turn_replaces_the_pending_calls_everywhere(make_app: MakeApp) -> None:
    """Retry this turn drops the answer with the calls and asks again; the stored session
    follows (no second session), and the dropped request stays inspectable."""
    from components.storage import store

    at = ask(make_app(), SEED)
    [first] = pending_calls(at)
    exchanges_before = len(at.session_state["chat.state"].conversation.exchanges)
    at.button(key="chat.regenerate").click()
    run(at)
    conversation = at.session_state["chat.state"].conversation
    assert [m.role for m in conversation.messages] == ["user", "assistant"]
    assert len(conversation.exchanges) == exchanges_before + 1
    [again] = pending_calls(at)
    assert again.name == first.name
    stored = store().load(conversation.id)
    assert stored is not None
    assert [m.id for m in stored.messages] == [m.id for m in conversation.messages]
    assert len(store().list_sessions()) == 1


def test_canned_results_and_example_follow_the_call(make_app: MakeApp) -> None:
    at = ask(make_app(), "What's the weather like in Paris in fahrenheit?")
    [call] = pending_calls(at)
    arguments = json.loads(call.arguments)
    assert call.name == "get_current_weather" and "Paris" in arguments["location"]
    [box] = result_boxes(at)
    assert arguments["location"] in box.placeholder and "Boston" not in box.placeholder
    at.button(key=f"chat.canned.{call.id}.ok").click()
    run(at)
    [box] = result_boxes(at)
    result = json.loads(box.value)
    assert result["location"] == arguments["location"]
    assert result["unit"] == arguments.get("unit", "celsius")


def test_example_of_another_tool_is_not_the_weather(make_app: MakeApp) -> None:
    at = ask(make_app(), "Convert 10 km to miles")
    [call] = pending_calls(at)
    assert call.name == "convert_units"
    [box] = result_boxes(at)
    assert "temperature" not in box.placeholder and '"unit": "mi"' in box.placeholder
