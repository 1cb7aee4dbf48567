"""The OpenAI chat-completions wire format: request bodies out, messages in.

Parsing is forgiving in the ways real servers differ (docs/architecture.md, "Wire details"):
missing tool-call `index`, ids repeated or empty after the first delta, a whole call in one
delta, arguments sent as an object, usage on any chunk or under a vendor key, reasoning under two
names.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from core.types import ChatSettings, Message, ToolCall, ToolSpec, Usage, new_id
from core.wire.accumulator import AccumulatedMessage
from core.wire.base import (
    Codec,
    DemoEvent,
    DemoReply,
    SdkCall,
    SentRequest,
    WireFormat,
    pieces,
)
from core.wire.errors import MalformedResponse, StreamErrorEvent, error_from_object


def tool_to_wire(tool: ToolSpec) -> dict[str, Any]:
    function: dict[str, Any] = {
        "name": tool.name,
        "description": tool.description,
        "parameters": tool.parameters,
    }
    if tool.strict is not None:
        function["strict"] = tool.strict
    return {"type": "function", "function": function}


def message_to_wire(message: Message) -> dict[str, Any]:
    if message.role == "tool":
        return {"role": "tool", "tool_call_id": message.tool_call_id or "",
                "content": message.content}
    if message.role == "assistant" and message.tool_calls:
        wire: dict[str, Any] = {
            "role": "assistant",
            "content": message.content or None,
            "tool_calls": [
                {"id": call.id, "type": "function",
                 "function": {"name": call.name, "arguments": call.arguments or "{}"}}
                for call in message.tool_calls
            ],
        }
        if message.reasoning:
            # DeepSeek's thinking mode answers 400 unless the reasoning of a turn that called
            # tools comes back with it; servers without the field ignore it (and only
            # reasoning models produce any).
            wire["reasoning_content"] = message.reasoning
        return wire
    return {"role": message.role, "content": message.content}


def build_request(
    messages: list[Message], tools: list[ToolSpec], settings: ChatSettings
) -> dict[str, Any]:
    """The JSON body of POST {base}/chat/completions."""
    wire: list[dict[str, Any]] = []
    if settings.system_prompt.strip():
        wire.append({"role": "system", "content": settings.system_prompt})
    wire.extend(message_to_wire(m) for m in messages if m.role != "system")
    body: dict[str, Any] = {"model": settings.model, "messages": wire}
    if tools:
        body["tools"] = [tool_to_wire(t) for t in tools]
        if settings.tool_choice is not None:
            body["tool_choice"] = settings.tool_choice
        if settings.parallel_tool_calls is not None:
            body["parallel_tool_calls"] = settings.parallel_tool_calls
    if settings.temperature is not None:
        body["temperature"] = settings.temperature
    if settings.max_tokens:
        body["max_tokens"] = settings.max_tokens
    if settings.stream:
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
    return body


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def parse_usage(raw: Any) -> Usage | None:
    """Usage from any of the shapes seen: OpenAI details, DeepSeek cache fields, or flat."""
    if not isinstance(raw, dict):
        return None
    prompt_details = raw.get("prompt_tokens_details") or raw.get("input_tokens_details") or {}
    completion_details = (
        raw.get("completion_tokens_details") or raw.get("output_tokens_details") or {}
    )
    cached = _int(prompt_details.get("cached_tokens")) if isinstance(prompt_details, dict) else None
    if cached is None:
        cached = _int(raw.get("prompt_cache_hit_tokens"))
    if cached is None:
        cached = _int(raw.get("cached_tokens"))
    reasoning = (
        _int(completion_details.get("reasoning_tokens"))
        if isinstance(completion_details, dict) else None
    )
    if reasoning is None:
        reasoning = _int(raw.get("reasoning_tokens"))
    return Usage(
        prompt_tokens=_int(raw.get("prompt_tokens", raw.get("input_tokens"))),
        completion_tokens=_int(raw.get("completion_tokens", raw.get("output_tokens"))),
        total_tokens=_int(raw.get("total_tokens")),
        cached_tokens=cached,
        reasoning_tokens=reasoning,
    )


def arguments_text(value: Any) -> str:
    """Tool arguments as the string the wire carries (some servers send an object)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def _content_text(value: Any) -> str:
    """Content as a string; some servers send a list of typed parts."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "".join(
            part.get("text", "") for part in value if isinstance(part, dict)
        )
    return str(value)


def split_parts(parts: list[Any]) -> tuple[str, str]:
    """(text, reasoning) of typed content parts; Mistral sends its thinking as
    `{type: "thinking", thinking: [{type: "text", text}]}` parts beside the answer's."""
    text: list[str] = []
    thought: list[str] = []
    for part in parts:
        if not isinstance(part, dict):
            continue
        if part.get("type") == "thinking":
            inner = part.get("thinking")
            thought.append(inner if isinstance(inner, str) else _content_text(inner))
        else:
            text.append(str(part.get("text") or ""))
    return "".join(text), "".join(thought)


