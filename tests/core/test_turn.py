"""core.turn.run_turn over real HTTP against the local wire server.

Nothing is mocked between run_turn and the socket: httpx, the SSE decoder and the accumulator
all run for real. Retries never sleep: an injected `sleep` records the delays instead, and
stalls use an idle timeout of 0.3 s.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx
import pytest

from core.config import Endpoint
from core.turn import TurnResult, client_for, run_turn
from core.types import ChatSettings, Message, ToolCall
from core.wire import errors
from core.wire.http import RetryNotice, RetryPolicy, Timeouts
from core.wire.openai_chat import StreamAccumulator
from tests.support.sse_fixtures import (
    ARGS,
    FIXTURES,
    REFERENCE_USAGE,
    WEATHER,
    WEATHER_TOOL,
    assert_matches,
    load_fixture,
    usage_row,
)
from tests.support.wire_server import (
    REFERENCE_RESPONSE,
    WireServer,
    chunks_to_sse,
    fixture_reply,
    json_reply,
    sse_reply,
)

KEY = "sk-test-MARKER-9f8e7d6c5b4a39281706"
QUESTION = "What's the weather like in Boston today?"
STALL_S = 0.3


@dataclass
class Run:
    """One run_turn call with everything it told the outside world."""

    result: TurnResult
    sleeps: list[float] = field(default_factory=list)
    notices: list[RetryNotice] = field(default_factory=list)
    progress: list[StreamAccumulator] = field(default_factory=list)

    @property
    def error(self) -> errors.ToolsmithError:
        assert self.result.error is not None, "expected the turn to fail"
        return self.result.error

    @property
    def message(self) -> Message:
        assert self.result.error is None, f"turn failed: {self.result.error}"
        assert self.result.message is not None
        return self.result.message


def endpoint_for(base_url: str, model: str, *, idle: float = 10.0, key: str = KEY) -> Endpoint:
    return Endpoint(preset="custom", base_url=base_url, model=model, api_key=key,
                    timeouts=Timeouts(connect=5.0, idle=idle), retry=RetryPolicy())


_CLIENTS: dict[float, httpx.Client] = {}


def shared_client(idle: float) -> httpx.Client:
    """One client per idle timeout, made by core's own factory.

    Building an httpx.Client loads an SSL context (~70 ms), which would dominate this file;
    the tests marked own_client=True still cover run_turn making and closing its own.
    """
    if idle not in _CLIENTS:
        _CLIENTS[idle] = client_for(Timeouts(connect=5.0, idle=idle), demo=False)
    return _CLIENTS[idle]


@pytest.fixture(scope="module", autouse=True)
def _close_shared_clients() -> Iterator[None]:
    yield
    for client in _CLIENTS.values():
        client.close()
    _CLIENTS.clear()


def turn(base_url: str, model: str, *, stream: bool = True,
         messages: list[Message] | None = None, idle: float = 10.0,
         key: str = KEY, own_client: bool = False) -> Run:
    sleeps: list[float] = []
    notices: list[RetryNotice] = []
    progress: list[StreamAccumulator] = []
    result = run_turn(
        endpoint_for(base_url, model, idle=idle, key=key),
        messages if messages is not None else [Message(role="user", content=QUESTION)],
        [WEATHER_TOOL],
        ChatSettings(model=model, stream=stream),
        client=None if own_client else shared_client(idle),
        on_progress=progress.append, on_retry=notices.append, sleep=sleeps.append,
    )
    return Run(result, sleeps, notices, progress)


@pytest.fixture
def refused_base_url() -> Iterator[str]:
    """A port bound but not listening: connecting is refused, and no one else can take it."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/v1"


def assert_failed(run: Run, error_type: type[errors.ToolsmithError], *words: str) -> None:
    """The error is typed, kept on the exchange, and its text says each of `words`."""
    error = run.error
    assert isinstance(error, error_type), f"{type(error).__name__}: {error}"
    exchange = run.result.exchange
    assert run.result.message is None
    assert exchange.error == str(error)
    assert exchange.error_kind == error.kind
    assert exchange.ended_at is not None
    for word in words:
        assert word in str(error), f"{word!r} not in {str(error)!r}"


