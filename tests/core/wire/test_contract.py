"""The wire-format contract, run over every registered format: a format that passes can be
chosen in the sidebar, answered by the demo model, and switched to mid-conversation."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from core.codegen import LABELS, RequestSpec, generate
from core.config import DEMO_BASE_URL, DEMO_MODEL, Endpoint
from core.turn import run_turn
from core.types import ChatSettings, Message, ToolCall, ToolSpec
from core.wire import UnknownWireFormat, WireFormat, formats, wire_format
from tests.core.test_codegen import run_code
from tests.support.responses_server import ResponsesWireServer

WEATHER = ToolSpec(
    name="get_current_weather", description="Get the current weather in a given location",
    parameters={"type": "object", "properties": {
        "location": {"type": "string", "description": "The city and state, e.g. Boston, MA"},
        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
        "required": ["location"]})
SEED = "What's the weather like in Boston today?"
CONVERSATION = [
    Message(role="user", content=SEED),
    Message(role="assistant", content="", tool_calls=[
        ToolCall("call_a1", "get_current_weather", '{"location": "Boston, MA"}'),
        ToolCall("call_b2", "get_current_weather", '{"location": "Tokyo, Japan"}')]),
    Message(role="tool", content='{"temperature": 22}', tool_call_id="call_a1"),
    Message(role="tool", content="no data", tool_call_id="call_b2", is_error=True),
    Message(role="assistant", content="Boston is 22 degrees."),
    Message(role="user", content="And in Paris?"),
]
ALL = [pytest.param(f, id=f.name) for f in formats()]


def shape(messages: list[Message]) -> list[tuple[Any, ...]]:
    return [(m.role, m.content, m.tool_call_id,
             [(c.id, c.name, json.loads(c.arguments or "{}")) for c in m.tool_calls])
            for m in messages]


def test_the_registry_refuses_an_unknown_name() -> None:
    with pytest.raises(UnknownWireFormat, match="unknown wire format 'openia'"):
        wire_format("openia")
    assert [f.name for f in formats()][:1] == ["openai"]
    assert len({f.name for f in formats()}) == len(formats())


@pytest.mark.parametrize("fmt", ALL)
def test_a_built_request_reads_back_into_the_same_conversation(fmt: WireFormat) -> None:
    settings = ChatSettings(model="m", system_prompt="Be brief.", tool_choice="required",
                            parallel_tool_calls=False)
    body = fmt.build_request(CONVERSATION, [WEATHER], settings)
    sent = fmt.read_request(body)
    assert shape(sent.messages) == shape(CONVERSATION)
    assert [(t.name, t.description, t.parameters) for t in sent.tools] == [
        (WEATHER.name, WEATHER.description, WEATHER.parameters)]
    assert sent.settings.system_prompt == "Be brief."
    assert (sent.settings.tool_choice, sent.settings.parallel_tool_calls) == ("required", False)
    assert fmt.sent_tool_schemas(body) == {WEATHER.name: WEATHER.parameters}
    assert [(fmt.tool_from_wire(t) or {}).get("name") for t in body["tools"]] == [WEATHER.name]


@pytest.mark.parametrize("stream", [True, False], ids=["stream", "json"])
@pytest.mark.parametrize("fmt", ALL)
def test_the_demo_model_answers_every_format(fmt: WireFormat, stream: bool) -> None:
    endpoint = Endpoint("demo", DEMO_BASE_URL, DEMO_MODEL, wire=fmt.name, key_env=fmt.key_env)
    settings = ChatSettings(model=DEMO_MODEL, stream=stream)
    first = run_turn(endpoint, [Message(role="user", content=SEED)], [WEATHER], settings)
    assert first.error is None and first.message is not None
    assert first.exchange.url.endswith(fmt.path)
    [call] = first.message.tool_calls
    assert (call.name, json.loads(call.arguments)["location"]) == (WEATHER.name, "Boston, MA")
    result = Message(role="tool", content='{"temperature": 22}', tool_call_id=call.id)
    second = run_turn(endpoint, [Message(role="user", content=SEED), first.message, result],
                      [WEATHER], settings)
    assert second.message is not None and second.message.tool_calls == []
    assert "temperature 22" in second.message.content
    assert second.message.usage is not None and second.message.usage.estimated


@pytest.mark.parametrize("fmt", ALL)
def test_a_conversation_switches_into_every_format(fmt: WireFormat) -> None:
    """A conversation started in another format continues in this one (ids carried)."""
    for other in formats():
        started = other.read_request(other.build_request(CONVERSATION, [WEATHER],
                                                         ChatSettings(model="m")))
        body = fmt.build_request(started.messages, [WEATHER], ChatSettings(model="m"))
        assert shape(fmt.read_request(body).messages) == shape(CONVERSATION)


# --- generated code, run for real against a server that speaks every format ------------------

KEY = "sk-test-contract-KEY"


@pytest.fixture(scope="module")
def every_format_server() -> Iterator[ResponsesWireServer]:
    with ResponsesWireServer() as server:
        yield server


@pytest.mark.parametrize("language", list(LABELS))
@pytest.mark.parametrize("fmt", ALL)
def test_generated_code_sends_the_same_body(fmt: WireFormat, language: str,
                                            every_format_server: ResponsesWireServer,
                                            tmp_path: Path) -> None:
    server = every_format_server
    base = server.base_url if fmt.base_includes_v1 else server.root_url
    endpoint = Endpoint("custom", base, "model-x", api_key=KEY, key_env=fmt.key_env,
                        wire=fmt.name)
    settings = ChatSettings(model="model-x", stream=language != "python-sdk",
                            system_prompt="Be brief.", max_tokens=200)
    history = CONVERSATION[:4]  # ends with the results: the server answers with text
    result = run_turn(endpoint, history, [WEATHER], settings)
    assert result.error is None, result.error
    path = urlsplit(result.exchange.url).path
    sent = [r for r in server.requests if r.path == path][-1]
    code = generate(RequestSpec.of_exchange(result.exchange), language)
    assert KEY not in code
    before = len(server.requests)
    run_code(language, code, {fmt.key_env: KEY}, tmp_path)
    [received] = [r for r in server.requests[before:] if r.path == path]
    assert received.json == sent.json == result.exchange.request_body