def reasoning_details_text(details: Any) -> str:
    """OpenRouter-style `reasoning_details[]` (`reasoning.text` items' text, summaries' summary);
    read only where no `reasoning` / `reasoning_content` came, since OpenRouter sends both."""
    if not isinstance(details, list):
        return ""
    return "".join(str(d.get("text") or d.get("summary") or "") for d in details
                   if isinstance(d, dict))


def raise_if_error(chunk: dict[str, Any]) -> None:
    """An error object inside a 200 response, in any of the wrappers servers use."""
    if chunk.get("error") is not None or chunk.get("object") == "error" \
            or chunk.get("type") == "error":
        body = error_from_object(chunk)
        said = body.message if body else json.dumps(chunk)[:300]
        raise StreamErrorEvent(
            "The server reported an error in the middle of its answer. Retry; if it repeats, "
            "check the model and request.",
            detail=f"It said: {said}",
        )


def unique_ids(calls: list[ToolCall]) -> list[ToolCall]:
    """Calls of one message with distinct ids: some servers give parallel calls one id, and
    each result must name its own call. A repeat gets its id plus a position suffix, the same
    on every read of a growing stream (the history sent back uses it for both the call and its
    result, so the server sees a consistent pair)."""
    seen: set[str] = set()
    for position, call in enumerate(calls):
        if call.id and call.id in seen:  # an empty id gets a local one later
            call.id = f"{call.id}_{position + 1}"
            while call.id in seen:
                call.id += "_"
        seen.add(call.id)
    return calls


def parse_response(body: Any) -> Message:
    """A non-streaming chat.completion body to one assistant message."""
    if not isinstance(body, dict):
        raise MalformedResponse("The server's answer is not a JSON object. Check the base URL.")
    raise_if_error(body)
    choices = body.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise MalformedResponse(
            "The server's answer has no choices. Check the base URL points at an "
            "OpenAI-compatible /v1 endpoint."
        )
    choice = choices[0]
    raw = choice.get("message") or {}
    calls = []
    for item in raw.get("tool_calls") or []:
        function = item.get("function") or {}
        calls.append(ToolCall(
            id=item.get("id") or new_id("call_local_"),
            name=function.get("name") or "",
            arguments=arguments_text(function.get("arguments")),
        ))
    content = raw.get("content")
    text, thought = split_parts(content) if isinstance(content, list) else (
        _content_text(content), "")
    reasoning = _content_text(raw.get("reasoning_content") or raw.get("reasoning")) \
        or reasoning_details_text(raw.get("reasoning_details"))
    return Message(
        role="assistant",
        content=text or _content_text(raw.get("refusal")),
        tool_calls=unique_ids(calls),
        reasoning=(reasoning + thought) if reasoning or thought else "",
        usage=parse_usage(body.get("usage") or choice.get("usage")),
        finish_reason=choice.get("finish_reason"),
    )


class _CallBuilder:
    __slots__ = ("id", "name", "parts")

    def __init__(self) -> None:
        self.id = ""
        self.name = ""
        self.parts: list[str] = []

    def snapshot(self) -> ToolCall:
        return ToolCall(id=self.id, name=self.name, arguments="".join(self.parts))


