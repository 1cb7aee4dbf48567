"""Anthropic's Messages wire format: transcripts, request translation, parsing, and real turns.

The transcripts in tests/fixtures/anthropic are replayed whole and split at every byte through
the real SSE decoder; turns go over real HTTP to the wire server (which answers /v1/messages
and rejects what the real API would reject) and through the offline demo model. Nothing is
mocked between run_turn and the socket; retries record their delays instead of sleeping.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from core.config import DEMO_BASE_URL, DEMO_MODEL, Endpoint
from core.demo.transport import DemoTransport
from core.turn import TurnResult, run_turn
from core.types import ChatSettings, Exchange, Message, ToolCall, ToolSpec
from core.wire import anthropic_messages as anthropic
from core.wire import errors, wire_format
from core.wire import openai_chat as openai_compat
from core.wire.http import RetryPolicy, Timeouts
from core.wire.sse import SSEDecoder
from tests.support.anthropic_fixtures import (
    ANTHROPIC_FIXTURES,
    FIXTURE_DIR,
    load_anthropic_fixture,
)
from tests.support.anthropic_server import (
    REFERENCE_MESSAGE,
    AnthropicWireServer,
    request_problems,
)
from tests.support.sse_fixtures import ARGS_SPACED, WEATHER, Expected, assert_matches, usage_row
from tests.support.wire_server import REFERENCE_RESPONSE, fixture_reply, json_reply

KEY = "sk-ant-test-MARKER-5e4d3c2b1a09f8e7d6c5"
QUESTION = "What's the weather like in Boston today?"
MODEL = "claude-sonnet-4-5-20250929"
WEATHER_PARAMS: dict[str, Any] = {"type": "object", "properties": {
    "location": {"type": "string", "description": "The city and state, e.g. San Francisco, CA"},
    "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
    "required": ["location"]}
WEATHER_TOOL = ToolSpec(name=WEATHER, description="Get the current weather in a given location",
                        parameters=WEATHER_PARAMS)
SEARCH_TOOL = ToolSpec(name="web_search", description="Search the web",
                       parameters={"type": "object", "properties": {"query": {"type": "string"}},
                                   "required": ["query"]})
RESULT = '{"temperature": 22, "unit": "celsius", "conditions": "sunny"}'
ID_PATTERN = re.compile(r"^[a-zA-Z0-9_-]+$")
# Tool-call ids as OpenAI-format servers send them (tests/fixtures/sse), and Anthropic's own.
FITTING_IDS = ("call_4yKljCtGceYj1heJY8G9h3te", "chatcmpl-tool-9f4c2b7e1a8d4c6b9e3f0a5d7c1b2e8f",
               "D681PevKs", "365174485", "call_0_5c2e8a7f-9b1d-4e3a-8f6c-2d4b7a9e1c3f",
               "toolu_01A09q90qw90lq917835lq9")
MISFITTING_IDS = ("functions.get_current_weather:0", "call 1", "", "call_Zürich", "a/b", "a.b",
                  "a:b")


def settings(**kw: Any) -> ChatSettings:
    kw.setdefault("model", MODEL)
    kw.setdefault("stream", False)
    return ChatSettings(**kw)


def build(messages: list[Message], tools: list[ToolSpec] | None = None,
          **kw: Any) -> dict[str, Any]:
    body = anthropic.build_request(messages, [WEATHER_TOOL] if tools is None else tools,
                                   settings(**kw))
    problems = request_problems(body)
    assert problems == [], f"the real API would reject this body: {problems}"
    return body


def weather_call(call_id: str = "call_4yKljCtGceYj1heJY8G9h3te",
                 arguments: str = '{"location":"Boston, MA","unit":"celsius"}') -> ToolCall:
    return ToolCall(id=call_id, name=WEATHER, arguments=arguments)


def tool_result(call_id: str, content: str = RESULT, *, is_error: bool = False) -> Message:
    return Message(role="tool", content=content, tool_call_id=call_id, name=WEATHER,
                   is_error=is_error)


# --- transcripts ------------------------------------------------------------------------------


def replay(transcript: bytes, cuts: tuple[int, ...] = ()) -> tuple[Message,
                                                                  anthropic.StreamAccumulator]:
    """Feed the bytes, split at `cuts`, through SSEDecoder and the accumulator."""
    decoder = SSEDecoder()
    acc = anthropic.StreamAccumulator()
    bounds = (0, *cuts, len(transcript))
    for start, end in itertools.pairwise(bounds):
        for event in decoder.feed(transcript[start:end]):
            acc.add(json.loads(event.data))
    for event in decoder.close():
        acc.add(json.loads(event.data))
    assert acc.done, "every complete transcript ends with message_stop"
    return acc.message(), acc


def check(expected: Expected, transcript: bytes, cuts: tuple[int, ...] = ()) -> None:
    if expected.error:
        with pytest.raises(errors.ToolsmithError) as caught:
            replay(transcript, cuts)
        assert caught.value.kind == expected.error
        assert expected.error_says in str(caught.value)
    else:
        assert_matches(replay(transcript, cuts)[0], expected)


def test_every_transcript_has_an_entry_and_every_entry_a_transcript() -> None:
    assert {p.stem for p in FIXTURE_DIR.glob("*.sse")} == set(ANTHROPIC_FIXTURES)


@pytest.mark.parametrize("name", sorted(ANTHROPIC_FIXTURES))
def test_transcript_whole(name: str) -> None:
    check(ANTHROPIC_FIXTURES[name], load_anthropic_fixture(name))


@pytest.mark.parametrize("name", sorted(ANTHROPIC_FIXTURES))
def test_transcript_split_at_every_byte(name: str) -> None:
    transcript = load_anthropic_fixture(name)
    for cut in range(len(transcript) + 1):
        check(ANTHROPIC_FIXTURES[name], transcript, (cut,))


@pytest.mark.parametrize("name", sorted(ANTHROPIC_FIXTURES))
def test_transcript_one_byte_at_a_time(name: str) -> None:
    transcript = load_anthropic_fixture(name)
    check(ANTHROPIC_FIXTURES[name], transcript, tuple(range(1, len(transcript))))


@pytest.mark.parametrize("name", sorted(ANTHROPIC_FIXTURES))
def test_transcript_event_names_match_their_types(name: str) -> None:
    """A sanity check of the fixtures themselves: `event:` names the data's `type`."""
    decoder = SSEDecoder()
    events = decoder.feed(load_anthropic_fixture(name)) + decoder.close()
    assert events and all(e.event == json.loads(e.data)["type"] for e in events)


