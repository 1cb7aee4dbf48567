"""The OpenAI wire format: every transcript accumulated, request bodies built, bodies parsed.

The transcripts are the ground truth for how servers really stream (tests/fixtures/sse); the
hand-written table in tests/support/sse_fixtures.py says what each must become.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from core.types import ChatSettings, Message, ToolCall, ToolSpec
from core.wire.errors import MalformedResponse, StreamErrorEvent, ToolsmithError
from core.wire.openai_chat import (
    StreamAccumulator,
    build_request,
    message_to_wire,
    model_ids,
    parse_response,
    parse_usage,
)
from core.wire.sse import SSEDecoder
from tests.support.sse_fixtures import (
    ARGS,
    FIXTURE_DIR,
    FIXTURES,
    REFERENCE_USAGE,
    WEATHER,
    WEATHER_TOOL,
    assert_matches,
    load_fixture,
    usage_row,
)
from tests.support.wire_server import REFERENCE_RESPONSE


def fold(raw: bytes) -> StreamAccumulator:
    """Decode and accumulate a transcript the way core.turn does: `[DONE]` ends it, and an
    event that is not JSON is a MalformedResponse (core.turn's mapping, mirrored here)."""
    decoder = SSEDecoder()
    acc = StreamAccumulator()
    for event in decoder.feed(raw) + decoder.close():
        if event.data == "[DONE]":
            break
        try:
            chunk = json.loads(event.data)
        except json.JSONDecodeError:
            raise MalformedResponse("not JSON", detail=event.data[:120]) from None
        acc.add(chunk)
    return acc


def chunk(delta: dict[str, Any] | None = None, finish: str | None = None,
          **extra: Any) -> dict[str, Any]:
    choices = [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish}]
    return {"id": "chatcmpl-t", "object": "chat.completion.chunk", "choices": choices, **extra}


def calls_of(acc: StreamAccumulator) -> list[tuple[str, str, str]]:
    return [(c.id, c.name, c.arguments) for c in acc.tool_calls()]


# --- the fixture table itself -----------------------------------------------------------------


def test_every_transcript_has_an_entry_and_every_entry_a_transcript() -> None:
    on_disk = {p.stem for p in FIXTURE_DIR.glob("*.sse")}
    assert on_disk == set(FIXTURES)


def test_readme_lists_every_transcript() -> None:
    readme = (FIXTURE_DIR / "README.md").read_text()
    missing = [name for name in FIXTURES if f"| {name} |" not in readme]
    assert not missing


# --- every transcript accumulates to its expected message ------------------------------------


@pytest.mark.parametrize("name", sorted(n for n, e in FIXTURES.items() if e.error is None))
def test_transcript_accumulates_to_expected_message(name: str) -> None:
    assert_matches(fold(load_fixture(name)).message(), FIXTURES[name])


@pytest.mark.parametrize("name", sorted(n for n, e in FIXTURES.items() if e.error))
def test_transcript_raises_expected_error(name: str) -> None:
    expected = FIXTURES[name]
    with pytest.raises(ToolsmithError) as info:
        fold(load_fixture(name))
    assert info.value.kind == expected.error
    assert expected.error_says in str(info.value)


def test_error_in_stream_says_what_the_server_said_and_what_to_do() -> None:
    with pytest.raises(StreamErrorEvent) as info:
        fold(load_fixture("error_in_stream_wrapped"))
    assert "Retry" in info.value.message
    assert info.value.detail.startswith("It said: The server had an error")


def test_tool_without_parameters_means_empty_object() -> None:
    (call,) = fold(load_fixture("no_argument_chunk")).message().tool_calls
    assert call.arguments == ""
    assert call.parsed_arguments() == ({}, None)
    # ... and goes back to the server as "{}", which every server accepts.
    wire = message_to_wire(Message(role="assistant", tool_calls=[call]))
    assert wire["tool_calls"][0]["function"]["arguments"] == "{}"


def test_arguments_sent_as_object_parse_back_to_the_object() -> None:
    (call,) = fold(load_fixture("arguments_as_object")).message().tool_calls
    assert call.parsed_arguments() == ({"location": "Boston, MA", "unit": "celsius"}, None)


