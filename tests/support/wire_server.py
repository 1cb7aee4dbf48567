"""An OpenAI-format HTTP server on 127.0.0.1, for core tests, browser tests and benchmarks.

Real sockets and real HTTP framing, so the client under test goes through httpx exactly as it
would against a provider. What a POST to /v1/chat/completions gets is chosen per request:

1. the scripted queue, first: `server.script(Reply(...), ...)` answers the next POSTs in order;
2. else the `model` field of the posted body:
   - `fault-…` picks a failure from FAULTS (e.g. "fault-429-then-ok": a 429 with Retry-After,
     then normal answers for that model), or from REQUEST_FAULTS, which see the request
     (e.g. "fault-401-echo-key": a gateway that quotes the caller's key in its error);
   - `fixture-<name>` streams tests/fixtures/sse/<name>.sse in awkward write sizes;
3. else a tiny weather model: the reference tool call (docs/architecture.md, "Wire details")
   for a question, and a text answer quoting the tool results once the last message is a tool
   result.

GET /v1/models lists a few models. Every request is recorded (method, path, headers, body) in
`server.requests`. Replies that block (stalls) wait on `server.stopping`, which stop() sets, so
a run never hangs on them. Request bodies must carry Content-Length (httpx always sends it).

Standalone: `python -m tests.support.wire_server --port 8765` (port 0 picks a free one).
"""

from __future__ import annotations

import argparse
import contextlib
import email.utils
import gzip
import itertools
import json
import sys
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

from tests.support.sse_fixtures import load_fixture

Framing = Literal["length", "chunked", "close"]

# Write sizes that split events, lines, CRLF pairs and UTF-8 sequences in odd places.
AWKWARD_WRITES: tuple[int, ...] = (1, 7, 2, 61, 13, 3, 128, 5)

REFERENCE_RESPONSE: dict[str, Any] = {
    "id": "chatcmpl-BfpA0q8r1sT2uV3wX4yZ5aB6cD7eF", "object": "chat.completion",
    "created": 1749366275, "model": "gpt-4o-2024-08-06",
    "choices": [{"index": 0, "message": {
        "role": "assistant", "content": None,
        "tool_calls": [{"id": "call_4yKljCtGceYj1heJY8G9h3te", "type": "function",
                        "function": {"name": "get_current_weather",
                                     "arguments": '{"location":"Boston, MA","unit":"celsius"}'}}],
        "refusal": None, "annotations": []}, "logprobs": None, "finish_reason": "tool_calls"}],
    "usage": {"prompt_tokens": 80, "completion_tokens": 23, "total_tokens": 103,
              "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
              "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0,
                                            "accepted_prediction_tokens": 0,
                                            "rejected_prediction_tokens": 0}},
    "system_fingerprint": "fp_ee1d74bde0",
}

MODELS: dict[str, Any] = {"object": "list", "data": [
    {"id": "gpt-4o-2024-08-06", "object": "model", "created": 1722814719, "owned_by": "system"},
    {"id": "gpt-4o-mini", "object": "model", "created": 1721172741, "owned_by": "system"},
    {"id": "wire-echo", "object": "model", "created": 1700000000, "owned_by": "toolsmith-tests"},
]}


@dataclass
class Reply:
    """One HTTP answer, with the ways of sending it badly that real servers have."""

    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    framing: Framing = "length"  # Content-Length, chunked, or close-delimited
    write_sizes: tuple[int, ...] = ()  # cycled through; () writes the body at once
    cut_after: int | None = None  # body bytes sent before the socket closes (no terminator)
    stall_after: int | None = None  # body bytes sent before blocking until the server stops
    stall_before_headers: bool = False  # accept the request, then never answer
    gzip: bool = False  # Content-Encoding: gzip (the body is compressed on the wire)
    write_interval: float = 0.0  # seconds between writes (a slow server: 1 byte per interval)
    keepalive_every: float | None = None  # after the body, `: keep-alive` this often, forever


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]  # names lower-cased
    body: bytes

    @property
    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            return None