def test_cache_write_tokens_stay_in_the_raw_usage() -> None:
    message, acc = replay(load_anthropic_fixture("ping_events"))
    assert acc.usage_raw == {"input_tokens": 12, "cache_creation_input_tokens": 1536,
                             "cache_read_input_tokens": 2048, "output_tokens": 11}
    assert message.tool_calls[0].parsed_arguments() == ({}, None)


def test_max_tokens_leaves_the_arguments_unfinished_and_says_so() -> None:
    message, _ = replay(load_anthropic_fixture("max_tokens_mid_tool"))
    value, problem = message.tool_calls[0].parsed_arguments()
    assert value is None and problem is not None


def test_accumulator_metadata_from_message_start() -> None:
    _, acc = replay(load_anthropic_fixture("text_and_tool_use"))
    assert acc.model == MODEL
    assert acc.message_id == "msg_01Xq7Nn5pWcD3kF9sLtY2bRz"
    assert acc.chunks == 14  # every event, pings included


# --- the accumulator, event by event ----------------------------------------------------------


def start(usage: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"type": "message_start", "message": {
        "id": "msg_1", "type": "message", "role": "assistant", "model": MODEL, "content": [],
        "stop_reason": None, "usage": usage or {"input_tokens": 10, "output_tokens": 1}}}


def block_start(index: int, block: dict[str, Any]) -> dict[str, Any]:
    return {"type": "content_block_start", "index": index, "content_block": block}


def delta(index: int, **payload: Any) -> dict[str, Any]:
    return {"type": "content_block_delta", "index": index, "delta": payload}


def test_add_reports_what_a_person_would_see() -> None:
    acc = anthropic.StreamAccumulator()
    seen = [acc.add(event) for event in (
        start(),
        {"type": "ping"},
        block_start(0, {"type": "text", "text": ""}),
        delta(0, type="text_delta", text="Hi"),
        {"type": "content_block_stop", "index": 0},
        block_start(1, {"type": "tool_use", "id": "toolu_1", "name": WEATHER, "input": {}}),
        delta(1, type="input_json_delta", partial_json=""),
        delta(1, type="input_json_delta", partial_json='{"location": "Boston, MA"}'),
        {"type": "content_block_stop", "index": 1},
        {"type": "message_delta", "delta": {"stop_reason": "tool_use"},
         "usage": {"output_tokens": 20}},
    )]
    assert seen == [False, False, False, True, False, True, False, True, False, False]
    assert not acc.done
    assert acc.add({"type": "message_stop"}) is False
    assert acc.done
    assert acc.text() == "Hi"
    assert [(c.id, c.name, c.arguments) for c in acc.tool_calls()] == [
        ("toolu_1", WEATHER, '{"location": "Boston, MA"}')]
    assert acc.finish_reason == "tool_use"


def test_output_tokens_are_cumulative_not_added() -> None:
    acc = anthropic.StreamAccumulator()
    acc.add(start({"input_tokens": 100, "cache_read_input_tokens": 50, "output_tokens": 1}))
    acc.add({"type": "message_delta", "delta": {"stop_reason": None},
             "usage": {"output_tokens": 30}})
    acc.add({"type": "message_delta", "delta": {"stop_reason": "end_turn"},
             "usage": {"output_tokens": 42}})
    usage = acc.message().usage
    assert usage_row(usage) == (150, 42, 192, 50, None)
    assert acc.finish_reason == "end_turn"


def test_message_delta_usage_replaces_the_start_counts_it_repeats() -> None:
    acc = anthropic.StreamAccumulator()
    acc.add(start({"input_tokens": 100, "output_tokens": 1}))
    acc.add({"type": "message_delta", "delta": {"stop_reason": "end_turn"},
             "usage": {"input_tokens": 120, "cache_read_input_tokens": None,
                       "output_tokens": 7}})
    assert acc.usage_raw == {"input_tokens": 120, "output_tokens": 7}


def test_tool_use_without_input_deltas_means_empty_arguments() -> None:
    acc = anthropic.StreamAccumulator()
    acc.add(block_start(0, {"type": "tool_use", "id": "toolu_1", "name": "get_server_time",
                            "input": {}}))
    acc.add({"type": "content_block_stop", "index": 0})
    (call,) = acc.message().tool_calls
    assert call.arguments == "" and call.parsed_arguments() == ({}, None)


def test_tool_use_whose_input_comes_whole_in_its_start() -> None:
    """Some gateways translate a whole answer into events and put the input in the start."""
    acc = anthropic.StreamAccumulator()
    acc.add(block_start(0, {"type": "tool_use", "id": "toolu_1", "name": WEATHER,
                            "input": {"location": "Zürich"}}))
    assert acc.tool_calls()[0].arguments == '{"location": "Zürich"}'


def test_deltas_without_a_block_start_or_index_are_kept() -> None:
    acc = anthropic.StreamAccumulator()
    acc.add({"type": "content_block_delta", "delta": {"type": "text_delta", "text": "a"}})
    acc.add(delta(0, type="text_delta", text="b"))
    acc.add(delta(1, type="input_json_delta", partial_json='{"x": 1}'))
    message = acc.message()
    assert message.content == "ab"
    assert [c.arguments for c in message.tool_calls] == ['{"x": 1}']
    assert message.tool_calls[0].id.startswith("toolu_local_")


def test_unknown_events_and_deltas_are_ignored() -> None:
    acc = anthropic.StreamAccumulator()
    assert acc.add({"type": "content_block_delta", "index": 0,
                    "delta": {"type": "citations_delta", "citation": {}}}) is False
    assert acc.add({"type": "something_new", "payload": 1}) is False
    assert acc.chunks == 2 and acc.text() == ""


def test_thinking_goes_to_reasoning_and_the_signature_is_not_shown() -> None:
    acc = anthropic.StreamAccumulator()
    acc.add(block_start(0, {"type": "thinking", "thinking": "", "signature": ""}))
    assert acc.add(delta(0, type="thinking_delta", thinking="Hmm.")) is True
    assert acc.add(delta(0, type="signature_delta", signature="EqQB")) is False
    assert (acc.reasoning(), acc.text()) == ("Hmm.", "")