# --- the happy path ---------------------------------------------------------------------------


def test_streamed_tool_call_turn(wire_server: WireServer) -> None:
    run = turn(wire_server.base_url, "gpt-4o-2024-08-06", own_client=True)
    message = run.message
    assert [(c.id, c.name, c.arguments) for c in message.tool_calls] == [
        ("call_4yKljCtGceYj1heJY8G9h3te", WEATHER, ARGS)]
    assert message.finish_reason == "tool_calls"
    assert usage_row(message.usage) == REFERENCE_USAGE
    exchange = run.result.exchange
    assert message.exchange_id == exchange.id
    assert (exchange.status, exchange.error, exchange.stream) == (200, None, True)
    assert exchange.request_id == "req_wire_0001"
    assert exchange.usage == message.usage
    assert exchange.transcript == load_fixture("standard_tool_call").decode()
    assert exchange.response_body["tool_calls"] == [
        {"id": "call_4yKljCtGceYj1heJY8G9h3te", "name": WEATHER, "arguments": ARGS}]
    assert [(a.status, a.error) for a in exchange.attempts] == [(200, None)]
    assert exchange.first_byte_at is not None and exchange.first_token_at is not None
    assert exchange.ended_at is not None
    assert exchange.started_at <= exchange.first_byte_at <= exchange.first_token_at
    assert exchange.first_token_at <= exchange.ended_at
    # Progress was reported while the arguments grew, ending with all of them.
    assert len(run.progress) >= 2
    assert run.progress[-1].tool_calls()[0].arguments == ARGS
    assert run.sleeps == [] and run.notices == []


def test_streamed_request_on_the_wire(wire_server: WireServer) -> None:
    turn(wire_server.base_url, "gpt-4o-2024-08-06")
    (request,) = wire_server.chat_requests
    assert request.path == "/v1/chat/completions"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["accept"] == "text/event-stream"
    body = request.json
    assert body["model"] == "gpt-4o-2024-08-06"
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}
    assert body["messages"] == [{"role": "user", "content": QUESTION}]
    assert body["tools"][0]["function"]["name"] == WEATHER