def json_reply(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Reply:
    return Reply(status=status, body=json.dumps(body).encode(), headers=dict(headers or {}))


def html_reply(status: int, html: str, headers: dict[str, str] | None = None) -> Reply:
    return Reply(status=status, body=html.encode(), content_type="text/html",
                 headers=dict(headers or {}))


def sse_reply(transcript: bytes, **options: Any) -> Reply:
    """A text/event-stream answer; chunked and split awkwardly unless told otherwise."""
    options.setdefault("framing", "chunked")
    options.setdefault("write_sizes", AWKWARD_WRITES)
    return Reply(body=transcript, content_type="text/event-stream; charset=utf-8",
                 headers={"Cache-Control": "no-cache"}, **options)


def fixture_reply(name: str, **options: Any) -> Reply:
    return sse_reply(load_fixture(name), **options)


def chunks_to_sse(chunks: Iterable[dict[str, Any]], *, done: bool = True) -> bytes:
    """Chunk objects as a transcript: one `data:` event each, then `[DONE]`."""
    lines = [b"data: " + json.dumps(c, ensure_ascii=False).encode() + b"\n\n" for c in chunks]
    if done:
        lines.append(b"data: [DONE]\n\n")
    return b"".join(lines)


def error_body(message: str, type_: str, code: str | None = None,
               param: str | None = None) -> dict[str, Any]:
    """An OpenAI-shaped error body."""
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


def text_completion(text: str, *, stream: bool, model: str) -> Reply:
    """A plain text answer, streamed word by word or as one body."""
    base = {"id": "chatcmpl-wire-text", "created": 1749366300, "model": model}
    usage = {"prompt_tokens": 120, "completion_tokens": len(text.split()),
             "total_tokens": 120 + len(text.split())}
    if not stream:
        return json_reply({**base, "object": "chat.completion", "usage": usage, "choices": [
            {"index": 0, "message": {"role": "assistant", "content": text},
             "finish_reason": "stop"}]})
    kind = {"object": "chat.completion.chunk"}
    words = [w + " " for w in text.split(" ")]
    words[-1] = words[-1].rstrip(" ")
    chunks = [{**base, **kind, "choices": [
        {"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}]}]
    chunks += [{**base, **kind, "choices": [
        {"index": 0, "delta": {"content": w}, "finish_reason": None}]} for w in words]
    chunks.append({**base, **kind, "choices": [
        {"index": 0, "delta": {}, "finish_reason": "stop"}]})
    chunks.append({**base, **kind, "choices": [], "usage": usage})
    return sse_reply(chunks_to_sse(chunks))


def default_reply(body: dict[str, Any], stream: bool) -> Reply:
    """The weather model: a tool call for a question; after tool results, a text answer."""
    messages = body.get("messages") or []
    last = messages[-1] if messages and isinstance(messages[-1], dict) else {}
    model = str(body.get("model") or "wire-echo")
    if last.get("role") == "tool":
        results = [m for m in messages if isinstance(m, dict) and m.get("role") == "tool"]
        text = "Tool results: " + "; ".join(
            f"{m.get('tool_call_id')} said {m.get('content')}" for m in results)
        return text_completion(text, stream=stream, model=model)
    if stream:
        return fixture_reply("standard_tool_call")
    return json_reply(REFERENCE_RESPONSE)


def _offset_after_event_with(transcript: bytes, marker: bytes) -> int:
    """The offset just past the blank line ending the first event that contains `marker`."""
    start = transcript.index(marker)
    return transcript.index(b"\n\n", start) + 2


_STANDARD = "standard_tool_call"


def _cut_mid_arguments(stream: bool, framing: Framing) -> Reply:
    if not stream:
        raw = json.dumps(REFERENCE_RESPONSE).encode()
        return Reply(body=raw, cut_after=raw.index(b"Boston") + 3)
    transcript = load_fixture(_STANDARD)
    # Every event up to `{"location":"Boston` arrives whole, then the connection drops.
    return fixture_reply(_STANDARD, framing=framing,
                         cut_after=_offset_after_event_with(transcript, b'"arguments":"Boston"'))


def _stall(stream: bool) -> Reply:
    if not stream:
        return replace(json_reply(REFERENCE_RESPONSE), stall_after=40)
    transcript = load_fixture(_STANDARD)
    return fixture_reply(_STANDARD, stall_after=_offset_after_event_with(
        transcript, b'"arguments":"location"'))


def _bad_arguments(stream: bool) -> Reply:
    if stream:
        return fixture_reply("bad_arguments")
    call = {"id": "call_Ba0Dd1Ar2Gs3Xx4Yy5Zz6Ww7", "type": "function",
            "function": {"name": "get_current_weather",
                         "arguments": '{"location": "Boston, MA", "unit": celsius}'}}
    message = {"role": "assistant", "content": None, "tool_calls": [call]}
    return json_reply({**REFERENCE_RESPONSE, "choices": [
        {"index": 0, "message": message, "finish_reason": "tool_calls"}]})


SCHEMA_BREAKING_ARGUMENTS = '{"location": 42, "unit": "kelvin"}'  # valid JSON, wrong schema
_SCHEMA_CALL_ID = "call_Sc0Hm1Ea2Br3Ea4Ks5Ar6Gs"


def _schema_breaking_arguments(stream: bool) -> Reply:
    """A tool call whose arguments parse but break get_current_weather's schema: a number for
    the string `location`, and a `unit` outside its enum."""
    call = {"id": _SCHEMA_CALL_ID, "type": "function",
            "function": {"name": "get_current_weather", "arguments": SCHEMA_BREAKING_ARGUMENTS}}
    if not stream:
        message = {"role": "assistant", "content": None, "tool_calls": [call]}
        return json_reply({**REFERENCE_RESPONSE, "choices": [
            {"index": 0, "message": message, "finish_reason": "tool_calls"}]})
    base = {"id": "chatcmpl-SchemaBreak0000000000000", "object": "chat.completion.chunk",
            "created": 1749366275, "model": "gpt-4o-2024-08-06"}
    first = {**call, "index": 0, "function": {"name": "get_current_weather", "arguments": ""}}
    halves = (SCHEMA_BREAKING_ARGUMENTS[:14], SCHEMA_BREAKING_ARGUMENTS[14:])
    chunks = [
        {**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": None},
                              "finish_reason": None}]},
        {**base, "choices": [{"index": 0, "delta": {"tool_calls": [first]},
                              "finish_reason": None}]},
        *({**base, "choices": [{"index": 0, "delta": {"tool_calls": [
            {"index": 0, "function": {"arguments": half}}]}, "finish_reason": None}]}
          for half in halves),
        {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]},
        {**base, "choices": [], "usage": REFERENCE_RESPONSE["usage"]},
    ]
    return sse_reply(chunks_to_sse(chunks))


HTML_502 = ("<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
            "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
            "</body>\r\n</html>\r\n")
HTML_200 = ("<!doctype html><html><head><title>Sign in · Wi-Fi</title></head>"
            "<body><p>Please sign in to continue.</p></body></html>")

# name -> (nth request for that model, stream?) -> Reply, or None for a normal answer.
FaultFn = Callable[[int, bool], Reply | None]


def _first(reply: Callable[[], Reply]) -> FaultFn:
    """A fault on the first request for the model, normal answers after it."""
    return lambda nth, _stream: reply() if nth == 1 else None


def _first_by_stream(reply: Callable[[bool], Reply]) -> FaultFn:
    """Like _first, for faults that answer differently when streaming."""
    return lambda nth, stream: reply(stream) if nth == 1 else None


def _always(reply: Callable[[], Reply]) -> FaultFn:
    return lambda _nth, _stream: reply()


def _rate_limited(**headers: str) -> Callable[[], Reply]:
    return lambda: json_reply(error_body(
        "Rate limit reached for gpt-4o in organization org-test on requests per min (RPM): "
        "Limit 3, Used 3, Requested 1. Please try again in 1s.",
        "requests", "rate_limit_exceeded"), 429, headers)


def _http_date_in(seconds: float) -> str:
    return email.utils.formatdate(time.time() + seconds, usegmt=True)


HUGE_ARGUMENTS_BYTES = 50_000_000


def huge_arguments(stream: bool, size: int = HUGE_ARGUMENTS_BYTES) -> Reply:
    """One tool call whose arguments are `size` bytes (a JSON string of x's), in 64 kB deltas."""
    base = {"id": "chatcmpl-Huge000000000000000000000", "object": "chat.completion.chunk",
            "created": 1749366275, "model": "gpt-4o-2024-08-06"}
    piece = 65_536
    head = '{"location": "'
    parts = [b"data: " + json.dumps({**base, "choices": [{"index": 0, "delta": {
        "role": "assistant", "tool_calls": [{"index": 0, "id": "call_Huge0", "type": "function",
                                             "function": {"name": "get_current_weather",
                                                          "arguments": head}}]},
        "finish_reason": None}]}).encode() + b"\n\n"]
    filler = json.dumps({**base, "choices": [{"index": 0, "delta": {"tool_calls": [
        {"index": 0, "function": {"arguments": "x" * piece}}]}, "finish_reason": None}]})
    parts += [b"data: " + filler.encode() + b"\n\n"] * (size // piece)
    parts.append(chunks_to_sse([
        {**base, "choices": [{"index": 0, "delta": {"tool_calls": [
            {"index": 0, "function": {"arguments": '"}'}}]}, "finish_reason": None}]},
        {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]},
        {**base, "choices": [], "usage": REFERENCE_RESPONSE["usage"]}]))
    if not stream:
        return json_reply(error_body("stream only", "invalid_request_error"), 400)
    return sse_reply(b"".join(parts), write_sizes=())


def _complete_then(trailer: bytes | None) -> Reply:
    """A whole answer (finish_reason seen), then a broken trailer instead of usage + [DONE]:
    `trailer` is sent as is, or None cuts the connection right after the finish chunk."""
    transcript = load_fixture(_STANDARD)
    end = _offset_after_event_with(transcript, b'"finish_reason":"tool_calls"')
    if trailer is None:
        return fixture_reply(_STANDARD, cut_after=end)
    return sse_reply(transcript[:end] + trailer)


FAULTS: dict[str, FaultFn] = {
    "fault-400": _always(lambda: json_reply(error_body(
        "Invalid schema for function 'get_current_weather': In context=('properties', "
        "'unit'), 'enum' must be a non-empty array.", "invalid_request_error",
        "invalid_function_parameters", "tools[0].function.parameters"), 400)),
    "fault-401": _always(lambda: json_reply(error_body(
        "Incorrect API key provided: sk-test-****KER. You can find your API key at "
        "https://platform.openai.com/account/api-keys.", "invalid_request_error",
        "invalid_api_key"), 401)),
    "fault-404": _always(lambda: json_reply(error_body(
        "The model `fault-404` does not exist or you do not have access to it.",
        "invalid_request_error", "model_not_found"), 404)),
    "fault-429": _always(_rate_limited(**{"Retry-After": "1"})),
    "fault-429-then-ok": _first(_rate_limited(**{"Retry-After": "2"})),
    # The same, with the shortest wait a server can ask for in whole seconds (browser tests).
    "fault-429-1s-then-ok": _first(_rate_limited(**{"Retry-After": "1"})),
    "fault-429-ms-then-ok": _first(_rate_limited(**{"retry-after-ms": "250",
                                                    "Retry-After": "1"})),
    "fault-429-date-then-ok": _first(lambda: _rate_limited(
        **{"Retry-After": _http_date_in(5)})()),
    "fault-429-long": _always(_rate_limited(**{"Retry-After": "3600"})),
    "fault-429-unparseable-then-ok": _first(_rate_limited(**{"Retry-After": "soon"})),
    "fault-500": _always(lambda: json_reply(error_body(
        "The server had an error while processing your request. Sorry about that!",
        "server_error"), 500)),
    "fault-500-then-ok": _first(lambda: json_reply(error_body(
        "The server had an error while processing your request. Sorry about that!",
        "server_error"), 500)),
    "fault-502-html": _always(lambda: html_reply(502, HTML_502)),
    "fault-529": _always(lambda: json_reply(
        {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}, 529)),
    "fault-cut-args": lambda _nth, stream: _cut_mid_arguments(stream, "chunked"),
    "fault-cut-args-eof": lambda _nth, stream: _cut_mid_arguments(stream, "close"),
    "fault-stall": lambda _nth, stream: _stall(stream),
    "fault-no-answer": _always(lambda: Reply(stall_before_headers=True)),
    "fault-stream-error": _always(lambda: fixture_reply("error_in_stream_wrapped")),
    "fault-stream-error-bare": _always(lambda: fixture_reply("error_in_stream_bare")),
    "fault-not-json": _always(lambda: fixture_reply("not_json_chunk")),
    # Hostile servers: a stream broken once, then fine; slow, silent or enormous streams.
    "fault-cut-then-ok": lambda nth, stream: _cut_mid_arguments(stream, "chunked")
    if nth == 1 else None,
    "fault-not-json-then-ok": _first(lambda: fixture_reply("not_json_chunk")),
    "fault-keepalive-only": _always(lambda: sse_reply(b"", keepalive_every=0.05)),
    "fault-trickle": _always(lambda: fixture_reply(_STANDARD, write_sizes=(1,),
                                                   write_interval=0.05)),
    "fault-huge-args": lambda _nth, stream: huge_arguments(stream),
    "fault-trailer-not-json": _always(lambda: _complete_then(
        b"data: <html>502 Bad Gateway</html>\n\n")),
    "fault-trailer-cut": _always(lambda: _complete_then(None)),
    "fault-bad-args": lambda _nth, stream: _bad_arguments(stream),
    "fault-bad-args-then-ok": _first_by_stream(_bad_arguments),
    "fault-schema-args": lambda _nth, stream: _schema_breaking_arguments(stream),
    "fault-schema-args-then-ok": _first_by_stream(_schema_breaking_arguments),
    "fault-html-200": _always(lambda: html_reply(200, HTML_200)),
    # Legal, and invited by httpx's default Accept-Encoding: a compressed event stream.
    "fault-gzip-stream": _always(lambda: fixture_reply(_STANDARD, gzip=True)),
    # A misconfigured proxy: says gzip, sends the plain stream.
    "fault-lying-gzip": _always(lambda: replace(
        fixture_reply(_STANDARD), headers={"Content-Encoding": "gzip"})),
}


def presented_key(request: RecordedRequest) -> str:
    """The credential the client sent: a Bearer token or an x-api-key / api-key header."""
    authorization = request.headers.get("authorization", "")
    if authorization.startswith("Bearer "):
        return authorization.removeprefix("Bearer ")
    return request.headers.get("x-api-key") or request.headers.get("api-key") or authorization


def _echo_key_401(request: RecordedRequest, _nth: int, _stream: bool) -> Reply:
    """A gateway that quotes the whole key it was given (some really do)."""
    key = presented_key(request)
    return json_reply(error_body(
        f"Incorrect API key provided: {key}. You can find your API key at "
        "https://platform.openai.com/account/api-keys.", "invalid_request_error",
        "invalid_api_key", f"Authorization: Bearer {key}"), 401)


def _echo_key_in_stream(request: RecordedRequest, _nth: int, _stream: bool) -> Reply:
    """A 200 stream that starts an answer, then reports an error quoting the key."""
    key = presented_key(request)
    base = {"id": "chatcmpl-EchoKey000000000000000", "object": "chat.completion.chunk",
            "created": 1749366275, "model": "gpt-4o-2024-08-06"}
    return sse_reply(chunks_to_sse([
        {**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": "The"},
                              "finish_reason": None}]},
        error_body(f"Quota exceeded for key {key}.", "insufficient_quota", "quota", key),
    ]))


