"""core.tools.token_count: a real tokenizer offline (no network at all), and exact counts from
the counting endpoints of a local server speaking the Responses and Anthropic formats."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from core.config import DEMO_BASE_URL, DEMO_MODEL, Endpoint
from core.tools import token_count
from core.turn import client_for
from core.types import ChatSettings, ToolSpec
from core.wire import wire_format
from core.wire.errors import ConfigError
from core.wire.http import Timeouts
from tests.support.responses_server import (
    COUNT_TOKENS_PATH,
    INPUT_TOKENS_PATH,
    ResponsesWireServer,
    count_of,
)

ROOT = Path(__file__).resolve().parents[3]
KEY = "sk-test-count-KEY"
WEATHER = ToolSpec("get_current_weather", "Get the current weather in a given location",
                   {"type": "object", "properties": {"location": {"type": "string"}},
                    "required": ["location"]})
CLOCK = ToolSpec("get_time", "The time in a time zone, with a long description " * 8,
                 {"type": "object", "properties": {"zone": {"type": "string"}}})


def test_the_tokenizer_is_real_and_needs_no_network() -> None:
    """Encoded in a process with no network namespace: nothing may be fetched."""
    code = ("import bpe_openai as b; e = b.get_encoding('o200k_base'); "
            "print(e.encode('hello world'), len(e.encode('What\\'s the weather like?')))")
    command = [sys.executable, "-c", code]
    try:
        done = subprocess.run(["unshare", "-n", *command], capture_output=True, text=True,
                              timeout=60, check=False)
    except FileNotFoundError:
        pytest.skip("unshare is not available to cut the network")
    if done.returncode != 0 and "unshare" in done.stderr:
        pytest.skip(f"cannot cut the network here: {done.stderr.strip()[:200]}")
    assert done.returncode == 0, done.stderr
    # o200k_base's ids for "hello world", as OpenAI's tiktoken gives them.
    assert done.stdout.split("]")[0] == "[24912, 2375"


def test_offline_counts_are_labelled_and_grow_with_the_definition() -> None:
    small = token_count.offline_tokens(WEATHER)
    big = token_count.offline_tokens(CLOCK)
    assert small.source == token_count.OFFLINE_SOURCE and not small.exact
    assert 10 < small.tokens < big.tokens
    text = token_count.definition_text(WEATHER)
    assert small.tokens == token_count.text_tokens(text) < len(text) / 2
    # Each format's own shape is what is counted.
    anthropic = token_count.offline_tokens(WEATHER, wire_format("anthropic"))
    assert anthropic.tokens != small.tokens


@pytest.fixture
def server() -> Iterator[ResponsesWireServer]:
    with ResponsesWireServer() as running:
        yield running


def endpoint(server: ResponsesWireServer, wire: str) -> Endpoint:
    fmt = wire_format(wire)
    return Endpoint("custom", server.root_url if wire == "anthropic" else server.base_url,
                    f"model-{wire}", api_key=KEY, key_env=fmt.key_env, wire=wire,
                    timeouts=Timeouts(connect=5.0, idle=10.0))


@pytest.mark.parametrize(("wire", "path", "counted"), [
    ("responses", INPUT_TOKENS_PATH, ("instructions", "input", "tools")),
    ("anthropic", COUNT_TOKENS_PATH, ("system", "messages", "tools"))])
def test_exact_counts_with_and_without_each_tool_cached_per_version(
        server: ResponsesWireServer, wire: str, path: str, counted: tuple[str, ...],
        monkeypatch: pytest.MonkeyPatch) -> None:
    ep = endpoint(server, wire)
    fmt = ep.format
    monkeypatch.setattr(token_count, "CACHE", token_count.CountCache())
    with httpx.Client() as client:
        counts = token_count.count_exactly(ep, [WEATHER, CLOCK], client)
    settings = ChatSettings(model=ep.model, stream=False)

    def server_count(tools: list[ToolSpec]) -> int:
        return count_of(fmt.build_request(token_count.PROBE, tools, settings), counted)

    bare = server_count([])
    assert counts.bare == bare
    assert counts.per_tool == {"get_current_weather": server_count([WEATHER]) - bare,
                               "get_time": server_count([CLOCK]) - bare}
    assert counts.whole_set == server_count([WEATHER, CLOCK]) - bare
    assert counts.source.startswith("counted by 127.0.0.1:")
    sent = server.posts_to(path)
    assert len(sent) == 4  # bare, each tool, the set
    assert all("stream" not in r.json and "max_tokens" not in r.json for r in sent)
    # Cached: asking again sends nothing; a new version of one tool sends only what changed.
    assert token_count.cached_counts(ep, [WEATHER, CLOCK]) == counts
    edited = ToolSpec(CLOCK.name, "Shorter now.", CLOCK.parameters)
    with httpx.Client() as client:
        again = token_count.count_exactly(ep, [WEATHER, edited], client)
    assert len(server.posts_to(path)) == 4 + 2  # the edited tool alone, and the new set
    assert again.per_tool["get_current_weather"] == counts.per_tool["get_current_weather"]
    assert again.per_tool["get_time"] < counts.per_tool["get_time"]


def test_a_format_without_a_counting_endpoint_says_so(server: ResponsesWireServer) -> None:
    ep = endpoint(server, "openai")
    assert not token_count.can_count(ep)
    with pytest.raises(ConfigError, match="no token-counting endpoint"):
        token_count.count_exactly(ep, [WEATHER], httpx.Client())


def test_the_demo_model_counts_with_the_tokenizer(monkeypatch: pytest.MonkeyPatch) -> None:
    ep = Endpoint("demo", DEMO_BASE_URL, DEMO_MODEL, wire="responses")
    monkeypatch.setattr(token_count, "CACHE", token_count.CountCache())
    counts = token_count.count_exactly(ep, [WEATHER], client_for(ep.timeouts, demo=True))
    body = ep.format.build_request(token_count.PROBE, [WEATHER],
                                   ChatSettings(model=DEMO_MODEL, stream=False))
    sent = {k: v for k, v in body.items() if k not in ("model", "store", "include")}
    bare = {k: v for k, v in sent.items() if k != "tools"}
    assert counts.per_tool["get_current_weather"] == (
        token_count.text_tokens(json.dumps(sent, separators=(",", ":")))
        - token_count.text_tokens(json.dumps(bare, separators=(",", ":"))))
    assert counts.source.startswith("counted by demo")
