"""Servers that misbehave while streaming, over real HTTP against the local wire server.

A broken stream is retried like a 429 (same policy, the partial answer discarded, every attempt
recorded with how it broke); a stream that only trickles or sends keep-alives ends at the idle
limit or the overall deadline; an enormous answer is cut at a cap with a clear message; a whole
answer whose trailer is unreadable is kept, saying what was lost. Retries never sleep: the
injected `sleep` records the delays.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.config import Endpoint
from core.conversation import Conversation
from core.live import snapshot
from core.store import Store
from core.turn import MAX_ANSWER_CHARS, TurnResult, client_for, run_turn
from core.types import ChatSettings, Message, ToolSpec
from core.wire import errors
from core.wire.http import RetryNotice, RetryPolicy, Timeouts
from core.wire.openai_chat import StreamAccumulator
from tests.support.sse_fixtures import FIXTURES, WEATHER, assert_matches
from tests.support.wire_server import (
    REFERENCE_RESPONSE,
    Reply,
    WireServer,
    chunks_to_sse,
    fixture_reply,
    json_reply,
    sse_reply,
)

QUESTION = "What's the weather like in Boston today?"
TOOL = ToolSpec(WEATHER, "Get the weather", {"type": "object", "properties": {
    "location": {"type": "string"}}, "required": ["location"]})


@pytest.fixture(scope="module")
def server() -> Iterator[WireServer]:
    with WireServer() as running:
        yield running


Run = tuple[TurnResult, list[RetryNotice], list[float]]


def cut_stream(after: int = 600) -> Reply:
    return Reply(**{**fixture_reply("standard_tool_call").__dict__, "cut_after": after})


def turn(server: WireServer, model: str, *, idle: float = 10.0, deadline: float = 600.0,
         keepalive: float = 180.0, retries: int = 2) -> Run:
    notices: list[RetryNotice] = []
    sleeps: list[float] = []
    endpoint = Endpoint(preset="custom", base_url=server.base_url, model=model, api_key="",
                        timeouts=Timeouts(connect=5.0, idle=idle, deadline=deadline,
                                          keepalive=keepalive),
                        retry=RetryPolicy(max_retries=retries))
    with client_for(endpoint.timeouts, demo=False) as client:
        result = run_turn(endpoint, [Message(role="user", content=QUESTION)], [TOOL],
                          ChatSettings(model=model, stream=True), client=client,
                          on_retry=notices.append, sleep=sleeps.append)
    return result, notices, sleeps


# --- broken streams are retried --------------------------------------------------------------

@pytest.mark.parametrize(("model", "how"), [
    ("fault-cut-then-ok", "stream_broken"),
    ("fault-not-json-then-ok", "malformed"),
])
def test_a_stream_broken_once_is_retried_and_the_answer_arrives(server: WireServer, model: str,
                                                                how: str) -> None:
    result, notices, sleeps = turn(server, model)
    assert result.error is None, result.error
    assert result.message is not None
    assert_matches(result.message, FIXTURES["standard_tool_call"])
    first, second = result.exchange.attempts
    assert first.error is not None and first.error.startswith(how), first.error
    assert second.error is None and second.status == 200
    [notice] = notices
    assert "stream was cut" in notice.reason and "retrying" in notice.reason
    assert notice.retry_number == 1 and sleeps == [notice.delay_s] and notice.delay_s <= 1


def test_a_stream_that_keeps_breaking_fails_after_the_policy_s_retries(
        server: WireServer) -> None:
    result, notices, sleeps = turn(server, "fault-cut-args")
    assert isinstance(result.error, errors.StreamBroken)
    assert "All 3 attempts broke." in str(result.error) and "Retry" in str(result.error)
    assert [a.error is not None and a.error.startswith("stream_broken")
            for a in result.exchange.attempts] == [True, True, True]
    assert len(notices) == 2 and len(sleeps) == 2
    assert result.exchange.error == str(result.error)


def test_http_retries_and_stream_retries_share_one_budget(server: WireServer) -> None:
    """A 500 then a cut stream: two retries spent, the third attempt is the last."""
    server.script(json_reply({"error": {"message": "boom"}}, 500), cut_stream(), cut_stream())
    result, notices, _ = turn(server, "gpt-4o", retries=2)
    assert isinstance(result.error, errors.StreamBroken)
    assert len(result.exchange.attempts) == 3 and len(notices) == 2
    server.clear_script()


def test_no_retries_means_the_first_break_is_the_error(server: WireServer) -> None:
    server.script(cut_stream())
    result, notices, _ = turn(server, "gpt-4o", retries=0)
    assert isinstance(result.error, errors.StreamBroken) and notices == []
    assert "attempts broke" not in str(result.error)


# --- a complete answer with a broken trailer is kept -----------------------------------------

@pytest.mark.parametrize("model", ["fault-trailer-not-json", "fault-trailer-cut"])
def test_a_complete_answer_with_a_broken_trailer_is_kept(server: WireServer, model: str) -> None:
    result, notices, _ = turn(server, model)
    assert result.error is None, result.error
    assert result.message is not None and notices == []
    assert result.message.tool_calls[0].parsed_arguments()[0] == {
        "location": "Boston, MA", "unit": "celsius"}
    assert result.message.usage is None
    note = result.exchange.error or ""
    assert result.exchange.error_kind == "trailer_lost"
    assert "answer is complete" in note and "usage" in note


# --- slow, silent and enormous streams ---------------------------------------------------------

def test_keep_alives_alone_do_not_count_as_progress(server: WireServer) -> None:
    started = time.monotonic()
    result, notices, _ = turn(server, "fault-keepalive-only", keepalive=0.4)
    assert isinstance(result.error, errors.StreamStalled), result.error
    assert "keep-alive" in str(result.error) and "0.4 s" in str(result.error)
    assert time.monotonic() - started < 5 and notices == []


def test_a_trickling_stream_ends_at_the_idle_limit(server: WireServer) -> None:
    """One byte every 50 ms: httpx's read timeout never fires, but no event completes."""
    result, _, _ = turn(server, "fault-trickle", keepalive=0.4)
    assert isinstance(result.error, errors.StreamStalled), result.error
    assert result.exchange.transcript  # what did arrive is kept for the inspector