@pytest.mark.parametrize(("error", "says"), [
    ({"type": "overloaded_error", "message": "Overloaded"}, "overloaded"),
    ({"type": "api_error", "message": "Internal server error"}, "in the middle of its answer"),
])
def test_error_event_raises_with_the_servers_words(error: dict[str, str], says: str) -> None:
    acc = anthropic.StreamAccumulator()
    acc.add(start())
    with pytest.raises(errors.StreamErrorEvent) as caught:
        acc.add({"type": "error", "error": error})
    assert says in str(caught.value)
    assert error["message"] in str(caught.value) and error["type"] in str(caught.value)


@pytest.mark.parametrize("chunk", [[1, 2], "text", {"choices": []}])
def test_what_is_not_an_anthropic_event_is_malformed(chunk: Any) -> None:
    with pytest.raises(errors.MalformedResponse):
        anthropic.StreamAccumulator().add(chunk)


@pytest.mark.parametrize("chunk", [
    {"type": "message_start", "message": "msg_1"},
    {"type": "content_block_start", "index": 0, "content_block": "text"},
    {"type": "content_block_delta", "index": 0, "delta": ["text_delta", "Hi"]},
    {"type": "message_delta", "delta": "end_turn"},
])
def test_events_of_the_wrong_shape_are_malformed(chunk: dict[str, Any]) -> None:
    with pytest.raises(errors.MalformedResponse):
        anthropic.StreamAccumulator().add(chunk)


def test_many_fragments_are_joined_once() -> None:
    """Linear work: 50 000 fragments accumulate into one string without quadratic copying."""
    acc = anthropic.StreamAccumulator()
    acc.add(block_start(0, {"type": "tool_use", "id": "toolu_1", "name": "t", "input": {}}))
    acc.add(delta(0, type="input_json_delta", partial_json='{"a": "'))
    for _ in range(50_000):
        acc.add(delta(0, type="input_json_delta", partial_json="xy"))
    acc.add(delta(0, type="input_json_delta", partial_json='"}'))
    assert acc.message().tool_calls[0].parsed_arguments() == ({"a": "xy" * 50_000}, None)


# --- build_request ----------------------------------------------------------------------------


def test_wire_format_picks_this_module() -> None:
    assert wire_format("anthropic") is anthropic.FORMAT
    for name in ("build_request", "parse_response", "StreamAccumulator"):
        assert hasattr(anthropic, name)


def test_reference_question_as_a_messages_request() -> None:
    body = build([Message(role="user", content=QUESTION)])
    assert body == {
        "model": MODEL, "max_tokens": anthropic.DEFAULT_MAX_TOKENS,
        "messages": [{"role": "user", "content": QUESTION}],
        "tools": [{"name": WEATHER, "description": "Get the current weather in a given location",
                   "input_schema": WEATHER_PARAMS}],
    }


@pytest.mark.parametrize(("asked", "sent"), [(None, 4096), (0, 4096), (256, 256)])
def test_max_tokens_is_always_set(asked: int | None, sent: int) -> None:
    assert build([Message(role="user", content="hi")], max_tokens=asked)["max_tokens"] == sent


def test_system_prompt_is_top_level_and_system_messages_are_not_sent() -> None:
    history = [Message(role="system", content="old prompt"), Message(role="user", content="hi")]
    body = build(history, system_prompt="Answer in one sentence.")
    assert body["system"] == "Answer in one sentence."
    assert body["messages"] == [{"role": "user", "content": "hi"}]
    assert "system" not in build(history, system_prompt="  \n")


@pytest.mark.parametrize(("stream", "expected"), [(True, True), (False, None)])
def test_stream_flag(stream: bool, expected: bool | None) -> None:
    body = build([Message(role="user", content="hi")], stream=stream)
    assert body.get("stream") is expected
    assert "stream_options" not in body  # an OpenAI option Anthropic would reject


@pytest.mark.parametrize(("asked", "sent"), [
    (None, None), (0.0, 0.0), (0.7, 0.7), (1.0, 1.0), (1.5, 1.0), (2.0, 1.0), (-0.5, 0.0)])
def test_temperature_is_clamped_to_anthropics_range(asked: float | None,
                                                    sent: float | None) -> None:
    assert build([Message(role="user", content="hi")], temperature=asked).get(
        "temperature") == sent


def test_tool_definitions() -> None:
    tools = [WEATHER_TOOL,
             ToolSpec(name="get_server_time", description="", parameters={}),
             ToolSpec(name="strict_tool", description="d", parameters=WEATHER_PARAMS, strict=True)]
    assert build([Message(role="user", content="hi")], tools)["tools"] == [
        {"name": WEATHER, "description": WEATHER_TOOL.description, "input_schema": WEATHER_PARAMS},
        {"name": "get_server_time", "input_schema": {"type": "object", "properties": {}}},
        {"name": "strict_tool", "description": "d", "input_schema": WEATHER_PARAMS},
    ]


NAMED = {"type": "function", "function": {"name": WEATHER}}


@pytest.mark.parametrize(("choice", "parallel", "sent"), [
    (None, None, None),
    ("auto", None, {"type": "auto"}),
    ("required", None, {"type": "any"}),
    ("none", None, {"type": "none"}),
    (NAMED, None, {"type": "tool", "name": WEATHER}),
    (None, True, None),
    ("auto", True, {"type": "auto"}),
    (None, False, {"type": "auto", "disable_parallel_tool_use": True}),
    ("auto", False, {"type": "auto", "disable_parallel_tool_use": True}),
    ("required", False, {"type": "any", "disable_parallel_tool_use": True}),
    (NAMED, False, {"type": "tool", "name": WEATHER, "disable_parallel_tool_use": True}),
    ("none", False, {"type": "none"}),
    ({"type": "any"}, None, {"type": "any"}),  # already in Anthropic's shape
    ({"type": "tool", "name": WEATHER}, None, {"type": "tool", "name": WEATHER}),
    ("bogus", None, None),
])
def test_tool_choice_mapping(choice: Any, parallel: bool | None, sent: Any) -> None:
    body = build([Message(role="user", content="hi")], tool_choice=choice,
                 parallel_tool_calls=parallel)
    assert body.get("tool_choice") == sent


def test_no_tools_means_no_tool_choice() -> None:
    body = build([Message(role="user", content="hi")], [], tool_choice="required",
                 parallel_tool_calls=False)
    assert "tools" not in body and "tool_choice" not in body


