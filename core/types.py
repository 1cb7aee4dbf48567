"""Provider-neutral domain values.

The conversation kept in these dataclasses is the source of truth; each provider module
translates it to and from its own wire format, so a conversation can change format mid-way.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any, Literal

Role = Literal["system", "user", "assistant", "tool"]


def new_id(prefix: str = "") -> str:
    """A short random id; prefixed so ids of different things are told apart in logs."""
    return f"{prefix}{uuid.uuid4().hex[:16]}"


@dataclass
class ToolSpec:
    """One tool definition as it is sent to a model."""

    name: str
    description: str
    parameters: dict[str, Any]
    strict: bool | None = None
    results: dict[str, str] = field(default_factory=dict)  # canned results, by name
    # How to run it for real ({"http": {method, url, headers, body}}: core/tools/http_tool.py);
    # never sent to a model.
    run: dict[str, Any] | None = None


@dataclass
class ChatSettings:
    """What the user chose for the next request, besides the conversation and tools."""

    model: str
    stream: bool = True
    system_prompt: str = ""
    temperature: float | None = None
    max_tokens: int | None = None
    tool_choice: str | dict[str, Any] | None = None
    parallel_tool_calls: bool | None = None
    # Settings only some wire formats have (their FormatOption keys), e.g. reasoning effort.
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class ToolCall:
    """One call the model asked for. `arguments` is kept as the raw string the model sent."""

    id: str
    name: str
    arguments: str = ""

    def parsed_arguments(self) -> tuple[Any, str | None]:
        """(value, None) when the arguments are JSON, else (None, reason) — never raises.

        An empty string means "no arguments" (servers omit them for tools without parameters).
        """
        if not self.arguments.strip():
            return {}, None
        try:
            return json.loads(self.arguments), None
        except json.JSONDecodeError as exc:
            return None, f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"


@dataclass
class Usage:
    """Token counts of one response. Every field is optional on the wire, so None means unknown."""

    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    total_tokens: int | None = None
    cached_tokens: int | None = None
    reasoning_tokens: int | None = None
    cache_write_tokens: int | None = None  # prompt tokens written to a cache (Anthropic)
    estimated: bool = False

    @property
    def total(self) -> int | None:
        if self.total_tokens is not None:
            return self.total_tokens
        if self.prompt_tokens is None and self.completion_tokens is None:
            return None
        return (self.prompt_tokens or 0) + (self.completion_tokens or 0)


@dataclass
class ToolImage:
    """An image a tool returned, sent with its result where the format allows it."""

    mime_type: str
    data: str  # base64


@dataclass
class Message:
    """One message of the conversation.

    `tool_calls` is set on assistant messages that call tools; `tool_call_id` and `name` on
    tool-result messages; `reasoning` holds reasoning text shown apart from the answer.
    """

    role: Role
    content: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    tool_call_id: str | None = None
    name: str | None = None
    is_error: bool = False
    reasoning: str = ""
    images: list[ToolImage] = field(default_factory=list)  # on tool results only
    usage: Usage | None = None
    finish_reason: str | None = None
    exchange_id: str | None = None
    id: str = field(default_factory=lambda: new_id("msg_"))
    # Opaque reasoning a format needs back in the next request (OpenAI Responses' reasoning
    # items with encrypted_content); other formats ignore it.
    reasoning_items: list[dict[str, Any]] = field(default_factory=list)
    # Tools the server ran itself (Anthropic server_tool_use / mcp_tool_use, Responses hosted
    # tools), one line each: shown with the answer, never a call for the user to answer.
    server_activity: list[str] = field(default_factory=list)


@dataclass
class Attempt:
    """One HTTP attempt within an exchange (retries make several)."""

    started_at: float
    status: int | None = None
    error: str | None = None
    retry_after_s: float | None = None
    answered_at: float | None = None  # when the status line arrived (a failed attempt too)


@dataclass
class Exchange:
    """One request the app made, with what came back: enough to inspect or reproduce it.

    Times are `time.time()` seconds; `request_body` never holds a key (keys travel in headers).
    """

    provider: str  # who served it: "demo" or the base URL's host (core.config.provider_of)
    model: str
    base_url: str
    request_body: dict[str, Any]
    stream: bool
    started_at: float
    id: str = field(default_factory=lambda: new_id("ex_"))
    request_headers: dict[str, str] = field(default_factory=dict)  # credentials masked
    url: str = ""
    wire: str = "openai"  # the name of the request's wire format (core.wire registry)
    # The original request this one is a copy of (a fork's or an import's copy); the Usage
    # page counts a request and all its copies once.
    copied_from: str | None = None
    purpose: str | None = None  # "simulate": a simulated tool result, not the chat's turn
    response_headers: dict[str, str] = field(default_factory=dict)  # ids and rate limits only
    status: int | None = None
    request_id: str | None = None
    response_body: Any = None
    transcript: str | None = None
    error: str | None = None
    error_kind: str | None = None
    first_byte_at: float | None = None
    first_token_at: float | None = None
    ended_at: float | None = None
    attempts: list[Attempt] = field(default_factory=list)
    usage: Usage | None = None

    @property
    def latency_s(self) -> float | None:
        return None if self.ended_at is None else self.ended_at - self.started_at

    @property
    def ttft_s(self) -> float | None:
        return None if self.first_token_at is None else self.first_token_at - self.started_at
