"""What a tool definition costs in tokens: counted offline by a real tokenizer, or exactly by
the server where the wire format has a counting endpoint.

Offline, the definition's compact JSON (in the shape the format sends) is encoded with OpenAI's
o200k_base BPE (the `bpe-openai` package bundles its vocabulary, so nothing is downloaded at run
time); servers wrap tools in their own template, so this is close but not exact, and says so.
Without the package it falls back to characters ÷ 4, labelled as an estimate.

Exactly: the format's counting endpoint (OpenAI Responses' POST /responses/input_tokens,
Anthropic's POST /v1/messages/count_tokens) is asked for a one-message request without tools,
with each tool alone, and with the whole set; a tool's cost is its count minus the bare one.
Counts are cached per (counting URL, model, exact body): a tool's figure is asked again only
when its definition (its version) or the server or model changes.
"""

from __future__ import annotations

import json
import threading
import warnings
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import httpx

from core.config import Endpoint
from core.types import Attempt, ChatSettings, Message, ToolSpec
from core.wire import WireFormat, wire_format
from core.wire.errors import ConfigError, MalformedResponse
from core.wire.http import RetryPolicy, open_response

ENCODING = "o200k_base"
OFFLINE_SOURCE = f"{ENCODING} tokenizer, offline (the server's tool template adds a little)"
ESTIMATE_SOURCE = "estimate: characters of the compact JSON ÷ 4 (no tokenizer installed)"
PROBE = [Message(role="user", content="Hi")]


@dataclass(frozen=True)
class TokenFigure:
    tokens: int
    source: str
    exact: bool = False


@lru_cache(maxsize=1)
def _encoder() -> Any:
    with warnings.catch_warnings():  # its resource loading uses a deprecated importlib call
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            import bpe_openai
        except ImportError:
            return None
        encoding = bpe_openai.get_encoding(ENCODING)
        encoding.encode("warm")  # loads the vocabulary now, inside this block
        return encoding


def definition_text(spec: ToolSpec, fmt: WireFormat | None = None) -> str:
    wire = (fmt or wire_format("openai")).tool_to_wire(spec)
    return json.dumps(wire, separators=(",", ":"), ensure_ascii=False)


def text_tokens(text: str) -> int:
    encoder = _encoder()
    return len(encoder.encode(text)) if encoder is not None else max(1, round(len(text) / 4))


def offline_tokens(spec: ToolSpec, fmt: WireFormat | None = None) -> TokenFigure:
    """The definition's tokens by the bundled tokenizer (chars ÷ 4 without it)."""
    text = definition_text(spec, fmt)
    encoder = _encoder()
    if encoder is None:
        return TokenFigure(max(1, round(len(text) / 4)), ESTIMATE_SOURCE)
    return TokenFigure(len(encoder.encode(text)), OFFLINE_SOURCE)


def offline_source() -> str:
    return OFFLINE_SOURCE if _encoder() is not None else ESTIMATE_SOURCE


@dataclass(frozen=True)
class ExactCounts:
    """Exact costs from the server: per tool (by name), for the whole set, and the bare request."""

    per_tool: dict[str, int]
    whole_set: int
    bare: int
    source: str


class CountCache:
    """Counts by (counting URL, model, body); bounded, shared by every session (counts are not
    secret and do not depend on the key)."""

    def __init__(self, size: int = 4096) -> None:
        self._counts: OrderedDict[str, int] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    @staticmethod
    def key(url: str, body: dict[str, Any]) -> str:
        return url + "\n" + json.dumps(body, sort_keys=True, ensure_ascii=False)

    def get(self, key: str) -> int | None:
        with self._lock:
            return self._counts.get(key)

    def put(self, key: str, value: int) -> None:
        with self._lock:
            self._counts[key] = value
            while len(self._counts) > self._size:
                self._counts.popitem(last=False)


CACHE = CountCache()


def can_count(endpoint: Endpoint) -> bool:
    return endpoint.format.count_tokens_path is not None


def _bodies(endpoint: Endpoint, tools: list[ToolSpec]) -> list[tuple[str, dict[str, Any]]]:
    """(what, body) of every count: the bare request, each tool alone, the whole set."""
    fmt = endpoint.format
    settings = ChatSettings(model=endpoint.model, stream=False)
    bodies = [("", fmt.build_request(PROBE, [], settings))]
    bodies += [(tool.name, fmt.build_request(PROBE, [tool], settings)) for tool in tools]
    if len(tools) > 1:
        bodies.append(("*", fmt.build_request(PROBE, tools, settings)))
    return bodies


def _requests(endpoint: Endpoint, tools: list[ToolSpec]) -> list[tuple[str, str, dict]]:
    fmt = endpoint.format
    if fmt.count_tokens_path is None:
        raise ConfigError(f"The {fmt.label} format has no token-counting endpoint; switch the "
                          "wire format to one that has (Responses, Anthropic) to count exactly.")
    out = []
    for what, body in _bodies(endpoint, tools):
        count = fmt.count_tokens(endpoint.base_url, body)
        assert count is not None
        out.append((what, count.url, count.body))
    return out


def cached_counts(endpoint: Endpoint, tools: list[ToolSpec]) -> ExactCounts | None:
    """The exact counts if every one is cached already (no request is made)."""
    if not can_count(endpoint) or not tools:
        return None
    found = {}
    for what, url, body in _requests(endpoint, tools):
        value = CACHE.get(CACHE.key(url, body))
        if value is None:
            return None
        found[what] = value
    return _assemble(endpoint, tools, found)


def _assemble(endpoint: Endpoint, tools: list[ToolSpec], found: dict[str, int]) -> ExactCounts:
    bare = found[""]
    per_tool = {tool.name: found[tool.name] - bare for tool in tools}
    whole = found.get("*", found[tools[0].name]) - bare
    fmt = endpoint.format
    path = f"{'' if fmt.base_includes_v1 else '/v1'}{fmt.count_tokens_path}"
    return ExactCounts(per_tool, whole, bare, f"counted by {endpoint.provider} (POST …{path})")


def count_exactly(endpoint: Endpoint, tools: list[ToolSpec], client: httpx.Client) -> ExactCounts:
    """Ask the server for what is not cached yet; typed errors say why it could not count."""
    found: dict[str, int] = {}
    headers = endpoint.headers(stream=False)
    for what, url, body in _requests(endpoint, tools):
        key = CACHE.key(url, body)
        value = CACHE.get(key)
        if value is None:
            value = _count(endpoint, client, url, body, headers)
            CACHE.put(key, value)
        found[what] = value
    return _assemble(endpoint, tools, found)


def _count(endpoint: Endpoint, client: httpx.Client, url: str, body: dict[str, Any],
           headers: dict[str, str]) -> int:
    request = client.build_request("POST", url, content=json.dumps(body).encode(),
                                   headers=headers)
    attempts: list[Attempt] = []
    response = open_response(client, request, policy=RetryPolicy(max_retries=1),
                             attempts=attempts, key_env=endpoint.key_env, sleep=_no_wait,
                             secret=endpoint.api_key)
    try:
        response.read()
        answer = response.json()
    except (httpx.HTTPError, ValueError):
        raise MalformedResponse("The token count could not be read (not JSON). Check the "
                                "base URL.") from None
    finally:
        response.close()
    count = endpoint.format.count_tokens(endpoint.base_url, body)
    assert count is not None
    return count.read(answer)


def _no_wait(seconds: float) -> None:
    """Counting is interactive: a retry goes at once rather than blocking the page."""
    del seconds