ECHO_KEY_AT = 280


def _echo_key_in_text(status: int, content_type: str) -> RequestFaultFn:
    """A proxy's plain-text answer that dumps the request's headers; the key starts at
    character ECHO_KEY_AT of the body (so an excerpt of the first 300 characters cuts through
    it). With status 200 and a JSON content type: a proxy that mislabels its complaint."""

    def reply(request: RecordedRequest, _nth: int, _stream: bool) -> Reply:
        head = f"{status} from the egress proxy: blocked by policy. Request headers follow. "
        head += "." * (ECHO_KEY_AT - len(head) - len("Authorization: Bearer "))
        head += "Authorization: Bearer "
        body = head + presented_key(request) + "\nHost: api.example\nAccept: */*\n"
        return Reply(status=status, body=body.encode(), content_type=content_type)

    return reply


ECHO_CHUNK_KEY_AT = 100


def _echo_key_in_chunk(request: RecordedRequest, _nth: int, _stream: bool) -> Reply:
    """A stream whose second event is a proxy's plain-text complaint, not JSON, quoting the key
    from character ECHO_CHUNK_KEY_AT of the event's data."""
    head = "upstream rejected the credentials; "
    head += "-" * (ECHO_CHUNK_KEY_AT - len(head) - len("Authorization: Bearer "))
    head += "Authorization: Bearer "
    first = {"id": "chatcmpl-EchoChunk00000000000000", "object": "chat.completion.chunk",
             "created": 1749366275, "model": "gpt-4o-2024-08-06", "choices": [
                 {"index": 0, "delta": {"role": "assistant", "content": ""},
                  "finish_reason": None}]}
    transcript = (chunks_to_sse([first], done=False)
                  + f"data: {head}{presented_key(request)} (retry later)\n\n".encode()
                  + b"data: [DONE]\n\n")
    return sse_reply(transcript)