def test_history_from_an_openai_format_conversation() -> None:
    """The reference answer (OpenAI format, call_… id) continued in the Anthropic format."""
    assistant = openai_compat.parse_response(REFERENCE_RESPONSE)
    history = [Message(role="user", content=QUESTION), assistant,
               tool_result("call_4yKljCtGceYj1heJY8G9h3te")]
    body = build(history, system_prompt="Be brief.")
    assert body["system"] == "Be brief."
    assert body["messages"] == [
        {"role": "user", "content": QUESTION},
        {"role": "assistant", "content": [
            {"type": "tool_use", "id": "call_4yKljCtGceYj1heJY8G9h3te", "name": WEATHER,
             "input": {"location": "Boston, MA", "unit": "celsius"}}]},
        {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "call_4yKljCtGceYj1heJY8G9h3te",
             "content": RESULT}]},
    ]


def test_assistant_text_and_parallel_calls_and_their_results() -> None:
    history = [
        Message(role="user", content="Boston and Tokyo?"),
        Message(role="assistant", content="Checking both.", tool_calls=[
            weather_call("call_Rk3pVfH2l1uS8bOqTzW4xYcE", '{"location": "Boston, MA"}'),
            weather_call("call_9mNq2LdXe7GhJ0aB5sTuVwYz", '{"location": "Tokyo, Japan"}')]),
        tool_result("call_Rk3pVfH2l1uS8bOqTzW4xYcE", "22 C"),
        tool_result("call_9mNq2LdXe7GhJ0aB5sTuVwYz", "timeout", is_error=True),
        Message(role="user", content="And tomorrow?"),
    ]
    assert build(history)["messages"][1:] == [
        {"role": "assistant", "content": [
            {"type": "text", "text": "Checking both."},
            {"type": "tool_use", "id": "call_Rk3pVfH2l1uS8bOqTzW4xYcE", "name": WEATHER,
             "input": {"location": "Boston, MA"}},
            {"type": "tool_use", "id": "call_9mNq2LdXe7GhJ0aB5sTuVwYz", "name": WEATHER,
             "input": {"location": "Tokyo, Japan"}}]},
        {"role": "user", "content": [  # one user message: both results, then the text
            {"type": "tool_result", "tool_use_id": "call_Rk3pVfH2l1uS8bOqTzW4xYcE",
             "content": "22 C"},
            {"type": "tool_result", "tool_use_id": "call_9mNq2LdXe7GhJ0aB5sTuVwYz",
             "content": "timeout", "is_error": True},
            {"type": "text", "text": "And tomorrow?"}]},
    ]


def test_consecutive_same_role_messages_are_merged() -> None:
    history = [Message(role="user", content="one"), Message(role="user", content="two"),
               Message(role="assistant", content="three"), Message(role="assistant", content=""),
               Message(role="assistant", content="four"), Message(role="user", content="five")]
    assert build(history)["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "one"},
                                     {"type": "text", "text": "two"}]},
        {"role": "assistant", "content": [{"type": "text", "text": "three"},
                                          {"type": "text", "text": "four"}]},
        {"role": "user", "content": "five"},
    ]


def test_an_empty_answer_is_left_out_and_its_neighbours_merge() -> None:
    history = [Message(role="user", content="hi"), Message(role="assistant", content=""),
               Message(role="user", content="hello?")]
    assert build(history)["messages"] == [{"role": "user", "content": [
        {"type": "text", "text": "hi"}, {"type": "text", "text": "hello?"}]}]


def test_tool_results_come_before_user_text_whatever_the_order() -> None:
    history = [Message(role="user", content=QUESTION),
               Message(role="assistant", tool_calls=[weather_call("call_1")]),
               Message(role="user", content="(typed before the result arrived)"),
               tool_result("call_1")]
    assert build(history)["messages"][2]["content"] == [
        {"type": "tool_result", "tool_use_id": "call_1", "content": RESULT},
        {"type": "text", "text": "(typed before the result arrived)"}]


@pytest.mark.parametrize("call_id", FITTING_IDS)
def test_ids_that_fit_are_sent_unchanged(call_id: str) -> None:
    body = build([Message(role="user", content=QUESTION),
                  Message(role="assistant", tool_calls=[weather_call(call_id)]),
                  tool_result(call_id)])
    assert body["messages"][1]["content"][0]["id"] == call_id
    assert body["messages"][2]["content"][0]["tool_use_id"] == call_id


@pytest.mark.parametrize("call_id", MISFITTING_IDS)
def test_ids_that_do_not_fit_are_mapped_the_same_way_on_both_sides(call_id: str) -> None:
    body = build([Message(role="user", content=QUESTION),
                  Message(role="assistant", tool_calls=[weather_call(call_id)]),
                  tool_result(call_id)])
    sent = body["messages"][1]["content"][0]["id"]
    assert ID_PATTERN.match(sent)
    assert body["messages"][2]["content"][0]["tool_use_id"] == sent
    assert anthropic.wire_tool_id(call_id) == sent  # deterministic


def test_mapped_ids_do_not_collide() -> None:
    mapped = [anthropic.wire_tool_id(i) for i in (*MISFITTING_IDS, *FITTING_IDS)]
    assert len(set(mapped)) == len(mapped)


def test_mapping_keeps_the_history_untouched() -> None:
    call = weather_call("functions.get_current_weather:0")
    history = [Message(role="user", content=QUESTION),
               Message(role="assistant", tool_calls=[call]), tool_result(call.id)]
    build(history)
    assert history[1].tool_calls[0].id == "functions.get_current_weather:0"
    assert history[2].tool_call_id == "functions.get_current_weather:0"


@pytest.mark.parametrize(("arguments", "why"), [
    ('{"location": "Bos', "not valid JSON"),  # cut off by max_tokens
    ("[1, 2]", "a JSON list, not an object"),
    ('"Boston"', "a JSON str, not an object"),
])
def test_arguments_that_are_not_an_object_are_sent_as_empty_input_with_a_note(
        arguments: str, why: str) -> None:
    body = build([Message(role="user", content=QUESTION),
                  Message(role="assistant", tool_calls=[weather_call("call_1", arguments)]),
                  tool_result("call_1", "error: bad arguments", is_error=True)])
    note, use = body["messages"][1]["content"]
    assert use == {"type": "tool_use", "id": "call_1", "name": WEATHER, "input": {}}
    assert note["type"] == "text"
    assert why in note["text"] and arguments in note["text"] and "call_1" in note["text"]


def test_empty_arguments_are_an_empty_input_without_a_note() -> None:
    body = build([Message(role="user", content="time?"),
                  Message(role="assistant", tool_calls=[weather_call("call_1", "")]),
                  tool_result("call_1", "12:00")])
    assert body["messages"][1]["content"] == [
        {"type": "tool_use", "id": "call_1", "name": WEATHER, "input": {}}]