def test_arguments_that_are_not_json_are_kept_raw_with_a_reason() -> None:
    (call,) = fold(load_fixture("bad_arguments")).message().tool_calls
    value, reason = call.parsed_arguments()
    assert value is None
    assert reason is not None and reason.startswith("not valid JSON")
    assert "column" in reason


@pytest.mark.parametrize("name", sorted(n for n, e in FIXTURES.items() if e.calls))
def test_every_expected_id_is_kept_verbatim(name: str) -> None:
    """Ids of every shape (call_…, chatcmpl-tool-…, 9-char, toolu_…) survive untouched."""
    ids = [c.id for c in fold(load_fixture(name)).message().tool_calls]
    assert ids == [call_id for call_id, _, _ in FIXTURES[name].calls]


# The transcripts shaped exactly as OpenAI's own API streams them.
OPENAI_SHAPED = ["standard_tool_call", "parallel_tool_calls", "data_without_space",
                 "crlf_line_endings", "content_filter_first_chunk", "text_and_tool_calls",
                 "finish_stop_with_tools", "no_finish_reason", "no_usage"]


@pytest.mark.parametrize("name", OPENAI_SHAPED)
def test_agrees_with_openai_python_on_openai_shaped_streams(name: str) -> None:
    """A peer check: the official SDK's accumulator reads these the same way."""
    from openai.lib.streaming.chat import ChatCompletionStreamState
    from openai.types.chat import ChatCompletionChunk

    state = ChatCompletionStreamState()
    decoder = SSEDecoder()
    for event in decoder.feed(load_fixture(name)) + decoder.close():
        if event.data == "[DONE]":
            break
        state.handle_chunk(ChatCompletionChunk.construct(**json.loads(event.data)))
    theirs = state.get_final_completion()
    ours = fold(load_fixture(name)).message()
    their_message = theirs.choices[0].message
    assert [(c.id, c.function.name, c.function.arguments)
            for c in their_message.tool_calls or []] == [
        (c.id, c.name, c.arguments) for c in ours.tool_calls]
    assert (their_message.content or "") == ours.content
    assert theirs.choices[0].finish_reason == ours.finish_reason
    their_total = theirs.usage.total_tokens if theirs.usage else None
    assert their_total == (ours.usage.total_tokens if ours.usage else None)


# --- StreamAccumulator rules, one at a time --------------------------------------------------


def test_add_reports_whether_something_visible_changed() -> None:
    acc = StreamAccumulator()
    assert acc.add(chunk({"role": "assistant", "content": ""})) is False
    assert acc.add(chunk({"content": "Hi"})) is True
    assert acc.add(chunk({"reasoning_content": "hm"})) is True
    assert acc.add(chunk({"tool_calls": [{"index": 0, "id": "c", "function": {"name": "f"}}]}))
    assert acc.add(chunk({}, "tool_calls")) is False
    assert acc.add(chunk(None, usage={"prompt_tokens": 1})) is False
    assert acc.chunks == 6


