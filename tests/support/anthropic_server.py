"""The wire server, taught Anthropic's Messages format as well (POST /v1/messages).

A subclass of tests.support.wire_server.WireServer: everything the OpenAI-format server does
(/v1/chat/completions, /v1/models, faults, fixtures, the request log) is unchanged, so one
server can answer a conversation that switches format mid-way. What a POST to /v1/messages gets:

1. the scripted queue, first: `server.script_messages(Reply(...), ...)`;
2. a request that the real API would reject answers 400 with Anthropic's error body: no
   `anthropic-version` header, no key (401), no `max_tokens`, turns not alternating, a tool id
   outside `^[a-zA-Z0-9_-]+$`, a tool_result that answers no tool_use of the turn before it,
   a tool_use left unanswered, tool_result blocks after text in a user message;
3. else by `model`: `fault-529` / `fault-529-then-ok` (overloaded), `fault-401`,
   `fixture-<name>` streams tests/fixtures/anthropic/<name>.sse in awkward write sizes;
4. else a tiny weather model: a get_current_weather tool_use for a question (the
   text_and_tool_use transcript when streaming), and a text answer quoting the tool results
   once the last user message carries them.

Standalone: `python -m tests.support.anthropic_server --port 8766`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import threading
from collections import Counter, deque
from typing import Any

from tests.support.anthropic_fixtures import load_anthropic_fixture
from tests.support.wire_server import RecordedRequest, Reply, WireServer, json_reply, sse_reply

_ID = re.compile(r"^[a-zA-Z0-9_-]+$")

REFERENCE_MESSAGE: dict[str, Any] = {
    "id": "msg_01Xq7Nn5pWcD3kF9sLtY2bRz", "type": "message", "role": "assistant",
    "model": "claude-sonnet-4-5-20250929",
    "content": [
        {"type": "text", "text": "I’ll check the weather in Boston — one moment."},
        {"type": "tool_use", "id": "toolu_01A09q90qw90lq917835lq9", "name": "get_current_weather",
         "input": {"location": "Boston, MA", "unit": "celsius"}}],
    "stop_reason": "tool_use", "stop_sequence": None,
    "usage": {"input_tokens": 412, "cache_creation_input_tokens": 0,
              "cache_read_input_tokens": 0, "output_tokens": 57},
}


def anthropic_error(status: int, kind: str, message: str,
                    headers: dict[str, str] | None = None) -> Reply:
    return json_reply({"type": "error", "error": {"type": kind, "message": message},
                       "request_id": "req_011Anthropic0000000000"}, status, headers)


def events_to_sse(events: list[dict[str, Any]]) -> bytes:
    """Event objects as Anthropic sends them: an `event:` line naming the type, then `data:`."""
    return b"".join(b"event: " + e["type"].encode() + b"\ndata: "
                    + json.dumps(e, ensure_ascii=False).encode() + b"\n\n" for e in events)


def text_message(text: str, *, stream: bool, model: str) -> Reply:
    """A plain text answer, streamed word by word or as one body."""
    usage = {"input_tokens": 520, "cache_creation_input_tokens": 0,
             "cache_read_input_tokens": 0, "output_tokens": len(text.split())}
    message = {"id": "msg_01WireText0000000000000", "type": "message", "role": "assistant",
               "model": model}
    if not stream:
        return json_reply({**message, "content": [{"type": "text", "text": text}],
                           "stop_reason": "end_turn", "stop_sequence": None, "usage": usage})
    words = [w + " " for w in text.split(" ")]
    words[-1] = words[-1].rstrip(" ")
    events: list[dict[str, Any]] = [
        {"type": "message_start", "message": {**message, "content": [], "stop_reason": None,
                                              "stop_sequence": None,
                                              "usage": {**usage, "output_tokens": 1}}},
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        {"type": "ping"},
        *({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": w}}
          for w in words),
        {"type": "content_block_stop", "index": 0},
        {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None},
         "usage": {"output_tokens": usage["output_tokens"]}},
        {"type": "message_stop"},
    ]
    return sse_reply(events_to_sse(events))


def _blocks(content: Any) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    return [b for b in content or [] if isinstance(b, dict)]


def request_problems(body: dict[str, Any]) -> list[str]:
    """What the real Messages API would reject in this body (the rules a translation must keep)."""
    problems: list[str] = []
    if not isinstance(body.get("max_tokens"), int):
        problems.append("max_tokens: Field required")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return [*problems, "messages: at least one message is required"]
    if any(isinstance(m, dict) and m.get("role") == "system" for m in messages):
        problems.append("messages: role 'system' is not allowed; use the top-level system field")
    pending: set[str] = set()
    previous = None
    for i, message in enumerate(messages):
        role = message.get("role")
        if role == previous:
            problems.append(f"messages.{i}: roles must alternate between user and assistant")
        previous = role
        blocks = _blocks(message.get("content"))
        if not blocks:
            problems.append(f"messages.{i}: content must not be empty")
        for block in blocks:
            if block.get("type") == "text" and not str(block.get("text") or "").strip():
                problems.append(f"messages.{i}: text content blocks must be non-empty")
        if role == "assistant":
            if pending:
                problems.append(f"messages.{i}: tool_use ids {sorted(pending)} were not answered")
            uses = [b for b in blocks if b.get("type") == "tool_use"]
            for block in uses:
                if not _ID.match(str(block.get("id") or "")):
                    problems.append(f"messages.{i}: tool_use id {block.get('id')!r} should match "
                                    "pattern '^[a-zA-Z0-9_-]+$'")
                if not isinstance(block.get("input"), dict):
                    problems.append(f"messages.{i}: tool_use input must be an object")
            pending = {str(b.get("id")) for b in uses}
            continue
        kinds = [b.get("type") for b in blocks]
        first_other = next((k for k, kind in enumerate(kinds) if kind != "tool_result"),
                           len(kinds))
        if "tool_result" in kinds[first_other:]:
            problems.append(f"messages.{i}: tool_result blocks must come before any text")
        answered = {str(b.get("tool_use_id")) for b in blocks if b.get("type") == "tool_result"}
        for extra in sorted(answered - pending):
            problems.append(f"messages.{i}: unexpected tool_use_id {extra!r} in tool_result "
                            "blocks: each tool_result must answer a tool_use of the turn before")
        if pending - answered:
            problems.append(f"messages.{i}: tool_use ids {sorted(pending - answered)} were "
                            "not answered")
        pending = set()
    if messages[0].get("role") != "user":
        problems.append("messages.0: the first message must use the user role")
    for tool in body.get("tools") or []:
        if not isinstance(tool.get("input_schema"), dict) or \
                tool["input_schema"].get("type") != "object":
            problems.append(f"tools: {tool.get('name')!r} needs an input_schema of type object")
    return problems


def default_message(body: dict[str, Any], stream: bool) -> Reply:
    """The weather model: a tool_use for a question; after tool results, a text answer."""
    messages = body.get("messages") or []
    model = str(body.get("model") or "claude-wire")
    results = [b for b in _blocks(messages[-1].get("content"))
               if b.get("type") == "tool_result"]
    if results:
        text = "Tool results: " + "; ".join(
            f"{b.get('tool_use_id')} said {b.get('content')}"
            f"{' (an error)' if b.get('is_error') else ''}" for b in results)
        return text_message(text, stream=stream, model=model)
    if stream:
        return sse_reply(load_anthropic_fixture("text_and_tool_use"))
    return json_reply(REFERENCE_MESSAGE)


_OVERLOADED = ("overloaded_error", "Overloaded")


class AnthropicWireServer(WireServer):
    """WireServer plus POST /v1/messages. `root_url` is what ANTHROPIC_BASE_URL would be."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__(host, port)
        self._messages_lock = threading.Lock()
        self._messages_queue: deque[Reply] = deque()
        self._messages_seen: Counter[str] = Counter()

    @property
    def root_url(self) -> str:
        """Without /v1, as Anthropic's SDK takes it (the client adds /v1/messages)."""
        return f"http://{self.host}:{self.port}"

    def script_messages(self, *replies: Reply) -> None:
        """Queue exact answers for the next POSTs to /v1/messages, in order."""
        with self._messages_lock:
            self._messages_queue.extend(replies)

    @property
    def message_requests(self) -> list[RecordedRequest]:
        """The POSTs to /v1/messages, in arrival order."""
        return [r for r in self.requests
                if r.method == "POST" and r.path.split("?", 1)[0].rstrip("/") == "/v1/messages"]

    def reply_for(self, request: RecordedRequest) -> Reply:
        path = request.path.split("?", 1)[0].rstrip("/")
        if request.method != "POST" or path != "/v1/messages":
            return super().reply_for(request)
        with self._messages_lock:
            if self._messages_queue:
                return self._messages_queue.popleft()
        if not request.headers.get("anthropic-version"):
            return anthropic_error(400, "invalid_request_error",
                                   "anthropic-version: header is required")
        if not request.headers.get("x-api-key") and \
                not request.headers.get("authorization", "").startswith("Bearer "):
            return anthropic_error(401, "authentication_error",
                                   "x-api-key header is required")
        body = request.json
        if not isinstance(body, dict):
            return anthropic_error(400, "invalid_request_error",
                                   "The request body is not valid JSON.")
        problems = request_problems(body)
        if problems:
            return anthropic_error(400, "invalid_request_error", "; ".join(problems))
        model = str(body.get("model") or "")
        stream = bool(body.get("stream"))
        with self._messages_lock:
            self._messages_seen[model] += 1
            nth = self._messages_seen[model]
        if model == "fault-529" or (model == "fault-529-then-ok" and nth == 1):
            return anthropic_error(529, *_OVERLOADED)
        if model == "fault-401":
            return anthropic_error(401, "authentication_error", "invalid x-api-key")
        if model.startswith("fixture-"):
            return sse_reply(load_anthropic_fixture(model.removeprefix("fixture-")))
        return default_message(body, stream)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    args = parser.parse_args(argv)
    with AnthropicWireServer(args.host, args.port) as server:
        print(f"wire server: {server.base_url} (Anthropic: {server.root_url})", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()


if __name__ == "__main__":
    main()