def test_the_overall_deadline_ends_a_stream_that_never_finishes(server: WireServer) -> None:
    started = time.monotonic()
    result, _, _ = turn(server, "fault-keepalive-only", deadline=0.6)
    assert isinstance(result.error, errors.StreamStalled), result.error
    assert "did not finish within 0.6 s" in str(result.error)
    assert time.monotonic() - started < 5


def test_an_enormous_answer_is_cut_at_the_cap_and_recorded(server: WireServer) -> None:
    started = time.monotonic()
    result, notices, _ = turn(server, "fault-huge-args")
    assert isinstance(result.error, errors.StreamBroken), result.error
    assert f"{MAX_ANSWER_CHARS // 1_000_000} MB" in str(result.error)
    assert WEATHER in str(result.error) and notices == []  # not retried: it would grow again
    exchange = result.exchange
    assert exchange.error == str(result.error) and exchange.ended_at is not None
    assert exchange.transcript is not None and len(exchange.transcript) <= 2_100_000
    assert time.monotonic() - started < 30


def test_a_long_answer_of_small_chunks_is_kept_whole(server: WireServer) -> None:
    """70,000 small chunks carry ~10 MB of event data but a 140 kB answer: the cap is on the
    answer, so it is read to the end (a long reasoning model's answer looks like this)."""
    pieces = [{"choices": [{"index": 0, "delta": {"content": "ab"}, "finish_reason": None}],
               "id": "chatcmpl-long", "object": "chat.completion.chunk", "model": "long"}
              for _ in range(70_000)]
    pieces.append({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
                   "id": "chatcmpl-long", "object": "chat.completion.chunk", "model": "long"})
    transcript = chunks_to_sse(pieces)
    assert len(transcript) > MAX_ANSWER_CHARS + 1_000_000
    server.script(sse_reply(transcript))
    result, notices, _ = turn(server, "long")
    assert result.error is None, result.error
    assert result.message is not None and result.message.content == "ab" * 70_000
    assert notices == []


