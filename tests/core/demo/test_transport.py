"""The offline demo model, reached through run_turn exactly as a real server would be.

The demo is what a visitor without a key sees first, so it must behave like the API it
stands in for: the seed question gets the seed call, tool_choice is obeyed, results are used.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from core.config import DEMO_BASE_URL, DEMO_MODEL, Endpoint
from core.turn import TurnResult, client_for, run_turn
from core.types import ChatSettings, Message, ToolSpec
from core.wire.openai_chat import model_ids

TOOLS_DIR = Path(__file__).resolve().parents[3] / "tools"
SEED_QUESTION = "What's the weather like in Boston today?"
DEMO = Endpoint("demo", DEMO_BASE_URL, DEMO_MODEL)


def load_tool(name: str) -> ToolSpec:
    """A library tool as the app sends it (the YAML's extra keys, e.g. canned results, stay)."""
    data = yaml.safe_load((TOOLS_DIR / f"{name}.yaml").read_text())
    return ToolSpec(name=data["name"], description=data.get("description", ""),
                    parameters=data["parameters"], strict=data.get("strict"))


WEATHER = load_tool("get_current_weather")


def ask(question: str = SEED_QUESTION, tools: list[ToolSpec] | None = None, *,
        stream: bool = True, tool_choice: str | dict[str, Any] | None = None,
        parallel: bool | None = None, history: list[Message] | None = None) -> TurnResult:
    messages = history if history is not None else [Message(role="user", content=question)]
    settings = ChatSettings(model=DEMO_MODEL, stream=stream, tool_choice=tool_choice,
                            parallel_tool_calls=parallel)
    result = run_turn(DEMO, messages, [WEATHER] if tools is None else tools, settings,
                      sleep=_no_sleep)
    assert result.error is None, f"demo turn failed: {result.error}"
    assert result.message is not None
    return result


def _no_sleep(seconds: float) -> None:
    raise AssertionError(f"the demo model never needs a retry (asked to wait {seconds} s)")


def arguments(result: TurnResult) -> list[dict[str, Any]]:
    assert result.message is not None
    parsed = [call.parsed_arguments() for call in result.message.tool_calls]
    assert all(reason is None for _, reason in parsed)
    return [value for value, _ in parsed]


def test_seed_question_gets_one_weather_call_for_boston() -> None:
    result = ask()
    assert result.message is not None
    (call,) = result.message.tool_calls
    assert call.name == "get_current_weather"
    (args,) = arguments(result)
    assert args["location"] == "Boston, MA"
    jsonschema.validate(args, WEATHER.parameters)  # the call fits the tool it calls
    assert result.message.finish_reason == "tool_calls"
    assert result.message.content == ""


def test_streaming_and_non_streaming_agree() -> None:
    streamed, whole = ask(stream=True), ask(stream=False)
    assert streamed.message is not None and whole.message is not None
    assert [(c.name, c.arguments) for c in streamed.message.tool_calls] == [
        (c.name, c.arguments) for c in whole.message.tool_calls]
    assert streamed.message.finish_reason == whole.message.finish_reason
    assert streamed.message.content == whole.message.content
    assert streamed.exchange.transcript is not None
    assert streamed.exchange.transcript.startswith("data: ")
    assert whole.exchange.transcript is None


def test_streaming_demo_arrives_in_pieces() -> None:
    progress: list[str] = []
    run_turn(DEMO, [Message(role="user", content=SEED_QUESTION)], [WEATHER],
             ChatSettings(model=DEMO_MODEL),
             on_progress=lambda acc: progress.append(acc.tool_calls()[0].arguments
                                                     if acc.tool_calls() else ""))
    assert len(progress) > 3
    assert progress[-1] == json.dumps({"location": "Boston, MA", "unit": "fahrenheit"})


@pytest.mark.parametrize("stream", [True, False], ids=["stream", "json"])
def test_same_request_same_answer(stream: bool) -> None:
    first, second = ask(stream=stream), ask(stream=stream)
    assert first.message is not None and second.message is not None
    assert [(c.id, c.name, c.arguments) for c in first.message.tool_calls] == [
        (c.id, c.name, c.arguments) for c in second.message.tool_calls]
    assert first.message.tool_calls[0].id.startswith("call_demo_")
    assert first.exchange.request_id == second.exchange.request_id


def test_parallel_calls_for_two_cities() -> None:
    result = ask("What's the weather like in Boston and Tokyo today?")
    assert result.message is not None
    assert [a["location"] for a in arguments(result)] == ["Boston, MA", "Tokyo, Japan"]
    ids = [c.id for c in result.message.tool_calls]
    assert len(set(ids)) == 2


def test_parallel_tool_calls_false_gives_one_call() -> None:
    result = ask("What's the weather like in Boston and Tokyo today?", parallel=False)
    assert [a["location"] for a in arguments(result)] == ["Boston, MA"]


def test_parallel_calls_for_two_cities_with_non_ascii_names() -> None:
    """Regression (fixed in f482069): json.dumps escaping dropped the second call."""
    result = ask("What's the weather like in Zürich and München today?")
    assert [a["location"] for a in arguments(result)] == ["Zürich", "München"]


def test_tool_choice_none_answers_in_text() -> None:
    result = ask(tool_choice="none")
    assert result.message is not None
    assert result.message.tool_calls == []
    assert result.message.finish_reason == "stop"
    assert "tool_choice: none" in result.message.content


def test_tool_choice_required_calls_a_tool_for_a_loosely_related_question() -> None:
    result = ask("Tell me about Paris", tool_choice="required")
    assert [a["location"] for a in arguments(result)] == ["Paris, France"]
    assert ask("Tell me about Paris").message.tool_calls == []  # auto would not


def test_tool_choice_required_always_calls_a_tool() -> None:
    """Regression (fixed in f482069): 'required' answered in text, as no API may."""
    result = ask("Tell me a joke", tool_choice="required")
    assert result.message is not None
    assert result.message.finish_reason == "tool_calls"
    assert len(result.message.tool_calls) >= 1


def test_named_tool_choice_calls_that_tool() -> None:
    search = load_tool("web_search")
    named = {"type": "function", "function": {"name": "web_search"}}
    result = ask(tools=[WEATHER, search], tool_choice=named)
    assert result.message is not None
    assert [c.name for c in result.message.tool_calls] == ["web_search"]
    (args,) = arguments(result)
    assert args["query"] == SEED_QUESTION
    jsonschema.validate(args, search.parameters)


def test_auto_picks_the_tool_that_fits_among_several() -> None:
    tools = [load_tool(n) for n in ("get_server_time", "web_search", "get_current_weather")]
    result = ask(tools=tools)
    assert result.message is not None
    assert [c.name for c in result.message.tool_calls] == ["get_current_weather"]


def test_question_no_tool_fits_gets_a_text_answer() -> None:
    result = ask("Tell me a joke")
    assert result.message is not None
    assert result.message.tool_calls == []
    assert result.message.finish_reason == "stop"
    assert "None of the enabled tools (`get_current_weather`) fits" in result.message.content


def test_no_tools_at_all_gets_a_text_answer() -> None:
    result = ask(tools=[])
    assert result.message is not None
    assert result.message.tool_calls == []
    assert "Offline demo model" in result.message.content


def test_missing_required_argument_is_asked_for() -> None:
    result = ask("What's the weather like today?")
    assert result.message is not None
    assert result.message.tool_calls == []
    assert "`location`" in result.message.content


@pytest.mark.parametrize("stream", [True, False], ids=["stream", "json"])
def test_answer_after_a_tool_result_uses_the_result(stream: bool) -> None:
    question = Message(role="user", content=SEED_QUESTION)
    first = ask(stream=stream).message
    assert first is not None
    (call,) = first.tool_calls
    result = Message(role="tool", tool_call_id=call.id, name=call.name,
                     content='{"temperature": 22, "unit": "celsius", "conditions": "sunny"}')
    answer = ask(history=[question, first, result], stream=stream).message
    assert answer is not None
    assert answer.tool_calls == []
    assert answer.finish_reason == "stop"
    for words in ("get_current_weather", "Boston, MA", "temperature 22", '"sunny"'):
        assert words in answer.content


@pytest.mark.parametrize("stream", [True, False], ids=["stream", "json"])
def test_usage_is_marked_estimated(stream: bool) -> None:
    result = ask(stream=stream)
    assert result.message is not None and result.message.usage is not None
    usage = result.message.usage
    assert usage.estimated is True
    assert result.exchange.usage is usage
    assert usage.prompt_tokens and usage.completion_tokens
    assert usage.total == usage.prompt_tokens + usage.completion_tokens


def test_exchange_is_labelled_demo_and_carries_no_key() -> None:
    result = ask()
    exchange = result.exchange
    assert (exchange.provider, exchange.base_url, exchange.model) == (
        "demo", DEMO_BASE_URL, DEMO_MODEL)
    assert "Authorization" not in exchange.request_headers
    assert exchange.status == 200


def test_models_endpoint_lists_the_demo_model() -> None:
    with client_for(DEMO.timeouts, demo=True) as client:
        response = client.get(DEMO.models_url())
    assert response.status_code == 200
    assert model_ids(response.json()) == ["toolsmith-demo"]


def test_other_paths_are_404() -> None:
    with client_for(DEMO.timeouts, demo=True) as client:
        response = client.get(DEMO_BASE_URL + "/embeddings")
    assert response.status_code == 404
    assert "no GET" in response.json()["error"]["message"]


def test_time_in_tokyo_calls_the_mcp_time_tool_it_can_fill() -> None:
    """With the whole library and mcp-server-time's tools sent, the demo model picks the tool
    whose arguments the question fills: get_current_time with the IANA zone of the place."""
    library = [load_tool(p.stem) for p in sorted(TOOLS_DIR.glob("*.yaml"))]
    current = ToolSpec(name="get_current_time",
                       description="Get current time in a specific timezone",
                       parameters={"type": "object", "required": ["timezone"], "properties": {
                           "timezone": {"type": "string", "description": "IANA timezone name"}}})
    zone = {"type": "string", "description": "IANA timezone name (e.g., 'Asia/Tokyo')"}
    convert = ToolSpec(name="convert_time", description="Convert time between timezones",
                       parameters={"type": "object", "properties": {
                           "source_timezone": zone, "target_timezone": zone,
                           "time": {"type": "string", "description": "HH:MM"}},
                           "required": ["source_timezone", "time", "target_timezone"]})
    result = ask("What time is it in Tokyo?", [*library, current, convert])
    assert result.message is not None
    assert [c.name for c in result.message.tool_calls] == ["get_current_time"]
    assert arguments(result) == [{"timezone": "Asia/Tokyo"}]
    server = ask("What time is it on the server?", [*library, current])
    assert server.message is not None
    assert [c.name for c in server.message.tool_calls] == ["get_server_time"]
