"""core.wire.openai_responses: request shape, answers whole and streamed (hand-written fixtures
in tests/fixtures/responses, split at every byte boundary), and the full tool loop against a
local server that speaks the format (tests/support/responses_server.py), switching formats
mid-conversation both ways."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from core.config import Endpoint, initial_endpoint
from core.turn import run_turn
from core.types import ChatSettings, Message, ToolCall, ToolSpec
from core.wire import errors, wire_format
from core.wire import openai_responses as rsp
from core.wire.http import Timeouts
from core.wire.sse import SSEDecoder
from tests.support.responses_fixtures import (
    RESPONSES_FIXTURES,
    RspExpected,
    load_responses_fixture,
)
from tests.support.responses_server import ResponsesWireServer

KEY = "sk-test-responses-KEY"
WEATHER = ToolSpec(
    name="get_current_weather", description="Get the current weather in a given location",
    parameters={"type": "object", "properties": {
        "location": {"type": "string", "description": "The city and state, e.g. Boston, MA"},
        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
        "required": ["location"]})
QUESTION = "What's the weather like in Boston today?"


def settings(**kw: Any) -> ChatSettings:
    return ChatSettings(**{"model": "gpt-4o-mini", "stream": False, **kw})


# --- request ----------------------------------------------------------------------------------


def test_request_shape() -> None:
    call = ToolCall("call_1", "get_current_weather", '{"location": "Boston, MA"}')
    history = [Message(role="user", content=QUESTION),
               Message(role="assistant", content="Checking.", tool_calls=[call]),
               Message(role="tool", content='{"temperature": 22}', tool_call_id="call_1")]
    body = rsp.build_request(history, [WEATHER], settings(
        system_prompt="Be brief.", max_tokens=300, temperature=0.5, stream=True,
        tool_choice={"type": "function", "function": {"name": "get_current_weather"}},
        parallel_tool_calls=False))
    assert body == {
        "model": "gpt-4o-mini", "instructions": "Be brief.",
        "input": [
            {"role": "user", "content": QUESTION},
            {"role": "assistant", "content": "Checking."},
            {"type": "function_call", "call_id": "call_1", "name": "get_current_weather",
             "arguments": '{"location": "Boston, MA"}'},
            {"type": "function_call_output", "call_id": "call_1",
             "output": '{"temperature": 22}'}],
        "tools": [{"type": "function", "name": "get_current_weather",
                   "description": WEATHER.description, "parameters": WEATHER.parameters,
                   "strict": False}],
        "tool_choice": {"type": "function", "name": "get_current_weather"},
        "parallel_tool_calls": False, "temperature": 0.5, "max_output_tokens": 300,
        "store": False, "stream": True}


@pytest.mark.parametrize(("choice", "wire"), [
    ("auto", "auto"), ("none", "none"), ("required", "required"), (None, None),
    ({"type": "function", "function": {"name": "f"}}, {"type": "function", "name": "f"})])
def test_tool_choice_in_its_shape(choice: Any, wire: Any) -> None:
    body = rsp.build_request([Message(role="user", content="q")], [WEATHER],
                             settings(tool_choice=choice))
    assert body.get("tool_choice") == wire
    assert rsp.read_request(body).settings.tool_choice == choice


def test_strict_is_always_explicit() -> None:
    for strict, sent in ((None, False), (False, False), (True, True)):
        tool = ToolSpec(WEATHER.name, WEATHER.description, WEATHER.parameters, strict=strict)
        assert rsp.tool_to_wire(tool)["strict"] is sent


def test_reasoning_models_ask_for_encrypted_reasoning_and_carry_it_back() -> None:
    plain = rsp.build_request([Message(role="user", content="q")], [], settings())
    assert "include" not in plain and "reasoning" not in plain  # gpt-4o answers 400 to it
    options = {"reasoning_effort": "low", "reasoning_summary": "auto"}
    item = {"type": "reasoning", "id": "rs_1", "summary": [],
            "encrypted_content": "gAAA-opaque"}
    history = [Message(role="user", content="q"),
               Message(role="assistant", tool_calls=[ToolCall("call_9", "f", "{}")],
                       reasoning_items=[item]),
               Message(role="tool", content="ok", tool_call_id="call_9")]
    body = rsp.build_request(history, [], settings(model="o4-mini", options=options))
    assert body["include"] == ["reasoning.encrypted_content"]
    assert body["reasoning"] == {"effort": "low", "summary": "auto"}
    # The reasoning item goes back in front of the call it led to.
    assert [i.get("type", "message") for i in body["input"]] == [
        "message", "reasoning", "function_call", "function_call_output"]
    assert body["input"][1] == item


def test_a_sent_body_reads_back_with_its_reasoning_items() -> None:
    item = {"type": "reasoning", "id": "rs_1", "summary": [
        {"type": "summary_text", "text": "Thinking."}], "encrypted_content": "gAAA"}
    history = [Message(role="user", content="q"),
               Message(role="assistant", content="Let me see.",
                       tool_calls=[ToolCall("c1", "f", "{}")], reasoning_items=[item]),
               Message(role="tool", content="ok", tool_call_id="c1"),
               Message(role="assistant", content="Done.")]
    back = rsp.read_request(rsp.build_request(history, [WEATHER], settings()))
    assert [(m.role, m.content, [c.id for c in m.tool_calls]) for m in back.messages] == [
        ("user", "q", []), ("assistant", "Let me see.", ["c1"]), ("tool", "ok", []),
        ("assistant", "Done.", [])]
    assert back.messages[1].reasoning_items == [item]
    assert back.messages[1].reasoning == "Thinking."


# --- whole answers ----------------------------------------------------------------------------


def test_parse_text_calls_reasoning_and_unknown_items() -> None:
    body = {"id": "resp_1", "object": "response", "status": "completed", "output": [
        {"type": "reasoning", "id": "rs_1", "summary": [
            {"type": "summary_text", "text": "One."}, {"type": "summary_text", "text": "Two."}],
         "encrypted_content": "gAAA"},
        {"type": "file_search_call", "id": "fs_1", "status": "completed"},
        {"type": "message", "role": "assistant", "content": [
            {"type": "output_text", "text": "Sure.", "annotations": []}]},
        {"type": "function_call", "id": "fc_1", "call_id": "call_a", "name": "f",
         "arguments": '{"x": 1}'},
        {"type": "function_call", "id": "fc_2", "call_id": "call_b", "name": "g",
         "arguments": "{}"}],
        "usage": {"input_tokens": 50, "input_tokens_details": {"cached_tokens": 10},
                  "output_tokens": 30, "output_tokens_details": {"reasoning_tokens": 12},
                  "total_tokens": 80}}
    message = rsp.parse_response(body)
    assert (message.content, message.reasoning, message.finish_reason) == (
        "Sure.", "One.\n\nTwo.", "completed")
    assert [(c.id, c.name, c.arguments) for c in message.tool_calls] == [
        ("call_a", "f", '{"x": 1}'), ("call_b", "g", "{}")]
    assert message.reasoning_items == [{"type": "reasoning", "id": "rs_1", "summary": [
        {"type": "summary_text", "text": "One."}, {"type": "summary_text", "text": "Two."}],
        "encrypted_content": "gAAA"}]
    usage = message.usage
    assert usage is not None
    assert (usage.prompt_tokens, usage.cached_tokens, usage.completion_tokens,
            usage.reasoning_tokens, usage.total_tokens) == (50, 10, 30, 12, 80)


def test_parse_refusal_incomplete_and_failed() -> None:
    refused = rsp.parse_response({"status": "incomplete", "incomplete_details": {
        "reason": "content_filter"}, "output": [{"type": "message", "content": [
            {"type": "refusal", "refusal": "I can't help with that."}]}]})
    assert (refused.content, refused.finish_reason) == (
        "I can't help with that.", "incomplete:content_filter")
    with pytest.raises(errors.StreamErrorEvent, match="response failed") as failed:
        rsp.parse_response({"status": "failed", "output": [], "error": {
            "code": "server_error", "message": "Something broke."}})
    assert "Something broke." in failed.value.detail
    with pytest.raises(errors.MalformedResponse, match="no output items"):
        rsp.parse_response({"choices": []})


# --- streams ----------------------------------------------------------------------------------


def accumulate(parts: list[bytes]) -> rsp.StreamAccumulator:
    acc = rsp.StreamAccumulator()
    decoder = SSEDecoder()
    for part in parts:
        for event in decoder.feed(part):
            acc.add(json.loads(event.data))
    for event in decoder.close():
        acc.add(json.loads(event.data))
    return acc


def check(acc: rsp.StreamAccumulator, expected: RspExpected) -> None:
    message = acc.message()
    assert acc.done
    assert message.content == expected.content
    assert message.reasoning == expected.reasoning
    assert [(c.id, c.name, c.arguments) for c in message.tool_calls] == list(expected.calls)
    assert message.finish_reason == expected.finish_reason
    usage = message.usage
    assert usage is not None and expected.usage is not None
    assert (usage.prompt_tokens, usage.cached_tokens, usage.completion_tokens,
            usage.reasoning_tokens, usage.total_tokens, usage.cache_write_tokens) == \
        expected.usage
    assert len(message.reasoning_items) == expected.reasoning_items


def splits(raw: bytes) -> Iterator[list[bytes]]:
    yield [raw]
    for at in range(1, len(raw)):
        yield [raw[:at], raw[at:]]


@pytest.mark.parametrize("name", sorted(RESPONSES_FIXTURES))
def test_every_fixture_split_at_every_byte(name: str) -> None:
    expected = RESPONSES_FIXTURES[name]
    raw = load_responses_fixture(name)
    for parts in splits(raw):
        if expected.error:
            with pytest.raises(errors.ToolsmithError) as caught:
                accumulate(parts)
            assert caught.value.kind == expected.error
            assert expected.error_says in caught.value.detail
        else:
            check(accumulate(parts), expected)


def test_ids_that_change_on_every_event_are_followed_by_position() -> None:
    """A server that sends a new item id on every event (GitHub Copilot does)."""
    acc = rsp.StreamAccumulator()
    events = [
        {"type": "response.output_item.added", "output_index": 0,
         "item": {"type": "message", "id": "id-1", "content": []}},
        {"type": "response.output_text.delta", "item_id": "id-2", "output_index": 0,
         "content_index": 0, "delta": "Hel"},
        {"type": "response.output_text.delta", "item_id": "id-3", "output_index": 0,
         "content_index": 0, "delta": "lo"},
        {"type": "response.output_item.added", "output_index": 1,
         "item": {"type": "function_call", "id": "id-4", "call_id": "call_x", "name": "f"}},
        {"type": "response.function_call_arguments.delta", "item_id": "id-5",
         "output_index": 1, "delta": '{"a":'},
        {"type": "response.function_call_arguments.delta", "item_id": "id-6",
         "output_index": 1, "delta": "1}"},
        {"type": "response.completed", "response": {"status": "completed", "output": []}}]
    for event in events:
        acc.add(event)
    message = acc.message()
    assert message.content == "Hello"
    assert [(c.id, c.arguments) for c in message.tool_calls] == [("call_x", '{"a":1}')]


def test_an_error_event_with_details_nested_under_error() -> None:
    acc = rsp.StreamAccumulator()
    with pytest.raises(errors.StreamErrorEvent) as caught:
        acc.add({"type": "error", "error": {"type": "insufficient_quota",
                                            "code": "insufficient_quota",
                                            "message": "You exceeded your current quota."}})
    assert "You exceeded your current quota." in caught.value.detail
    assert "insufficient_quota" in caught.value.detail


# --- the loop against a local server ----------------------------------------------------------


@pytest.fixture
def server() -> Iterator[ResponsesWireServer]:
    with ResponsesWireServer() as running:
        yield running


def endpoint(server: ResponsesWireServer, wire: str, model: str = "gpt-4o-mini") -> Endpoint:
    fmt = wire_format(wire)
    base = server.root_url if wire == "anthropic" else server.base_url
    return Endpoint("custom", base, model, api_key=KEY, key_env=fmt.key_env, wire=wire,
                    timeouts=Timeouts(connect=5.0, idle=10.0))


def turn(ep: Endpoint, history: list[Message], *, stream: bool) -> Message:
    result = run_turn(ep, history, [WEATHER], settings(model=ep.model, stream=stream))
    assert result.error is None, result.error
    assert result.message is not None
    history.append(result.message)
    return result.message


@pytest.mark.parametrize("stream", [True, False], ids=["stream", "json"])
def test_the_full_tool_loop(server: ResponsesWireServer, stream: bool) -> None:
    ep = endpoint(server, "responses")
    history = [Message(role="user", content=QUESTION)]
    first = turn(ep, history, stream=stream)
    [call] = first.tool_calls
    assert (call.id, call.name, json.loads(call.arguments)) == (
        "call_wireBoston1", "get_current_weather", {"location": "Boston, MA",
                                                    "unit": "celsius"})
    history.append(Message(role="tool", content='{"temperature": 22}', tool_call_id=call.id))
    second = turn(ep, history, stream=stream)
    assert second.content == 'Tool results: call_wireBoston1 said {"temperature": 22}'
    assert second.finish_reason == "completed"
    sent = server.response_requests[-1]
    assert sent.headers["authorization"] == f"Bearer {KEY}"
    assert sent.json["store"] is False
    assert sent.json["input"][-2:] == [
        {"type": "function_call", "call_id": "call_wireBoston1", "name": "get_current_weather",
         "arguments": '{"location":"Boston, MA","unit":"celsius"}'},
        {"type": "function_call_output", "call_id": "call_wireBoston1",
         "output": '{"temperature": 22}'}]


@pytest.mark.parametrize("name", ["reasoning_summary", "no_sequence_number", "incomplete"])
def test_fixtures_through_the_client(server: ResponsesWireServer, name: str) -> None:
    expected = RESPONSES_FIXTURES[name]
    message = turn(endpoint(server, "responses", f"fixture-{name}"),
                   [Message(role="user", content=QUESTION)], stream=True)
    assert [(c.id, c.arguments) for c in message.tool_calls] == [
        (c[0], c[2]) for c in expected.calls]
    assert (message.content, message.reasoning, message.finish_reason) == (
        expected.content, expected.reasoning, expected.finish_reason)


def test_an_error_event_is_a_stream_error_with_the_exchange_kept(
        server: ResponsesWireServer) -> None:
    result = run_turn(endpoint(server, "responses", "fixture-error_event"),
                      [Message(role="user", content=QUESTION)], [WEATHER],
                      settings(model="fixture-error_event", stream=True))
    assert isinstance(result.error, errors.StreamErrorEvent)
    assert "The model produced invalid content." in result.error.detail
    assert result.exchange.transcript and "event: error" in result.exchange.transcript


@pytest.mark.parametrize("stream", [True, False], ids=["stream", "json"])
@pytest.mark.parametrize("other", ["openai", "anthropic"])
def test_a_conversation_switches_formats_both_ways(server: ResponsesWireServer, other: str,
                                                    stream: bool) -> None:
    """Started in another format, continued in Responses, and back: every server accepts
    the ids, calls and results the others produced (each server checks the pairing)."""
    history = [Message(role="user", content=QUESTION)]
    first = turn(endpoint(server, other, "claude-x" if other == "anthropic" else "gpt-4o"),
                 history, stream=stream)
    [call] = first.tool_calls
    history.append(Message(role="tool", content="22 C", tool_call_id=call.id))
    answer = turn(endpoint(server, "responses"), history, stream=stream)
    assert answer.content == f"Tool results: {call.id} said 22 C"
    history.append(Message(role="user", content="And in Boston again?"))
    second = turn(endpoint(server, "responses"), history, stream=stream)
    [again] = second.tool_calls
    history.append(Message(role="tool", content="23 C", tool_call_id=again.id))
    back = turn(endpoint(server, other, "claude-x" if other == "anthropic" else "gpt-4o"),
                history, stream=stream)
    assert "23 C" in back.content and again.id in json.dumps(
        server.requests[-1].json)


def test_responses_is_selected_at_start_by_either_variable_name() -> None:
    for name in ("TOOLSMITH_WIRE_FORMAT", "TOOLSMITH_PROVIDER"):
        ep = initial_endpoint({name: "responses", "OPENAI_API_KEY": KEY,
                               "OPENAI_MODEL": "gpt-5-mini"}, {})
        assert (ep.wire, ep.preset, ep.model, ep.key_env) == (
            "responses", "openai-responses", "gpt-5-mini", "OPENAI_API_KEY")
        assert ep.chat_url() == "https://api.openai.com/v1/responses"
    gateway = initial_endpoint({"TOOLSMITH_WIRE_FORMAT": "responses",
                                "OPENAI_BASE_URL": "https://api.wenwen-ai.com/v1"}, {})
    assert gateway.preset == "wenwen-responses"


def test_a_stream_cut_before_its_end_event_says_which_event(
        server: ResponsesWireServer) -> None:
    from tests.support.wire_server import sse_reply

    cut = load_responses_fixture("incomplete").split(b"event: response.incomplete")[0]
    server.script_responses(*(sse_reply(cut) for _ in range(5)))  # every retry is cut too
    result = run_turn(endpoint(server, "responses"), [Message(role="user", content=QUESTION)],
                      [WEATHER], settings(stream=True))
    assert isinstance(result.error, errors.StreamBroken)
    assert "no response.completed" in str(result.error)
