"""The wire-format interface: everything one format (OpenAI Chat Completions, Anthropic
Messages, OpenAI Responses, …) needs, in one object, so the rest of the app never asks
"which format is this?" — it asks the format.

A format owns: its name and labels; the key's environment variable and how the key is sent
(auth styles); where its base URL ends and what the hint says; the request, model-list and
token-count URLs; building a request body from the neutral conversation and reading a sent
body back into it (the demo model and "tools from a request" use that); parsing an answer,
whole or streamed (with its own accumulator); the tool shape both ways; the SDK call for
generated code; the settings of its own the sidebar draws; and how the demo model's reply is
encoded in it.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from core.types import ChatSettings, Message, ToolCall, ToolSpec, Usage
from core.wire.errors import ConfigError, MalformedResponse


class Accumulator(Protocol):
    """Folds the events of one streamed answer into one assistant message.

    `add()` returns True when something a person would see changed. `requires_done` says the
    format always ends with an explicit terminal event (a stream without it was cut short).
    """

    requires_done: bool
    end_event: str  # the format's end-of-answer event, named in "the stream was cut" errors
    done: bool
    chunks: int
    finish_reason: str | None
    usage_raw: dict[str, Any] | None

    def add(self, chunk: Any) -> bool: ...

    def text(self) -> str: ...

    def reasoning(self) -> str: ...

    def tool_calls(self) -> list[ToolCall]: ...

    def usage(self) -> Usage | None: ...

    def message(self) -> Message: ...


@dataclass
class SentRequest:
    """A request body read back into neutral terms: what the demo model plans from, and what
    a conversation looks like whatever format recorded it."""

    messages: list[Message]
    tools: list[ToolSpec]
    settings: ChatSettings


@dataclass(frozen=True)
class SdkCall:
    """How the official SDK sends this format: `from {package} import {client_class}`, then
    `{method}(...)`. Keys in `named` are passed as keyword arguments; any other body key goes
    in `extra_body`, so the server receives exactly the body shown whatever the SDK version."""

    package: str
    client_class: str
    method: str
    named: tuple[str, ...]


@dataclass(frozen=True)
class FormatOption:
    """A setting only this format has (the sidebar draws it when the format is chosen); its
    value travels in `ChatSettings.options[key]`, None meaning "the server's default"."""

    key: str
    label: str
    choices: tuple[str | None, ...]
    help: str = ""

    def label_of(self, choice: str | None) -> str:
        return "server default" if choice is None else choice


@dataclass
class DemoReply:
    """What the demo model decided, before any format encodes it."""

    text: str
    calls: list[ToolCall]
    model: str
    seed: str  # a hash of the request, so ids are stable for one request
    prompt_tokens: int
    completion_tokens: int
    reasoning: str = ""


@dataclass
class DemoEvent:
    """One server-sent event of a demo stream; `data` is a JSON object, or a literal line."""

    data: dict[str, Any] | str
    event: str | None = None

    def encode(self) -> bytes:
        data = self.data if isinstance(self.data, str) else json.dumps(self.data)
        head = f"event: {self.event}\n" if self.event else ""
        return f"{head}data: {data}\n\n".encode()


@dataclass
class CountRequest:
    """An exact token count the server can make: POST `url` with `body`; read with `read`."""

    url: str
    body: dict[str, Any]
    field_name: str = "input_tokens"

    def read(self, answer: Any) -> int:
        value = answer.get(self.field_name) if isinstance(answer, dict) else None
        if not isinstance(value, int) or isinstance(value, bool):
            raise MalformedResponse(
                f"The token count answer has no {self.field_name}, so the server may not "
                "offer counting.", detail=json.dumps(answer)[:200])
        return value


@dataclass(frozen=True)
class Codec:
    """A format's body functions (its module's own `build_request`, `parse_response`, …),
    handed to the WireFormat once: the module keeps them as plain functions that tests and
    other formats call directly, and the format object forwards to them."""

    build_request: Callable[[list[Message], list[ToolSpec], ChatSettings], dict[str, Any]]
    parse_response: Callable[[Any], Message]
    new_accumulator: Callable[[], Accumulator]
    tool_to_wire: Callable[[ToolSpec], dict[str, Any]]
    tool_from_wire: Callable[[Any], dict[str, Any] | None]
    read_request: Callable[[dict[str, Any]], SentRequest]


class WireFormat(ABC):
    """One wire format. Subclasses are stateless singletons registered in core.wire."""

    name: ClassVar[str]
    label: ClassVar[str]  # "OpenAI Chat Completions"
    short_label: ClassVar[str]  # "Chat Completions", for tabs and segmented controls
    key_env: ClassVar[str]
    base_url_env: ClassVar[str]
    model_env: ClassVar[str]
    base_url_hint: ClassVar[str]  # the placeholder of the base-URL box
    base_url_help: ClassVar[str]
    path: ClassVar[str]  # appended to the API root, e.g. "/chat/completions"
    base_includes_v1: ClassVar[bool] = True  # OpenAI-style bases end in /v1
    auth_styles: ClassVar[tuple[str, ...]] = ("bearer",)  # the first is the default
    extra_headers: ClassVar[dict[str, str]] = {}
    sdk: ClassVar[SdkCall]
    options: ClassVar[tuple[FormatOption, ...]] = ()
    count_tokens_path: ClassVar[str | None] = None
    error_shape: ClassVar[str] = "openai"  # how the demo model words an error: openai|anthropic
    demo_id_prefix: ClassVar[str] = "call_demo_"  # the demo model's tool-call ids
    codec: ClassVar[Codec]

    # --- where requests go ----------------------------------------------------------------

    def api_root(self, base_url: str) -> str:
        base = base_url.rstrip("/")
        if not self.base_includes_v1 and not base.endswith("/v1"):
            base += "/v1"
        return base

    def request_url(self, base_url: str) -> str:
        return self.api_root(base_url) + self.path

    def models_url(self, base_url: str) -> str:
        return self.api_root(base_url) + "/models"

    def sdk_base_url(self, base_url: str) -> str:
        """The base the official SDK wants (Anthropic's SDK adds /v1 itself)."""
        base = base_url.rstrip("/")
        if not self.base_includes_v1 and base.endswith("/v1"):
            base = base[:-3]
        return base

    def headers(self, api_key: str, *, stream: bool, auth: str | None = None,
                key_env: str | None = None) -> dict[str, str]:
        """Request headers; the key in the format's auth style (`bearer` or `x-api-key`)."""
        headers = {"Content-Type": "application/json",
                   "Accept": "text/event-stream" if stream else "application/json",
                   **self.extra_headers}
        if api_key:
            if not api_key.isascii() or any(c.isspace() for c in api_key):
                raise ConfigError(
                    "The API key contains a space or a non-ASCII character (often a pasted "
                    "line break, zero-width space or '…'), so it cannot be sent. Enter the key "
                    f"again, or fix {key_env or self.key_env}.")
            style = auth or self.auth_styles[0]
            if style == "x-api-key":
                headers["x-api-key"] = api_key
            else:
                headers["Authorization"] = f"Bearer {api_key}"
        return headers

    def count_tokens(self, base_url: str, body: dict[str, Any]) -> CountRequest | None:
        """The exact-count request for a request body, where the format has one."""
        if self.count_tokens_path is None:
            return None
        drop = {"stream", "stream_options", "max_tokens", "max_output_tokens", "temperature",
                "store", "include"}
        return CountRequest(self.api_root(base_url) + self.count_tokens_path,
                            {k: v for k, v in body.items() if k not in drop})

    # --- bodies -----------------------------------------------------------------------------

    def build_request(self, messages: list[Message], tools: list[ToolSpec],
                      settings: ChatSettings) -> dict[str, Any]:
        return self.codec.build_request(messages, tools, settings)

    def parse_response(self, body: Any) -> Message:
        return self.codec.parse_response(body)

    def new_accumulator(self) -> Accumulator:
        return self.codec.new_accumulator()

    def tool_to_wire(self, tool: ToolSpec) -> dict[str, Any]:
        return self.codec.tool_to_wire(tool)

    def tool_from_wire(self, item: Any) -> dict[str, Any] | None:
        """A library document (name, description, parameters[, strict]) from one tool in this
        format's shape; None when the item is not in this shape."""
        return self.codec.tool_from_wire(item)

    def read_request(self, body: dict[str, Any]) -> SentRequest:
        """A sent body back as neutral messages, tools and settings."""
        return self.codec.read_request(body)

    def tools_from_body(self, body: dict[str, Any]) -> list[ToolSpec]:
        specs = []
        for item in body.get("tools") or []:
            doc = self.tool_from_wire(item)
            if doc is not None and isinstance(doc.get("name"), str):
                params = doc.get("parameters")
                specs.append(ToolSpec(name=doc["name"], description=doc.get("description") or "",
                                      parameters=params if isinstance(params, dict) else {},
                                      strict=doc.get("strict")))
        return specs

    def sent_tool_schemas(self, body: dict[str, Any]) -> dict[str, dict[str, Any]]:
        """Parameters schema of every tool a request body offered, by tool name."""
        return {spec.name: spec.parameters for spec in self.tools_from_body(body)}

    def model_ids(self, body: Any) -> list[str]:
        """Model ids out of a GET /models answer (`{"data": [{"id": …}]}` or a bare list)."""
        items = body.get("data", body.get("models")) if isinstance(body, dict) else body
        if not isinstance(items, list):
            raise MalformedResponse("The model list is not in the expected shape.")
        ids = []
        for item in items:
            if isinstance(item, dict) and isinstance(item.get("id") or item.get("name"), str):
                ids.append(item.get("id") or item["name"])
            elif isinstance(item, str):
                ids.append(item)
        return sorted(set(ids))

    # --- the demo model ---------------------------------------------------------------------

    def demo_problem(self, body: dict[str, Any], headers: dict[str, str]) -> str | None:
        """Why a real server of this format would refuse the request (400), else None."""
        return None

    @abstractmethod
    def demo_body(self, reply: DemoReply) -> dict[str, Any]:
        """The demo model's reply as a non-streamed answer of this format."""

    @abstractmethod
    def demo_events(self, reply: DemoReply) -> Iterator[DemoEvent]:
        """The demo model's reply as this format's event stream."""


def activity_line(what: str, detail: Any, limit: int = 300) -> str:
    """One line of server-side tool activity: what ran, and a compact, cut-short detail."""
    text = detail if isinstance(detail, str) else json.dumps(detail, ensure_ascii=False,
                                                              separators=(",", ":"))
    return f"{what}: {text[:limit]}{'…' if len(text) > limit else ''}" if text else what


def pieces(text: str, size: int) -> list[str]:
    """`text` cut into pieces of `size` characters (one empty piece for empty text)."""
    return [text[i:i + size] for i in range(0, len(text), size)] or [""]


@dataclass
class Registry:
    """The formats by name; lookup of an unknown name raises instead of guessing."""

    formats: dict[str, WireFormat] = field(default_factory=dict)

    def add(self, fmt: WireFormat) -> WireFormat:
        self.formats[fmt.name] = fmt
        return fmt

    def get(self, name: str) -> WireFormat:
        try:
            return self.formats[name]
        except KeyError:
            raise UnknownWireFormat(name, list(self.formats)) from None


class UnknownWireFormat(KeyError):
    def __init__(self, name: str, known: list[str]) -> None:
        super().__init__(f"unknown wire format {name!r}; known: {', '.join(known)}")
        self.name = name
