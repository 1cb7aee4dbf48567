"""One model turn: build the request, send it (with retries), read the answer into a message.

Every turn yields an Exchange record, whether it succeeded or not, so a failed request can
be inspected and retried. Failures come back as typed errors in the result, never raised:
the caller always gets the exchange to show and keep.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from core.bounded import depth_of
from core.config import REDACTED, Endpoint, masked_headers, redact
from core.redaction import scrub_exchange, scrub_message
from core.types import ChatSettings, Exchange, Message, ToolSpec, Usage
from core.wire import errors
from core.wire.base import Accumulator, WireFormat
from core.wire.http import (
    RetryNotice,
    Timeouts,
    make_client,
    notable_headers,
    open_response,
    request_id_of,
)
from core.wire.sse import SSEDecoder

log = logging.getLogger("toolsmith")
TRANSCRIPT_LIMIT = 2_000_000  # characters of raw SSE kept per exchange for the inspector


@dataclass
class TurnResult:
    exchange: Exchange
    message: Message | None = None
    error: errors.ToolsmithError | None = None


@dataclass
class TurnWatch:
    """What a running turn has so far, for a caller that may have to end it midway (Stop, a
    closed tab): the exchange from the start, the stream's accumulator and raw bytes as they
    arrive (of the current attempt). Setting `cancelled` makes the turn raise TurnCancelled
    at its next chunk (see core.stopped_turn)."""

    exchange: Exchange | None = None
    accumulator: Accumulator | None = None
    raw: list[bytes] = field(default_factory=list)
    cancelled: threading.Event = field(default_factory=threading.Event)


class TurnCancelled(Exception):
    """The caller cancelled the turn through its TurnWatch."""


ProgressFn = Callable[[Accumulator], None]
RetryFn = Callable[[RetryNotice], None]


def client_for(timeouts: Timeouts, *, demo: bool, demo_delay: float = 0.0) -> httpx.Client:
    """A client; the demo model answers through an in-process transport on the same path."""
    transport = None
    if demo:
        from core.demo.transport import DemoTransport

        transport = DemoTransport(chunk_delay=demo_delay)
    return make_client(timeouts, transport)


def run_turn(
    endpoint: Endpoint,
    messages: list[Message],
    tools: list[ToolSpec],
    settings: ChatSettings,
    *,
    client: httpx.Client | None = None,
    on_progress: ProgressFn | None = None,
    on_retry: RetryFn | None = None,
    sleep: Callable[[float], object] = time.sleep,
    watch: TurnWatch | None = None,
) -> TurnResult:
    wire = endpoint.format
    body = wire.build_request(messages, tools, settings)
    exchange = Exchange(
        provider=endpoint.provider, model=settings.model, base_url=endpoint.base_url,
        request_body=body, stream=settings.stream, started_at=time.time(),
        url=endpoint.chat_url(), wire=endpoint.wire,
    )
    if watch is not None:
        watch.exchange = exchange
    own_client = client is None
    client = client or client_for(endpoint.timeouts, demo=endpoint.is_demo)
    try:
        headers = endpoint.headers(stream=settings.stream)
        exchange.request_headers = masked_headers(headers, endpoint.key_env)
        request = client.build_request(
            "POST", endpoint.chat_url(), content=json.dumps(body).encode(), headers=headers
        )
        message = _send_and_read(client, request, endpoint, settings, exchange, wire,
                                 on_progress, on_retry, sleep, watch)
    except errors.ToolsmithError as exc:
        return _failed(exchange, exc, endpoint.api_key)
    except httpx.InvalidURL as exc:
        return _failed(exchange, errors.ConfigError(
            f"The base URL {endpoint.base_url!r} is not a valid address. "
            "Use a full URL such as https://api.openai.com/v1.", detail=str(exc)),
            endpoint.api_key)
    finally:
        if own_client:
            client.close()
    exchange.ended_at = time.time()
    _scrub(exchange, endpoint.api_key)
    if endpoint.api_key:
        scrub_message(message, endpoint.api_key)
    message.usage = _plausible(message.usage)
    if endpoint.is_demo and message.usage is not None:
        message.usage.estimated = True
    exchange.usage = message.usage
    message.exchange_id = exchange.id
    return TurnResult(exchange=exchange, message=message)


MAX_TOKENS = 2**31 - 1  # what the database's INTEGER columns hold (PostgreSQL's are 32-bit)
MAX_ANSWER_DEPTH = 100


def _plausible(usage: Usage | None) -> Usage | None:
    """Usage with every count a count: 10**30 or -5 tokens (a broken or hostile server) would
    fail every later save of the session, so such a figure is dropped (shown as unknown)."""
    if usage is None:
        return None
    for name in ("prompt_tokens", "completion_tokens", "total_tokens", "cached_tokens",
                 "reasoning_tokens", "cache_write_tokens"):
        value = getattr(usage, name)
        if value is not None and not (isinstance(value, int) and 0 <= value <= MAX_TOKENS):
            setattr(usage, name, None)
    return usage


class ChunkNotJson(errors.MalformedResponse):
    """A stream event whose data is not JSON: the stream is broken, so it is retried."""


def _send_and_read(client: httpx.Client, request: httpx.Request, endpoint: Endpoint,
                   settings: ChatSettings, exchange: Exchange, wire: WireFormat,
                   on_progress: ProgressFn | None, on_retry: RetryFn | None,
                   sleep: Callable[[float], object],
                   watch: TurnWatch | None = None) -> Message:
    """Send (open_response retries 429/5xx) and read the answer; a stream that breaks is
    retried under the same policy and budget, its partial answer discarded."""
    policy = endpoint.retry
    deadline = time.monotonic() + endpoint.timeouts.deadline
    while True:
        retries_spent = len(exchange.attempts)  # each earlier attempt was followed by a retry
        response = open_response(
            client, request, policy=policy, attempts=exchange.attempts,
            key_env=endpoint.key_env, on_retry=on_retry, sleep=sleep, secret=endpoint.api_key,
            retries_spent=retries_spent,
        )
        exchange.first_byte_at = time.time()
        exchange.first_token_at = None  # of the attempt whose answer is kept
        exchange.status = response.status_code
        exchange.request_id = request_id_of(response.headers)
        exchange.response_headers = notable_headers(response.headers)
        try:
            try:
                if settings.stream and _is_event_stream(response):
                    return _read_stream(response, exchange, on_progress, endpoint.timeouts,
                                        wire.new_accumulator(), endpoint.api_key, deadline,
                                        watch)
                return _read_json(response, exchange, wire.parse_response, endpoint.api_key)
            except (AttributeError, TypeError, KeyError, IndexError, ValueError) as exc:
                # Parsers read untrusted JSON; a shape they did not foresee is the server's
                # fault, not a crash. The traceback goes to the log for whoever improves it.
                log.warning("unexpected response shape", exc_info=True)
                raise errors.MalformedResponse(
                    "The server's answer did not have the shape this wire format promises, so "
                    "it cannot be read. Check the base URL and format; Retry if it was a "
                    "glitch.", detail=f"({type(exc).__name__}: {str(exc)[:160]})") from None
            finally:
                response.close()
        except (errors.StreamBroken, ChunkNotJson) as exc:
            attempt = exchange.attempts[-1]
            attempt.error = redact(f"{exc.kind}: {exc.message}"[:300], endpoint.api_key)
            retry_number = len(exchange.attempts)
            delay = None if getattr(exc, "final", False) else policy.delay(retry_number, None)
            if delay is None:
                if retry_number > 1:
                    exc.message += f" All {retry_number} attempts broke."
                raise
            attempt.retry_after_s = delay
            if on_retry is not None:
                on_retry(RetryNotice(retry_number, policy.max_retries, delay,
                                     "The stream was cut, retrying… (the partial answer was "
                                     f"discarded; it broke: {exc.message})"))
            sleep(delay)


def _scrub(exchange: Exchange, secret: str) -> None:
    """Remove a key the server echoed back from what is kept of its answer."""
    if secret:
        scrub_exchange(exchange, secret)


def _failed(exchange: Exchange, exc: errors.ToolsmithError, secret: str) -> TurnResult:
    for name in ("message", "detail", "body_excerpt"):
        if isinstance(getattr(exc, name, None), str):
            setattr(exc, name, redact(getattr(exc, name), secret))
    _scrub(exchange, secret)
    exchange.ended_at = time.time()
    exchange.error = str(exc)
    exchange.error_kind = exc.kind
    if exc.status is not None:
        exchange.status = exc.status
    answered = [a.answered_at for a in exchange.attempts if a.answered_at is not None]
    if answered and exchange.first_byte_at is None:  # an error answer is a first byte too
        exchange.first_byte_at = answered[-1]  # of the last attempt, as for a success
    if exc.request_id and not exchange.request_id:
        exchange.request_id = exc.request_id
    return TurnResult(exchange=exchange, error=exc)


def _undecodable(response: httpx.Response, exc: httpx.DecodingError) -> errors.StreamBroken:
    return errors.StreamBroken(
        "The answer could not be decoded: the server said it was compressed "
        f"({response.headers.get('content-encoding', '?')}) but the bytes are not. The "
        "partial answer was discarded; Retry, and check any proxy in between.",
        detail=f"({exc})")


def _is_event_stream(response: httpx.Response) -> bool:
    """Read as a stream unless the server said JSON (it ignored "stream": true) or HTML (a
    proxy's or captive portal's page, which the JSON path names as such)."""
    content_type = response.headers.get("content-type", "").lower()
    return "html" not in content_type and ("json" not in content_type
                                           or "ndjson" in content_type)


def _read_json(response: httpx.Response, exchange: Exchange,
               parse: Callable[[object], Message], secret: str) -> Message:
    try:
        raw = response.read()
    except httpx.TimeoutException:
        raise errors.TimeoutError_(
            "The server sent its headers but not its answer in time. Retry, or raise the "
            "timeout in the sidebar.") from None
    except httpx.DecodingError as exc:
        raise _undecodable(response, exc) from None
    except httpx.HTTPError as exc:
        raise errors.StreamBroken(
            "The connection closed before the whole answer arrived. Retry.",
            detail=f"({exc})") from None
    exchange.first_token_at = time.time()
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        if secret and secret.encode() in raw:  # redact before any excerpt cuts it in two
            raw = raw.replace(secret.encode(), REDACTED.encode())
        exchange.response_body = raw[:4000].decode("utf-8", "replace")
        excerpt = errors.read_error_body(raw)
        raise errors.MalformedResponse(
            "The server answered 2xx but not with JSON. Check that the base URL points at an "
            "API in the chosen format (OpenAI-style bases end in /v1).",
            detail=f"It sent {excerpt.message}" if excerpt else "",
        ) from None
    except RecursionError:
        data = None
    if (data is None and raw.strip() != b"null") or depth_of(data) > MAX_ANSWER_DEPTH:
        exchange.response_body = raw[:4000].decode("utf-8", "replace")
        raise errors.MalformedResponse(
            f"The server's answer is JSON nested deeper than {MAX_ANSWER_DEPTH} levels, which "
            "no answer in this format is, so it was not read. Check the base URL; Retry.")
    exchange.response_body = data
    return parse(data)


MAX_ANSWER_CHARS = 8_000_000  # text, reasoning and arguments of one answer, as received
# The answer is measured only once the events' data has passed the cap (it is always larger than
# the answer it carries: JSON framing, escapes), then again after every further step of data, so a
# long but normal answer (40,000 small chunks are ~8 MB of events) costs nothing and is kept.
SIZE_CHECK_STEP = 1_000_000


def _read_stream(
    response: httpx.Response, exchange: Exchange, on_progress: ProgressFn | None,
    timeouts: Timeouts, acc: Accumulator, secret: str, deadline: float,
    watch: TurnWatch | None = None,
) -> Message:
    decoder = SSEDecoder()
    raw_parts: list[bytes] = []
    if watch is not None:  # this attempt's answer is the one a stop would keep
        watch.accumulator, watch.raw = acc, raw_parts
    kept = 0
    received = 0  # characters of event data, which bound the answer's size from above
    size_check_at = MAX_ANSWER_CHARS
    saw_done = False
    trailer_lost = ""  # how the stream broke after a complete answer
    last_event = time.monotonic()
    try:
        try:
            for chunk in response.iter_bytes():  # decoded: proxies may gzip a stream
                if watch is not None and watch.cancelled.is_set():
                    raise TurnCancelled
                if kept < TRANSCRIPT_LIMIT:
                    raw_parts.append(chunk)
                    kept += len(chunk)
                for event in decoder.feed(chunk):
                    last_event = time.monotonic()
                    received += len(event.data)
                    if _handle(event.data, acc, exchange, on_progress, secret):
                        saw_done = True
                        break
                if saw_done or acc.done:
                    break
                if received > size_check_at:
                    size_check_at = received + SIZE_CHECK_STEP
                    _check_size(acc)
                _check_progress(last_event, deadline, timeouts)
            else:
                for event in decoder.close():
                    if _handle(event.data, acc, exchange, on_progress, secret):
                        saw_done = True
        except httpx.ReadTimeout:
            raise errors.StreamStalled(
                f"The stream stopped sending for {timeouts.idle:g} s "
                "before it was complete. The partial answer was discarded; Retry.",
            ) from None
        except httpx.DecodingError as exc:
            raise _undecodable(response, exc) from None
        except (httpx.RemoteProtocolError, httpx.ReadError) as exc:
            if _complete(acc):
                trailer_lost = "the connection closed"
            else:
                raise errors.StreamBroken(
                    "The connection closed in the middle of the answer"
                    f"{' (inside tool-call arguments)' if acc.tool_calls() else ''}. "
                    "The partial answer was discarded; Retry.",
                    detail=f"({exc})",
                ) from None
        except ChunkNotJson:
            if not _complete(acc):
                raise
            trailer_lost = "a chunk after it was not JSON"
    finally:
        exchange.transcript = b"".join(raw_parts).decode("utf-8", "replace")
    if acc.chunks == 0:
        raise errors.MalformedResponse(
            "The server answered with an empty stream. Check the model name and Retry.")
    if trailer_lost:
        lost = ("the usage figures (tokens) were lost" if acc.usage() is None
                else "only the end-of-stream marker was lost")
        exchange.error_kind = "trailer_lost"
        exchange.error = (f"The answer is complete (finish reason {acc.finish_reason!r}), but "
                          f"the stream broke after it ({trailer_lost}): {lost}.")
    elif not (saw_done or acc.done):
        calls = acc.tool_calls()
        unfinished = [c.name for c in calls if c.parsed_arguments()[1]]
        if unfinished and acc.finish_reason is None:
            raise errors.StreamBroken(
                "The stream ended in the middle of the arguments of "
                f"{', '.join(unfinished)} without saying it was done. Retry.")
        if calls and acc.finish_reason is None:
            # Arguments may be whole JSON and still cut short (a second call's header, `{}`
            # for a tool that needs arguments): calls count only from a stream that finished.
            raise errors.StreamBroken(
                "The stream ended after the tool call(s) "
                f"{', '.join(c.name or '?' for c in calls)} without saying it was done "
                "(no finish_reason, no [DONE]), so they may be cut short. The partial "
                "answer was discarded; Retry.")
        if acc.requires_done and acc.finish_reason is None:
            raise errors.StreamBroken(
                "The stream ended before the server said the answer was complete "
                f"(no {acc.end_event}), so it may be cut short. The partial answer was "
                "discarded; Retry.")
        if acc.requires_done:  # stop_reason seen, message_stop not: the answer is whole
            exchange.error_kind = "trailer_lost"
            exchange.error = (f"The answer is complete (finish reason {acc.finish_reason!r}), "
                              f"but the stream ended without {acc.end_event}: only the "
                              "end-of-stream marker was lost.")
    message = acc.message()
    exchange.response_body = _summary(message, acc)
    return message


def _complete(acc: Accumulator) -> bool:
    """The server said the answer is finished: what may follow is usage and an end marker."""
    return acc.done or (acc.finish_reason is not None
                        and not any(c.parsed_arguments()[1] for c in acc.tool_calls()))


def _answer_chars(acc: Accumulator) -> int:
    return (len(acc.text()) + len(acc.reasoning())
            + sum(len(c.arguments) for c in acc.tool_calls()))


def _check_size(acc: Accumulator) -> None:
    """Stop a stream whose answer (text, reasoning, arguments) grows past the cap."""
    if _answer_chars(acc) > MAX_ANSWER_CHARS:
        calls = [c.name or "?" for c in acc.tool_calls()]
        error = errors.StreamBroken(
            f"The answer grew past {MAX_ANSWER_CHARS // 1_000_000} MB"
            f"{' (tool-call arguments of ' + ', '.join(calls) + ')' if calls else ''}, more "
            "than Toolsmith keeps, so it stopped reading and did not keep it. Ask for a "
            "smaller answer (or lower max tokens) and Retry; the start of the stream is in "
            "the inspector.")
        error.final = True  # type: ignore[attr-defined]  # a retry would grow as large again
        raise error


def _check_progress(last_event: float, deadline: float, timeouts: Timeouts) -> None:
    """Stop a stream that sends no event for too long, or outlasts the deadline."""
    now = time.monotonic()
    if now - last_event > timeouts.keepalive:
        raise errors.StreamStalled(
            f"For {timeouts.keepalive:g} s the stream sent only keep-alive comments or stray "
            "bytes, no part of the answer. The partial answer was discarded; Retry.")
    if now > deadline:
        raise errors.StreamStalled(
            f"The stream did not finish within {timeouts.deadline:g} s (the stream deadline "
            "in the sidebar). The partial answer was discarded; Retry, or raise the deadline.")


def _handle(data: str, acc: Accumulator, exchange: Exchange,
            on_progress: ProgressFn | None, secret: str) -> bool:
    """Fold one SSE event into the accumulator; True at `[DONE]`."""
    if data == "[DONE]":
        return True
    try:
        chunk = json.loads(data)
    except (json.JSONDecodeError, RecursionError):
        raise ChunkNotJson(
            "The stream carried a chunk that is not JSON, so the answer cannot be read. Retry; "
            "if it repeats, the server or a proxy in between is mangling the stream.",
            detail=f"The chunk began: {redact(data, secret)[:120]!r}",
        ) from None
    if acc.add(chunk):
        if exchange.first_token_at is None:
            exchange.first_token_at = time.time()
        if on_progress is not None:
            on_progress(acc)
    return False


def _summary(message: Message, acc: Accumulator) -> dict:
    """The accumulated stream as one object, for the inspector (the raw SSE is kept too)."""
    return {
        "chunks": acc.chunks,
        "finish_reason": message.finish_reason,
        "content": message.content,
        "reasoning": message.reasoning or None,
        "tool_calls": [
            {"id": c.id, "name": c.name, "arguments": c.arguments} for c in message.tool_calls
        ],
        "usage": acc.usage_raw,
    }