def test_follow_up_turn_sends_the_calls_and_one_result_per_call(wire_server: WireServer) -> None:
    wire_server.script(fixture_reply("parallel_tool_calls"))
    question = Message(role="user", content="Weather in Boston and Tokyo?")
    first = turn(wire_server.base_url, "gpt-4o", messages=[question]).message
    assert len(first.tool_calls) == 2
    results = [Message(role="tool", tool_call_id=c.id, name=c.name,
                       content=json.dumps({"temperature": 20 + i, "unit": "celsius"}))
               for i, c in enumerate(first.tool_calls)]
    second = turn(wire_server.base_url, "gpt-4o", messages=[question, first, *results])

    sent = wire_server.chat_requests[1].json["messages"]
    assert [m["role"] for m in sent] == ["user", "assistant", "tool", "tool"]
    assert sent[1]["content"] is None
    assert sent[1]["tool_calls"] == [
        {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
        for c in first.tool_calls]
    assert [(m["tool_call_id"], m["content"]) for m in sent[2:]] == [
        (r.tool_call_id, r.content) for r in results]
    # The server answered from the results it received.
    assert second.message.content == (
        'Tool results: call_Rk3pVfH2l1uS8bOqTzW4xYcE said {"temperature": 20, "unit": '
        '"celsius"}; call_9mNq2LdXe7GhJ0aB5sTuVwYz said {"temperature": 21, "unit": "celsius"}')
    assert second.message.finish_reason == "stop"
    assert second.message.tool_calls == []


def test_non_streaming_turn(wire_server: WireServer) -> None:
    run = turn(wire_server.base_url, "gpt-4o-2024-08-06", stream=False, own_client=True)
    message = run.message
    assert [(c.id, c.name, c.arguments) for c in message.tool_calls] == [
        ("call_4yKljCtGceYj1heJY8G9h3te", WEATHER, ARGS)]
    assert usage_row(message.usage) == REFERENCE_USAGE
    assert run.result.exchange.response_body == REFERENCE_RESPONSE
    assert run.result.exchange.stream is False
    (request,) = wire_server.chat_requests
    assert request.headers["accept"] == "application/json"
    assert "stream" not in request.json and "stream_options" not in request.json


def test_non_streaming_follow_up_turn(wire_server: WireServer) -> None:
    question = Message(role="user", content=QUESTION)
    first = turn(wire_server.base_url, "gpt-4o", stream=False, messages=[question]).message
    result = Message(role="tool", tool_call_id=first.tool_calls[0].id, content="22 °C, sunny")
    second = turn(wire_server.base_url, "gpt-4o", stream=False,
                  messages=[question, first, result]).message
    assert second.content == "Tool results: call_4yKljCtGceYj1heJY8G9h3te said 22 °C, sunny"


def test_server_that_ignores_stream_true_and_answers_json(wire_server: WireServer) -> None:
    wire_server.script(json_reply(REFERENCE_RESPONSE))
    message = turn(wire_server.base_url, "gpt-4o").message
    assert message.tool_calls[0].id == "call_4yKljCtGceYj1heJY8G9h3te"


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_every_transcript_over_the_network(wire_server: WireServer, name: str) -> None:
    """Each transcript, sent chunked in awkward write sizes, gives its expected outcome."""
    run = turn(wire_server.base_url, f"fixture-{name}")
    expected = FIXTURES[name]
    if expected.error:
        assert run.error.kind == expected.error
        assert expected.error_says in str(run.error)
        assert run.result.exchange.status == 200
    else:
        assert_matches(run.message, expected)


# --- the key ----------------------------------------------------------------------------------


def test_key_travels_only_in_the_authorization_header(wire_server: WireServer) -> None:
    run = turn(wire_server.base_url, "gpt-4o")
    (request,) = wire_server.chat_requests
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert KEY not in request.body.decode()
    exchange = run.result.exchange
    assert KEY not in json.dumps(exchange.request_body)
    assert exchange.request_headers["Authorization"] == "Bearer $OPENAI_API_KEY"
    assert KEY not in json.dumps(exchange.request_headers)
    assert KEY not in repr(exchange)


def test_key_is_not_in_a_401_error_or_its_exchange(wire_server: WireServer) -> None:
    run = turn(wire_server.base_url, "fault-401")
    assert KEY not in str(run.error)
    assert KEY not in repr(run.result.exchange)


def test_no_key_no_authorization_header(wire_server: WireServer) -> None:
    """Local servers (Ollama, vLLM) take no key; sending 'Bearer ' would be wrong."""
    run = turn(wire_server.base_url, "gpt-4o", key="")
    assert run.result.error is None
    assert "authorization" not in wire_server.chat_requests[0].headers
    assert "Authorization" not in run.result.exchange.request_headers


def test_key_with_a_pasted_non_ascii_character_is_a_turn_error(wire_server: WireServer) -> None:
    """Regression (fixed in c886463): httpx's UnicodeEncodeError escaped run_turn."""
    run = turn(wire_server.base_url, "gpt-4o", key=KEY + "\u200b")
    assert_failed(run, errors.ConfigError, "API key", "OPENAI_API_KEY")
    assert KEY not in str(run.error)
    assert wire_server.chat_requests == []  # nothing was sent


def test_key_with_a_pasted_line_break_is_a_turn_error(wire_server: WireServer) -> None:
    run = turn(wire_server.base_url, "gpt-4o", key=KEY + "\n")
    assert_failed(run, errors.ConfigError, "API key")
    assert wire_server.chat_requests == []


# --- HTTP status faults -----------------------------------------------------------------------


def test_400_names_the_status_and_what_the_server_said(wire_server: WireServer) -> None:
    run = turn(wire_server.base_url, "fault-400")
    assert_failed(run, errors.APIStatusError, "400", "tool schemas",
                  "Invalid schema for function 'get_current_weather'")
    assert run.error.status == 400
    exchange = run.result.exchange
    assert (exchange.status, exchange.error_kind) == (400, "http_status")
    assert exchange.request_id == "req_wire_0001"
    assert [a.status for a in exchange.attempts] == [400]  # not retried
    assert run.sleeps == []


def test_401_says_check_the_key(wire_server: WireServer) -> None:
    run = turn(wire_server.base_url, "fault-401")
    assert_failed(run, errors.APIStatusError, "401", "API key was rejected", "OPENAI_API_KEY")
    assert [a.status for a in run.result.exchange.attempts] == [401]


def test_404_says_check_the_base_url_and_model(wire_server: WireServer) -> None:
    run = turn(wire_server.base_url, "fault-404")
    assert_failed(run, errors.APIStatusError, "404", "base URL", "/v1", "model name",
                  "does not exist")


def test_429_with_retry_after_then_success(wire_server: WireServer) -> None:
    run = turn(wire_server.base_url, "fault-429-then-ok")
    assert run.message.tool_calls[0].name == WEATHER
    attempts = run.result.exchange.attempts
    assert [a.status for a in attempts] == [429, 200]
    assert attempts[0].retry_after_s == 2.0
    assert run.sleeps == [2.0]  # the server's Retry-After, not the backoff
    (notice,) = run.notices
    assert (notice.retry_number, notice.max_retries, notice.delay_s) == (1, 2, 2.0)
    assert "429" in notice.reason and "rate limited" in notice.reason
    assert run.result.exchange.status == 200


def test_429_with_retry_after_ms_wins_over_retry_after(wire_server: WireServer) -> None:
    run = turn(wire_server.base_url, "fault-429-ms-then-ok")
    assert run.result.error is None
    assert run.sleeps == [0.25]


def test_429_with_an_http_date_retry_after(wire_server: WireServer) -> None:
    run = turn(wire_server.base_url, "fault-429-date-then-ok")
    assert run.result.error is None
    (delay,) = run.sleeps
    assert 0.0 < delay <= 5.0


def test_429_every_time_gives_up_after_the_retries(wire_server: WireServer) -> None:
    run = turn(wire_server.base_url, "fault-429")
    assert_failed(run, errors.APIStatusError, "429", "after 3 attempts", "rate limited",
                  "Rate limit reached")
    assert [a.status for a in run.result.exchange.attempts] == [429, 429, 429]
    assert run.sleeps == [1.0, 1.0]
    assert [n.retry_number for n in run.notices] == [1, 2]
    assert run.result.exchange.request_id == "req_wire_0003"  # the last attempt's


def test_429_asking_for_a_long_wait_is_not_retried(wire_server: WireServer) -> None:
    """Waiting an hour inside a page is worse than saying so and letting the user retry."""
    run = turn(wire_server.base_url, "fault-429-long")
    assert_failed(run, errors.APIStatusError, "429", "Wait a moment",
                  "The server asks to wait 60 minutes before trying again")
    assert len(run.result.exchange.attempts) == 1
    assert run.sleeps == []


def test_429_with_an_unparseable_retry_after_falls_back_to_backoff(
        wire_server: WireServer) -> None:
    """Regression (fixed in c886463): parsedate_to_datetime's ValueError escaped run_turn."""
    run = turn(wire_server.base_url, "fault-429-unparseable-then-ok")
    assert run.result.error is None
    assert run.sleeps == [0.5]


def test_500_is_retried_with_capped_exponential_backoff(wire_server: WireServer) -> None:
    run = turn(wire_server.base_url, "fault-500")
    assert_failed(run, errors.APIStatusError, "500", "after 3 attempts", "server failed",
                  "Retry", "Sorry about that")
    assert run.sleeps == [0.5, 1.0]
    exchange = run.result.exchange
    assert [a.status for a in exchange.attempts] == [500, 500, 500]
    # Each answer, an error too, is a first byte: the inspector's timing says when it came.
    assert all(a.started_at <= a.answered_at for a in exchange.attempts)
    assert exchange.first_byte_at == exchange.attempts[-1].answered_at


def test_500_once_then_success(wire_server: WireServer) -> None:
    run = turn(wire_server.base_url, "fault-500-then-ok")
    assert run.result.error is None
    assert [a.status for a in run.result.exchange.attempts] == [500, 200]
    assert run.sleeps == [0.5]
    assert len(run.notices) == 1


def test_502_html_page_from_a_proxy(wire_server: WireServer) -> None:
    run = turn(wire_server.base_url, "fault-502-html")
    assert_failed(run, errors.APIStatusError, "502", "an HTML page titled “502 Bad Gateway”",
                  "proxy")
    assert "<html>" not in str(run.error)  # the page is summarised, not dumped
    assert "502 Bad Gateway" in run.error.body_excerpt
    assert len(run.result.exchange.attempts) == 3


def test_529_overloaded(wire_server: WireServer) -> None:
    run = turn(wire_server.base_url, "fault-529")
    assert_failed(run, errors.APIStatusError, "529", "overloaded", "It said: Overloaded")
    assert run.sleeps == [0.5, 1.0]


# --- connection and stream faults -------------------------------------------------------------


def test_refused_port_is_a_connect_error(refused_base_url: str) -> None:
    run = turn(refused_base_url, "gpt-4o", own_client=True)
    netloc = refused_base_url.removesuffix("/v1")
    assert_failed(run, errors.ConnectError, f"Could not connect to {netloc}",
                  "Check the base URL", "server is running")
    attempts = run.result.exchange.attempts
    assert [(a.status, a.error) for a in attempts] == [(None, "connection failed")] * 3
    assert run.sleeps == [0.5, 1.0]
    assert run.result.exchange.status is None


def test_server_that_never_answers_is_a_timeout(wire_server: WireServer) -> None:
    run = turn(wire_server.base_url, "fault-no-answer", idle=STALL_S)
    assert_failed(run, errors.TimeoutError_, "did not answer in time", "Retry")
    assert [a.error for a in run.result.exchange.attempts] == ["timeout"]  # not retried


def test_stream_that_stalls_is_stream_stalled(wire_server: WireServer) -> None:
    run = turn(wire_server.base_url, "fault-stall", idle=STALL_S, own_client=True)
    assert_failed(run, errors.StreamStalled, f"stopped sending for {STALL_S:g} s", "Retry")
    exchange = run.result.exchange
    assert exchange.status == 200
    assert exchange.transcript is not None and '"arguments":"location"' in exchange.transcript


def test_json_body_that_stalls_is_a_timeout(wire_server: WireServer) -> None:
    run = turn(wire_server.base_url, "fault-stall", stream=False, idle=STALL_S)
    assert_failed(run, errors.TimeoutError_, "headers but not its answer")


def test_stream_cut_inside_tool_arguments_is_stream_broken(wire_server: WireServer) -> None:
    run = turn(wire_server.base_url, "fault-cut-args")
    assert_failed(run, errors.StreamBroken, "closed in the middle",
                  "inside tool-call arguments", "Retry")
    # Everything up to the event carrying `Boston` arrived and is kept for the inspector.
    raw = load_fixture("standard_tool_call")
    end = raw.index(b"\n\n", raw.index(b'"arguments":"Boston"')) + 2
    assert run.result.exchange.transcript == raw[:end].decode()


def test_stream_ending_cleanly_inside_tool_arguments_is_stream_broken(
        wire_server: WireServer) -> None:
    """Connection-close framing: the EOF looks clean, but no [DONE] and half the arguments."""
    run = turn(wire_server.base_url, "fault-cut-args-eof")
    assert_failed(run, errors.StreamBroken, f"in the middle of the arguments of {WEATHER}")


def test_stream_ending_cleanly_after_a_call_header_is_stream_broken(
        wire_server: WireServer) -> None:
    """Close-delimited and cut right after the second call's header (`"arguments": ""`): every
    argument text so far is whole JSON, yet the second call has none of its arguments."""
    raw = load_fixture("parallel_tool_calls")
    second = raw.index(b'"id":"call_9mNq2LdXe7GhJ0aB5sTuVwYz"')
    cut = fixture_reply("parallel_tool_calls", framing="close",
                        cut_after=raw.index(b"\n\n", second) + 2)
    wire_server.script(cut, cut, cut)  # a broken stream is retried twice
    run = turn(wire_server.base_url, "gpt-4o")
    assert_failed(run, errors.StreamBroken, "without saying it was done", "Retry")
    assert len(run.result.exchange.attempts) == 3


def test_json_body_cut_short_is_stream_broken(wire_server: WireServer) -> None:
    run = turn(wire_server.base_url, "fault-cut-args", stream=False)
    assert_failed(run, errors.StreamBroken, "closed before the whole answer arrived")


@pytest.mark.parametrize(("model", "said"), [
    ("fault-stream-error", "It said: The server had an error while processing"),
    ("fault-stream-error-bare", "It said: This model's maximum context length is 8192"),
])
def test_error_object_inside_a_200_stream(wire_server: WireServer, model: str,
                                          said: str) -> None:
    run = turn(wire_server.base_url, model)
    assert_failed(run, errors.StreamErrorEvent, "reported an error", "Retry", said)
    assert run.result.exchange.status == 200
    assert run.result.exchange.error_kind == "stream_error"


def test_chunk_that_is_not_json_is_malformed(wire_server: WireServer) -> None:
    run = turn(wire_server.base_url, "fault-not-json")
    assert_failed(run, errors.MalformedResponse, "not JSON", "proxy",
                  "upstream connect error")


@pytest.mark.parametrize("stream", [True, False], ids=["stream", "json"])
def test_tool_arguments_that_are_not_json_reach_the_page(wire_server: WireServer,
                                                         stream: bool) -> None:
    """Bad arguments are the model's output, not a transport failure: the call is kept raw
    so the page can show it and the user can answer with an error result."""
    run = turn(wire_server.base_url, "fault-bad-args", stream=stream)
    (call,) = run.message.tool_calls
    assert call.arguments == '{"location": "Boston, MA", "unit": celsius}'
    value, reason = call.parsed_arguments()
    assert value is None and reason is not None and "not valid JSON" in reason


def test_html_page_with_status_200_for_a_json_request(wire_server: WireServer) -> None:
    run = turn(wire_server.base_url, "fault-html-200", stream=False)
    assert_failed(run, errors.MalformedResponse, "not with JSON", "base URL",
                  "an HTML page titled “Sign in · Wi-Fi”")


def test_html_page_with_status_200_for_a_stream_request(wire_server: WireServer) -> None:
    """A captive portal answers a stream request too; the page must be named, not read as
    an empty stream."""
    run = turn(wire_server.base_url, "fault-html-200")
    assert_failed(run, errors.MalformedResponse, "not with JSON", "base URL",
                  "an HTML page titled “Sign in · Wi-Fi”")


def test_stream_of_only_done_is_malformed(wire_server: WireServer) -> None:
    wire_server.script(sse_reply(b": keep-alive\n\ndata: [DONE]\n\n"))
    run = turn(wire_server.base_url, "gpt-4o")
    assert_failed(run, errors.MalformedResponse, "empty stream")


def test_gzip_encoded_event_stream(wire_server: WireServer) -> None:
    """Regression (fixed in c886463): iter_raw() fed gzip bytes to the SSE decoder."""
    run = turn(wire_server.base_url, "fault-gzip-stream")
    assert_matches(run.message, FIXTURES["standard_tool_call"])
    # The inspector keeps the readable stream, not the compressed bytes.
    assert run.result.exchange.transcript == load_fixture("standard_tool_call").decode()


def test_stream_whose_content_encoding_lies_is_a_turn_error(wire_server: WireServer) -> None:
    """Regression (fixed in f482069): httpx.DecodingError escaped run_turn."""
    run = turn(wire_server.base_url, "fault-lying-gzip")
    assert_failed(run, errors.StreamBroken, "could not be decoded", "(gzip)", "Retry")
    run = turn(wire_server.base_url, "fault-lying-gzip", stream=False)
    assert_failed(run, errors.StreamBroken, "could not be decoded", "Retry")


WRONG_SHAPES = [
    {"choices": [None]},
    {"choices": {"0": {"delta": {"content": "x"}}}},
    {"choices": [{"index": 0, "delta": "x"}]},
    {"choices": [{"index": 0, "delta": {"tool_calls": ["x"]}}]},
    {"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "function": "f"}]}}]},
]


@pytest.mark.parametrize("shape", WRONG_SHAPES, ids=range(len(WRONG_SHAPES)))
def test_chunk_with_a_wrong_shape_is_malformed(wire_server: WireServer,
                                               shape: dict[str, object]) -> None:
    """Regression (fixed in b56ea97): AttributeError from .get() on a wrong shape escaped."""
    wire_server.script(sse_reply(chunks_to_sse([shape])))
    run = turn(wire_server.base_url, "gpt-4o")
    assert_failed(run, errors.MalformedResponse, "shape", "base URL")


@pytest.mark.parametrize("message", ["hi", {"role": "assistant", "tool_calls": ["x"]}],
                         ids=["message-string", "tool-call-string"])
def test_json_body_with_a_wrong_shape_is_malformed(wire_server: WireServer,
                                                   message: object) -> None:
    """Regression (fixed in b56ea97): AttributeError from parse_response escaped."""
    wire_server.script(json_reply({"choices": [{"index": 0, "message": message}]}))
    run = turn(wire_server.base_url, "gpt-4o", stream=False)
    assert_failed(run, errors.MalformedResponse, "shape", "base URL")


def test_failed_exchange_keeps_what_was_sent(wire_server: WireServer) -> None:
    """A failed request can be inspected and reproduced: body and masked headers are kept."""
    run = turn(wire_server.base_url, "fault-500")
    exchange = run.result.exchange
    assert exchange.request_body == wire_server.chat_requests[0].json
    assert exchange.request_headers["Authorization"] == "Bearer $OPENAI_API_KEY"
    assert exchange.base_url == wire_server.base_url
    assert (exchange.wire, exchange.model) == ("openai", "fault-500")
    assert exchange.provider == urlsplit(wire_server.base_url).netloc  # the server, by host


def base_url_turn(base_url: str) -> Run:
    """A turn against a base URL that httpx rejects locally (no DNS, no socket)."""
    return Run(run_turn(Endpoint("custom", base_url, "m"), [Message(role="user", content="hi")],
                        [], ChatSettings(model="m"), sleep=lambda _s: None))


@pytest.mark.parametrize("base_url", ["http://host:port/v1", "http://[::1/v1"])
def test_invalid_base_url_is_a_config_error(base_url: str) -> None:
    run = base_url_turn(base_url)
    assert_failed(run, errors.ConfigError, "base URL", "not a valid address", base_url)
    assert run.result.exchange.attempts == []  # nothing was sent


@pytest.mark.parametrize("base_url", ["localhost:11434/v1", "ftp://example.com/v1"])
def test_base_url_without_http_says_check_the_base_url(base_url: str) -> None:
    run = base_url_turn(base_url)
    assert_failed(run, errors.ConnectError, "Check the base URL")
    assert len(run.result.exchange.attempts) == 1  # not retried: retrying cannot help


def test_assistant_message_with_calls_round_trips_unchanged(wire_server: WireServer) -> None:
    """ToolCall arguments go back as the exact string received (no re-serialisation)."""
    odd = ToolCall(id="call_x", name=WEATHER, arguments='{ "location" :"Boston, MA" }')
    messages = [Message(role="user", content=QUESTION),
                Message(role="assistant", tool_calls=[odd]),
                Message(role="tool", tool_call_id="call_x", content="ok")]
    turn(wire_server.base_url, "gpt-4o", messages=messages)
    sent = wire_server.chat_requests[0].json["messages"][1]["tool_calls"][0]
    assert sent["function"]["arguments"] == odd.arguments