def test_partial_snapshots_while_streaming() -> None:
    """The page renders tool_calls() mid-stream; arguments so far, never a crash."""
    acc = StreamAccumulator()
    acc.add(chunk({"tool_calls": [{"index": 0, "id": "c1", "type": "function",
                                   "function": {"name": "f", "arguments": ""}}]}))
    acc.add(chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"a": '}}]}))
    (call,) = acc.tool_calls()
    assert (call.id, call.name, call.arguments) == ("c1", "f", '{"a": ')
    assert call.parsed_arguments()[0] is None
    acc.add(chunk({"tool_calls": [{"index": 0, "function": {"arguments": "1}"}}]}))
    assert acc.tool_calls()[0].parsed_arguments() == ({"a": 1}, None)


def test_interleaved_parallel_fragments_are_routed_by_index() -> None:
    acc = StreamAccumulator()
    acc.add(chunk({"tool_calls": [{"index": 0, "id": "a", "function": {"name": "f"}},
                                  {"index": 1, "id": "b", "function": {"name": "g"}}]}))
    for index, piece in [(1, '{"y"'), (0, '{"x"'), (0, ": 1}"), (1, ": 2}")]:
        acc.add(chunk({"tool_calls": [{"index": index, "function": {"arguments": piece}}]}))
    assert calls_of(acc) == [("a", "f", '{"x": 1}'), ("b", "g", '{"y": 2}')]


def test_one_index_reused_for_a_second_call_with_a_new_id() -> None:
    acc = StreamAccumulator()
    for call_id, name, args in [("a", "f", "{}"), ("b", "g", '{"q": 1}')]:
        acc.add(chunk({"tool_calls": [{"index": 0, "id": call_id,
                                       "function": {"name": name, "arguments": ""}}]}))
        acc.add(chunk({"tool_calls": [{"index": 0, "function": {"arguments": args}}]}))
    assert calls_of(acc) == [("a", "f", "{}"), ("b", "g", '{"q": 1}')]


def test_no_index_and_no_id_each_new_name_starts_a_call() -> None:
    """Gemini-style: whole calls with neither index nor id."""
    acc = StreamAccumulator()
    acc.add(chunk({"tool_calls": [{"function": {"name": "f", "arguments": '{"n": 1}'}},
                                  {"function": {"name": "f", "arguments": '{"n": 2}'}}]}))
    message = acc.message()
    assert [c.arguments for c in message.tool_calls] == ['{"n": 1}', '{"n": 2}']
    ids = [c.id for c in message.tool_calls]
    assert all(i.startswith("call_local_") for i in ids)
    assert len(set(ids)) == 2


def test_name_is_never_concatenated_even_when_repeated_without_id() -> None:
    acc = StreamAccumulator()
    acc.add(chunk({"tool_calls": [{"index": 0, "id": "a", "function": {"name": "f"}}]}))
    acc.add(chunk({"tool_calls": [{"index": 0, "function": {"name": "f", "arguments": "{}"}}]}))
    assert calls_of(acc) == [("a", "f", "{}")]


def test_usage_under_choice_and_vendor_key_and_top_level_last_one_wins() -> None:
    acc = StreamAccumulator()
    acc.add({"choices": [{"index": 0, "delta": {}, "usage": {"prompt_tokens": 1}}]})
    assert acc.usage_raw == {"prompt_tokens": 1}
    acc.add(chunk({}, x_groq={"usage": {"prompt_tokens": 2}}))
    assert acc.usage_raw == {"prompt_tokens": 2}
    acc.add(chunk(None, usage={"prompt_tokens": 3}))
    acc.add(chunk({}, usage=None))  # a later "usage": null does not erase it
    assert acc.message().usage is not None
    assert acc.message().usage.prompt_tokens == 3


def test_choices_other_than_the_first_are_ignored() -> None:
    acc = StreamAccumulator()
    acc.add({"choices": [{"index": 1, "delta": {"content": "other"}},
                         {"index": 0, "delta": {"content": "mine"}}]})
    assert acc.text() == "mine"


def test_content_as_a_list_of_parts() -> None:
    acc = StreamAccumulator()
    acc.add(chunk({"content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]}))
    assert acc.text() == "ab"


def test_both_reasoning_names_at_once_are_not_doubled() -> None:
    """Some servers send the same text as reasoning_content and reasoning."""
    acc = StreamAccumulator()
    acc.add(chunk({"reasoning_content": "think", "reasoning": "think"}))
    assert acc.reasoning() == "think"


def test_a_chunk_that_is_not_an_object_is_malformed() -> None:
    with pytest.raises(MalformedResponse):
        StreamAccumulator().add(["not", "an", "object"])


@pytest.mark.parametrize("error_chunk", [
    {"error": {"message": "boom", "type": "server_error"}},
    {"error": "boom"},
    {"object": "error", "message": "boom", "type": "BadRequestError", "code": 400},
    {"type": "error", "error": {"type": "overloaded_error", "message": "boom"}},
], ids=["wrapped", "string", "bare", "anthropic"])
def test_error_objects_in_any_wrapper(error_chunk: dict[str, Any]) -> None:
    with pytest.raises(StreamErrorEvent) as info:
        StreamAccumulator().add(error_chunk)
    assert info.value.detail == "It said: boom"


def test_error_null_in_a_normal_chunk_is_not_an_error() -> None:
    """Regression (fixed in c886463): `'error' in chunk` made `"error": null` fatal."""
    acc = StreamAccumulator()
    acc.add(chunk({"content": "Hi"}, error=None))
    assert acc.text() == "Hi"


def test_twenty_thousand_argument_fragments() -> None:
    """Correctness at scale; fragments are joined once (speed itself lives in benchmarks)."""
    values = list(range(20_000))
    text = json.dumps({"values": values})
    pieces = [text[i:i + 3] for i in range(0, len(text), 3)]
    assert len(pieces) > 20_000
    acc = StreamAccumulator()
    acc.add(chunk({"tool_calls": [{"index": 0, "id": "call_big", "type": "function",
                                   "function": {"name": "sum", "arguments": ""}}]}))
    for piece in pieces:
        acc.add(chunk({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]}))
    (call,) = acc.message().tool_calls
    assert call.arguments == text
    assert call.parsed_arguments() == ({"values": values}, None)


def test_twenty_thousand_fragments_through_the_decoder() -> None:
    events = b"".join(
        b"data: " + json.dumps(chunk({"tool_calls": [
            {"index": 0, "function": {"arguments": "x"}}]})).encode() + b"\n\n"
        for _ in range(20_000))
    head = b"data: " + json.dumps(chunk({"tool_calls": [
        {"index": 0, "id": "c", "function": {"name": "f", "arguments": ""}}]})).encode()
    acc = fold(head + b"\n\n" + events + b"data: [DONE]\n\n")
    assert acc.tool_calls()[0].arguments == "x" * 20_000


# --- build_request ----------------------------------------------------------------------------


def conversation() -> list[Message]:
    """A question, the call it caused (one with no arguments), and the two results."""
    return [
        Message(role="system", content="ignored: the system prompt comes from settings"),
        Message(role="user", content="What's the weather like in Boston today?"),
        Message(role="assistant", content="", tool_calls=[
            ToolCall(id="call_4yKljCtGceYj1heJY8G9h3te", name=WEATHER, arguments=ARGS),
            ToolCall(id="call_time", name="get_server_time", arguments=""),
        ]),
        Message(role="tool", tool_call_id="call_4yKljCtGceYj1heJY8G9h3te", name=WEATHER,
                content='{"temperature": 22, "unit": "celsius"}'),
        Message(role="tool", tool_call_id="call_time", name="get_server_time",
                content="2025-06-08T12:00:00Z"),
    ]


def test_build_request_puts_the_system_prompt_first() -> None:
    body = build_request(conversation(), [], ChatSettings(model="m", system_prompt="Be brief."))
    assert body["messages"][0] == {"role": "system", "content": "Be brief."}
    assert [m["role"] for m in body["messages"]] == ["system", "user", "assistant", "tool",
                                                     "tool"]


def test_build_request_without_a_system_prompt_has_no_system_message() -> None:
    body = build_request(conversation(), [], ChatSettings(model="m", system_prompt="  \n"))
    assert [m["role"] for m in body["messages"]] == ["user", "assistant", "tool", "tool"]


def test_build_request_assistant_tool_calls_and_tool_results() -> None:
    body = build_request(conversation(), [WEATHER_TOOL], ChatSettings(model="m"))
    _user, assistant, weather, clock = body["messages"]
    assert assistant == {"role": "assistant", "content": None, "tool_calls": [
        {"id": "call_4yKljCtGceYj1heJY8G9h3te", "type": "function",
         "function": {"name": WEATHER, "arguments": ARGS}},
        {"id": "call_time", "type": "function",
         "function": {"name": "get_server_time", "arguments": "{}"}},
    ]}
    for call in assistant["tool_calls"]:
        assert isinstance(call["function"]["arguments"], str)
    assert weather == {"role": "tool", "tool_call_id": "call_4yKljCtGceYj1heJY8G9h3te",
                       "content": '{"temperature": 22, "unit": "celsius"}'}
    assert clock == {"role": "tool", "tool_call_id": "call_time",
                     "content": "2025-06-08T12:00:00Z"}


def test_build_request_assistant_text_alongside_tool_calls_is_kept() -> None:
    wire = message_to_wire(Message(role="assistant", content="Checking.", tool_calls=[
        ToolCall(id="c", name="f", arguments="{}")]))
    assert wire["content"] == "Checking."


def test_build_request_streaming_asks_for_usage() -> None:
    body = build_request(conversation(), [], ChatSettings(model="m", stream=True))
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}


def test_build_request_not_streaming_has_no_stream_keys() -> None:
    body = build_request(conversation(), [], ChatSettings(model="m", stream=False))
    assert "stream" not in body
    assert "stream_options" not in body


def test_build_request_tools_and_their_options() -> None:
    settings = ChatSettings(model="m", tool_choice="required", parallel_tool_calls=False)
    body = build_request(conversation(), [WEATHER_TOOL], settings)
    assert body["tools"] == [{"type": "function", "function": {
        "name": WEATHER, "description": WEATHER_TOOL.description,
        "parameters": WEATHER_TOOL.parameters}}]
    assert body["tool_choice"] == "required"
    assert body["parallel_tool_calls"] is False


def test_build_request_named_tool_choice_is_passed_through() -> None:
    choice = {"type": "function", "function": {"name": WEATHER}}
    body = build_request([], [WEATHER_TOOL], ChatSettings(model="m", tool_choice=choice))
    assert body["tool_choice"] == choice


def test_build_request_tool_options_only_with_tools() -> None:
    """tool_choice without tools is a 400 on OpenAI, so it must not be sent."""
    settings = ChatSettings(model="m", tool_choice="auto", parallel_tool_calls=True)
    body = build_request(conversation(), [], settings)
    assert not {"tools", "tool_choice", "parallel_tool_calls"} & body.keys()


def test_build_request_strict_only_when_set() -> None:
    strict = ToolSpec(name="f", description="d", parameters={"type": "object"}, strict=True)
    body = build_request([], [strict, WEATHER_TOOL], ChatSettings(model="m"))
    assert body["tools"][0]["function"]["strict"] is True
    assert "strict" not in body["tools"][1]["function"]


def test_build_request_sampling_options() -> None:
    body = build_request([], [], ChatSettings(model="m", temperature=0.0, max_tokens=256))
    assert body["temperature"] == 0.0
    assert body["max_tokens"] == 256
    plain = build_request([], [], ChatSettings(model="m"))
    assert "temperature" not in plain
    assert "max_tokens" not in plain


def test_build_request_body_has_only_wire_keys_and_no_credentials() -> None:
    settings = ChatSettings(model="gpt-4o", stream=True, system_prompt="s", temperature=0.2,
                            max_tokens=10, tool_choice="auto", parallel_tool_calls=True)
    body = build_request(conversation(), [WEATHER_TOOL], settings)
    assert set(body) == {"model", "messages", "tools", "tool_choice", "parallel_tool_calls",
                         "temperature", "max_tokens", "stream", "stream_options"}
    text = json.dumps(body).lower()
    for word in ("api_key", "authorization", "bearer", "sk-"):
        assert word not in text


def test_reference_answer_round_trips_into_the_follow_up_request() -> None:
    """What parse_response reads goes back out exactly as the server sent it."""
    answer = parse_response(REFERENCE_RESPONSE)
    body = build_request([Message(role="user", content="Weather?"), answer], [WEATHER_TOOL],
                         ChatSettings(model="gpt-4o-2024-08-06"))
    sent = REFERENCE_RESPONSE["choices"][0]["message"]
    assert body["messages"][1]["tool_calls"] == sent["tool_calls"]


# --- parse_response ---------------------------------------------------------------------------


def test_parse_response_reference_body() -> None:
    message = parse_response(REFERENCE_RESPONSE)
    assert message.content == ""
    assert [(c.id, c.name, c.arguments) for c in message.tool_calls] == [
        ("call_4yKljCtGceYj1heJY8G9h3te", WEATHER, ARGS)]
    assert message.finish_reason == "tool_calls"
    assert usage_row(message.usage) == REFERENCE_USAGE
    assert message.tool_calls[0].parsed_arguments() == (
        {"location": "Boston, MA", "unit": "celsius"}, None)


def test_parse_response_text_reasoning_and_object_arguments() -> None:
    body = {"choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
        "role": "assistant", "content": "Let me check.", "reasoning_content": "Need weather.",
        "tool_calls": [{"type": "function", "function": {
            "name": WEATHER, "arguments": {"location": "Boston, MA"}}}]}}]}
    message = parse_response(body)
    assert message.content == "Let me check."
    assert message.reasoning == "Need weather."
    (call,) = message.tool_calls
    assert call.id.startswith("call_local_")  # a server that sent no id still gets one
    assert call.parsed_arguments() == ({"location": "Boston, MA"}, None)
    assert message.usage is None