def test_sent_tool_schemas_reads_an_anthropic_body() -> None:
    body = build([Message(role="user", content="hi")], [WEATHER_TOOL, SEARCH_TOOL])
    assert anthropic.sent_tool_schemas(body) == {WEATHER: WEATHER_PARAMS,
                                                 "web_search": SEARCH_TOOL.parameters}


# --- parse_response and usage -----------------------------------------------------------------


def test_reference_message() -> None:
    message = anthropic.parse_response(REFERENCE_MESSAGE)
    assert_matches(message, ANTHROPIC_FIXTURES["text_and_tool_use"])  # stream and JSON agree


def test_thinking_text_and_unknown_blocks() -> None:
    message = anthropic.parse_response({
        "type": "message", "role": "assistant", "content": [
            {"type": "thinking", "thinking": "Think.", "signature": "EqQB"},
            {"type": "redacted_thinking", "data": "xyz"},
            {"type": "text", "text": "One, "}, {"type": "text", "text": "two."}],
        "stop_reason": "end_turn", "usage": {"input_tokens": 5, "output_tokens": 3}})
    assert (message.reasoning, message.content, message.finish_reason) == (
        "Think.", "One, two.", "end_turn")
    assert message.tool_calls == []


def test_tool_use_input_becomes_json_arguments() -> None:
    message = anthropic.parse_response({"type": "message", "content": [
        {"type": "tool_use", "id": "toolu_1", "name": "get_server_time", "input": {}},
        {"type": "tool_use", "name": WEATHER, "input": {"location": "Zürich"}}],
        "stop_reason": "tool_use"})
    first, second = message.tool_calls
    assert (first.id, first.arguments) == ("toolu_1", "{}")
    assert second.arguments == '{"location": "Zürich"}'
    assert second.id.startswith("toolu_local_")
    assert message.usage is None


@pytest.mark.parametrize(("kind", "says"), [("overloaded_error", "overloaded"),
                                            ("invalid_request_error", "error")])
def test_error_body_in_a_200_answer(kind: str, says: str) -> None:
    with pytest.raises(errors.StreamErrorEvent) as caught:
        anthropic.parse_response({"type": "error", "error": {"type": kind, "message": "Nope"}})
    assert says in str(caught.value) and "Nope" in str(caught.value)


@pytest.mark.parametrize("body", [[REFERENCE_MESSAGE], "text", REFERENCE_RESPONSE, {}])
def test_what_is_not_a_messages_answer_is_malformed(body: Any) -> None:
    with pytest.raises(errors.MalformedResponse):
        anthropic.parse_response(body)


@pytest.mark.parametrize(("raw", "row"), [
    ({"input_tokens": 100, "output_tokens": 20}, (100, 20, 120, None, None)),
    ({"input_tokens": 100, "cache_read_input_tokens": 0, "cache_creation_input_tokens": 0,
      "output_tokens": 20}, (100, 20, 120, 0, None)),
    ({"input_tokens": 12, "cache_read_input_tokens": 2048, "cache_creation_input_tokens": 1536,
      "output_tokens": 11}, (3596, 11, 3607, 2048, None)),
    ({"output_tokens": 5}, (None, 5, 5, None, None)),
    ({"input_tokens": 7, "output_tokens": None}, (7, None, 7, None, None)),
    ({"prompt_tokens": 80, "completion_tokens": 23, "total_tokens": 103},
     (80, 23, 103, None, None)),  # a gateway answering in OpenAI's terms
])
def test_parse_usage(raw: dict[str, Any], row: tuple[int | None, ...]) -> None:
    assert usage_row(anthropic.parse_usage(raw)) == row


def test_cache_writes_are_counted_apart() -> None:
    usage = anthropic.parse_usage({"input_tokens": 12, "cache_read_input_tokens": 2048,
                                   "cache_creation_input_tokens": 1536, "output_tokens": 11})
    assert usage is not None
    assert (usage.prompt_tokens, usage.cached_tokens, usage.cache_write_tokens) == (
        3596, 2048, 1536)


@pytest.mark.parametrize("raw", [None, "x", [1]])
def test_parse_usage_of_nothing(raw: Any) -> None:
    assert anthropic.parse_usage(raw) is None


# --- run_turn over real HTTP ------------------------------------------------------------------


@pytest.fixture
def server() -> Iterator[AnthropicWireServer]:
    with AnthropicWireServer() as running:
        yield running


def endpoint(base_url: str, model: str = MODEL, *, bearer: bool = False,
             key: str = KEY) -> Endpoint:
    return Endpoint(preset="custom", base_url=base_url, model=model, api_key=key,
                    key_env="ANTHROPIC_API_KEY", wire="anthropic", bearer_auth=bearer,
                    timeouts=Timeouts(connect=5.0, idle=10.0), retry=RetryPolicy())


@dataclasses.dataclass
class Run:
    result: TurnResult
    sleeps: list[float]
    progress: int

    @property
    def message(self) -> Message:
        assert self.result.error is None, f"turn failed: {self.result.error}"
        assert self.result.message is not None
        return self.result.message

    @property
    def error(self) -> errors.ToolsmithError:
        assert self.result.error is not None, "expected the turn to fail"
        return self.result.error


def turn(target: Endpoint, messages: list[Message] | None = None, *, stream: bool = True,
         tools: list[ToolSpec] | None = None, **kw: Any) -> Run:
    sleeps: list[float] = []
    progress: list[int] = []
    result = run_turn(
        target, messages if messages is not None else [Message(role="user", content=QUESTION)],
        [WEATHER_TOOL] if tools is None else tools,
        ChatSettings(model=target.model, stream=stream, **kw),
        on_progress=lambda acc: progress.append(acc.chunks), sleep=sleeps.append)
    return Run(result, sleeps, len(progress))


def assert_no_key(exchange: Exchange, key: str = KEY) -> None:
    """The key is in no field of the exchange (headers are masked, bodies never hold it)."""
    for name, value in dataclasses.asdict(exchange).items():
        assert key not in json.dumps(value, default=str), f"the key leaked into {name}"
        assert "MARKER" not in json.dumps(value, default=str), f"part of the key in {name}"
    assert key not in repr(exchange)


