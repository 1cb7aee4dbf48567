"""The Chat page with a real MCP server (`mcp-server-time` over stdio), through AppTest: the
demo model calls the server's tool; Approve runs it and fills the box; Deny words an error;
automatic servers loop until the model stops, the step limit, or Stop; every run is kept with
the conversation (inspector, database, export/import)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.session_io import dumps, export_session, import_session
from core.store import Store, default_url
from core.tools.mcp_client import manager
from tests.support.apptest import ask, messages, rendered_text, run
from tests.support.mcp_servers import TIME_SERVER
from tests.support.wire_server import WireServer, json_reply

TIME = {"command": str(TIME_SERVER), "args": ["--local-timezone", "UTC"]}
TOKYO = "What time is it in Tokyo?"


@pytest.fixture
def mcp_file(clean_env: pytest.MonkeyPatch) -> Iterator[Path]:
    data = Path(os.environ["TOOLSMITH_DATA_DIR"])
    data.mkdir(parents=True, exist_ok=True)
    path = data / "mcp.json"
    path.write_text(json.dumps({"mcpServers": {"time": TIME}}))
    try:
        yield path
    finally:
        manager().sync([])


@pytest.fixture
def chat(make_app: Callable[[], AppTest], mcp_file: Path) -> Callable[[], AppTest]:
    return make_app


def result_box(at: AppTest) -> tuple[str, bool]:
    (call,) = messages(at)[-1].tool_calls
    return (at.text_area(key=f"chat.result.{call.id}").value,
            at.checkbox(key=f"chat.result_error.{call.id}").value)


def set_auto(at: AppTest, server: str = "time") -> None:
    at.switch_page("app_pages/tools.py")
    run(at)
    at.radio(key=f"tools.mcp.approval.{server}").set_value("auto")
    run(at)
    at.switch_page("app_pages/chat.py")
    run(at)


def test_approve_runs_the_call_fills_the_box_and_the_model_answers(chat):
    at = ask(chat(), TOKYO)
    (call,) = messages(at)[-1].tool_calls
    assert call.name == "get_current_time" and json.loads(call.arguments) == {
        "timezone": "Asia/Tokyo"}
    assert "served by `time` · asks before each call" in rendered_text(at)
    at.button(key=f"chat.mcp.run.{call.id}").click()
    run(at)
    text, is_error = result_box(at)
    assert json.loads(text)["timezone"] == "Asia/Tokyo" and not is_error
    conversation = at.session_state["chat.state"].conversation
    (recorded,) = [e for e in conversation.exchanges.values() if e.wire == "mcp"]
    assert recorded.request_body["params"] == {"name": "get_current_time",
                                               "arguments": {"timezone": "Asia/Tokyo"}}
    assert recorded.response_body["content"][0]["text"] == text
    assert recorded.ended_at >= recorded.started_at
    at.button(key="chat.send_results").click()
    run(at)
    tool_message, answer = messages(at)[-2:]
    assert tool_message.exchange_id == recorded.id
    assert "get_current_time" in answer.content and "Asia/Tokyo" in answer.content
    # kept with the conversation: the store, and an export/import round trip
    store = Store.open(default_url())
    stored = store.load(conversation.id)
    assert recorded.id in stored.exchanges and stored.exchanges[recorded.id].wire == "mcp"
    exported = export_session(store, conversation.id)
    copy_id = import_session(store, dumps(exported).encode())
    copy = store.load(copy_id)
    runs = [e for e in copy.exchanges.values() if e.wire == "mcp"]
    assert runs and runs[0].request_body["params"]["arguments"] == {"timezone": "Asia/Tokyo"}
    # the inspector shows the call
    at.button(key=f"chat.inspect.{recorded.id}").click()
    run(at)
    assert f"**MCP call** `{recorded.id}` · tools/call `get_current_time`" in rendered_text(at)


def test_deny_puts_an_error_result_the_user_can_word(chat):
    at = ask(chat(), TOKYO)
    (call,) = messages(at)[-1].tool_calls
    at.button(key=f"chat.mcp.deny.{call.id}").click()
    run(at)
    text, is_error = result_box(at)
    assert "denied" in text and is_error
    at.text_area(key=f"chat.result.{call.id}").input("Not now, please.")
    run(at)
    at.button(key="chat.send_results").click()
    run(at)
    tool_message = messages(at)[-2]
    assert tool_message.content == "Not now, please." and tool_message.is_error
    assert not [e for e in at.session_state["chat.state"].conversation.exchanges.values()
                if e.wire == "mcp"]  # nothing ran


def tool_call_reply(*calls: tuple[str, str, dict]) -> dict:
    return {"id": "chatcmpl-1", "object": "chat.completion", "model": "m", "choices": [{
        "index": 0, "finish_reason": "tool_calls", "message": {
            "role": "assistant", "content": None, "tool_calls": [
                {"id": ident, "type": "function",
                 "function": {"name": name, "arguments": json.dumps(args)}}
                for ident, name, args in calls]}}]}


def test_a_tool_error_sets_the_error_switch_and_run_all_runs_parallel_calls(chat, clean_env):
    with WireServer() as server:
        server.script(json_reply(tool_call_reply(
            ("call_a", "get_current_time", {"timezone": "Nowhere/Atlantis"}),
            ("call_b", "get_current_time", {"timezone": "Europe/Paris"}))))
        clean_env.setenv("OPENAI_BASE_URL", server.base_url)
        clean_env.setenv("OPENAI_MODEL", "m")
        at = ask(chat(), "time please")
        at.button(key="chat.mcp.run_all").click()
        run(at)
    assert at.checkbox(key="chat.result_error.call_a").value is True
    assert "Invalid timezone" in at.text_area(key="chat.result.call_a").value
    assert at.checkbox(key="chat.result_error.call_b").value is False
    assert json.loads(at.text_area(key="chat.result.call_b").value)["timezone"] == \
        "Europe/Paris"


def test_automatic_server_runs_the_loop_to_the_answer(chat):
    at = chat()
    set_auto(at)
    at = ask(at, TOKYO)
    roles = [m.role for m in messages(at)]
    assert roles == ["user", "assistant", "tool", "assistant"]
    assert "Asia/Tokyo" in messages(at)[-1].content
    assert messages(at)[2].exchange_id  # the run is linked


def test_automatic_loop_stops_at_the_step_limit_and_on_stop(chat, clean_env):
    with WireServer() as server:
        server.script(*(json_reply(tool_call_reply(
            (f"call_{n}", "get_current_time", {"timezone": "Europe/Paris"})))
            for n in range(20)))
        clean_env.setenv("OPENAI_BASE_URL", server.base_url)
        clean_env.setenv("OPENAI_MODEL", "loop-model")
        at = chat()
        set_auto(at)
        at.switch_page("app_pages/tools.py")
        run(at)
        at.number_input(key="tools.mcp.step_limit").set_value(3)
        run(at)
        at.switch_page("app_pages/chat.py")
        run(at)
        at = ask(at, "Keep checking the time in Paris")
        roles = [m.role for m in messages(at)]
        assert roles == ["user", *["assistant", "tool"] * 3, "assistant"]
        assert len(server.chat_requests) == 4
        assert "step limit" in rendered_text(at)
        # Continue: a fresh allowance of steps
        at.session_state["mcp.step_limit"] = 5
        at.button(key="chat.mcp.continue").click()
        run(at)
        assert len(server.chat_requests) == 9
        # Stop pressed during a step (its callback sets the flag the next run reads): the
        # loop ends at once, with the calls left for the user
        at.session_state["mcp.auto"]["steps"] = 0
        at.session_state["mcp.auto"]["stopped"] = True
        run(at)
        assert len(server.chat_requests) == 9
        assert "Stopped: the calls below wait for you." in rendered_text(at)
        assert at.button(key=f"chat.mcp.run.{messages(at)[-1].tool_calls[0].id}")


def test_simulate_fills_the_box_from_a_separate_marked_request(chat):
    at = chat()
    at = ask(at, "What's the weather like in Boston today?")
    (call,) = messages(at)[-1].tool_calls
    at.button(key=f"chat.simulate.{call.id}").click()
    run(at)
    text, is_error = result_box(at)
    simulated = json.loads(text)
    assert simulated["arguments"]["location"] == "Boston, MA" and not is_error
    assert "simulated offline" in simulated["note"]
    conversation = at.session_state["chat.state"].conversation
    (exchange,) = [e for e in conversation.exchanges.values() if e.purpose == "simulate"]
    assert not exchange.request_body.get("tools")  # asks for text, offers no tools
    assert "[toolsmith:simulate-tool-result]" in json.dumps(exchange.request_body)
    assert "Simulated by `toolsmith-demo`" in rendered_text(at)
    at.button(key=f"chat.inspect.{exchange.id}").click()
    run(at)
    assert "A simulated tool result" in rendered_text(at)
    # Usage: marked as simulated traffic
    at.button(key="chat.send_results").click()
    run(at)
    from core.usage import exchanges_frame
    frame = exchanges_frame(Store.open(default_url()))
    assert sorted(frame["traffic"]) == ["chat", "chat", "simulated"]


def test_generate_image_http_tool_runs_against_the_demo_model_and_shows_the_image(chat):
    at = ask(chat(), "Generate an image of a red fox in the snow")
    (call,) = messages(at)[-1].tool_calls
    assert call.name == "generate_image"
    assert "an HTTP tool" in rendered_text(at)
    at.button(key=f"chat.mcp.run.{call.id}").click()
    run(at)
    text, is_error = result_box(at)
    assert not is_error and "[image 1:" in text and "revised_prompt" in text
    assert len(at.get("image")) == 1  # shown inline under the box
    conversation = at.session_state["chat.state"].conversation
    (exchange,) = [e for e in conversation.exchanges.values() if e.wire == "http-tool"]
    assert exchange.url == "http://toolsmith-demo.invalid/v1/images/generations"
    assert exchange.request_headers == {"Authorization": "Bearer $OPENAI_API_KEY"}
    assert exchange.status == 200
    at.button(key=f"chat.inspect.{exchange.id}").click()
    run(at)
    assert "**HTTP tool**" in rendered_text(at)


def test_images_go_with_the_sent_result_and_chat_completions_says_what_is_sent(chat):
    at = ask(chat(), "Generate an image of a red fox in the snow")
    (call,) = messages(at)[-1].tool_calls
    at.button(key=f"chat.mcp.run.{call.id}").click()
    run(at)
    assert "Chat Completions tool messages carry text only" in rendered_text(at)
    at.button(key="chat.send_results").click()
    run(at)
    tool_message = messages(at)[-2]
    (image,) = tool_message.images
    assert image.mime_type == "image/png" and image.data
    conversation = at.session_state["chat.state"].conversation
    last = conversation.exchanges[messages(at)[-1].exchange_id]
    sent = last.request_body["messages"][-1]
    assert sent["role"] == "tool" and isinstance(sent["content"], str)  # text only here
    assert len(at.get("image")) == 1  # shown in the history with the result


@pytest.mark.parametrize(("wire", "prefix"), [
    ("openai", "OPENAI"), ("anthropic", "ANTHROPIC"), ("responses", "OPENAI")])
def test_mcp_tools_are_sent_next_to_library_tools_in_every_wire_format(
        chat, clean_env, wire, prefix):
    from tests.support.responses_server import ResponsesWireServer

    with ResponsesWireServer() as server:
        base = server.base_url if wire != "anthropic" else server.base_url.removesuffix("/v1")
        clean_env.setenv("TOOLSMITH_WIRE_FORMAT", wire)
        clean_env.setenv(f"{prefix}_BASE_URL", base)
        clean_env.setenv(f"{prefix}_API_KEY", "sk-test-mcp")
        clean_env.setenv(f"{prefix}_MODEL", "gpt-4o-2024-08-06")
        at = ask(chat(), "What's the weather like in Boston today?")
        conversation = at.session_state["chat.state"].conversation
        (exchange,) = [e for e in conversation.exchanges.values() if e.wire == wire]
    from core.wire import wire_format

    sent = wire_format(wire).sent_tool_schemas(exchange.request_body)
    assert {"get_current_time", "convert_time", "get_current_weather"} <= set(sent)


def test_structured_content_that_breaks_the_output_schema_is_shown_with_its_violations(
        chat, clean_env, mcp_file):
    from tests.support.mcp_servers import ODD_SERVER

    mcp_file.write_text(json.dumps({"mcpServers": {"odd": {
        "command": "python3", "args": [str(ODD_SERVER)]}}}))
    with WireServer() as server:
        server.script(json_reply(tool_call_reply(("call_w", "weather_report", {}))))
        clean_env.setenv("OPENAI_BASE_URL", server.base_url)
        clean_env.setenv("OPENAI_MODEL", "m")
        at = ask(chat(), "weather report please")
        at.button(key="chat.mcp.run.call_w").click()
        run(at)
    assert json.loads(at.text_area(key="chat.result.call_w").value) == {
        "temperature": "warm", "unit": "K"}  # the result is kept, to send or edit
    assert any("structuredContent breaks the tool's output schema (2 violations)" in e.value
               for e in at.error)
    (table,) = at.table
    problems = table.value.to_dict("records")
    # Pointers are shown as code spans (server text in a table cell renders as Markdown).
    assert {p["where"].strip("`") for p in problems} == {"/temperature", "/unit"}


def test_tool_runs_are_not_counted_as_requests_in_history(chat):
    at = ask(chat(), TOKYO)
    (call,) = messages(at)[-1].tool_calls
    at.button(key=f"chat.mcp.run.{call.id}").click()
    run(at)
    at.button(key="chat.send_results").click()
    run(at)
    store = Store.open(default_url())
    (info,) = store.list_sessions()
    assert info.requests == 2  # the two model turns; the MCP call is kept but not counted
    assert len(store.load(info.id).exchanges) == 3