def test_parse_response_error_object_in_a_200_body() -> None:
    with pytest.raises(StreamErrorEvent) as info:
        parse_response({"error": {"message": "quota exceeded", "type": "insufficient_quota"}})
    assert "quota exceeded" in str(info.value)


@pytest.mark.parametrize("body", [[], "text", {"choices": []}, {"id": "x"},
                                  {"choices": ["x"]}], ids=repr)
def test_parse_response_without_choices_is_malformed(body: Any) -> None:
    with pytest.raises(MalformedResponse) as info:
        parse_response(body)
    assert "base URL" in info.value.message


# --- parse_usage ------------------------------------------------------------------------------


def test_parse_usage_openai_details() -> None:
    usage = parse_usage(REFERENCE_RESPONSE["usage"])
    assert usage_row(usage) == (80, 23, 103, 0, 0)
    assert usage is not None and usage.estimated is False


def test_parse_usage_deepseek_cache_fields() -> None:
    usage = parse_usage({"prompt_tokens": 181, "completion_tokens": 22, "total_tokens": 203,
                         "prompt_cache_hit_tokens": 128, "prompt_cache_miss_tokens": 53})
    assert usage_row(usage) == (181, 22, 203, 128, None)


def test_parse_usage_deepseek_zero_cache_hits_is_zero_not_unknown() -> None:
    """Regression (fixed in c886463): `x or y` turned 0 cache hits into None (unknown)."""
    usage = parse_usage({"prompt_tokens": 18, "completion_tokens": 60, "total_tokens": 78,
                         "prompt_cache_hit_tokens": 0, "prompt_cache_miss_tokens": 18})
    assert usage is not None
    assert usage.cached_tokens == 0


