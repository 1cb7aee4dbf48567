"""The wire server, taught the OpenAI Responses format too (POST /v1/responses), and the two
token-counting endpoints (POST /v1/responses/input_tokens, POST /v1/messages/count_tokens).

A subclass of AnthropicWireServer, so one server answers a conversation that switches between
all three formats. What a POST to /v1/responses gets:

1. the scripted queue, first: `server.script_responses(Reply(...), ...)`;
2. a request the real API would reject answers 400 in OpenAI's error shape: no Bearer key
   (401), no `input`, a function tool without an explicit `strict`, a `function_call_output`
   whose call_id no earlier `function_call` has, a `function_call` item carrying its fc_ `id`
   without the reasoning item before it (OpenAI's "provided without its required 'reasoning'
   item"), or `previous_response_id` with `store: false`;
3. else by `model`: `fixture-<name>` streams tests/fixtures/responses/<name>.sse in awkward
   write sizes, `fault-500` answers 500;
4. else a tiny weather model: a get_current_weather function_call for a question, and a text
   answer quoting the function_call_output items once the input ends with them.

Token counts are deterministic (compact JSON characters of the counted parts ÷ 4, plus 3), so a
test can compute what the server will say; every count request is recorded like the others.

Standalone: `python -m tests.support.responses_server --port 8767`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import threading
from collections import deque
from typing import Any

from tests.support.anthropic_server import AnthropicWireServer
from tests.support.responses_fixtures import load_responses_fixture
from tests.support.wire_server import (
    AWKWARD_WRITES,
    RecordedRequest,
    Reply,
    error_body,
    json_reply,
    sse_reply,
)

RESPONSES_PATH = "/v1/responses"
INPUT_TOKENS_PATH = "/v1/responses/input_tokens"
COUNT_TOKENS_PATH = "/v1/messages/count_tokens"


def count_of(body: dict[str, Any], keys: tuple[str, ...]) -> int:
    """The server's "exact" count: what a test can compute from the body it sent."""
    counted = {k: body[k] for k in keys if k in body}
    return len(json.dumps(counted, separators=(",", ":"), ensure_ascii=False)) // 4 + 3


def _usage(prompt: int, output: int) -> dict[str, Any]:
    return {"input_tokens": prompt, "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": output, "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": prompt + output}


def response_object(output: list[dict[str, Any]], model: str, usage: dict[str, Any],
                    status: str = "completed") -> dict[str, Any]:
    return {"id": "resp_wire_0001", "object": "response", "created_at": 1764000000,
            "status": status, "model": model, "output": output, "usage": usage}


def stream_of(response: dict[str, Any]) -> bytes:
    """A minimal but complete event stream for a response (items whole, text and arguments
    as one delta each)."""
    events: list[dict[str, Any]] = [
        {"type": "response.created", "response": {**response, "status": "in_progress",
                                                  "output": [], "usage": None}}]
    for index, item in enumerate(response["output"]):
        events.append({"type": "response.output_item.added", "output_index": index,
                       "item": {**item, "status": "in_progress", "arguments": "",
                                "content": []} if item["type"] != "message" else
                       {**item, "content": []}})
        if item["type"] == "message":
            text = item["content"][0]["text"]
            events.append({"type": "response.output_text.delta", "item_id": item["id"],
                           "output_index": index, "content_index": 0, "delta": text})
        elif item["type"] == "function_call":
            events.append({"type": "response.function_call_arguments.delta",
                           "item_id": item["id"], "output_index": index,
                           "delta": item["arguments"]})
        events.append({"type": "response.output_item.done", "output_index": index,
                       "item": item})
    events.append({"type": "response.completed", "response": response})
    return b"".join(
        b"event: " + e["type"].encode() + b"\ndata: "
        + json.dumps({**e, "sequence_number": n}, ensure_ascii=False).encode() + b"\n\n"
        for n, e in enumerate(events))


def request_problems(body: dict[str, Any]) -> list[str]:
    problems = []
    items = body.get("input")
    if not isinstance(items, list | str):
        return ["Missing required parameter: 'input'."]
    for tool in body.get("tools") or []:
        if isinstance(tool, dict) and tool.get("type") == "function" and "strict" not in tool:
            problems.append(f"tool {tool.get('name')!r}: strict not given (Toolsmith always "
                            "sends it: its default differs between formats)")
    if body.get("previous_response_id") and body.get("store") is False:
        problems.append("previous_response_id needs stored responses (store: false)")
    calls: set[str] = set()
    reasoning_before = False
    for item in items if isinstance(items, list) else []:
        kind = item.get("type") if isinstance(item, dict) else None
        if kind == "reasoning":
            reasoning_before = True
        elif kind == "function_call":
            if item.get("id") and not reasoning_before:
                problems.append(f"Item '{item['id']}' of type 'function_call' was provided "
                                "without its required 'reasoning' item")
            calls.add(str(item.get("call_id")))
        elif kind == "function_call_output" and str(item.get("call_id")) not in calls:
            problems.append(f"No tool call found for function call output with call_id "
                            f"{item.get('call_id')}.")
        elif kind is None or kind == "message":
            reasoning_before = False
    return problems