class StreamAccumulator(AccumulatedMessage):
    """Folds chat.completion.chunk objects into one assistant message.

    Fragments are collected in lists and joined once, so the work is linear in the number of
    chunks. `add()` returns True when something a person would see changed.
    """

    # OpenAI-compatible servers often end without [DONE]; a finish_reason is enough.
    requires_done = False

    def __init__(self) -> None:
        super().__init__()
        self._calls: list[_CallBuilder] = []
        self._by_index: dict[int, _CallBuilder] = {}
        self._by_id: dict[str, _CallBuilder] = {}

    def add(self, chunk: Any) -> bool:
        if not isinstance(chunk, dict):
            raise MalformedResponse("A stream chunk is not a JSON object.")
        if "choices" not in chunk or chunk.get("error") is not None:
            raise_if_error(chunk)
        self.chunks += 1
        usage = chunk.get("usage")
        if isinstance(usage, dict):
            self.usage_raw = usage
        else:
            self._vendor_usage(chunk)
        visible = False
        for choice in chunk.get("choices") or ():
            if choice.get("index", 0) != 0:
                continue
            delta = choice.get("delta") or choice.get("message") or {}
            content = delta.get("content")
            if content:
                if isinstance(content, list):
                    text, thought = split_parts(content)
                    if thought:
                        self._reasoning.append(thought)
                    if text:
                        self._text.append(text)
                else:
                    self._text.append(_content_text(content))
                visible = True
            refusal = delta.get("refusal")  # instead of content: the answer the person sees
            if refusal:
                self._text.append(_content_text(refusal))
                visible = True
            reasoning = delta.get("reasoning_content") or delta.get("reasoning")
            if isinstance(reasoning, str) and reasoning:
                self._reasoning.append(reasoning)
                visible = True
            elif delta.get("reasoning_details"):
                details = reasoning_details_text(delta["reasoning_details"])
                if details:
                    self._reasoning.append(details)
                    visible = True
            tool_calls = delta.get("tool_calls")
            if tool_calls:
                for item in tool_calls:
                    self._tool_delta(item)
                visible = True
            if choice.get("finish_reason"):
                self.finish_reason = choice["finish_reason"]
            if isinstance(choice.get("usage"), dict):
                self.usage_raw = choice["usage"]
        return visible

    def _vendor_usage(self, chunk: dict[str, Any]) -> None:
        for key, value in chunk.items():
            if key[:2] == "x_" and isinstance(value, dict) and isinstance(value.get("usage"), dict):
                self.usage_raw = value["usage"]

    def _tool_delta(self, item: dict[str, Any]) -> None:
        index = item.get("index")
        call_id = item.get("id") or ""
        function = item.get("function") or {}
        name = function.get("name") or ""
        call: _CallBuilder | None
        if isinstance(index, int):
            call = self._by_index.get(index)
            if call is None:
                # A new index is a new call, unless a nameless fragment names a known call.
                call = self._by_id.get(call_id) if call_id and not name else None
            elif call_id and call.id and call_id != call.id:
                known = self._by_id.get(call_id)
                if known is not None:
                    call = known  # one index shared by several calls: the id routes it
                elif name:
                    call = None  # a new id *and* a name on a used index: a second call
                # else: a fresh id on every fragment of one call (seen in the wild)
        elif call_id:
            call = self._by_id.get(call_id)
            if call is None and self._calls and not self._calls[-1].id:
                call = self._calls[-1]
        else:
            call = self._calls[-1] if self._calls else None
            if call is not None and name and call.name:
                call = None  # no index and no id, but a new name: a new call
        if call is None:
            call = _CallBuilder()
            self._calls.append(call)
        if isinstance(index, int):
            self._by_index[index] = call
        if call_id and not call.id:
            call.id = call_id
            self._by_id[call_id] = call
        if name and not call.name:
            call.name = name
        arguments = function.get("arguments")
        if arguments is not None:
            text = arguments_text(arguments)
            if text:
                call.parts.append(text)

    # Read side (text, reasoning, message) comes from AccumulatedMessage.
    def tool_calls(self) -> list[ToolCall]:
        return unique_ids([call.snapshot() for call in self._calls])

    def usage(self) -> Usage | None:
        return parse_usage(self.usage_raw)


def model_ids(body: Any) -> list[str]:
    """Model ids out of a GET /models answer (`{"data": [{"id": …}]}` or a bare list)."""
    return FORMAT.model_ids(body)