@pytest.mark.parametrize("stream", [True, False], ids=["stream", "json"])
def test_tool_call_turn(server: AnthropicWireServer, stream: bool) -> None:
    run = turn(endpoint(server.root_url), stream=stream)
    assert_matches(run.message, ANTHROPIC_FIXTURES["text_and_tool_use"])
    (request,) = server.message_requests
    assert request.path == "/v1/messages"
    assert request.headers["x-api-key"] == KEY
    assert request.headers["anthropic-version"] == "2023-06-01"
    assert "authorization" not in request.headers
    assert request.headers["content-type"] == "application/json"
    assert request.headers["accept"] == ("text/event-stream" if stream else "application/json")
    exchange = run.result.exchange
    assert request.json == exchange.request_body  # what was sent is what the inspector shows
    assert exchange.request_body == anthropic.build_request(
        [Message(role="user", content=QUESTION)], [WEATHER_TOOL],
        ChatSettings(model=MODEL, stream=stream))
    assert exchange.request_headers["x-api-key"] == "$ANTHROPIC_API_KEY"
    assert (exchange.wire, exchange.status) == ("anthropic", 200)
    assert exchange.request_id == "req_wire_0001"
    assert exchange.first_token_at is not None
    assert usage_row(exchange.usage) == (412, 57, 469, 0, None)
    if stream:
        assert exchange.transcript == load_anthropic_fixture("text_and_tool_use").decode()
        assert run.progress >= 5  # text and argument fragments arrived one by one
        assert exchange.response_body["usage"]["output_tokens"] == 57
    else:
        assert exchange.response_body == REFERENCE_MESSAGE
    assert_no_key(exchange)


def test_bearer_auth_for_gateways(server: AnthropicWireServer) -> None:
    run = turn(endpoint(server.root_url, bearer=True))
    assert run.message.tool_calls
    (request,) = server.message_requests
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert "x-api-key" not in request.headers
    assert request.headers["anthropic-version"] == "2023-06-01"
    assert run.result.exchange.request_headers["Authorization"] == "Bearer $ANTHROPIC_API_KEY"
    assert_no_key(run.result.exchange)


def test_a_base_url_with_v1_posts_to_the_same_path(server: AnthropicWireServer) -> None:
    turn(endpoint(server.base_url)).message  # noqa: B018 — the turn must succeed
    assert [r.path for r in server.message_requests] == ["/v1/messages"]


@pytest.mark.parametrize("stream", [True, False], ids=["stream", "json"])
@pytest.mark.parametrize("is_error", [False, True], ids=["result", "error-result"])
def test_full_loop_question_call_result_answer(server: AnthropicWireServer, stream: bool,
                                               is_error: bool) -> None:
    target = endpoint(server.root_url)
    history = [Message(role="user", content=QUESTION)]
    first = turn(target, history, stream=stream).message
    (call,) = first.tool_calls
    history += [first, tool_result(call.id, RESULT, is_error=is_error)]
    answer = turn(target, history, stream=stream).message
    assert answer.tool_calls == [] and answer.finish_reason == "end_turn"
    assert answer.content == (f"Tool results: {call.id} said {RESULT}"
                              f"{' (an error)' if is_error else ''}")
    sent = server.message_requests[1].json["messages"]
    assert sent[1] == {"role": "assistant", "content": [
        {"type": "text", "text": "I’ll check the weather in Boston — one moment."},
        {"type": "tool_use", "id": "toolu_01A09q90qw90lq917835lq9", "name": WEATHER,
         "input": {"location": "Boston, MA", "unit": "celsius"}}]}
    result_block = {"type": "tool_result", "tool_use_id": call.id, "content": RESULT}
    if is_error:
        result_block["is_error"] = True
    assert sent[2] == {"role": "user", "content": [result_block]}


@pytest.mark.parametrize("name", sorted(n for n, e in ANTHROPIC_FIXTURES.items() if not e.error))
def test_every_transcript_through_a_real_turn(server: AnthropicWireServer, name: str) -> None:
    run = turn(endpoint(server.root_url, f"fixture-{name}"))
    assert_matches(run.message, ANTHROPIC_FIXTURES[name])


def test_overloaded_error_inside_a_200_stream(server: AnthropicWireServer) -> None:
    run = turn(endpoint(server.root_url, "fixture-overloaded_error"))
    assert isinstance(run.error, errors.StreamErrorEvent)
    assert "Overloaded" in str(run.error) and "Retry" in str(run.error)
    exchange = run.result.exchange
    assert exchange.error_kind == "stream_error" and exchange.status == 200
    assert "overloaded_error" in (exchange.transcript or "")
    assert run.sleeps == []  # an error mid-stream is the user's to retry, not ours


def test_a_call_cut_by_max_tokens_can_still_be_answered(server: AnthropicWireServer) -> None:
    target = endpoint(server.root_url, "fixture-max_tokens_mid_tool")
    first = turn(target).message
    assert first.finish_reason == "max_tokens"
    (call,) = first.tool_calls
    history = [Message(role="user", content=QUESTION), first,
               tool_result(call.id, "error: arguments cut off", is_error=True)]
    answer = turn(endpoint(server.root_url), history).message  # the server accepted it
    assert call.id in answer.content
    note, use = server.message_requests[1].json["messages"][1]["content"]
    assert use["input"] == {} and '{"location": "Bos' in note["text"]


def test_529_overloaded_is_retried_like_429(server: AnthropicWireServer) -> None:
    run = turn(endpoint(server.root_url, "fault-529-then-ok"))
    assert run.message.tool_calls[0].name == WEATHER
    assert run.sleeps == [0.5]
    assert [a.status for a in run.result.exchange.attempts] == [529, 200]
    assert len(server.message_requests) == 2


def test_529_that_persists_reads_anthropics_error_body(server: AnthropicWireServer) -> None:
    run = turn(endpoint(server.root_url, "fault-529"))
    error = run.error
    assert isinstance(error, errors.APIStatusError) and error.status == 529
    assert "overloaded" in str(error) and "It said: Overloaded" in str(error)
    assert run.sleeps == [0.5, 1.0]
    assert_no_key(run.result.exchange)


def test_401_names_the_anthropic_key(server: AnthropicWireServer) -> None:
    run = turn(endpoint(server.root_url, "fault-401"))
    error = run.error
    assert isinstance(error, errors.APIStatusError) and error.status == 401
    assert "ANTHROPIC_API_KEY" in str(error) and "invalid x-api-key" in str(error)
    assert KEY not in str(error)
    assert_no_key(run.result.exchange)