def test_parse_usage_flat_fields() -> None:
    usage = parse_usage({"prompt_tokens": 5, "completion_tokens": 7, "total_tokens": 12,
                         "cached_tokens": 2, "reasoning_tokens": 3})
    assert usage_row(usage) == (5, 7, 12, 2, 3)


def test_parse_usage_input_output_names() -> None:
    usage = parse_usage({"input_tokens": 5, "output_tokens": 7,
                         "input_tokens_details": {"cached_tokens": 1},
                         "output_tokens_details": {"reasoning_tokens": 4}})
    assert usage_row(usage) == (5, 7, None, 1, 4)
    assert usage is not None and usage.total == 12


def test_parse_usage_every_detail_is_optional() -> None:
    usage = parse_usage({"prompt_tokens": 5, "prompt_tokens_details": None,
                         "completion_tokens_details": {}})
    assert usage_row(usage) == (5, None, None, None, None)
    assert usage is not None and usage.total == 5


@pytest.mark.parametrize("raw", [None, "12", [], 7])
def test_parse_usage_missing_or_not_an_object(raw: Any) -> None:
    assert parse_usage(raw) is None


def test_parse_usage_ignores_values_that_are_not_integers() -> None:
    usage = parse_usage({"prompt_tokens": True, "completion_tokens": "7", "total_tokens": 3.5})
    assert usage_row(usage) == (None, None, None, None, None)
    assert usage is not None and usage.total is None


