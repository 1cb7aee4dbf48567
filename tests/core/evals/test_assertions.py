"""Every assertion kind, passing and failing, with the failure naming what went wrong."""

from __future__ import annotations

import json

import pytest

from core.evals.assertions import evaluate
from core.evals.suite import Expectation, parse_suite
from core.types import Message, ToolCall, ToolSpec

WEATHER = ToolSpec("get_weather", "Weather in a place", {
    "type": "object", "properties": {
        "location": {"type": "string"}, "unit": {"type": "string", "enum": ["c", "f"]},
        "days": {"type": "integer", "minimum": 1}, "tags": {"type": "array"},
        "where": {"type": "object"}},
    "required": ["location"]})
TIME = ToolSpec("get_time", "The time", {"type": "object", "properties": {}})
TOOLS = [WEATHER, TIME]


def expectation(expect_yaml: str) -> Expectation:
    text = f"tools: []\ncases:\n  - messages: hi\n    expect:\n{expect_yaml}"
    suite, problems = parse_suite(_with_tools(text), {})
    assert suite is not None, [str(p) for p in problems]
    return suite.cases[0].expect


def _with_tools(text: str) -> str:
    inline = json.dumps([{"name": t.name, "description": t.description,
                          "parameters": t.parameters} for t in TOOLS])
    return text.replace("tools: []", f"tools: {inline}")


def answer(*calls: tuple[str, object], text: str = "") -> Message:
    return Message("assistant", text, tool_calls=[
        ToolCall(f"c{i}", name, args if isinstance(args, str) else json.dumps(args))
        for i, (name, args) in enumerate(calls)])


def failures(expect_yaml: str, message: Message) -> list[str]:
    return evaluate(expectation(expect_yaml), message, TOOLS).failures


BOSTON = answer(("get_weather", {"location": "Boston, MA", "unit": "c"}))


@pytest.mark.parametrize(("expect", "message", "needle"), [
    ("      tool: get_weather\n", BOSTON, None),
    ("      tool: get_time\n", BOSTON, "expected a call to get_time, got get_weather"),
    ("      tool: get_weather\n", answer(text="It is sunny."),
     "got no tool call (it answered: 'It is sunny.')"),
    ("      tool: get_weather\n", answer(("get_weather", {"location": "a"}),
                                         ("get_weather", {"location": "b"})),
     "expected 1 call(s) (get_weather), got 2"),
    ("      no_tool: true\n", answer(text="hello"), None),
    ("      no_tool: true\n", BOSTON, "expected no tool call, got 1: get_weather"),
    ("      tools: [get_time, get_weather]\n",
     answer(("get_weather", {"location": "x"}), ("get_time", {})), None),
    ("      tools:\n        - {tool: get_weather, args: {location: Paris}}\n"
     "        - {tool: get_weather, args: {location: Tokyo}}\n",
     answer(("get_weather", {"location": "Tokyo"}), ("get_weather", {"location": "Paris"})),
     None),
    ("      tools:\n        - {tool: get_weather, args: {location: Paris}}\n"
     "        - {tool: get_weather, args: {location: Tokyo}}\n",
     answer(("get_weather", {"location": "Tokyo"}), ("get_weather", {"location": "Rome"})),
     "location: expected 'Paris', got 'Rome'"),
])
def test_which_tools_are_called(expect: str, message: Message, needle: str | None) -> None:
    found = failures(expect, message)
    if needle is None:
        assert found == []
    else:
        assert any(needle in f for f in found), found


@pytest.mark.parametrize(("assertion", "value", "needle"), [
    ("location: Boston", "Boston", None),
    ("location: Boston", "Boston, MA", "location: expected 'Boston', got 'Boston, MA'"),
    ("location: {equals: Boston}", "Boston", None),
    ("where: {equals: {lat: 1}}", {"lat": 1}, None),
    ("location: {matches: '^Bos'}", "Boston, MA", None),
    ("location: {matches: '^Bos'}", "New Boston", "does not match '^Bos'"),
    ("days: {matches: '1'}", 1, "needs text"),
    ("unit: {one_of: [c, f]}", "f", None),
    ("unit: {one_of: [c]}", "f", "'f' is not one of [\"c\"]"),
    ("location: {contains: ton}", "Boston", None),
    ("location: {contains: Paris}", "Boston", "does not contain 'Paris'"),
    ("tags: {contains: rain}", ["sun", "rain"], None),
    ("tags: {contains: snow}", ["sun"], "does not contain 'snow'"),
    ("where: {contains: {city: Rome}}", {"city": "Rome", "zip": "1"}, None),
    ("days: {schema: {type: integer, maximum: 7}}", 3, None),
    ("days: {schema: {type: integer, maximum: 7}}", 9, "9 is greater than the maximum of 7"),
    ("days: {one_of: [1, 2], matches: x}", 3, "is not one of"),
])
def test_argument_assertions(assertion: str, value: object, needle: str | None) -> None:
    name = assertion.split(":")[0]
    args = {"location": "Boston"} | {name: value}
    found = failures(f"      tool: get_weather\n      args:\n        {assertion}\n",
                     answer(("get_weather", args)))
    found = [f for f in found if "breaks its schema" not in f]
    if needle is None:
        assert found == []
    else:
        assert any(needle in f for f in found), found


def test_optional_arguments_may_be_absent_but_are_checked_when_present() -> None:
    expect = "      tool: get_weather\n      args:\n        unit: {one_of: [c], optional: true}\n"
    assert failures(expect, answer(("get_weather", {"location": "x"}))) == []
    assert any("not one of" in f for f in failures(
        expect, answer(("get_weather", {"location": "x", "unit": "f"}))))
    required = "      tool: get_weather\n      args:\n        unit: {one_of: [c]}\n"
    assert failures(required, answer(("get_weather", {"location": "x"}))) == [
        "get_weather: argument 'unit' is missing"]


def test_every_call_is_checked_against_the_schema_sent() -> None:
    # The expectation holds, yet the call breaks its own tool's schema: never a pass.
    found = failures("      tool: get_weather\n",
                     answer(("get_weather", {"location": "x", "unit": "kelvin"})))
    assert found == ["get_weather: breaks its schema at /unit: 'kelvin' is not one of "
                     "['c', 'f']"]
    found = failures("      tool: get_weather\n", answer(("get_weather", {"unit": "c"})))
    assert any("'location' is a required property" in f for f in found)
    found = failures("      tool: get_weather\n", answer(("get_weather", '{"location": ')))
    assert any("not valid JSON" in f for f in found)
    found = failures("      no_tool: true\n", answer(("launch_rockets", {})))
    assert "'launch_rockets' is not a tool that was sent" in found
