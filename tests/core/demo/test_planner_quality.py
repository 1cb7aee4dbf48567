"""The demo model with the whole shipped library enabled, as a first-hour visitor meets it:
every shipped tool is reached by a plain question, with its arguments filled and valid against
its schema; nothing is called when no tool fits; a missing detail is asked for."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from core.config import DEMO_BASE_URL, DEMO_MODEL, Endpoint
from core.turn import run_turn
from core.types import ChatSettings, Message, ToolSpec

TOOLS_DIR = Path(__file__).resolve().parents[3] / "tools"
LIBRARY = [ToolSpec(d["name"], d.get("description", ""), d["parameters"], d.get("strict"))
           for d in (yaml.safe_load(p.read_text()) for p in sorted(TOOLS_DIR.glob("*.yaml")))]
TOMORROW_10 = f"{date.today() + timedelta(days=1)}T10:00:00"

# A plain question per shipped tool, and the arguments it must produce.
REACH: dict[str, tuple[str, dict[str, Any]]] = {
    "get_current_weather": ("What's the weather like in Boston today?",
                            {"location": "Boston, MA", "unit": "fahrenheit"}),
    "convert_units": ("Convert 10 km to miles", {"value": 10, "from_unit": "km",
                                                 "to_unit": "mi"}),
    "get_server_time": ("What time is it on the server?", {}),
    "web_search": ("Search the web for the latest Python release",
                   {"query": "latest Python release"}),
    "generate_image": ("Draw a picture of a sunset over the sea",
                       {"prompt": "a sunset over the sea"}),
    "query_database": ("How many users signed up last week?",
                       {"sql": "SELECT COUNT(*) FROM users", "params": None,
                        "timeout_seconds": None}),
    "create_calendar_event": ("Schedule a 30-minute meeting with bob@example.com tomorrow "
                              "at 10am", {"title": "Meeting with bob@example.com",
                                          "start": TOMORROW_10, "duration_minutes": 30,
                                          "attendees": [{"email": "bob@example.com"}]}),
}


def answer(question: str, stream: bool = False) -> Message:
    result = run_turn(Endpoint("demo", DEMO_BASE_URL, DEMO_MODEL),
                      [Message(role="user", content=question)], LIBRARY,
                      ChatSettings(model=DEMO_MODEL, stream=stream))
    assert result.error is None and result.message is not None
    return result.message


def test_every_shipped_tool_has_a_plain_question() -> None:
    assert set(REACH) == {t.name for t in LIBRARY}


@pytest.mark.parametrize("name", sorted(REACH))
def test_every_shipped_tool_is_reached_by_a_plain_question(name: str) -> None:
    question, expected = REACH[name]
    message = answer(question)
    assert [c.name for c in message.tool_calls] == [name], message.content
    arguments = json.loads(message.tool_calls[0].arguments or "{}")
    assert arguments == expected
    schema = next(t.parameters for t in LIBRARY if t.name == name)
    jsonschema.validate(arguments, schema)


@pytest.mark.parametrize("question", [
    "Write me a haiku about autumn", "Tell me a joke", "Hello!", "What's 2+2?",
    "Thanks, that's all"])
def test_no_tool_when_none_fits(question: str) -> None:
    message = answer(question, stream=True)
    assert message.tool_calls == []
    assert message.finish_reason == "stop"
    assert "None of the enabled tools" in message.content


@pytest.mark.parametrize(("question", "expected"), [
    ("How many pounds is 5 kg?", {"value": 5, "from_unit": "kg", "to_unit": "lb"}),
    ("What is 100 fahrenheit in celsius?",
     {"value": 100, "from_unit": "fahrenheit", "to_unit": "celsius"}),
])
def test_conversions_read_the_units_either_way_round(question: str,
                                                     expected: dict[str, Any]) -> None:
    [call] = answer(question).tool_calls
    assert (call.name, json.loads(call.arguments)) == ("convert_units", expected)


def test_a_missing_detail_is_asked_for_not_guessed() -> None:
    """The calendar tool says to ask rather than guess the date: so does the demo model."""
    message = answer("Create a calendar event called Standup")
    assert message.tool_calls == []
    assert "`create_calendar_event` I need `start`" in message.content
