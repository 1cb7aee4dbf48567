"""The offline demo model: a deterministic stand-in that speaks the OpenAI wire format and
Anthropic's Messages format (POST …/v1/messages).

It plugs into httpx as a transport, so the app reaches it through exactly the code path a real
server takes (request building, SSE decoding, accumulation, errors). It picks the enabled tool
whose name and description best fit the question, fills the arguments it can read from the
question, and answers from tool results. Its usage figures are estimates (characters / 4).
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx

from core.config import DEMO_MODEL

_STOP = frozenset(
    "a an and are as at be by can do for from get give how i in is it its like me my of on "
    "or please show tell that the this to today what whats what's when where which who will "
    "with would you your".split()
)

# A few places, so a city typed alone becomes the "City, ST" form tools usually ask for.
_PLACES = {
    "boston": "Boston, MA", "new york": "New York, NY", "san francisco": "San Francisco, CA",
    "chicago": "Chicago, IL", "seattle": "Seattle, WA", "los angeles": "Los Angeles, CA",
    "austin": "Austin, TX", "miami": "Miami, FL", "denver": "Denver, CO",
    "london": "London, UK", "paris": "Paris, France", "berlin": "Berlin, Germany",
    "tokyo": "Tokyo, Japan", "beijing": "Beijing, China", "shanghai": "Shanghai, China",
    "sydney": "Sydney, Australia", "toronto": "Toronto, Canada",
}
_US_SUFFIX = re.compile(r",\s*[A-Z]{2}$")
_PLACE_AFTER = re.compile(
    r"\b(?:in|at|for|near|from|to)\s+"
    r"((?:[A-Z][\w.'-]*)(?:\s+[A-Z][\w.'-]*)*(?:,\s*[A-Z]{2}\b)?"
    r"(?:(?:\s*,\s*|\s+and\s+|\s*&\s*)(?:[A-Z][\w.'-]*)(?:\s+[A-Z][\w.'-]*)*(?:,\s*[A-Z]{2}\b)?)*)"
)
_SPLIT_PLACES = re.compile(r"\s*,\s*(?![A-Z]{2}\b)|\s+and\s+|\s*&\s*")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_WORD = re.compile(r"[a-z0-9]+")
_LOCATION_WORDS = ("location", "city", "place", "address", "town", "region")
_QUERY_WORDS = ("query", "q", "search", "text", "question", "prompt", "keywords", "topic")


def _words(text: str) -> set[str]:
    text = re.sub(r"([a-z])([A-Z])", r"\1 \2", text).replace("_", " ").lower()
    return {w[:-1] if len(w) > 3 and w.endswith("s") else w
            for w in _WORD.findall(text) if len(w) > 2 and w not in _STOP}


def places_in(question: str) -> list[str]:
    """Places named in the question, in order, expanded from the small gazetteer."""
    found: list[str] = []
    for match in _PLACE_AFTER.finditer(question):
        for part in _SPLIT_PLACES.split(match.group(1)):
            part = part.strip(" .?!")
            if part and part.lower() not in ("today", "tomorrow", "now"):
                found.append(_PLACES.get(part.lower(), part))
    if not found:
        lowered = question.lower()
        found = [full for name, full in _PLACES.items() if re.search(rf"\b{name}\b", lowered)]
    return list(dict.fromkeys(found))


@dataclass
class Plan:
    """What the demo model will say: text, or calls as (name, arguments)."""

    text: str = ""
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


class _Missing(Exception):
    def __init__(self, path: str) -> None:
        self.path = path


def _fill(schema: dict[str, Any], question: str, place: str | None, path: str) -> Any:
    """A value for one schema node, read from the question where possible."""
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    if kind == "object" or "properties" in schema:
        return _fill_object(schema, question, place, path)
    name = path.rsplit("/", 1)[-1].lower()
    described = f"{name} {schema.get('description', '')}".lower()
    enum = schema.get("enum")
    if isinstance(enum, list) and enum:
        for value in enum:
            if isinstance(value, str) and re.search(rf"\b{re.escape(value.lower())}\b",
                                                    question.lower()):
                return value
        lowered = [str(v).lower() for v in enum]
        if "fahrenheit" in lowered and "celsius" in lowered and place:
            return enum[lowered.index("fahrenheit" if _US_SUFFIX.search(place) else "celsius")]
        raise _Missing(path)
    if kind == "string":
        if any(w in described.split() or w in name for w in _LOCATION_WORDS) and place:
            return place
        if name in _QUERY_WORDS or any(w in name for w in ("query", "search")):
            return question.strip()
        raise _Missing(path)
    if kind in ("integer", "number"):
        numbers = _NUMBER.findall(question)
        if not numbers:
            raise _Missing(path)
        value = float(numbers[0])
        if "minimum" in schema:
            value = max(value, schema["minimum"])
        if "maximum" in schema:
            value = min(value, schema["maximum"])
        return int(value) if kind == "integer" else value
    if kind == "boolean":
        raise _Missing(path)
    if kind == "array":
        raise _Missing(path)
    raise _Missing(path)


_EMPTY = {"string": "", "integer": 0, "number": 0, "boolean": False, "array": [], "object": {}}


def _fill_object(schema: dict[str, Any], question: str, place: str | None, path: str,
                 forced: bool = False) -> dict:
    """Arguments for an object schema. `forced` (tool_choice required or named): a required
    value the question does not give becomes an empty placeholder instead of a question back,
    because those choices promise a call."""
    required = set(schema.get("required") or [])
    result: dict[str, Any] = {}
    for key, sub in (schema.get("properties") or {}).items():
        if not isinstance(sub, dict):
            continue
        try:
            result[key] = _fill(sub, question, place, f"{path}/{key}")
        except _Missing:
            if key not in required:
                continue
            kind = sub.get("type")
            kind = next((k for k in kind if k != "null"), None) if isinstance(kind, list) else kind
            if "default" in sub:
                result[key] = sub["default"]
            elif kind in ("boolean", "array"):
                result[key] = _EMPTY[kind]
            elif kind in ("integer", "number") and "minimum" in sub:
                result[key] = sub["minimum"]
            elif forced:
                enum = sub.get("enum")
                result[key] = enum[0] if isinstance(enum, list) and enum else \
                    _EMPTY.get(kind or "string", "")
            else:
                raise
    return result


def _tool_score(function: dict[str, Any], question_words: set[str]) -> int:
    name_words = _words(function.get("name", "")) | _words(function.get("description", ""))
    params = (function.get("parameters") or {}).get("properties") or {}
    param_words: set[str] = set()
    for key, sub in params.items():
        param_words |= _words(key)
        if isinstance(sub, dict):
            param_words |= _words(str(sub.get("description", "")))
    return 2 * len(question_words & name_words) + len(question_words & (param_words - name_words))


def plan_reply(body: dict[str, Any]) -> Plan:
    messages = [m for m in body.get("messages") or [] if isinstance(m, dict)]
    functions = [t.get("function") or {} for t in body.get("tools") or [] if isinstance(t, dict)]
    if not messages:
        return Plan(text="(Offline demo model) There is no message to answer.")
    last = messages[-1]
    if last.get("role") == "tool":
        return Plan(text=_answer_from_results(messages))
    question = str(last.get("content") or "")
    choice = body.get("tool_choice", "auto")
    if choice == "none" or not functions:
        return Plan(text=_no_tool_text(question, functions, choice == "none"))
    if isinstance(choice, dict):
        wanted = (choice.get("function") or {}).get("name")
        candidates = [f for f in functions if f.get("name") == wanted]
    else:
        words = _words(question)
        scored = sorted(((_tool_score(f, words), i, f) for i, f in enumerate(functions)),
                        key=lambda item: (-item[0], item[1]))
        candidates = [f for score, _, f in scored if score >= 2][:1]
        if not candidates and choice == "required":
            candidates = [scored[0][2]]
    if not candidates:
        return Plan(text=_no_tool_text(question, functions, False))
    function = candidates[0]
    schema = function.get("parameters") or {"type": "object", "properties": {}}
    places = places_in(question) or [None]
    if body.get("parallel_tool_calls") is False:
        places = places[:1]
    forced = choice == "required" or isinstance(choice, dict)
    calls = []
    for place in places:
        try:
            calls.append((function.get("name", ""),
                          _fill_object(schema, question, place, "", forced)))
        except _Missing as missing:
            field_name = missing.path.strip("/") or "input"
            return Plan(text=f"(Offline demo model) To use `{function.get('name')}` I need "
                             f"`{field_name}`, and I could not read it from your message. "
                             "Could you say it explicitly?")
    uses_place = any(place is not None and place in args.values()
                     for place, (_, args) in zip(places, calls, strict=True))
    return Plan(calls=calls if uses_place else calls[:1])


def _no_tool_text(question: str, functions: list[dict[str, Any]], disabled: bool) -> str:
    names = ", ".join(f"`{f.get('name')}`" for f in functions) or "none"
    why = ("Tool calls are switched off for this request (tool_choice: none)." if disabled
           else f"None of the enabled tools ({names}) fits your question.")
    return ("(Offline demo model) I only demonstrate tool calling, so I can't answer "
            f"“{question.strip()[:200]}” on my own. {why} Try “What's the weather like in "
            "Boston today?” with `get_current_weather` enabled, or configure a real model in the "
            "sidebar.")


def _answer_from_results(messages: list[dict[str, Any]]) -> str:
    results = []
    for message in reversed(messages):
        if message.get("role") != "tool":
            calls = {c.get("id"): c for c in message.get("tool_calls") or []}
            break
        results.append(message)
    else:
        calls = {}
    parts = []
    for message in reversed(results):
        call = calls.get(message.get("tool_call_id")) or {}
        function = call.get("function") or {}
        try:
            args = json.loads(function.get("arguments") or "{}")
        except json.JSONDecodeError:
            args = {}
        about = str(next(iter(args.values()))) if isinstance(args, dict) and args else ""
        name = function.get("name") or "the tool"
        parts.append(f"`{name}`{f' for {about}' if about else ''} returned "
                     f"{_describe(str(message.get('content') or ''))}")
    return "Here is what I found: " + "; ".join(parts) + "."


def _describe(content: str) -> str:
    text = content.strip()
    if not text:
        return "nothing (an empty result)"
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        return f"“{text[:400]}”"
    if isinstance(value, dict):
        return ", ".join(f"{k} {json.dumps(v, ensure_ascii=False)}" for k, v in value.items())
    return json.dumps(value, ensure_ascii=False)[:400]


def _estimate_tokens(text: str) -> int:
    return max(1, len(text) // 4)


def _pieces(text: str, size: int) -> list[str]:
    return [text[i:i + size] for i in range(0, len(text), size)] or [""]


def openai_body_from_anthropic(body: dict[str, Any]) -> dict[str, Any]:
    """An Anthropic Messages request in the OpenAI shape plan_reply reads.

    Only what the planner looks at is translated: tool_result blocks become `tool` messages
    (ahead of any text of the same user message, as Anthropic orders them), tool_use blocks
    become `tool_calls`, tools' `input_schema` becomes `parameters`, and tool_choice
    auto/any/tool/none (with disable_parallel_tool_use) becomes OpenAI's tool_choice and
    parallel_tool_calls.
    """
    messages: list[dict[str, Any]] = []
    for message in body.get("messages") or []:
        if not isinstance(message, dict):
            continue
        role = message.get("role")
        content = message.get("content")
        blocks = ([{"type": "text", "text": content}] if isinstance(content, str)
                  else [b for b in content or [] if isinstance(b, dict)])
        text = "".join(str(b.get("text") or "") for b in blocks if b.get("type") == "text")
        if role == "assistant":
            calls = [{"id": b.get("id"), "type": "function",
                      "function": {"name": b.get("name"),
                                   "arguments": json.dumps(b.get("input") or {})}}
                     for b in blocks if b.get("type") == "tool_use"]
            turn: dict[str, Any] = {"role": "assistant", "content": text or None}
            if calls:
                turn["tool_calls"] = calls
            messages.append(turn)
            continue
        for block in blocks:
            if block.get("type") == "tool_result":
                messages.append({"role": "tool", "tool_call_id": block.get("tool_use_id"),
                                 "content": _result_text(block.get("content"))})
        if text or not any(b.get("type") == "tool_result" for b in blocks):
            messages.append({"role": "user", "content": text})
    tools = [{"type": "function", "function": {
        "name": t.get("name"), "description": t.get("description", ""),
        "parameters": t.get("input_schema") or {"type": "object", "properties": {}}}}
        for t in body.get("tools") or [] if isinstance(t, dict)]
    openai: dict[str, Any] = {"model": body.get("model"), "messages": messages, "tools": tools}
    choice = body.get("tool_choice")
    if isinstance(choice, dict):
        kind = choice.get("type")
        if kind == "tool":
            openai["tool_choice"] = {"type": "function", "function": {"name": choice.get("name")}}
        elif kind in ("auto", "none"):
            openai["tool_choice"] = kind
        elif kind == "any":
            openai["tool_choice"] = "required"
        if choice.get("disable_parallel_tool_use"):
            openai["parallel_tool_calls"] = False
    return openai


def _result_text(content: Any) -> str:
    """A tool_result's content: a string, or a list of blocks whose text counts."""
    if isinstance(content, list):
        return "".join(str(b.get("text") or "") for b in content
                       if isinstance(b, dict) and b.get("type") == "text")
    return "" if content is None else str(content)


