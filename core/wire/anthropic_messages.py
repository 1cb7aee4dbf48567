"""Anthropic's Messages wire format (POST {base}/v1/messages): request bodies out, messages in.

Same interface as core.wire.openai_chat (see core/wire/__init__.py), so a
provider-neutral conversation can be sent in either format and switch between them.

Translation of the neutral history (docs/architecture.md, "Wire details"):

- the system prompt goes in the top-level `system` field; `system` messages of the history are
  dropped, as openai_compat drops them (the settings' prompt is the one source);
- an assistant message becomes `text` + `tool_use {id, name, input}` blocks; `input` must be an
  object, so arguments that are not a JSON object are sent as `{}` and their raw text is kept in
  a bracketed note in the same assistant message (see `_tool_use_input`);
- consecutive `tool` messages become one user message of `tool_result` blocks (`is_error` when
  the neutral message says so); Anthropic wants the results first in that user message, so any
  user text merged into it follows them;
- consecutive messages of the same role are merged (Anthropic requires user/assistant turns to
  alternate); empty text is left out (Anthropic rejects empty text blocks);
- tool-call ids are sent unchanged when they fit Anthropic's `^[a-zA-Z0-9_-]+$` (call_…,
  chatcmpl-tool-…, 9-character ids, toolu_… all do); others are mapped by `wire_tool_id`, a pure
  function, so a tool_use and its tool_result always get the same id. The neutral history keeps
  the original ids: only the request body carries mapped ones.
- reasoning text of earlier turns is not sent back: Anthropic accepts earlier thinking blocks only
  with the signature it issued, which the neutral Message does not keep.

`finish_reason` is Anthropic's own `stop_reason` (`end_turn`, `tool_use`, `max_tokens`, …), kept
as the server said it rather than renamed to OpenAI's words.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from typing import Any, ClassVar

from core.types import ChatSettings, Message, ToolCall, ToolSpec, Usage, new_id
from core.wire.accumulator import AccumulatedMessage
from core.wire.base import (
    Codec,
    DemoEvent,
    DemoReply,
    SdkCall,
    SentRequest,
    WireFormat,
    activity_line,
    pieces,
)
from core.wire.errors import MalformedResponse, StreamErrorEvent, error_from_object
from core.wire.openai_chat import arguments_text, model_ids
from core.wire.openai_chat import parse_usage as _openai_usage

__all__ = [
    "ANTHROPIC_VERSION",
    "DEFAULT_MAX_TOKENS",
    "ChatSettings",
    "StreamAccumulator",
    "build_request",
    "message_to_blocks",
    "messages_to_wire",
    "model_ids",
    "parse_response",
    "parse_usage",
    "sent_tool_schemas",
    "tool_to_wire",
    "wire_tool_choice",
    "wire_tool_id",
]

# Anthropic requires max_tokens on every request; this is what we send when the user set none.
DEFAULT_MAX_TOKENS = 4096
ANTHROPIC_VERSION = "2023-06-01"
# Tools the server runs itself (code execution, web search, remote MCP): their blocks are shown
# as server activity and are never a call for the user to answer.
SERVER_USES = ("server_tool_use", "mcp_tool_use")
_ID_OK = re.compile(r"^[a-zA-Z0-9_-]+$")
_ID_BAD_CHARS = re.compile(r"[^a-zA-Z0-9_-]+")
_EMPTY_SCHEMA: dict[str, Any] = {"type": "object", "properties": {}}


# --- request ----------------------------------------------------------------------------------


def wire_tool_id(call_id: str | None) -> str:
    """An id Anthropic accepts (`^[a-zA-Z0-9_-]+$`) for any neutral tool-call id.

    Ids that already fit are returned unchanged. Others (e.g. Kimi's `functions.get_weather:0`,
    or an empty id) get their bad characters replaced by `_` and a short hash of the original
    appended, so two different ids cannot collide and the same id always maps the same way —
    which keeps each tool_result pointing at its tool_use.
    """
    call_id = call_id or ""
    if _ID_OK.match(call_id):
        return call_id
    digest = hashlib.sha256(call_id.encode("utf-8")).hexdigest()[:12]
    cleaned = _ID_BAD_CHARS.sub("_", call_id).strip("_")[:48]
    return f"{cleaned}_{digest}" if cleaned else f"toolu_mapped_{digest}"


def tool_to_wire(tool: ToolSpec) -> dict[str, Any]:
    """`{name, description, input_schema}`. `strict` is not sent: it is a newer option that
    gateways and older API versions reject, and Anthropic tools work without it."""
    schema = tool.parameters if isinstance(tool.parameters, dict) and tool.parameters \
        else _EMPTY_SCHEMA
    wire: dict[str, Any] = {"name": tool.name}
    if tool.description:
        wire["description"] = tool.description
    wire["input_schema"] = schema
    return wire


def wire_tool_choice(choice: str | dict[str, Any] | None,
                     parallel_tool_calls: bool | None) -> dict[str, Any] | None:
    """The neutral tool_choice (OpenAI's vocabulary) as Anthropic's `{type: …}` object.

    None -> omitted (the server's default, auto); "auto" -> auto; "required" -> any;
    "none" -> none; `{"type": "function", "function": {"name": N}}` -> `{"type": "tool",
    "name": N}`; a choice already in Anthropic's shape is kept. `parallel_tool_calls=False`
    becomes `disable_parallel_tool_use: true`, which lives inside tool_choice (auto is created
    for it when no choice was made); `none` has no such field, and needs none.
    """
    wire: dict[str, Any] | None = None
    if isinstance(choice, str):
        kind = {"auto": "auto", "required": "any", "any": "any", "none": "none"}.get(choice)
        wire = {"type": kind} if kind else None
    elif isinstance(choice, dict):
        kind = choice.get("type")
        if kind == "function":
            name = (choice.get("function") or {}).get("name") or choice.get("name")
            wire = {"type": "tool", "name": name} if name else None
        elif kind == "tool" and choice.get("name"):
            wire = {"type": "tool", "name": choice["name"]}
        elif kind in ("auto", "any", "none"):
            wire = {"type": kind}
        if wire is not None and kind != "none" and choice.get("disable_parallel_tool_use"):
            wire["disable_parallel_tool_use"] = True
    if parallel_tool_calls is False:
        if wire is None:
            wire = {"type": "auto"}
        if wire["type"] != "none":
            wire["disable_parallel_tool_use"] = True
    return wire


def _tool_use_input(call: ToolCall) -> tuple[dict[str, Any], str | None]:
    """(input object, note) for one call. Anthropic wants `input` to be an object.

    Empty arguments mean `{}` (a tool without parameters). Arguments that are not a JSON object
    (cut off by max_tokens, or malformed by the model) are sent as `{}` so the request stays
    valid, and the raw text comes back as a note: a bracketed text block in the same assistant
    message, so the model still sees what it actually sent when it reads the tool's answer.
    """
    value, problem = call.parsed_arguments()
    if problem is None and isinstance(value, dict):
        return value, None
    why = problem or f"a JSON {type(value).__name__}, not an object"
    note = (f"[Toolsmith: the arguments of {call.name or 'a tool'} ({call.id}) were {why}, so "
            f"this call is sent with input {{}}. They were: {call.arguments}]")
    return {}, note


def _text_block(text: str) -> dict[str, Any]:
    return {"type": "text", "text": text}


def message_to_blocks(message: Message) -> tuple[str, list[dict[str, Any]]]:
    """One neutral message as (Anthropic role, content blocks); system messages give no blocks.

    Blocks may be empty (an empty assistant answer): such messages are left out of the request.
    """
    if message.role == "tool":
        content: str | list[dict[str, Any]] = message.content
        if message.images:  # a tool_result's content may hold image blocks
            content = [_text_block(message.content), *(
                {"type": "image", "source": {"type": "base64", "media_type": i.mime_type,
                                             "data": i.data}} for i in message.images)]
        result: dict[str, Any] = {"type": "tool_result",
                                  "tool_use_id": wire_tool_id(message.tool_call_id),
                                  "content": content}
        if message.is_error:
            result["is_error"] = True
        return "user", [result]
    blocks: list[dict[str, Any]] = []
    if message.content.strip():
        blocks.append(_text_block(message.content))
    if message.role == "assistant":
        notes: list[dict[str, Any]] = []
        uses: list[dict[str, Any]] = []
        for call in message.tool_calls:
            value, note = _tool_use_input(call)
            if note:
                notes.append(_text_block(note))
            uses.append({"type": "tool_use", "id": wire_tool_id(call.id), "name": call.name,
                         "input": value})
        return "assistant", blocks + notes + uses
    if message.role == "system":
        return "system", []
    return "user", blocks


def messages_to_wire(messages: list[Message]) -> list[dict[str, Any]]:
    """The neutral history as alternating user/assistant messages."""
    turns: list[tuple[str, list[dict[str, Any]], list[dict[str, Any]]]] = []  # role, results, rest
    for message in messages:
        role, blocks = message_to_blocks(message)
        if role == "system" or not blocks:
            continue
        results = [b for b in blocks if b["type"] == "tool_result"]
        rest = [b for b in blocks if b["type"] != "tool_result"]
        if turns and turns[-1][0] == role:
            turns[-1][1].extend(results)
            turns[-1][2].extend(rest)
        else:
            turns.append((role, results, rest))
    wire = []
    for role, results, rest in turns:
        blocks = results + rest  # tool_result blocks must come first
        content: str | list[dict[str, Any]] = blocks
        if len(blocks) == 1 and blocks[0]["type"] == "text":
            content = blocks[0]["text"]  # the plain form, as in Anthropic's own examples
        wire.append({"role": role, "content": content})
    return wire


def build_request(
    messages: list[Message], tools: list[ToolSpec], settings: ChatSettings
) -> dict[str, Any]:
    """The JSON body of POST {base}/v1/messages."""
    body: dict[str, Any] = {
        "model": settings.model,
        "max_tokens": settings.max_tokens or DEFAULT_MAX_TOKENS,
    }
    if settings.system_prompt.strip():
        body["system"] = settings.system_prompt
    body["messages"] = messages_to_wire(messages)
    if tools:
        body["tools"] = [tool_to_wire(t) for t in tools]
        choice = wire_tool_choice(settings.tool_choice, settings.parallel_tool_calls)
        if choice is not None:
            body["tool_choice"] = choice
    if settings.temperature is not None:
        # The shared control follows OpenAI (0..2); Anthropic answers 400 above 1. Clamp rather
        # than rescale, so a value inside 0..1 means the same in both formats.
        body["temperature"] = min(1.0, max(0.0, float(settings.temperature)))
    if settings.stream:
        body["stream"] = True
    return body


def sent_tool_schemas(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The input_schema of every tool a request body offered, by tool name."""
    return FORMAT.sent_tool_schemas(body)


def tool_from_wire(item: Any) -> dict[str, Any] | None:
    """`{name, description, input_schema}` as a library document; None for other shapes."""
    if not isinstance(item, dict) or "input_schema" not in item:
        return None
    schema = item["input_schema"]
    return {"name": item.get("name"), "description": item.get("description", ""),
            "parameters": schema if isinstance(schema, dict) else {}}


def neutral_tool_choice(choice: Any) -> tuple[str | dict[str, Any] | None, bool | None]:
    """Anthropic's tool_choice back in the neutral (OpenAI) vocabulary, with
    parallel_tool_calls (False when disable_parallel_tool_use is set)."""
    if not isinstance(choice, dict):
        return None, None
    kind = choice.get("type")
    parallel = False if choice.get("disable_parallel_tool_use") else None
    if kind == "tool":
        return {"type": "function", "function": {"name": choice.get("name")}}, parallel
    if kind == "any":
        return "required", parallel
    if kind in ("auto", "none"):
        return kind, parallel
    return None, parallel


def _result_text(content: Any) -> str:
    """A tool_result's content: a string, or a list of blocks whose text counts."""
    if isinstance(content, list):
        return "".join(str(b.get("text") or "") for b in content
                       if isinstance(b, dict) and b.get("type") == "text")
    return "" if content is None else str(content)


def read_request(body: dict[str, Any]) -> SentRequest:
    """A Messages body back as the neutral conversation: tool_result blocks become tool
    messages (ahead of any text of the same user message, as Anthropic orders them)."""
    messages: list[Message] = []
    for item in body.get("messages") or []:
        if not isinstance(item, dict):
            continue
        content = item.get("content")
        blocks = ([{"type": "text", "text": content}] if isinstance(content, str)
                  else [b for b in content or [] if isinstance(b, dict)])
        text = "".join(str(b.get("text") or "") for b in blocks if b.get("type") == "text")
        if item.get("role") == "assistant":
            calls = [ToolCall(id=_str(b.get("id")), name=_str(b.get("name")),
                              arguments=arguments_text(b.get("input")))
                     for b in blocks if b.get("type") == "tool_use"]
            thinking = "".join(str(b.get("thinking") or "") for b in blocks
                               if b.get("type") == "thinking")
            messages.append(Message(role="assistant", content=text, tool_calls=calls,
                                    reasoning=thinking))
            continue
        results = [b for b in blocks if b.get("type") == "tool_result"]
        for block in results:
            messages.append(Message(role="tool", tool_call_id=_str(block.get("tool_use_id")),
                                    content=_result_text(block.get("content")),
                                    is_error=bool(block.get("is_error"))))
        if text or not results:
            messages.append(Message(role="user", content=text))
    system = body.get("system")
    if isinstance(system, list):
        system = "".join(str(b.get("text") or "") for b in system if isinstance(b, dict))
    choice, parallel = neutral_tool_choice(body.get("tool_choice"))
    settings = ChatSettings(model=str(body.get("model") or ""), stream=bool(body.get("stream")),
                            system_prompt=str(system or ""), temperature=body.get("temperature"),
                            max_tokens=body.get("max_tokens"), tool_choice=choice,
                            parallel_tool_calls=parallel)
    return SentRequest(messages, FORMAT.tools_from_body(body), settings)


# --- response ---------------------------------------------------------------------------------


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def parse_usage(raw: Any) -> Usage | None:
    """Anthropic usage as a neutral Usage.

    Anthropic's `input_tokens` counts only the input tokens that were neither read from nor
    written to the prompt cache, so the prompt size is `input_tokens + cache_read_input_tokens +
    cache_creation_input_tokens`; that sum is `prompt_tokens`, as OpenAI's prompt_tokens
    includes its cached tokens. `cached_tokens` is the cache read, `cache_write_tokens` the
    cache write (`cache_creation_input_tokens`, priced apart).
    A usage without `input_tokens` (a gateway answering in OpenAI terms) is read as OpenAI's.
    """
    if not isinstance(raw, dict):
        return None
    if "input_tokens" not in raw and "output_tokens" not in raw:
        return _openai_usage(raw)
    fresh = _int(raw.get("input_tokens"))
    read = _int(raw.get("cache_read_input_tokens"))
    written = _int(raw.get("cache_creation_input_tokens"))
    output = _int(raw.get("output_tokens"))
    parts = [n for n in (fresh, read, written) if n is not None]
    prompt = sum(parts) if parts else None
    total = None if prompt is None and output is None else (prompt or 0) + (output or 0)
    return Usage(prompt_tokens=prompt, completion_tokens=output, total_tokens=total,
                 cached_tokens=read, cache_write_tokens=written)


def _raise_error(chunk: dict[str, Any]) -> None:
    """An error object inside a 200 answer: `{"type": "error", "error": {"type", "message"}}`."""
    body = error_from_object(chunk)
    said = body.message if body else json.dumps(chunk)[:300]
    kind = f" ({body.type})" if body and body.type else ""
    what = ("The server is overloaded and stopped in the middle of its answer. Wait a moment "
            "and Retry." if body and body.type == "overloaded_error" else
            "The server reported an error in the middle of its answer. Retry; if it repeats, "
            "check the model and request.")
    raise StreamErrorEvent(what, detail=f"It said: {said}{kind}")


def _is_error(chunk: dict[str, Any]) -> bool:
    return chunk.get("type") == "error" or chunk.get("error") is not None


def parse_response(body: Any) -> Message:
    """A non-streaming Messages answer (`{"type": "message", "content": [blocks]}`)."""
    if not isinstance(body, dict):
        raise MalformedResponse("The server's answer is not a JSON object. Check the base URL.")
    if _is_error(body):
        _raise_error(body)
    blocks = body.get("content")
    if not isinstance(blocks, list):
        raise MalformedResponse(
            "The server's answer has no content blocks, so it is not an Anthropic Messages "
            "answer. Check the base URL (without /v1) and that the server speaks this format.")
    text: list[str] = []
    reasoning: list[str] = []
    calls: list[ToolCall] = []
    activity: list[str] = []
    for block in blocks:
        if not isinstance(block, dict):
            continue
        kind = block.get("type")
        if kind in SERVER_USES:
            activity.append(activity_line(f"server ran {_str(block.get('name')) or '?'}",
                                          block.get("input")))
        elif isinstance(kind, str) and kind.endswith("_tool_result"):
            activity.append(activity_line(kind, block.get("content")))
        elif kind == "text":
            text.append(str(block.get("text") or ""))
        elif kind == "thinking":
            reasoning.append(str(block.get("thinking") or ""))
        elif kind == "tool_use":
            value = block.get("input")
            calls.append(ToolCall(
                id=_str(block.get("id")) or new_id("toolu_local_"),
                name=_str(block.get("name")),
                arguments=arguments_text(value),
            ))
    return Message(
        role="assistant",
        content="".join(text),
        tool_calls=calls,
        reasoning="".join(reasoning),
        usage=parse_usage(body.get("usage")),
        finish_reason=body.get("stop_reason"),
        server_activity=activity,
    )


class _Block:
    """One content block of a stream, as its pieces arrive."""

    __slots__ = ("id", "input", "kind", "name", "parts")

    def __init__(self, kind: str, call_id: str = "", name: str = "", start_input: Any = None):
        self.kind = kind
        self.id = call_id
        self.name = name
        self.input = start_input  # a tool_use's input as given at its start (normally {})
        self.parts: list[str] = []

    def call(self) -> ToolCall:
        if self.parts:
            arguments = "".join(self.parts)
        elif isinstance(self.input, dict) and self.input:
            arguments = arguments_text(self.input)  # a gateway that sends the input whole
        else:
            arguments = ""  # no input_json_delta: a tool without parameters, i.e. {}
        return ToolCall(id=self.id, name=self.name, arguments=arguments)


_DELTA_KIND = {"text_delta": "text", "thinking_delta": "thinking",
               "input_json_delta": "tool_use"}


class StreamAccumulator(AccumulatedMessage):
    """Folds Messages stream events into one assistant message.

    Fragments are collected in lists and joined once, so the work is linear in the number of
    events. `add()` returns True when something a person would see changed. `done` is set at
    `message_stop` (Anthropic sends no `[DONE]`). Usage from `message_start` is kept, and each
    field `message_delta` reports replaces it: those counts are cumulative, not increments.
    """

    requires_done = True  # Anthropic always ends a stream with message_stop
    end_event = "message_stop"
    local_id_prefix = "toolu_local_"

    def __init__(self) -> None:
        super().__init__()
        self._blocks: dict[int, _Block] = {}
        self._calls: list[_Block] = []
        self._activity: list[_Block | dict[str, Any]] = []  # server tool uses and results
        self._last = -1  # index of the block started last (for events that omit theirs)
        self.model: str | None = None
        self.message_id: str | None = None

    def add(self, chunk: Any) -> bool:
        if not isinstance(chunk, dict):
            raise MalformedResponse("A stream event is not a JSON object.")
        if _is_error(chunk):
            _raise_error(chunk)
        kind = chunk.get("type")
        if not isinstance(kind, str):
            raise MalformedResponse(
                "A stream event has no type, so it is not an Anthropic Messages event. Check "
                "the wire format: this server may speak the OpenAI format.",
                detail=f"The event began: {json.dumps(chunk)[:120]}")
        self.chunks += 1
        if kind == "content_block_delta":
            return self._delta(chunk)
        if kind == "content_block_start":
            return self._start(chunk)
        if kind == "message_start":
            message = _obj(chunk.get("message"), "message_start.message")
            self.model = message.get("model") or self.model
            self.message_id = message.get("id") or self.message_id
            self._usage(message.get("usage"))
        elif kind == "message_delta":
            reason = _obj(chunk.get("delta"), "message_delta.delta").get("stop_reason")
            if reason:
                self.finish_reason = reason
            self._usage(chunk.get("usage"))
        elif kind == "message_stop":
            self.done = True
        # ping, content_block_stop and event types added later change nothing visible.
        return False

    def _usage(self, usage: Any) -> None:
        if not isinstance(usage, dict):
            return
        if self.usage_raw is None:
            self.usage_raw = {}
        self.usage_raw.update((k, v) for k, v in usage.items() if v is not None)

    def _start(self, chunk: dict[str, Any]) -> bool:
        block = _obj(chunk.get("content_block"), "content_block_start.content_block")
        kind = block.get("type") or "text"
        built = _Block(kind, call_id=_str(block.get("id")), name=_str(block.get("name")),
                       start_input=block.get("input"))
        self._last = _index(chunk, self._last + 1)
        self._blocks[self._last] = built
        if kind == "tool_use":
            self._calls.append(built)
            return True  # a new tool-call card, named
        if kind in SERVER_USES or kind.endswith("_tool_result"):
            self._activity.append(built if kind in SERVER_USES else block)
            return True
        text = block.get("text") if kind == "text" else block.get("thinking")
        if isinstance(text, str) and text:  # a gateway that starts a block with its text
            (self._text if kind == "text" else self._reasoning).append(text)
            return True
        return False

    def _delta(self, chunk: dict[str, Any]) -> bool:
        delta = _obj(chunk.get("delta"), "content_block_delta.delta")
        kind = _DELTA_KIND.get(str(delta.get("type")))
        if kind is None:
            return False  # signature_delta, citations_delta, …
        index = _index(chunk, self._last)
        block = self._blocks.get(index)
        if kind == "tool_use" and block is not None and block.kind in SERVER_USES:
            piece = delta.get("partial_json")
            if isinstance(piece, str):
                block.parts.append(piece)  # the server's own tool input: no client call
            return False
        if block is None or block.kind != kind:  # a delta without its start: be forgiving
            block = _Block(kind)
            self._blocks[index] = block
            self._last = index
            if kind == "tool_use":
                self._calls.append(block)
        if kind == "text":
            piece = delta.get("text")
            target = self._text
        elif kind == "thinking":
            piece = delta.get("thinking")
            target = self._reasoning
        else:
            piece = delta.get("partial_json")
            target = block.parts
        if not isinstance(piece, str) or not piece:
            return False
        target.append(piece)
        return True

    # Read side (text, reasoning, message) comes from AccumulatedMessage.
    def tool_calls(self) -> list[ToolCall]:
        return [block.call() for block in self._calls]

    def message(self) -> Message:
        message = super().message()
        message.server_activity = [
            activity_line(f"server ran {item.name or '?'}", item.call().arguments)
            if isinstance(item, _Block) else
            activity_line(str(item.get("type")), item.get("content"))
            for item in self._activity]
        return message

    def usage(self) -> Usage | None:
        return parse_usage(self.usage_raw)


def _obj(value: Any, where: str) -> dict[str, Any]:
    """A nested object of an event; missing means empty, any other shape is malformed."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise MalformedResponse(
            "A stream event does not have the shape of an Anthropic Messages event.",
            detail=f"{where} is a {type(value).__name__}, not an object.")
    return value


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _index(chunk: dict[str, Any], default: int) -> int:
    index = chunk.get("index")
    return index if isinstance(index, int) and not isinstance(index, bool) else default


class AnthropicMessages(WireFormat):
    name = "anthropic"
    label = "Anthropic Messages"
    short_label = "Anthropic Messages"
    key_env = "ANTHROPIC_API_KEY"
    base_url_env = "ANTHROPIC_BASE_URL"
    model_env = "ANTHROPIC_MODEL"
    base_url_hint = "https://host"
    base_url_help = ("The host without /v1 (ANTHROPIC_BASE_URL); requests go to "
                     "{base}/v1/messages.")
    path = "/messages"
    base_includes_v1 = False
    auth_styles = ("x-api-key", "bearer")
    extra_headers: ClassVar[dict[str, str]] = {"anthropic-version": ANTHROPIC_VERSION}
    sdk = SdkCall("anthropic", "Anthropic", "client.messages.create",
                  ("model", "messages", "max_tokens"))
    count_tokens_path = "/messages/count_tokens"
    error_shape = "anthropic"
    demo_id_prefix = "toolu_demo_"

    codec = Codec(build_request, parse_response, StreamAccumulator, tool_to_wire, tool_from_wire,
                  read_request)

    def demo_problem(self, body: dict[str, Any], headers: dict[str, str]) -> str | None:
        if not headers.get("anthropic-version"):
            return "anthropic-version: header is required"
        if not isinstance(body.get("max_tokens"), int):
            return "max_tokens: Field required"
        return None

    def _demo_message(self, reply: DemoReply) -> dict[str, Any]:
        return {"id": f"msg_demo_{reply.seed[:12]}", "type": "message", "role": "assistant",
                "model": reply.model}

    def _demo_blocks(self, reply: DemoReply) -> list[dict[str, Any]]:
        blocks: list[dict[str, Any]] = []
        if reply.text:
            blocks.append({"type": "text", "text": reply.text})
        blocks += [{"type": "tool_use", "id": call.id, "name": call.name,
                    "input": json.loads(call.arguments or "{}")} for call in reply.calls]
        return blocks

    @staticmethod
    def _demo_usage(reply: DemoReply) -> dict[str, Any]:
        return {"input_tokens": reply.prompt_tokens, "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": 0, "output_tokens": reply.completion_tokens}

    def demo_body(self, reply: DemoReply) -> dict[str, Any]:
        return {**self._demo_message(reply), "content": self._demo_blocks(reply),
                "stop_reason": "tool_use" if reply.calls else "end_turn",
                "stop_sequence": None, "usage": self._demo_usage(reply)}

    def demo_events(self, reply: DemoReply) -> Iterator[DemoEvent]:
        """The event sequence Anthropic streams, ping included."""
        def event(payload: dict[str, Any]) -> DemoEvent:
            return DemoEvent(payload, payload["type"])

        usage = self._demo_usage(reply)
        yield event({"type": "message_start", "message": {
            **self._demo_message(reply), "content": [], "stop_reason": None,
            "stop_sequence": None, "usage": {**usage, "output_tokens": 1}}})
        for index, block in enumerate(self._demo_blocks(reply)):
            if block["type"] == "text":
                yield event({"type": "content_block_start", "index": index,
                             "content_block": {"type": "text", "text": ""}})
                deltas = [{"type": "text_delta", "text": piece}
                          for piece in re.findall(r"\S+\s*", block["text"])]
            else:
                yield event({"type": "content_block_start", "index": index, "content_block": {
                    "type": "tool_use", "id": block["id"], "name": block["name"], "input": {}}})
                arguments = json.dumps(block["input"], ensure_ascii=False)
                deltas = [{"type": "input_json_delta", "partial_json": piece}
                          for piece in ["", *pieces(arguments, 6)]]
            if index == 0:
                yield event({"type": "ping"})
            for delta in deltas:
                yield event({"type": "content_block_delta", "index": index, "delta": delta})
            yield event({"type": "content_block_stop", "index": index})
        yield event({"type": "message_delta", "delta": {
            "stop_reason": "tool_use" if reply.calls else "end_turn", "stop_sequence": None},
            "usage": {"output_tokens": usage["output_tokens"]}})
        yield event({"type": "message_stop"})


FORMAT = AnthropicMessages()