# --- model_ids --------------------------------------------------------------------------------


def test_model_ids_openai_list() -> None:
    body = {"object": "list", "data": [{"id": "gpt-4o-mini", "object": "model"},
                                       {"id": "gpt-4o", "object": "model"},
                                       {"id": "gpt-4o", "object": "model"}]}
    assert model_ids(body) == ["gpt-4o", "gpt-4o-mini"]


def test_model_ids_other_shapes() -> None:
    assert model_ids(["b", "a", 3]) == ["a", "b"]
    assert model_ids({"models": [{"name": "llama3.1:latest"}, {"id": "qwen"}]}) == [
        "llama3.1:latest", "qwen"]


@pytest.mark.parametrize("body", [{"data": "x"}, {"object": "list"}, "gpt-4o", None], ids=repr)
def test_model_ids_unexpected_shape(body: Any) -> None:
    with pytest.raises(MalformedResponse):
        model_ids(body)


# --- tool-call ids that change or repeat on one index ---------------------------------------


def test_an_id_changing_on_later_fragments_of_one_index_stays_one_call() -> None:
    """Some servers send a fresh id on every fragment after the header (same index)."""
    acc = StreamAccumulator()
    for item in ({"index": 0, "id": "call_first", "type": "function",
                  "function": {"name": "get_current_weather", "arguments": ""}},
                 {"index": 0, "id": "call_second", "function": {"arguments": '{"location":'}},
                 {"index": 0, "id": "call_third", "function": {"arguments": '"Boston, MA"}'}}):
        acc.add(chunk({"tool_calls": [item]}))
    acc.add(chunk({}, "tool_calls"))
    assert calls_of(acc) == [("call_first", "get_current_weather", '{"location":"Boston, MA"}')]