def sent_tool_schemas(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Parameters schema of every tool a request body offered, by tool name."""
    return FORMAT.sent_tool_schemas(body)


def tool_from_wire(item: Any) -> dict[str, Any] | None:
    """`{type: "function", function: {name, description, parameters[, strict]}}` as a library
    document; None for any other shape."""
    if not isinstance(item, dict) or item.get("type") != "function" \
            or not isinstance(item.get("function"), dict):
        return None
    fn = item["function"]
    doc: dict[str, Any] = {"name": fn.get("name"), "description": fn.get("description", ""),
                           "parameters": fn.get("parameters", {"type": "object",
                                                               "properties": {}})}
    if "strict" in fn:
        doc["strict"] = fn["strict"]
    return doc


def read_request(body: dict[str, Any]) -> SentRequest:
    """A chat-completions body back as the neutral conversation, tools and settings."""
    system: list[str] = []
    messages: list[Message] = []
    for item in body.get("messages") or []:
        if not isinstance(item, dict):
            continue
        role = item.get("role")
        content = _content_text(item.get("content"))
        if role in ("system", "developer"):
            system.append(content)
        elif role == "tool":
            messages.append(Message(role="tool", content=content,
                                    tool_call_id=str(item.get("tool_call_id") or ""),
                                    name=item.get("name")))
        elif role == "assistant":
            calls = []
            for raw in item.get("tool_calls") or []:
                if not isinstance(raw, dict):
                    continue
                function = raw.get("function") or {}
                calls.append(ToolCall(id=str(raw.get("id") or ""),
                                      name=str(function.get("name") or ""),
                                      arguments=arguments_text(function.get("arguments"))))
            messages.append(Message(role="assistant", content=content, tool_calls=calls,
                                    reasoning=_content_text(item.get("reasoning_content"))))
        else:
            messages.append(Message(role="user", content=content))
    settings = ChatSettings(
        model=str(body.get("model") or ""), stream=bool(body.get("stream")),
        system_prompt="\n\n".join(system), temperature=body.get("temperature"),
        max_tokens=body.get("max_completion_tokens") or body.get("max_tokens"),
        tool_choice=body.get("tool_choice"), parallel_tool_calls=body.get("parallel_tool_calls"))
    return SentRequest(messages, FORMAT.tools_from_body(body), settings)


def demo_calls(reply: DemoReply) -> list[dict[str, Any]]:
    return [{"id": call.id, "type": "function",
             "function": {"name": call.name, "arguments": call.arguments}}
            for call in reply.calls]


def demo_usage(reply: DemoReply) -> dict[str, Any]:
    return {"prompt_tokens": reply.prompt_tokens, "completion_tokens": reply.completion_tokens,
            "total_tokens": reply.prompt_tokens + reply.completion_tokens,
            "prompt_tokens_details": {"cached_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0}}


def _demo_base(reply: DemoReply) -> dict[str, Any]:
    return {"id": f"chatcmpl-demo-{reply.seed[:12]}", "created": 1_700_000_000,
            "model": reply.model}


class OpenAIChat(WireFormat):
    name = "openai"
    label = "OpenAI Chat Completions"
    short_label = "Chat Completions"
    key_env = "OPENAI_API_KEY"
    base_url_env = "OPENAI_BASE_URL"
    model_env = "OPENAI_MODEL"
    base_url_hint = "https://host/v1"
    base_url_help = ("The base including /v1 (OPENAI_BASE_URL); requests go to "
                     "{base}/chat/completions.")
    path = "/chat/completions"
    sdk = SdkCall("openai", "OpenAI", "client.chat.completions.create", ("model", "messages"))

    codec = Codec(build_request, parse_response, StreamAccumulator, tool_to_wire, tool_from_wire,
                  read_request)

    def demo_body(self, reply: DemoReply) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": reply.text or None}
        if reply.calls:
            message["tool_calls"] = demo_calls(reply)
        return {**_demo_base(reply), "object": "chat.completion", "usage": demo_usage(reply),
                "choices": [{"index": 0, "message": message,
                             "finish_reason": "tool_calls" if reply.calls else "stop"}]}

    def demo_events(self, reply: DemoReply) -> Iterator[DemoEvent]:
        base = _demo_base(reply)

        def chunk(delta: dict[str, Any] | None, finish: str | None = None,
                  **extra: Any) -> DemoEvent:
            choices = [] if delta is None else [
                {"index": 0, "delta": delta, "finish_reason": finish}]
            return DemoEvent({**base, "object": "chat.completion.chunk", "choices": choices,
                              **extra})

        yield chunk({"role": "assistant", "content": ""})
        for piece in re.findall(r"\S+\s*", reply.text):
            yield chunk({"content": piece})
        for index, call in enumerate(reply.calls):
            yield chunk({"tool_calls": [{"index": index, "id": call.id, "type": "function",
                                         "function": {"name": call.name, "arguments": ""}}]})
            for piece in pieces(call.arguments, 6):
                yield chunk({"tool_calls": [{"index": index, "function": {"arguments": piece}}]})
        yield chunk({}, "tool_calls" if reply.calls else "stop")
        yield chunk(None, usage=demo_usage(reply))
        yield DemoEvent("[DONE]")


FORMAT = OpenAIChat()