def test_an_openai_stream_on_the_anthropic_wire_says_to_check_the_format(
        server: AnthropicWireServer) -> None:
    server.script_messages(fixture_reply("standard_tool_call"))
    run = turn(endpoint(server.root_url))
    assert isinstance(run.error, errors.MalformedResponse)
    assert "OpenAI format" in str(run.error)


def test_an_openai_body_on_the_anthropic_wire_is_malformed(server: AnthropicWireServer) -> None:
    server.script_messages(json_reply(REFERENCE_RESPONSE))
    run = turn(endpoint(server.root_url), stream=False)
    assert isinstance(run.error, errors.MalformedResponse)
    assert "no content blocks" in str(run.error)


def test_server_rejects_what_the_real_api_rejects(server: AnthropicWireServer) -> None:
    """The checks the round trips rely on really bite (here: an unanswered tool_use)."""
    history = [Message(role="user", content=QUESTION),
               Message(role="assistant", tool_calls=[weather_call("call_1")]),
               Message(role="user", content="never mind")]
    run = turn(endpoint(server.root_url), history)
    assert isinstance(run.error, errors.APIStatusError) and run.error.status == 400
    assert "were not answered" in str(run.error)


# --- the demo model in the Anthropic format ---------------------------------------------------

DEMO_ANTHROPIC = Endpoint("demo", DEMO_BASE_URL, DEMO_MODEL, wire="anthropic")
DEMO_OPENAI = Endpoint("demo", DEMO_BASE_URL, DEMO_MODEL)


def demo(question: str = QUESTION, *, history: list[Message] | None = None,
         tools: list[ToolSpec] | None = None, stream: bool = True,
         target: Endpoint = DEMO_ANTHROPIC, **kw: Any) -> TurnResult:
    result = run_turn(target, history or [Message(role="user", content=question)],
                      [WEATHER_TOOL] if tools is None else tools,
                      ChatSettings(model=DEMO_MODEL, stream=stream, **kw), sleep=_no_sleep)
    assert result.error is None, f"demo turn failed: {result.error}"
    assert result.message is not None
    return result


def _no_sleep(seconds: float) -> None:
    raise AssertionError(f"the demo model never needs a retry (asked to wait {seconds} s)")


def locations(message: Message | None) -> list[str]:
    assert message is not None
    return [c.parsed_arguments()[0]["location"] for c in message.tool_calls]


@pytest.mark.parametrize("stream", [True, False], ids=["stream", "json"])
def test_demo_seed_question_then_answer_from_the_result(stream: bool) -> None:
    first = demo(stream=stream)
    message = first.message
    assert message is not None
    (call,) = message.tool_calls
    assert call.name == WEATHER and call.id.startswith("toolu_demo_")
    assert call.parsed_arguments()[0]["location"] == "Boston, MA"
    assert (message.finish_reason, message.content) == ("tool_use", "")
    assert first.exchange.request_body["max_tokens"] == anthropic.DEFAULT_MAX_TOKENS
    assert first.exchange.provider == "demo"
    assert message.usage is not None and message.usage.estimated
    assert message.usage.cached_tokens == 0
    history = [Message(role="user", content=QUESTION), message, tool_result(call.id)]
    answer = demo(history=history, stream=stream).message
    assert answer is not None and answer.tool_calls == []
    assert answer.finish_reason == "end_turn"
    for words in (WEATHER, "Boston, MA", "temperature 22", '"sunny"'):
        assert words in answer.content


def test_demo_streams_every_event_type() -> None:
    transcript = demo().exchange.transcript or ""
    names = re.findall(r"^event: (\w+)$", transcript, flags=re.MULTILINE)
    assert names[:3] == ["message_start", "content_block_start", "ping"]
    assert {"content_block_delta", "content_block_stop", "message_delta"} <= set(names)
    assert names[-1] == "message_stop"
    text = demo("Tell me a joke").exchange.transcript or ""
    assert '"text_delta"' in text and '"end_turn"' in text


def test_demo_streaming_and_json_agree() -> None:
    streamed, whole = demo(stream=True).message, demo(stream=False).message
    assert streamed is not None and whole is not None
    assert [(c.name, c.arguments) for c in streamed.tool_calls] == [
        (c.name, c.arguments) for c in whole.tool_calls]
    assert streamed.finish_reason == whole.finish_reason


def test_demo_tool_choice_and_parallel_switch() -> None:
    two = "What's the weather like in Boston and Tokyo today?"
    assert locations(demo(two).message) == ["Boston, MA", "Tokyo, Japan"]
    assert locations(demo(two, parallel_tool_calls=False).message) == ["Boston, MA"]
    assert locations(demo("Tell me about Paris", tool_choice="required").message) == [
        "Paris, France"]
    assert demo("Tell me about Paris").message.tool_calls == []  # type: ignore[union-attr]
    off = demo(tool_choice="none").message
    assert off is not None and off.tool_calls == [] and "tool_choice: none" in off.content
    named = demo(tools=[WEATHER_TOOL, SEARCH_TOOL],
                 tool_choice={"type": "function", "function": {"name": "web_search"}}).message
    assert named is not None
    assert [(c.name, c.parsed_arguments()[0]) for c in named.tool_calls] == [
        ("web_search", {"query": QUESTION})]