def default_response(body: dict[str, Any], stream: bool) -> Reply:
    """The weather model: a call for a question; after results, a text answer quoting them."""
    model = str(body.get("model") or "gpt-wire")
    items = body["input"] if isinstance(body["input"], list) else []
    results = []
    for item in reversed(items):
        if not isinstance(item, dict) or item.get("type") != "function_call_output":
            break
        results.insert(0, item)
    prompt = count_of(body, ("instructions", "input", "tools"))
    if results:
        text = "Tool results: " + "; ".join(f"{r.get('call_id')} said {r.get('output')}"
                                            for r in results)
        output = [{"id": "msg_wire_1", "type": "message", "status": "completed",
                   "role": "assistant", "content": [{"type": "output_text", "text": text,
                                                     "annotations": []}]}]
    else:
        output = [{"id": "fc_wire_1", "type": "function_call", "status": "completed",
                   "call_id": "call_wireBoston1", "name": "get_current_weather",
                   "arguments": '{"location":"Boston, MA","unit":"celsius"}'}]
    response = response_object(output, model, _usage(prompt, 20))
    if stream:
        return sse_reply(stream_of(response), write_sizes=AWKWARD_WRITES)
    return json_reply(response)


class ResponsesWireServer(AnthropicWireServer):
    """AnthropicWireServer plus POST /v1/responses and the token-counting endpoints."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__(host, port)
        self._responses_lock = threading.Lock()
        self._responses_queue: deque[Reply] = deque()

    def script_responses(self, *replies: Reply) -> None:
        with self._responses_lock:
            self._responses_queue.extend(replies)

    def posts_to(self, path: str) -> list[RecordedRequest]:
        return [r for r in self.requests
                if r.method == "POST" and r.path.split("?", 1)[0].rstrip("/") == path]

    @property
    def response_requests(self) -> list[RecordedRequest]:
        return self.posts_to(RESPONSES_PATH)

    def reply_for(self, request: RecordedRequest) -> Reply:
        path = request.path.split("?", 1)[0].rstrip("/")
        if request.method != "POST" or path not in (RESPONSES_PATH, INPUT_TOKENS_PATH,
                                                    COUNT_TOKENS_PATH):
            return super().reply_for(request)
        body = request.json
        if not isinstance(body, dict):
            return json_reply(error_body("We could not parse the JSON body of your request.",
                                         "invalid_request_error"), 400)
        if path == COUNT_TOKENS_PATH:
            if not request.headers.get("anthropic-version"):
                return json_reply({"type": "error", "error": {
                    "type": "invalid_request_error",
                    "message": "anthropic-version: header is required"}}, 400)
            return json_reply({"input_tokens": count_of(body, ("system", "messages",
                                                                "tools"))})
        if not request.headers.get("authorization", "").startswith("Bearer "):
            return json_reply(error_body("You didn't provide an API key.",
                                         "invalid_request_error"), 401)
        if path == INPUT_TOKENS_PATH:
            return json_reply({"object": "response.input_tokens",
                               "input_tokens": count_of(body, ("instructions", "input",
                                                               "tools"))})
        with self._responses_lock:
            if self._responses_queue:
                return self._responses_queue.popleft()
        problems = request_problems(body)
        if problems:
            return json_reply(error_body("; ".join(problems), "invalid_request_error"), 400)
        model = str(body.get("model") or "")
        if model.startswith("fixture-"):
            return sse_reply(load_responses_fixture(model.removeprefix("fixture-")),
                             write_sizes=AWKWARD_WRITES)
        if model == "fault-500":
            return json_reply(error_body("The server had an error.", "server_error"), 500)
        return default_response(body, bool(body.get("stream")))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    args = parser.parse_args(argv)
    with ResponsesWireServer(args.host, args.port) as server:
        print(f"wire server: {server.base_url} (Anthropic: {server.root_url})", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()


if __name__ == "__main__":
    main()