def test_fragments_follow_their_id_when_calls_share_an_index() -> None:
    acc = StreamAccumulator()
    for item in ({"index": 0, "id": "call_A", "function": {"name": "a", "arguments": ""}},
                 {"index": 0, "id": "call_B", "function": {"name": "b", "arguments": ""}},
                 {"index": 0, "id": "call_A", "function": {"arguments": '{"x":1}'}},
                 {"index": 0, "id": "call_B", "function": {"arguments": '{"y":2}'}}):
        acc.add(chunk({"tool_calls": [item]}))
    assert calls_of(acc) == [("call_A", "a", '{"x":1}'), ("call_B", "b", '{"y":2}')]


# --- refusals ----------------------------------------------------------------------------------

REFUSAL = "I'm sorry, I can't help with that."


def test_a_streamed_refusal_is_the_answer() -> None:
    acc = StreamAccumulator()
    for delta in ({"role": "assistant", "content": None, "refusal": ""}, {"refusal": REFUSAL}):
        acc.add(chunk(delta))
    acc.add(chunk({}, "stop"))
    assert acc.message().content == REFUSAL


def test_a_refusal_in_a_whole_response_is_the_answer() -> None:
    message = parse_response({"object": "chat.completion", "choices": [{
        "index": 0, "finish_reason": "stop",
        "message": {"role": "assistant", "content": None, "refusal": REFUSAL}}]})
    assert message.content == REFUSAL


def test_parallel_calls_sharing_an_id_stay_two_calls_with_their_own_ids() -> None:
    """Some servers (DeepSeek, GLM) give parallel calls one id; each needs its own result."""
    acc = StreamAccumulator()
    for item in ({"index": 0, "id": "call_same", "function": {"name": "a", "arguments": ""}},
                 {"index": 0, "function": {"arguments": '{"x": 1}'}},
                 {"index": 1, "id": "call_same", "function": {"name": "b", "arguments": ""}},
                 {"index": 1, "id": "call_same", "function": {"arguments": '{"y": 2}'}}):
        acc.add(chunk({"tool_calls": [item]}))
    acc.add(chunk({}, "tool_calls"))
    assert calls_of(acc) == [("call_same", "a", '{"x": 1}'), ("call_same_2", "b", '{"y": 2}')]
    assert calls_of(acc) == calls_of(acc)  # the same ids on every read

    message = parse_response({"choices": [{"index": 0, "message": {"role": "assistant",
        "tool_calls": [{"id": "x", "function": {"name": "a", "arguments": "{}"}},
                       {"id": "x", "function": {"name": "b", "arguments": "{}"}}]}}]})
    assert [c.id for c in message.tool_calls] == ["x", "x_2"]


def test_the_reasoning_of_a_turn_that_called_tools_goes_back_with_it() -> None:
    """DeepSeek thinking mode: without it the next request is refused with a 400."""
    call = ToolCall("call_00_abc", "get_current_weather", '{"location":"Boston, MA"}')
    thought = Message(role="assistant", reasoning="I should call the weather tool.",
                      tool_calls=[call])
    assert message_to_wire(thought)["reasoning_content"] == "I should call the weather tool."
    assert "reasoning_content" not in message_to_wire(replace(thought, reasoning=""))
    answer = Message(role="assistant", content="22 C", reasoning="Easy.")
    assert "reasoning_content" not in message_to_wire(answer)  # only turns that called tools