def demo_post(path: str, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    with httpx.Client(transport=DemoTransport()) as client:
        return client.post(f"http://toolsmith-demo.invalid{path}", json=body,
                           headers={"anthropic-version": "2023-06-01"} if headers is None
                           else headers)


def test_demo_answers_like_the_api_when_a_request_is_wrong() -> None:
    body = {"model": DEMO_MODEL, "max_tokens": 100,
            "messages": [{"role": "user", "content": QUESTION}]}
    no_version = demo_post("/v1/messages", body, headers={})
    assert no_version.status_code == 400
    assert no_version.json()["type"] == "error"
    assert "anthropic-version" in no_version.json()["error"]["message"]
    no_max = demo_post("/v1/messages", {k: v for k, v in body.items() if k != "max_tokens"})
    assert no_max.status_code == 400 and "max_tokens" in no_max.json()["error"]["message"]
    assert demo_post("/messages", body).json()["type"] == "message"  # no /v1 in the base
    openai = demo_post("/v1/chat/completions", {"model": DEMO_MODEL, "messages": body["messages"]})
    assert openai.json()["object"] == "chat.completion"


def test_a_sent_body_reads_back_into_the_neutral_conversation() -> None:
    """What the demo model plans from: the Anthropic body, read back, is the conversation."""
    history = [Message(role="user", content=QUESTION),
               Message(role="assistant", content="Checking.", tool_calls=[weather_call("call_1")]),
               tool_result("call_1", "22"), Message(role="user", content="Thanks")]
    body = anthropic.build_request(history, [WEATHER_TOOL],
                                   settings(tool_choice="required", parallel_tool_calls=False))
    sent = anthropic.read_request(body)
    assert [(m.role, m.content, m.tool_call_id) for m in sent.messages] == [
        ("user", QUESTION, None), ("assistant", "Checking.", None), ("tool", "22", "call_1"),
        ("user", "Thanks", None)]
    assert [(c.id, c.name, json.loads(c.arguments)) for c in sent.messages[1].tool_calls] == [
        ("call_1", WEATHER, json.loads(ARGS_SPACED))]
    assert [(t.name, t.description, t.parameters) for t in sent.tools] == [
        (WEATHER, WEATHER_TOOL.description, WEATHER_PARAMS)]
    assert (sent.settings.model, sent.settings.tool_choice,
            sent.settings.parallel_tool_calls) == (MODEL, "required", False)


# --- a conversation that switches format, and back --------------------------------------------


def openai_endpoint(base_url: str) -> Endpoint:
    return Endpoint(preset="custom", base_url=base_url, model="gpt-4o-2024-08-06",
                    api_key="sk-test-MARKER-openai", timeouts=Timeouts(connect=5.0, idle=10.0))


@pytest.mark.parametrize("stream", [True, False], ids=["stream", "json"])
def test_openai_conversation_continued_in_anthropic_format_and_back(
        server: AnthropicWireServer, stream: bool) -> None:
    oai, ant = openai_endpoint(server.base_url), endpoint(server.root_url)
    history = [Message(role="user", content=QUESTION)]
    # 1. OpenAI format: the reference call, with OpenAI's call_… id.
    first = turn(oai, history, stream=stream).message
    (openai_call,) = first.tool_calls
    assert openai_call.id == "call_4yKljCtGceYj1heJY8G9h3te"
    history += [first, tool_result(openai_call.id, "22 C")]
    # 2. Anthropic format: the server checks every tool_result answers a tool_use.
    answer = turn(ant, history, stream=stream).message
    assert answer.content == f"Tool results: {openai_call.id} said 22 C"
    sent = server.message_requests[-1].json["messages"]
    assert sent[1]["content"] == [{"type": "tool_use", "id": openai_call.id, "name": WEATHER,
                                   "input": json.loads(openai_call.arguments)}]
    assert sent[2]["content"] == [{"type": "tool_result", "tool_use_id": openai_call.id,
                                   "content": "22 C"}]
    # 3. Anthropic format again: a toolu_… call.
    history += [answer, Message(role="user", content="And now?")]
    second = turn(ant, history, stream=stream).message
    (anthropic_call,) = second.tool_calls
    assert anthropic_call.id == "toolu_01A09q90qw90lq917835lq9"
    history += [second, tool_result(anthropic_call.id, "23 C")]
    # 4. Back to the OpenAI format: both calls and results, ids and arguments as they were.
    final = turn(oai, history, stream=stream).message
    assert final.content == (f"Tool results: {openai_call.id} said 22 C; "
                             f"{anthropic_call.id} said 23 C")
    messages = server.chat_requests[-1].json["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant", "tool", "assistant", "user",
                                             "assistant", "tool"]
    assert messages[5]["content"] == "I’ll check the weather in Boston — one moment."
    assert messages[5]["tool_calls"] == [{"id": anthropic_call.id, "type": "function",
                                          "function": {"name": WEATHER,
                                                       "arguments": ARGS_SPACED}}]
    assert messages[6] == {"role": "tool", "tool_call_id": anthropic_call.id, "content": "23 C"}
    assert messages[1]["tool_calls"][0]["id"] == openai_call.id
    assert messages[2]["tool_call_id"] == openai_call.id


def test_an_id_anthropic_would_refuse_survives_the_switch(server: AnthropicWireServer) -> None:
    """Kimi-style ids are mapped on the wire only; the history and the way back keep them."""
    kimi = "functions.get_current_weather:0"
    history = [Message(role="user", content=QUESTION),
               Message(role="assistant", tool_calls=[weather_call(kimi)]),
               tool_result(kimi, "22 C")]
    answer = turn(endpoint(server.root_url), history).message
    mapped = anthropic.wire_tool_id(kimi)
    assert answer.content == f"Tool results: {mapped} said 22 C"
    back = turn(openai_endpoint(server.base_url), history).message
    assert back.content == f"Tool results: {kimi} said 22 C"


@pytest.mark.parametrize(("asked", "answering"), [(DEMO_OPENAI, DEMO_ANTHROPIC),
                                                  (DEMO_ANTHROPIC, DEMO_OPENAI)],
                         ids=["openai-then-anthropic", "anthropic-then-openai"])
def test_demo_conversation_switches_format(asked: Endpoint, answering: Endpoint) -> None:
    first = demo(target=asked).message
    assert first is not None
    (call,) = first.tool_calls
    history = [Message(role="user", content=QUESTION), first, tool_result(call.id)]
    answer = demo(history=history, target=answering).message
    assert answer is not None and answer.tool_calls == []
    assert "Boston, MA" in answer.content and "temperature 22" in answer.content


def test_both_translations_carry_the_same_conversation() -> None:
    """The Anthropic body and the OpenAI body, read back, say the same thing."""
    history = [Message(role="user", content=QUESTION),
               Message(role="assistant", content="Both.", tool_calls=[
                   weather_call("call_a", '{"location": "Boston, MA"}'),
                   weather_call("toolu_b", '{"location": "Tokyo, Japan"}')]),
               tool_result("call_a", "22"), tool_result("toolu_b", "err", is_error=True),
               Message(role="assistant", content="Boston 22, Tokyo unknown.")]
    ant = anthropic.read_request(anthropic.build_request(history, [WEATHER_TOOL], settings()))
    oai = openai_compat.read_request(openai_compat.build_request(history, [WEATHER_TOOL],
                                                                 settings()))

    def shape(messages: list[Message]) -> list[tuple[Any, ...]]:
        return [(m.role, m.content, m.tool_call_id,
                 [(c.id, c.name, json.loads(c.arguments)) for c in m.tool_calls])
                for m in messages]

    assert shape(ant.messages) == shape(oai.messages)
    assert ant.tools == oai.tools