def test_the_live_view_is_bounded(server: WireServer) -> None:
    """What the page is handed while streaming stays small whatever the server sends."""
    sizes: list[int] = []
    endpoint = Endpoint(preset="custom", base_url=server.base_url, model="fault-huge-args",
                        timeouts=Timeouts(connect=5.0, idle=10.0))
    with client_for(endpoint.timeouts, demo=False) as client:
        run_turn(endpoint, [Message(role="user", content=QUESTION)], [TOOL],
                 ChatSettings(model="fault-huge-args", stream=True), client=client,
                 on_progress=lambda acc: sizes.append(len(repr(snapshot(acc, "")))),
                 sleep=lambda _s: None)
    assert sizes and max(sizes) < 10_000


def test_the_snapshot_shows_the_tail_and_the_size() -> None:
    acc = StreamAccumulator()
    acc.add({"choices": [{"index": 0, "delta": {"content": "a" * 100_000 + "END"}}]})
    acc.add({"choices": [{"index": 0, "delta": {"tool_calls": [
        {"index": 0, "id": "call_1", "function": {"name": "f", "arguments": "{" + "y" * 70_000}}
    ]}}]})
    view = snapshot(acc, secret="")
    assert view.text.endswith("END") and len(view.text) <= 4_000
    assert view.text_chars == 100_003
    [call] = view.calls
    assert call.name == "f" and call.id == "call_1" and call.arguments_chars == 70_001
    assert len(call.arguments_tail) <= 4_000
    assert "70,001 characters" in call.size_note


def test_the_snapshot_redacts_an_echoed_key() -> None:
    key = "sk-test-LIVE-00112233445566778899aa"
    acc = StreamAccumulator()
    acc.add({"choices": [{"index": 0, "delta": {"content": f"key {key[:17]}"}}]})
    acc.add({"choices": [{"index": 0, "delta": {"content": f"{key[17:]} done"}}]})
    view = snapshot(acc, secret=key)
    assert key not in view.text and key[:17] not in view.text and "done" in view.text




# --- beyond the review's list: absurd numbers and nesting in an answer ---------------------------

@pytest.mark.parametrize("stream", [True, False], ids=["stream", "json"])
def test_absurd_usage_figures_are_dropped_not_stored(server: WireServer, tmp_path: Path,
                                                     stream: bool) -> None:
    """Token counts of 10**30 (or negative) would overflow the database's INTEGER columns and
    fail every save of the session: they are not counts, so they are dropped."""
    usage = {"prompt_tokens": 10**30, "completion_tokens": -5, "total_tokens": 12}
    body = {**REFERENCE_RESPONSE, "usage": usage}
    if stream:
        base = {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m"}
        server.script(sse_reply(chunks_to_sse([
            {**base, "choices": [{"index": 0, "delta": {"content": "hi"},
                                  "finish_reason": "stop"}]},
            {**base, "choices": [], "usage": usage}])))
    else:
        server.script(json_reply(body))
    endpoint = Endpoint(preset="custom", base_url=server.base_url, model="gpt-4o",
                        timeouts=Timeouts(connect=5.0, idle=10.0))
    with client_for(endpoint.timeouts, demo=False) as client:
        result = run_turn(endpoint, [Message(role="user", content=QUESTION)], [TOOL],
                          ChatSettings(model="gpt-4o", stream=stream), client=client)
    assert result.message is not None and result.message.usage is not None
    assert result.message.usage.prompt_tokens is None
    assert result.message.usage.completion_tokens is None
    assert result.message.usage.total_tokens == 12
    store = Store.open(f"sqlite:///{tmp_path / 'db.sqlite'}")
    conversation = Conversation(messages=[Message(role="user", content=QUESTION),
                                          result.message])
    conversation.exchanges[result.exchange.id] = result.exchange
    store.record(conversation)  # no OverflowError
    assert store.load(conversation.id) is not None


def test_a_json_answer_nested_thousands_deep_is_a_clear_error(server: WireServer) -> None:
    deep = b'{"choices": ' + b"[" * 50_000 + b"]" * 50_000 + b"}"
    server.script(Reply(body=deep))
    endpoint = Endpoint(preset="custom", base_url=server.base_url, model="gpt-4o",
                        timeouts=Timeouts(connect=5.0, idle=10.0))
    with client_for(endpoint.timeouts, demo=False) as client:
        result = run_turn(endpoint, [Message(role="user", content=QUESTION)], [TOOL],
                          ChatSettings(model="gpt-4o", stream=False), client=client)
    assert isinstance(result.error, errors.MalformedResponse), result.error
    assert "nested" in str(result.error)