def _anthropic_error(status: int, kind: str, message: str,
                     headers: dict[str, str]) -> httpx.Response:
    return httpx.Response(status, headers=headers, json={
        "type": "error", "error": {"type": kind, "message": message}})


class DemoTransport(httpx.BaseTransport):
    """Answers /models, /chat/completions and /messages in process; everything else is a 404."""

    def __init__(self, chunk_delay: float = 0.0) -> None:
        self.chunk_delay = chunk_delay

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path.rstrip("/")
        headers = {"x-request-id": "req_demo_" + hashlib.sha1(request.content).hexdigest()[:12]}
        if request.method == "GET" and path.endswith("/models"):
            return httpx.Response(200, headers=headers, json={"object": "list", "data": [
                {"id": DEMO_MODEL, "object": "model", "owned_by": "toolsmith"}]})
        if request.method == "POST" and path.endswith("/messages"):
            return self._messages(request, headers)
        if request.method != "POST" or not path.endswith("/chat/completions"):
            return httpx.Response(404, headers=headers, json={"error": {
                "message": f"The demo model has no {request.method} {path}", "type": "not_found"}})
        try:
            body = json.loads(request.content)
        except json.JSONDecodeError:
            return httpx.Response(400, headers=headers, json={"error": {
                "message": "The request body is not JSON.", "type": "invalid_request_error"}})
        plan = plan_reply(body)
        seed = hashlib.sha1(request.content).hexdigest()
        prompt = _estimate_tokens(json.dumps(body.get("messages")) + json.dumps(body.get("tools")))
        completion = _estimate_tokens(plan.text + json.dumps(plan.calls))
        usage = {"prompt_tokens": prompt, "completion_tokens": completion,
                 "total_tokens": prompt + completion,
                 "prompt_tokens_details": {"cached_tokens": 0},
                 "completion_tokens_details": {"reasoning_tokens": 0}}
        calls = [{"id": f"call_demo_{seed[i * 6:i * 6 + 12]}", "type": "function",
                  "function": {"name": name, "arguments": json.dumps(args)}}
                 for i, (name, args) in enumerate(plan.calls)]
        finish = "tool_calls" if calls else "stop"
        base = {"id": f"chatcmpl-demo-{seed[:12]}", "created": 1_700_000_000,
                "model": body.get("model") or DEMO_MODEL}
        if not body.get("stream"):
            message = {"role": "assistant", "content": plan.text or None}
            if calls:
                message["tool_calls"] = calls
            return httpx.Response(200, headers=headers, json={
                **base, "object": "chat.completion", "usage": usage,
                "choices": [{"index": 0, "message": message, "finish_reason": finish}]})
        headers["content-type"] = "text/event-stream"
        return httpx.Response(200, headers=headers, content=self._stream(base, plan, calls,
                                                                          finish, usage))

    def _stream(self, base: dict[str, Any], plan: Plan, calls: list[dict[str, Any]],
                finish: str, usage: dict[str, Any]) -> Iterator[bytes]:
        def chunk(delta: dict[str, Any] | None, finish_reason: str | None = None,
                  **extra: Any) -> bytes:
            choices = [] if delta is None else [
                {"index": 0, "delta": delta, "finish_reason": finish_reason}]
            payload = {**base, "object": "chat.completion.chunk", "choices": choices, **extra}
            if self.chunk_delay:
                time.sleep(self.chunk_delay)
            return b"data: " + json.dumps(payload).encode() + b"\n\n"

        yield chunk({"role": "assistant", "content": ""})
        for piece in re.findall(r"\S+\s*", plan.text):
            yield chunk({"content": piece})
        for index, call in enumerate(calls):
            yield chunk({"tool_calls": [{"index": index, "id": call["id"], "type": "function",
                                         "function": {"name": call["function"]["name"],
                                                      "arguments": ""}}]})
            for piece in _pieces(call["function"]["arguments"], 6):
                yield chunk({"tool_calls": [{"index": index,
                                             "function": {"arguments": piece}}]})
        yield chunk({}, finish)
        yield chunk(None, usage=usage)
        yield b"data: [DONE]\n\n"

    # --- Anthropic Messages ---------------------------------------------------------------------

    def _messages(self, request: httpx.Request, headers: dict[str, str]) -> httpx.Response:
        """POST …/v1/messages: the same plan, answered as Anthropic would answer it."""
        if not request.headers.get("anthropic-version"):
            return _anthropic_error(400, "invalid_request_error",
                                    "anthropic-version: header is required", headers)
        try:
            body = json.loads(request.content)
        except json.JSONDecodeError:
            return _anthropic_error(400, "invalid_request_error",
                                    "The request body is not valid JSON.", headers)
        if not isinstance(body, dict):
            return _anthropic_error(400, "invalid_request_error",
                                    "The request body must be a JSON object.", headers)
        if not isinstance(body.get("max_tokens"), int):
            return _anthropic_error(400, "invalid_request_error",
                                    "max_tokens: Field required", headers)
        plan = plan_reply(openai_body_from_anthropic(body))
        seed = hashlib.sha1(request.content).hexdigest()
        prompt = _estimate_tokens(json.dumps(body.get("system")) + json.dumps(body.get("messages"))
                                  + json.dumps(body.get("tools")))
        completion = _estimate_tokens(plan.text + json.dumps(plan.calls))
        usage = {"input_tokens": prompt, "cache_creation_input_tokens": 0,
                 "cache_read_input_tokens": 0, "output_tokens": completion}
        blocks: list[dict[str, Any]] = []
        if plan.text:
            blocks.append({"type": "text", "text": plan.text})
        blocks += [{"type": "tool_use", "id": f"toolu_demo_{seed[i * 6:i * 6 + 12]}",
                    "name": name, "input": args} for i, (name, args) in enumerate(plan.calls)]
        stop = "tool_use" if plan.calls else "end_turn"
        message = {"id": f"msg_demo_{seed[:12]}", "type": "message", "role": "assistant",
                   "model": body.get("model") or DEMO_MODEL}
        if not body.get("stream"):
            return httpx.Response(200, headers=headers, json={
                **message, "content": blocks, "stop_reason": stop, "stop_sequence": None,
                "usage": usage})
        headers["content-type"] = "text/event-stream"
        return httpx.Response(200, headers=headers,
                              content=self._message_events(message, blocks, stop, usage))

    def _message_events(self, message: dict[str, Any], blocks: list[dict[str, Any]],
                        stop: str, usage: dict[str, Any]) -> Iterator[bytes]:
        """The event sequence Anthropic streams, ping included."""
        def event(payload: dict[str, Any]) -> bytes:
            if self.chunk_delay:
                time.sleep(self.chunk_delay)
            return (b"event: " + payload["type"].encode() + b"\ndata: "
                    + json.dumps(payload).encode() + b"\n\n")

        yield event({"type": "message_start", "message": {
            **message, "content": [], "stop_reason": None, "stop_sequence": None,
            "usage": {**usage, "output_tokens": 1}}})
        for index, block in enumerate(blocks):
            if block["type"] == "text":
                yield event({"type": "content_block_start", "index": index,
                             "content_block": {"type": "text", "text": ""}})
                pieces = [{"type": "text_delta", "text": piece}
                          for piece in re.findall(r"\S+\s*", block["text"])]
            else:
                yield event({"type": "content_block_start", "index": index, "content_block": {
                    "type": "tool_use", "id": block["id"], "name": block["name"], "input": {}}})
                arguments = json.dumps(block["input"], ensure_ascii=False)
                pieces = [{"type": "input_json_delta", "partial_json": piece}
                          for piece in ["", *_pieces(arguments, 6)]]
            if index == 0:
                yield event({"type": "ping"})
            for delta in pieces:
                yield event({"type": "content_block_delta", "index": index, "delta": delta})
            yield event({"type": "content_block_stop", "index": index})
        yield event({"type": "message_delta", "delta": {"stop_reason": stop,
                                                         "stop_sequence": None},
                     "usage": {"output_tokens": usage["output_tokens"]}})
        yield event({"type": "message_stop"})
