"""core.codegen: the request as curl, Python (official SDK, httpx) and JavaScript (fetch).

The generated code is run for real — the curl binary, the venv's python, node — against the
local wire server, with the key only in the subprocess environment. The server must receive
exactly the JSON body that core.turn.run_turn sent to it for the same request, and the key
from the environment in the right header.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core.codegen import LABELS, LANGUAGES, RequestSpec, curl, generate
from core.config import ANTHROPIC_VERSION, Endpoint
from core.turn import run_turn
from core.types import ChatSettings, Exchange, Message, ToolCall, ToolSpec
from core.wire import wire_format
from tests.support.anthropic_server import AnthropicWireServer
from tests.support.wire_server import RecordedRequest, WireServer

KEY = "sk-test-CODEGEN-MARKER-4242"
ROOT = Path(__file__).resolve().parents[2]
VENV_PYTHON = ROOT / ".venv" / "bin" / "python"
PYTHON = str(VENV_PYTHON) if VENV_PYTHON.exists() else sys.executable
NODE = shutil.which("node")
CURL = shutil.which("curl")
WEATHER = ToolSpec(
    "get_current_weather", "Get the current weather in a given location",
    {"type": "object", "properties": {
        "location": {"type": "string", "description": "The city and state, e.g. Boston, MA"},
        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
     "required": ["location"]},
    strict=False,
)
# Quotes, shell metacharacters, non-ASCII, a JS line separator and an emoji: what breaks
# hand-written quoting in each language.
AWKWARD = ("What's the weather in Zürich? Say \"it's\" $HOME `uname` \\n & 100% — "
           "line\u2028sep 🌦")


def conversation() -> list[Message]:
    """A whole tool-call round: question, call, result, so every message shape is in the body."""
    call = ToolCall("call_4yKljCtGceYj1heJY8G9h3te", "get_current_weather",
                    '{"location": "Zürich", "unit": "celsius"}')
    return [
        Message(role="user", content=AWKWARD),
        Message(role="assistant", content="", tool_calls=[call]),
        Message(role="tool", content='{"temperature": 22, "note": "it\'s sunny"}',
                tool_call_id=call.id, name=call.name),
    ]


def settings(stream: bool, model: str) -> ChatSettings:
    return ChatSettings(model=model, stream=stream, system_prompt="Be brief; don't guess.",
                        temperature=0.25, max_tokens=300, tool_choice="auto",
                        parallel_tool_calls=False)


@pytest.fixture
def anthropic_server() -> Iterator[AnthropicWireServer]:
    with AnthropicWireServer() as server:
        yield server


def run_code(language: str, code: str, env: dict[str, str], tmp_path: Path) -> None:
    """Run generated code as a person would paste it; fail with its output if it fails."""
    if language == "curl":
        if CURL is None:
            pytest.skip("curl is not installed")
        command = ["bash", "-c", code]
    elif language.startswith("python"):
        command = [PYTHON, "-c", code]
    else:
        if NODE is None:
            pytest.skip("node is not installed")
        script = tmp_path / "request.mjs"
        script.write_text(code, encoding="utf-8")
        command = [NODE, str(script)]
    clean = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "NO_PROXY": "*",
             "no_proxy": "*", **env}
    done = subprocess.run(command, env=clean, capture_output=True, text=True, timeout=60,
                          cwd=tmp_path, check=False)
    assert done.returncode == 0, f"{language} failed:\n{code}\n--- stderr:\n{done.stderr[-2000:]}"


def app_request(endpoint: Endpoint, stream: bool, server: WireServer,
                path: str) -> tuple[Exchange, RecordedRequest]:
    """What the app itself sends: run_turn against the same server, as recorded there."""
    result = run_turn(endpoint, conversation(), [WEATHER], settings(stream, endpoint.model))
    assert result.error is None, result.error
    [sent] = [r for r in server.requests if r.path == path]
    return result.exchange, sent


def received_since(server: WireServer, count: int, path: str) -> RecordedRequest:
    [request] = [r for r in server.requests[count:] if r.path == path]
    return request


# --- OpenAI format: every language, streamed and not ----------------------------------------

OPENAI_PATH = "/v1/chat/completions"


@pytest.mark.parametrize("stream", [True, False], ids=["stream", "whole"])
@pytest.mark.parametrize("language", list(LABELS))
def test_openai_code_sends_the_same_body(language: str, stream: bool, wire_server: WireServer,
                                         tmp_path: Path) -> None:
    endpoint = Endpoint("custom", wire_server.base_url, "gpt-4o-2024-08-06", api_key=KEY)
    exchange, sent = app_request(endpoint, stream, wire_server, OPENAI_PATH)
    assert sent.headers["authorization"] == f"Bearer {KEY}"

    code = generate(RequestSpec.of_exchange(exchange), language)
    assert KEY not in code
    before = len(wire_server.requests)
    run_code(language, code, {"OPENAI_API_KEY": KEY}, tmp_path)

    received = received_since(wire_server, before, OPENAI_PATH)
    assert received.method == "POST"
    assert received.json == sent.json
    assert received.json == exchange.request_body
    assert received.headers["authorization"] == f"Bearer {KEY}"
    assert received.headers["content-type"].startswith("application/json")


def test_openai_code_for_the_next_request_equals_the_exchange_code(
    wire_server: WireServer,
) -> None:
    """RequestSpec.of (the next request) and .of_exchange (a past one) agree."""
    endpoint = Endpoint("custom", wire_server.base_url, "gpt-4o", api_key=KEY)
    exchange, _ = app_request(endpoint, True, wire_server, OPENAI_PATH)
    body = wire_format("openai").build_request(conversation(), [WEATHER], settings(True, "gpt-4o"))
    assert body == exchange.request_body
    assert RequestSpec.of(endpoint, body) == RequestSpec.of_exchange(exchange)


def test_a_different_key_in_the_environment_is_the_one_sent(wire_server: WireServer,
                                                            tmp_path: Path) -> None:
    endpoint = Endpoint("custom", wire_server.base_url, "gpt-4o", api_key=KEY)
    exchange, _ = app_request(endpoint, False, wire_server, OPENAI_PATH)
    before = len(wire_server.requests)
    run_code("curl", curl(RequestSpec.of_exchange(exchange)),
             {"OPENAI_API_KEY": "sk-someone-else"}, tmp_path)
    assert received_since(wire_server, before, OPENAI_PATH).headers["authorization"] == \
        "Bearer sk-someone-else"


# --- Anthropic format ------------------------------------------------------------------------

MESSAGES_PATH = "/v1/messages"


ANTHROPIC_CASES = [
    *((language, stream, False) for language in ("curl", "python-httpx", "javascript")
      for stream in (True, False)),
    ("curl", True, True), ("python-httpx", False, True), ("javascript", False, True),
]


@pytest.mark.parametrize(("language", "stream", "bearer"), ANTHROPIC_CASES, ids=[
    f"{lang}-{'stream' if stream else 'whole'}{'-bearer' if bearer else ''}"
    for lang, stream, bearer in ANTHROPIC_CASES])
def test_anthropic_code_sends_the_same_body(language: str, stream: bool, bearer: bool,
                                            anthropic_server: AnthropicWireServer,
                                            tmp_path: Path) -> None:
    endpoint = Endpoint("custom", anthropic_server.root_url, "claude-sonnet-4-5", api_key=KEY,
                        key_env="ANTHROPIC_API_KEY", wire="anthropic", bearer_auth=bearer)
    exchange, sent = app_request(endpoint, stream, anthropic_server, MESSAGES_PATH)
    assert sent.headers["anthropic-version"] == ANTHROPIC_VERSION

    code = generate(RequestSpec.of_exchange(exchange), language)
    assert KEY not in code
    before = len(anthropic_server.requests)
    run_code(language, code, {"ANTHROPIC_API_KEY": KEY}, tmp_path)

    received = received_since(anthropic_server, before, MESSAGES_PATH)
    assert received.json == sent.json == exchange.request_body
    assert received.headers["anthropic-version"] == ANTHROPIC_VERSION
    if bearer:
        assert received.headers["authorization"] == f"Bearer {KEY}"
        assert "x-api-key" not in received.headers
    else:
        assert {k.lower(): v for k, v in received.headers.items()}["x-api-key"] == KEY
        assert "authorization" not in received.headers


def _venv_has(module: str) -> bool:
    if sys.executable == PYTHON:
        return importlib.util.find_spec(module) is not None
    done = subprocess.run([PYTHON, "-c", f"import {module}"], capture_output=True, check=False)
    return done.returncode == 0


@pytest.mark.skipif(not _venv_has("anthropic"),
                    reason="the anthropic SDK is not installed in the venv (not a dependency)")
@pytest.mark.parametrize("stream", [True, False], ids=["stream", "whole"])
def test_anthropic_sdk_code_sends_the_same_body(stream: bool,
                                                anthropic_server: AnthropicWireServer,
                                                tmp_path: Path) -> None:
    endpoint = Endpoint("custom", anthropic_server.root_url, "claude-sonnet-4-5", api_key=KEY,
                        key_env="ANTHROPIC_API_KEY", wire="anthropic")
    exchange, sent = app_request(endpoint, stream, anthropic_server, MESSAGES_PATH)
    before = len(anthropic_server.requests)
    run_code("python-sdk", generate(RequestSpec.of_exchange(exchange), "python-sdk"),
             {"ANTHROPIC_API_KEY": KEY}, tmp_path)
    received = received_since(anthropic_server, before, MESSAGES_PATH)
    assert received.json == sent.json
    # The SDK picks its own auth header (x-api-key, or Bearer in recent versions).
    headers = {k.lower(): v for k, v in received.headers.items()}
    assert KEY in (headers.get("x-api-key"), headers.get("authorization", "")
                   .removeprefix("Bearer "))


# --- the spec and the text, without running ---------------------------------------------------

def endpoint(wire: str, base: str, *, bearer: bool = False) -> Endpoint:
    key_env = "ANTHROPIC_API_KEY" if wire == "anthropic" else "OPENAI_API_KEY"
    return Endpoint("custom", base, "m", api_key=KEY, key_env=key_env,
                    wire=wire, bearer_auth=bearer)  # type: ignore[arg-type]


BODY: dict[str, Any] = {"model": "m", "messages": [{"role": "user", "content": AWKWARD}]}


def test_openai_spec() -> None:
    spec = RequestSpec.of(endpoint("openai", "https://gw.example/v1/"), BODY)
    assert spec.url == "https://gw.example/v1/chat/completions"
    assert spec.sdk_base_url == "https://gw.example/v1"
    assert (spec.key_env, spec.bearer, spec.wire) == ("OPENAI_API_KEY", True, "openai")
    assert spec.header_lines() == [("Content-Type", "application/json", False),
                                   ("Authorization", "Bearer ", True)]


@pytest.mark.parametrize("base", ["https://api.anthropic.com", "https://api.anthropic.com/",
                                  "https://api.anthropic.com/v1"])
def test_anthropic_spec(base: str) -> None:
    spec = RequestSpec.of(endpoint("anthropic", base), BODY)
    assert spec.url == "https://api.anthropic.com/v1/messages"
    assert spec.sdk_base_url == "https://api.anthropic.com"  # the SDK adds /v1 itself
    assert (spec.key_env, spec.bearer) == ("ANTHROPIC_API_KEY", False)
    assert spec.header_lines() == [("Content-Type", "application/json", False),
                                   ("anthropic-version", ANTHROPIC_VERSION, False),
                                   ("x-api-key", "", True)]
    bearer = RequestSpec.of(endpoint("anthropic", base, bearer=True), BODY)
    assert bearer.header_lines()[-1] == ("Authorization", "Bearer ", True)


@pytest.mark.parametrize("wire", ["openai", "anthropic"])
@pytest.mark.parametrize("language", list(LABELS))
def test_the_key_is_a_placeholder_never_the_value(wire: str, language: str) -> None:
    ep = endpoint(wire, "https://gw.example/v1")
    code = generate(RequestSpec.of(ep, {**BODY, "stream": True}), language)
    assert KEY not in code and "MARKER" not in code
    placeholder = {"curl": f"${ep.key_env}", "python-sdk": f"os.environ['{ep.key_env}']",
                   "python-httpx": f"os.environ['{ep.key_env}']",
                   "javascript": f"process.env.{ep.key_env}"}[language]
    assert placeholder in code


@pytest.mark.parametrize("stream", [True, False])
def test_streaming_shapes(stream: bool) -> None:
    spec = RequestSpec.of(endpoint("openai", "http://h/v1"), {**BODY, "stream": stream})
    assert generate(spec, "curl").startswith("curl -N " if stream else "curl 'http")
    assert ("httpx.stream(" in generate(spec, "python-httpx")) is stream
    assert ("for event in request" in generate(spec, "python-sdk")) is stream
    assert ("getReader()" in generate(spec, "javascript")) is stream


def test_every_language_has_a_label_and_a_highlighter() -> None:
    assert set(LABELS) == set(LANGUAGES) == {"curl", "python-sdk", "python-httpx", "javascript"}
    assert LABELS["python-sdk"] == "Python (official SDK)"


@pytest.mark.parametrize("language", ["python-sdk", "python-httpx"])
def test_python_code_compiles(language: str) -> None:
    body = {**BODY, "tools": [wire_format("openai").tool_to_wire(WEATHER)],
            "parallel_tool_calls": False, "temperature": 0.5, "x": None}
    compile(generate(RequestSpec.of(endpoint("openai", "http://h/v1"), body), language),
            "<generated>", "exec")


def test_of_exchange_reads_back_the_masked_headers() -> None:
    exchange = Exchange(provider="anthropic", model="m", base_url="https://gw.example",
                        request_body=BODY, stream=False, started_at=0.0, wire="anthropic",
                        url="https://gw.example/v1/messages",
                        request_headers={"x-api-key": "$ANTHROPIC_API_KEY",
                                         "anthropic-version": ANTHROPIC_VERSION})
    spec = RequestSpec.of_exchange(exchange)
    assert (spec.url, spec.key_env, spec.bearer, spec.wire) == (
        "https://gw.example/v1/messages", "ANTHROPIC_API_KEY", False, "anthropic")
    exchange.request_headers = {"Authorization": "Bearer $GATEWAY_KEY"}
    spec = RequestSpec.of_exchange(exchange)
    assert (spec.key_env, spec.bearer) == ("GATEWAY_KEY", True)