def _echo_key_everywhere(request: RecordedRequest, _nth: int, stream: bool) -> Reply:
    """A complete, successful answer that quotes the key in response headers (request id, a
    rate-limit header, the model header), in the text and the reasoning (split across two
    chunks when streaming), and in a tool call's arguments."""
    key = presented_key(request)
    half = len(key) // 2
    headers = {"x-request-id": key, "x-ratelimit-limit-requests": key, "openai-model": key}
    arguments = json.dumps({"location": f"Boston {key}"})
    if not stream:
        message = {"role": "assistant", "content": f"Your key is {key}.",
                   "reasoning_content": f"They sent {key}",
                   "tool_calls": [{"id": "call_EchoAll0", "type": "function", "function": {
                       "name": "get_current_weather", "arguments": arguments}}]}
        return json_reply({**REFERENCE_RESPONSE, "choices": [
            {"index": 0, "message": message, "finish_reason": "tool_calls"}]}, headers=headers)
    base = {"id": "chatcmpl-EchoAll00000000000000000", "object": "chat.completion.chunk",
            "created": 1749366275, "model": "gpt-4o-2024-08-06"}

    def delta(body: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {**base, "choices": [{"index": 0, "delta": body, "finish_reason": finish}]}

    cut = arguments.index(key) + half
    chunks = [
        delta({"role": "assistant", "reasoning_content": f"They sent {key[:half]}"}),
        delta({"reasoning_content": key[half:]}),
        delta({"content": f"Your key is {key[:half]}"}),
        delta({"content": f"{key[half:]}."}),
        delta({"tool_calls": [{"index": 0, "id": "call_EchoAll0", "type": "function",
                               "function": {"name": "get_current_weather",
                                            "arguments": arguments[:cut]}}]}),
        delta({"tool_calls": [{"index": 0, "function": {"arguments": arguments[cut:]}}]}),
        delta({}, "tool_calls"),
        {**base, "choices": [], "usage": REFERENCE_RESPONSE["usage"]},
    ]
    reply = sse_reply(chunks_to_sse(chunks))
    reply.headers.update(headers)
    return reply


# name -> (request, nth request for that model, stream?) -> Reply, or None for a normal answer.
RequestFaultFn = Callable[[RecordedRequest, int, bool], Reply | None]

REQUEST_FAULTS: dict[str, RequestFaultFn] = {
    "fault-401-echo-key": _echo_key_401,
    "fault-stream-error-echo-key": _echo_key_in_stream,
    "fault-403-echo-key-text": _echo_key_in_text(403, "text/plain"),
    "fault-200-echo-key-text": _echo_key_in_text(200, "application/json"),
    "fault-not-json-echo-key": _echo_key_in_chunk,
    "fault-echo-key-everywhere": _echo_key_everywhere,
}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    wire: WireServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client hanging up mid-stream or resetting a kept-alive socket is normal here."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Tiny writes must leave at once, as from a real SSE server; with Nagle's algorithm each
    # one would wait for the client's delayed ACK (~40 ms).
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests read `server.requests`, not stderr."""

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        request = RecordedRequest(
            method=self.command, path=self.path,
            headers={name.lower(): value for name, value in self.headers.items()}, body=body)
        wire = self.server.wire
        n = wire.record(request)
        self._send(wire.reply_for(request), f"req_wire_{n:04d}")

    def _send(self, reply: Reply, request_id: str) -> None:
        stopping = self.server.wire.stopping
        if reply.stall_before_headers:
            stopping.wait()
            self.close_connection = True
            return
        body = gzip.compress(reply.body, mtime=0) if reply.gzip else reply.body
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("x-request-id", request_id)
        if reply.gzip:
            self.send_header("Content-Encoding", "gzip")
        for name, value in reply.headers.items():
            self.send_header(name, value)
        if reply.framing == "length":
            self.send_header("Content-Length", str(len(body)))
        elif reply.framing == "chunked":
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Connection", "close")
        self.end_headers()
        limit = len(body)
        for bound in (reply.cut_after, reply.stall_after):
            if bound is not None:
                limit = min(limit, bound)
        try:
            for piece in _pieces(body[:limit], reply.write_sizes):
                if reply.write_interval and stopping.wait(reply.write_interval):
                    self.close_connection = True
                    return
                self._write(piece, reply.framing)
            if reply.keepalive_every is not None:
                while not stopping.wait(reply.keepalive_every):
                    self._write(b": keep-alive\n\n", reply.framing)
                self.close_connection = True
                return
            if reply.stall_after is not None:
                stopping.wait()
                self.close_connection = True
                return
            if reply.cut_after is not None:
                self.close_connection = True  # close without the chunked terminator
                return
            if reply.framing == "chunked":
                self.wfile.write(b"0\r\n\r\n")
        except OSError:  # the client went away first: its business, not a server failure
            self.close_connection = True

    def _write(self, piece: bytes, framing: Framing) -> None:
        if framing == "chunked":
            self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
        else:
            self.wfile.write(piece)
        self.wfile.flush()


def _pieces(body: bytes, sizes: tuple[int, ...]) -> Iterator[bytes]:
    if not sizes:
        if body:
            yield body
        return
    offset = 0
    for size in itertools.cycle(sizes):
        if offset >= len(body):
            return
        yield body[offset:offset + size]
        offset += size


class WireServer:
    """The server; a context manager that starts on enter and stops (unblocking stalls) on exit.

    >>> with WireServer() as server:
    ...     url = server.base_url  # http://127.0.0.1:<port>/v1
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.requests: list[RecordedRequest] = []
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._queue: deque[Reply] = deque()
        self._seen: Counter[str] = Counter()
        self._httpd = _Server((host, port), _Handler)
        self._httpd.wire = self
        self._thread: threading.Thread | None = None

    @property
    def host(self) -> str:
        return str(self._httpd.server_address[0])

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        """What OPENAI_BASE_URL would be: it includes /v1."""
        return f"http://{self.host}:{self.port}/v1"

    def start(self) -> WireServer:
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.01},
            name=f"wire-server-{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()  # releases stalled handlers first
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> WireServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def script(self, *replies: Reply) -> None:
        """Queue exact answers for the next POSTs to /chat/completions, in order."""
        with self._lock:
            self._queue.extend(replies)

    def clear_script(self) -> None:
        """Drop scripted answers not used yet (a test that failed half-way leaves some)."""
        with self._lock:
            self._queue.clear()

    def record(self, request: RecordedRequest) -> int:
        with self._lock:
            self.requests.append(request)
            return len(self.requests)

    @property
    def chat_requests(self) -> list[RecordedRequest]:
        """The POSTs to /chat/completions, in arrival order."""
        return [r for r in self.requests
                if r.method == "POST" and r.path.rstrip("/").endswith("/chat/completions")]

    def reply_for(self, request: RecordedRequest) -> Reply:
        path = request.path.split("?", 1)[0].rstrip("/")
        if request.method == "GET" and path == "/v1/models":
            return json_reply(MODELS)
        if request.method != "POST" or path != "/v1/chat/completions":
            return json_reply(error_body(f"Invalid URL ({request.method} {request.path})",
                                         "invalid_request_error"), 404)
        with self._lock:
            if self._queue:
                return self._queue.popleft()
        body = request.json
        if not isinstance(body, dict):
            return json_reply(error_body("We could not parse the JSON body of your request.",
                                         "invalid_request_error"), 400)
        model = str(body.get("model") or "")
        stream = bool(body.get("stream"))
        with self._lock:
            self._seen[model] += 1
            nth = self._seen[model]
        if model.startswith("fault-"):
            fault = FAULTS.get(model)
            request_fault = REQUEST_FAULTS.get(model)
            if fault is None and request_fault is None:
                return json_reply(error_body(f"Unknown fault {model!r}; known: "
                                             f"{', '.join(sorted({*FAULTS, *REQUEST_FAULTS}))}",
                                             "invalid_request_error"), 400)
            reply = (fault(nth, stream) if fault is not None
                     else request_fault(request, nth, stream))
            if reply is not None:
                return reply
        elif model.startswith("fixture-"):
            return fixture_reply(model.removeprefix("fixture-"))
        return default_reply(body, stream)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    args = parser.parse_args(argv)
    with WireServer(args.host, args.port) as server:
        print(f"wire server: {server.base_url}", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()


if __name__ == "__main__":
    main()
