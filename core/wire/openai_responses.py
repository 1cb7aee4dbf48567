"""The OpenAI Responses wire format (POST {base}/responses): request bodies out, messages in.

Request (stateless: `store: false`, so the whole conversation is sent each time):

- the system prompt is `instructions`; user and assistant text are `{role, content}` input items;
- a call is a `function_call {call_id, name, arguments}` item after its assistant text, and its
  result a `function_call_output {call_id, output}` item; the item's own `id` (fc_…) is not sent,
  because a server that sees one demands the reasoning item that preceded it;
- reasoning items the server returned (with `encrypted_content`, asked for by `include:
  ["reasoning.encrypted_content"]`) go back in front of the calls they led to, as a stateless
  reasoning model requires; they are opaque and kept on the neutral message (reasoning_items);
- function tools are `{type: "function", name, description, parameters, strict}` with `strict`
  always explicit (Responses defaults it to true, Chat Completions to false), `tool_choice`
  `{type: "function", name}` for a named tool, `max_output_tokens` for max tokens.

Answer: output items `message` (output_text / refusal parts), `function_call` (its `call_id` is
the call's id) and `reasoning` (summary parts shown apart, joined by a blank line; raw
`reasoning_text` content too, as DeepSeek, LM Studio and OpenRouter send it); other item types
(hosted tools' calls) are skipped. `finish_reason` is the final status: `completed`,
`incomplete:<reason>` or `failed`.

The stream is keyed by `output_index` (and `content_index` / `summary_index` inside an item),
not by item id: GitHub Copilot sends a different item id on every event. Events without an
output_index fall back to the item id. `sequence_number` is optional (early OpenAI streams have
none), `response.function_call_arguments.done` may come without any delta, and an `error` event
inside a 200 stream (details at the top level, or nested under `error`) is an error.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from core.types import ChatSettings, Message, ToolCall, ToolSpec, Usage, new_id
from core.wire.base import (
    Codec,
    DemoEvent,
    DemoReply,
    FormatOption,
    SdkCall,
    SentRequest,
    WireFormat,
    activity_line,
    pieces,
)
from core.wire.errors import MalformedResponse, StreamErrorEvent, error_from_object
from core.wire.openai_chat import arguments_text, unique_ids

INCLUDE_REASONING = "reasoning.encrypted_content"
# Models that reason; for them the encrypted reasoning is asked for and carried back. Others
# answer 400 to `include: ["reasoning.encrypted_content"]`, so it is not sent to them unless a
# reasoning option is set or the conversation already holds reasoning items.
_REASONING_MODEL = re.compile(r"(^|/)(o\d|gpt-5|gpt-oss|codex)", re.IGNORECASE)


# --- request ----------------------------------------------------------------------------------


def tool_to_wire(tool: ToolSpec) -> dict[str, Any]:
    return {"type": "function", "name": tool.name, "description": tool.description,
            "parameters": tool.parameters, "strict": bool(tool.strict)}


def tool_from_wire(item: Any) -> dict[str, Any] | None:
    """`{type: "function", name, …, parameters}` (no nested `function`) as a library document."""
    if not isinstance(item, dict) or item.get("type") != "function" or "function" in item \
            or not isinstance(item.get("name"), str):
        return None
    params = item.get("parameters")
    doc: dict[str, Any] = {"name": item["name"], "description": item.get("description") or "",
                           "parameters": params if isinstance(params, dict)
                           else {"type": "object", "properties": {}}}
    if isinstance(item.get("strict"), bool):
        doc["strict"] = item["strict"]
    return doc


def wire_tool_choice(choice: str | dict[str, Any] | None) -> str | dict[str, Any] | None:
    """The neutral tool_choice (Chat Completions' vocabulary) in Responses' shape."""
    if isinstance(choice, dict):
        name = (choice.get("function") or {}).get("name") or choice.get("name")
        return {"type": "function", "name": name} if name else None
    return choice if choice in ("auto", "none", "required") else None


def neutral_tool_choice(choice: Any) -> str | dict[str, Any] | None:
    if isinstance(choice, dict):
        name = choice.get("name")
        return {"type": "function", "function": {"name": name}} if name else None
    return choice if isinstance(choice, str) else None


def message_items(message: Message) -> list[dict[str, Any]]:
    """One neutral message as Responses input items."""
    if message.role == "tool":
        output: str | list[dict[str, Any]] = message.content
        if message.images:  # function_call_output may be a list of text and images
            output = [{"type": "input_text", "text": message.content}, *(
                {"type": "input_image", "image_url": f"data:{i.mime_type};base64,{i.data}"}
                for i in message.images)]
        return [{"type": "function_call_output", "call_id": message.tool_call_id or "",
                 "output": output}]
    if message.role == "system":
        return []
    if message.role == "user":
        return [{"role": "user", "content": message.content}]
    items: list[dict[str, Any]] = [dict(item) for item in message.reasoning_items]
    if message.content:
        items.append({"role": "assistant", "content": message.content})
    items += [{"type": "function_call", "call_id": call.id, "name": call.name,
               "arguments": call.arguments or "{}"} for call in message.tool_calls]
    return items


def _wants_reasoning(messages: list[Message], settings: ChatSettings) -> bool:
    return bool(settings.options.get("reasoning_effort") or settings.options.get(
        "reasoning_summary") or _REASONING_MODEL.search(settings.model or "")
        or any(m.reasoning_items for m in messages))


def build_request(messages: list[Message], tools: list[ToolSpec],
                  settings: ChatSettings) -> dict[str, Any]:
    """The JSON body of POST {base}/responses."""
    body: dict[str, Any] = {"model": settings.model}
    if settings.system_prompt.strip():
        body["instructions"] = settings.system_prompt
    body["input"] = [item for m in messages for item in message_items(m)]
    if tools:
        body["tools"] = [tool_to_wire(t) for t in tools]
        choice = wire_tool_choice(settings.tool_choice)
        if choice is not None:
            body["tool_choice"] = choice
        if settings.parallel_tool_calls is not None:
            body["parallel_tool_calls"] = settings.parallel_tool_calls
    if settings.temperature is not None:
        body["temperature"] = settings.temperature
    if settings.max_tokens:
        body["max_output_tokens"] = settings.max_tokens
    reasoning = {key: settings.options[option] for key, option in
                 (("effort", "reasoning_effort"), ("summary", "reasoning_summary"))
                 if settings.options.get(option)}
    if reasoning:
        body["reasoning"] = reasoning
    body["store"] = False
    if _wants_reasoning(messages, settings):
        body["include"] = [INCLUDE_REASONING]
    if settings.stream:
        body["stream"] = True
    return body


def _text_of(content: Any, kinds: tuple[str, ...] = ("input_text", "output_text", "text",
                                                      "refusal")) -> str:
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return ""
    return "".join(str(part.get("text") or part.get("refusal") or "") for part in content
                   if isinstance(part, dict) and part.get("type") in kinds)


def read_request(body: dict[str, Any]) -> SentRequest:
    """A Responses body back as the neutral conversation: function_call items join the
    assistant message before them, reasoning items the assistant message after them."""
    messages: list[Message] = []
    system: list[str] = [str(body["instructions"])] if body.get("instructions") else []
    pending_reasoning: list[dict[str, Any]] = []
    source = body.get("input")
    items = [{"role": "user", "content": source}] if isinstance(source, str) else source or []

    def assistant() -> Message:
        if not messages or messages[-1].role != "assistant" or pending_reasoning:
            messages.append(Message(role="assistant"))
        last = messages[-1]
        if pending_reasoning:
            last.reasoning_items = list(pending_reasoning)
            last.reasoning = _reasoning_text(pending_reasoning)
            pending_reasoning.clear()
        return last

    for item in items:
        if not isinstance(item, dict):
            continue
        kind = item.get("type") or "message"
        if kind == "message":
            role = item.get("role")
            text = _text_of(item.get("content"))
            if role in ("system", "developer"):
                system.append(text)
            elif role == "assistant":
                target = assistant()
                if target.content or target.tool_calls:
                    target = Message(role="assistant")
                    messages.append(target)
                target.content = text
            else:
                messages.append(Message(role="user", content=text))
        elif kind == "function_call":
            assistant().tool_calls.append(ToolCall(
                id=str(item.get("call_id") or ""), name=str(item.get("name") or ""),
                arguments=arguments_text(item.get("arguments"))))
        elif kind == "function_call_output":
            output = item.get("output")
            messages.append(Message(role="tool", tool_call_id=str(item.get("call_id") or ""),
                                    content=output if isinstance(output, str)
                                    else _text_of(output)))
        elif kind == "reasoning":
            pending_reasoning.append(item)
    settings = ChatSettings(
        model=str(body.get("model") or ""), stream=bool(body.get("stream")),
        system_prompt="\n\n".join(system), temperature=body.get("temperature"),
        max_tokens=body.get("max_output_tokens"),
        tool_choice=neutral_tool_choice(body.get("tool_choice")),
        parallel_tool_calls=body.get("parallel_tool_calls"))
    return SentRequest(messages, FORMAT.tools_from_body(body), settings)


# --- response ---------------------------------------------------------------------------------


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def parse_usage(raw: Any) -> Usage | None:
    """`input_tokens` (cached ones included, as `input_tokens_details.cached_tokens`),
    `output_tokens` (reasoning included), `total_tokens`, and a cache write where reported."""
    if not isinstance(raw, dict):
        return None
    inputs = raw.get("input_tokens_details")
    outputs = raw.get("output_tokens_details")
    inputs = inputs if isinstance(inputs, dict) else {}
    outputs = outputs if isinstance(outputs, dict) else {}
    return Usage(prompt_tokens=_int(raw.get("input_tokens")),
                 completion_tokens=_int(raw.get("output_tokens")),
                 total_tokens=_int(raw.get("total_tokens")),
                 cached_tokens=_int(inputs.get("cached_tokens")),
                 reasoning_tokens=_int(outputs.get("reasoning_tokens")),
                 cache_write_tokens=_int(inputs.get("cache_write_tokens")))


def finish_reason_of(response: dict[str, Any]) -> str | None:
    status = response.get("status")
    if status == "incomplete":
        details = response.get("incomplete_details")
        reason = details.get("reason") if isinstance(details, dict) else None
        return f"incomplete:{reason}" if reason else "incomplete"
    return status if isinstance(status, str) else None


def _raise_error(event: dict[str, Any], what: str = "") -> None:
    """An `error` event (details at the top level, or nested under `error`) or a failed
    response's `error` object."""
    inner = event.get("error")
    nested: dict[str, Any] = inner if isinstance(inner, dict) else event
    message = nested.get("message") or (error_from_object(event) or None)
    said = message if isinstance(message, str) else json.dumps(event)[:300]
    code = nested.get("code") or nested.get("type")
    kind = f" ({code})" if isinstance(code, str) and code != "error" else ""
    raise StreamErrorEvent(
        what or "The server reported an error in the middle of its answer. Retry; if it "
        "repeats, check the model and request.", detail=f"It said: {said}{kind}")


def _reasoning_text(items: list[dict[str, Any]]) -> str:
    parts: list[str] = []
    for item in items:
        parts += [str(s.get("text") or "") for s in item.get("summary") or []
                  if isinstance(s, dict)]
        parts += [str(c.get("text") or "") for c in item.get("content") or []
                  if isinstance(c, dict) and c.get("type") == "reasoning_text"]
    return "\n\n".join(p for p in parts if p)


def _carried(item: dict[str, Any]) -> dict[str, Any] | None:
    """A reasoning item as it goes back in the next request: only with its encrypted content
    (without it the server cannot use it, and a bare id needs `store: true`)."""
    if not item.get("encrypted_content"):
        return None
    summary = [{"type": "summary_text", "text": str(s.get("text") or "")}
               for s in item.get("summary") or [] if isinstance(s, dict)]
    carried: dict[str, Any] = {"type": "reasoning", "summary": summary,
                               "encrypted_content": item["encrypted_content"]}
    if isinstance(item.get("id"), str):
        carried["id"] = item["id"]
    return carried


def parse_response(body: Any) -> Message:
    """A non-streamed `response` object to one assistant message."""
    if not isinstance(body, dict):
        raise MalformedResponse("The server's answer is not a JSON object. Check the base URL.")
    if body.get("type") == "error" or (body.get("error") and body.get("status") != "failed"
                                       and "output" not in body):
        _raise_error(body)
    if body.get("status") == "failed":
        _raise_error(body.get("error") or body, "The server says the response failed.")
    output = body.get("output")
    if not isinstance(output, list):
        raise MalformedResponse(
            "The server's answer has no output items, so it is not a Responses answer. Check "
            "the base URL (including /v1) and that the server speaks the Responses API.")
    builder = _Output()
    for index, item in enumerate(output):
        if isinstance(item, dict):
            builder.item(index).done(item)
    message = builder.message()
    message.usage = parse_usage(body.get("usage"))
    message.finish_reason = finish_reason_of(body)
    return message


class _Item:
    """One output item as its pieces arrive; parts keyed by content or summary index."""

    __slots__ = ("arguments", "call_id", "item", "kind", "name", "parts", "reasoning",
                 "summary")

    def __init__(self) -> None:
        self.kind = ""
        self.call_id = ""
        self.name = ""
        self.arguments: list[str] = []
        self.parts: dict[int, list[str]] = {}  # message text (and refusal), by content index
        self.summary: dict[int, list[str]] = {}  # reasoning summary, by summary index
        self.reasoning: dict[int, list[str]] = {}  # raw reasoning_text, by content index
        self.item: dict[str, Any] = {}  # the item as last announced (added or done)

    def start(self, item: dict[str, Any]) -> None:
        self.item = item
        self.kind = str(item.get("type") or self.kind)
        self.call_id = str(item.get("call_id") or self.call_id)
        self.name = str(item.get("name") or self.name)
        arguments = arguments_text(item.get("arguments"))
        if arguments and not self.arguments:
            self.arguments = [arguments]

    def done(self, item: dict[str, Any]) -> None:
        """The item complete: whatever no delta brought is taken from it."""
        self.start(item)
        arguments = item.get("arguments")
        if self.kind == "function_call" and arguments is not None:
            self.arguments = [arguments_text(arguments)]
        for index, part in enumerate(item.get("content") or []):
            if not isinstance(part, dict):
                continue
            text = part.get("text") if part.get("type") != "refusal" else part.get("refusal")
            if not isinstance(text, str) or not text:
                continue
            target = self.reasoning if part.get("type") == "reasoning_text" else self.parts
            if index not in target:
                target[index] = [text]
        for index, part in enumerate(item.get("summary") or []):
            if isinstance(part, dict) and isinstance(part.get("text"), str) and part["text"] \
                    and index not in self.summary:
                self.summary[index] = [part["text"]]

    @staticmethod
    def joined(parts: dict[int, list[str]]) -> list[str]:
        return ["".join(parts[i]) for i in sorted(parts)]


class _Output:
    """The output items of one response, by output_index (ids are only a fallback)."""

    def __init__(self) -> None:
        self.items: dict[int, _Item] = {}
        self.by_id: dict[str, int] = {}
        self.last = -1

    def item(self, index: Any, item_id: Any = None) -> _Item:
        if not isinstance(index, int) or isinstance(index, bool):
            index = self.by_id.get(item_id, self.last) if isinstance(item_id, str) \
                else self.last
            index = max(index, 0)
        if isinstance(item_id, str) and item_id:
            self.by_id.setdefault(item_id, index)
        self.last = max(self.last, index)
        return self.items.setdefault(index, _Item())

    def ordered(self) -> list[_Item]:
        return [self.items[i] for i in sorted(self.items)]

    def text(self) -> str:
        return "".join("".join(_Item.joined(i.parts)) for i in self.ordered()
                       if i.kind in ("message", ""))

    def reasoning(self) -> str:
        parts: list[str] = []
        for item in self.ordered():
            if item.kind == "reasoning":
                parts += _Item.joined(item.summary) + _Item.joined(item.reasoning)
        return "\n\n".join(p for p in parts if p)

    def calls(self) -> list[ToolCall]:
        return unique_ids([ToolCall(id=i.call_id, name=i.name, arguments="".join(i.arguments))
                           for i in self.ordered() if i.kind == "function_call"])

    def reasoning_items(self) -> list[dict[str, Any]]:
        carried = (_carried(i.item) for i in self.ordered() if i.kind == "reasoning")
        return [c for c in carried if c is not None]

    def activity(self) -> list[str]:
        """Hosted tools the server ran (web_search_call, code_interpreter_call, mcp_call, …)."""
        return [activity_line(i.kind, {k: v for k, v in i.item.items()
                                       if k not in ("id", "type", "status")})
                for i in self.ordered()
                if i.kind not in ("", "message", "function_call", "reasoning")]

    def message(self) -> Message:
        calls = self.calls()
        for call in calls:
            if not call.id:
                call.id = new_id("call_local_")
        return Message(role="assistant", content=self.text(), tool_calls=calls,
                       reasoning=self.reasoning(), reasoning_items=self.reasoning_items(),
                       server_activity=self.activity())


_TERMINAL = {"response.completed", "response.incomplete", "response.failed", "response.done"}


class StreamAccumulator:
    """Folds Responses stream events into one assistant message (see the module docstring)."""

    requires_done = True  # a stream ends with response.completed / incomplete / failed
    end_event = "response.completed"

    def __init__(self) -> None:
        self.done = False
        self.chunks = 0
        self.finish_reason: str | None = None
        self.usage_raw: dict[str, Any] | None = None
        self._out = _Output()
        self.response_id: str | None = None

    def add(self, chunk: Any) -> bool:
        if not isinstance(chunk, dict):
            raise MalformedResponse("A stream event is not a JSON object.")
        kind = chunk.get("type")
        if kind == "error":
            _raise_error(chunk)
        if not isinstance(kind, str):
            raise MalformedResponse(
                "A stream event has no type, so it is not a Responses event. Check the wire "
                "format: this server may speak Chat Completions.",
                detail=f"The event began: {json.dumps(chunk)[:120]}")
        self.chunks += 1
        if kind.endswith(".delta"):
            return self._delta(kind, chunk)
        if kind in ("response.output_item.added", "response.output_item.done"):
            item = chunk.get("item")
            if not isinstance(item, dict):
                return False
            target = self._out.item(chunk.get("output_index"), item.get("id"))
            if kind.endswith("added"):
                target.start(item)
                return target.kind == "function_call"  # a new tool-call card, named
            target.done(item)
            return True
        if kind == "response.function_call_arguments.done":
            target = self._out.item(chunk.get("output_index"), chunk.get("item_id"))
            target.kind = target.kind or "function_call"
            if isinstance(chunk.get("arguments"), str):
                target.arguments = [chunk["arguments"]]
            if isinstance(chunk.get("name"), str) and not target.name:
                target.name = chunk["name"]
            return True
        if kind in ("response.output_text.done", "response.refusal.done",
                    "response.reasoning_summary_text.done", "response.reasoning_text.done"):
            return self._part_done(kind, chunk)
        if kind in _TERMINAL:
            return self._end(kind, chunk)
        if kind in ("response.created", "response.in_progress"):
            response = chunk.get("response")
            if isinstance(response, dict) and isinstance(response.get("id"), str):
                self.response_id = response["id"]
        # content_part / summary_part added/done and any later event type change nothing new.
        return False

    def _slot(self, kind: str, chunk: dict[str, Any]) -> list[str]:
        item = self._out.item(chunk.get("output_index"), chunk.get("item_id"))
        if "reasoning_summary" in kind:
            item.kind = item.kind or "reasoning"
            return item.summary.setdefault(_int(chunk.get("summary_index")) or 0, [])
        index = _int(chunk.get("content_index")) or 0
        if "reasoning_text" in kind:
            item.kind = item.kind or "reasoning"
            return item.reasoning.setdefault(index, [])
        item.kind = item.kind or "message"
        return item.parts.setdefault(index, [])

    def _delta(self, kind: str, chunk: dict[str, Any]) -> bool:
        delta = chunk.get("delta")
        if not isinstance(delta, str) or not delta:
            return False
        if kind == "response.function_call_arguments.delta":
            item = self._out.item(chunk.get("output_index"), chunk.get("item_id"))
            item.kind = item.kind or "function_call"
            item.arguments.append(delta)
            return True
        if kind in ("response.output_text.delta", "response.refusal.delta",
                    "response.reasoning_summary_text.delta", "response.reasoning_text.delta"):
            self._slot(kind, chunk).append(delta)
            return True
        return False  # audio, code interpreter and other deltas

    def _part_done(self, kind: str, chunk: dict[str, Any]) -> bool:
        text = chunk.get("text", chunk.get("refusal"))
        slot = self._slot(kind, chunk)
        if isinstance(text, str) and text and not slot:  # a done without its deltas
            slot.append(text)
            return True
        return False

    def _end(self, kind: str, chunk: dict[str, Any]) -> bool:
        self.done = True
        response = chunk.get("response")
        response = response if isinstance(response, dict) else {}
        if isinstance(response.get("usage"), dict):
            self.usage_raw = response["usage"]
        self.finish_reason = finish_reason_of(response) or {
            "response.completed": "completed", "response.failed": "failed",
            "response.incomplete": "incomplete"}.get(kind)
        if self.finish_reason == "failed":
            error = response.get("error")
            _raise_error(error if isinstance(error, dict) else response,
                         "The server says the response failed.")
        if not self._out.items:  # a server that sent only the final response
            for index, item in enumerate(response.get("output") or []):
                if isinstance(item, dict):
                    self._out.item(index).done(item)
        return True

    def text(self) -> str:
        return self._out.text()

    def reasoning(self) -> str:
        return self._out.reasoning()

    def tool_calls(self) -> list[ToolCall]:
        return self._out.calls()

    def usage(self) -> Usage | None:
        return parse_usage(self.usage_raw)

    def message(self) -> Message:
        message = self._out.message()
        message.usage = self.usage()
        message.finish_reason = self.finish_reason
        return message


# --- the format -------------------------------------------------------------------------------


class OpenAIResponses(WireFormat):
    name = "responses"
    label = "OpenAI Responses"
    short_label = "Responses"
    key_env = "OPENAI_API_KEY"
    base_url_env = "OPENAI_BASE_URL"
    model_env = "OPENAI_MODEL"
    base_url_hint = "https://host/v1"
    base_url_help = "The base including /v1 (OPENAI_BASE_URL); requests go to {base}/responses."
    path = "/responses"
    sdk = SdkCall("openai", "OpenAI", "client.responses.create",
                  ("model", "instructions", "input", "tools", "tool_choice",
                   "parallel_tool_calls", "temperature", "max_output_tokens", "reasoning",
                   "store", "include"))
    options = (
        FormatOption("reasoning_effort", "Reasoning effort",
                     (None, "minimal", "low", "medium", "high"),
                     "Sent as reasoning.effort; reasoning models only."),
        FormatOption("reasoning_summary", "Reasoning summary",
                     (None, "auto", "concise", "detailed"),
                     "Sent as reasoning.summary: the model's reasoning, summarised, shown "
                     "apart from the answer; reasoning models only."),
    )
    count_tokens_path = "/responses/input_tokens"

    codec = Codec(build_request, parse_response, StreamAccumulator, tool_to_wire, tool_from_wire,
                  read_request)

    def demo_problem(self, body: dict[str, Any], headers: dict[str, str]) -> str | None:
        if not isinstance(body.get("input"), list | str):
            return "Missing required parameter: 'input'."
        return None

    # --- the demo model -----------------------------------------------------------------

    @staticmethod
    def _items(reply: DemoReply) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        if reply.text:
            items.append({"id": f"msg_demo_{reply.seed[:12]}", "type": "message",
                          "status": "completed", "role": "assistant", "content": [
                              {"type": "output_text", "text": reply.text, "annotations": []}]})
        items += [{"id": f"fc_demo_{reply.seed[i * 4:i * 4 + 12]}", "type": "function_call",
                   "status": "completed", "call_id": call.id, "name": call.name,
                   "arguments": call.arguments} for i, call in enumerate(reply.calls)]
        return items

    @staticmethod
    def _response(reply: DemoReply, status: str, output: list[dict[str, Any]]) -> dict[str, Any]:
        usage = {"input_tokens": reply.prompt_tokens,
                 "input_tokens_details": {"cached_tokens": 0},
                 "output_tokens": reply.completion_tokens,
                 "output_tokens_details": {"reasoning_tokens": 0},
                 "total_tokens": reply.prompt_tokens + reply.completion_tokens}
        return {"id": f"resp_demo_{reply.seed[:12]}", "object": "response",
                "created_at": 1_700_000_000, "status": status, "model": reply.model,
                "output": output, "usage": usage if status == "completed" else None}

    def demo_body(self, reply: DemoReply) -> dict[str, Any]:
        return self._response(reply, "completed", self._items(reply))

    def demo_events(self, reply: DemoReply) -> Iterator[DemoEvent]:
        sequence = iter(range(1_000_000))

        def event(kind: str, **payload: Any) -> DemoEvent:
            return DemoEvent({"type": kind, "sequence_number": next(sequence), **payload}, kind)

        yield event("response.created", response=self._response(reply, "in_progress", []))
        yield event("response.in_progress", response=self._response(reply, "in_progress", []))
        items = self._items(reply)
        for index, item in enumerate(items):
            at = {"output_index": index}
            if item["type"] == "message":
                yield event("response.output_item.added", **at,
                            item={**item, "status": "in_progress", "content": []})
                part = {"item_id": item["id"], **at, "content_index": 0}
                yield event("response.content_part.added", **part,
                            part={"type": "output_text", "text": "", "annotations": []})
                for piece in re.findall(r"\S+\s*", reply.text):
                    yield event("response.output_text.delta", **part, delta=piece)
                yield event("response.output_text.done", **part, text=reply.text)
                yield event("response.content_part.done", **part, part=item["content"][0])
            else:
                yield event("response.output_item.added", **at,
                            item={**item, "status": "in_progress", "arguments": ""})
                for piece in pieces(item["arguments"], 6):
                    yield event("response.function_call_arguments.delta", item_id=item["id"],
                                **at, delta=piece)
                yield event("response.function_call_arguments.done", item_id=item["id"], **at,
                            arguments=item["arguments"])
            yield event("response.output_item.done", **at, item=item)
        yield event("response.completed", response=self._response(reply, "completed", items))


FORMAT = OpenAIResponses()
