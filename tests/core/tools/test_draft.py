"""Generate: the request, reading the model's reply, and the offline demo model's drafts (which
go through the real request path: the demo transport behind core.turn.run_turn)."""

from __future__ import annotations

import json

import pytest
import yaml

from core.config import DEMO_BASE_URL, DEMO_MODEL, Endpoint
from core.tools.draft import (
    MARKER,
    draft_request,
    draft_text,
    is_draft_request,
    offline_draft,
    parse_draft_request,
)
from core.tools.schemas import parse_tool
from core.turn import run_turn
from core.types import ChatSettings


def drafted(description: str, example: str = "") -> dict:
    text = offline_draft(description, example)
    spec, problems = parse_tool(text)
    assert spec is not None and problems == [], problems  # a valid tool, ready to save
    return yaml.safe_load(text)


def test_the_request_asks_for_yaml_only_and_is_marked() -> None:
    messages, settings = draft_request("Track a parcel", "track(code='X1')",
                                       ChatSettings(model="m", system_prompt="be terse"))
    assert settings.system_prompt.startswith(MARKER) and is_draft_request(settings)
    assert "YAML" in settings.system_prompt
    [message] = messages
    assert parse_draft_request(message.content) == ("Track a parcel", "track(code='X1')")
    assert parse_draft_request(draft_request("Only words", "", settings)[0][0].content) == (
        "Only words", "")


@pytest.mark.parametrize(("reply", "name"), [
    ("name: a\ndescription: d\n", "a"),
    ("Here it is:\n```yaml\nname: b\ndescription: d\n```\nEnjoy.", "b"),
    ('{"name": "c", "description": "d", "parameters": {"type": "object"}}', "c"),
    ('{"type": "function", "function": {"name": "e", "description": "d"}}', "e"),
])
def test_the_reply_becomes_yaml_for_the_editor(reply: str, name: str) -> None:
    assert yaml.safe_load(draft_text(reply))["name"] == name


def test_words_become_typed_parameters() -> None:
    tool = drafted("Get the weather forecast for a city for a number of days, in celsius or "
                   "fahrenheit")
    assert tool["name"] == "get_weather_forecast"
    props = tool["parameters"]["properties"]
    assert props["city"]["type"] == "string"
    assert props["days"]["type"] == "integer"
    assert props["unit"]["enum"] == ["celsius", "fahrenheit"]
    assert tool["parameters"]["required"] == ["city", "days"]
    assert tool["description"].endswith("fahrenheit.")


def test_choices_formats_and_optional_words() -> None:
    tool = drafted("Create a support ticket with a title and a priority (low, medium or high), "
                   "optionally assigned to an email")
    props = tool["parameters"]["properties"]
    assert props["priority"]["enum"] == ["low", "medium", "high"]
    assert props["email"]["format"] == "email"
    assert tool["parameters"]["required"] == ["title", "priority"]


def test_a_longer_phrase_wins_over_its_own_first_word() -> None:
    tool = drafted("Look up the shipping status of an order by its order number.")
    assert list(tool["parameters"]["properties"]) == ["order_number"]


def test_a_python_signature_gives_names_types_and_defaults() -> None:
    tool = drafted("Reserve a table at a restaurant.",
                   'def book_table(restaurant: str, guests: int, time: str,\n'
                   '               seating: Literal["inside", "terrace"] = "inside",\n'
                   '               notes: str | None = None) -> dict')
    assert tool["name"] == "book_table"
    props = tool["parameters"]["properties"]
    assert props["guests"]["type"] == "integer"
    assert props["seating"] == {"type": "string", "enum": ["inside", "terrace"],
                                "default": "inside", "description": "The seating"}
    assert props["notes"]["type"] == ["string", "null"]
    assert tool["parameters"]["required"] == ["restaurant", "guests", "time"]


def test_an_example_call_gives_types_from_its_values() -> None:
    tool = drafted("Convert money", 'convert_currency(amount=12.5, to="EUR", rounded=True)')
    assert {k: v["type"] for k, v in tool["parameters"]["properties"].items()} == {
        "amount": "number", "to": "string", "rounded": "boolean"}
    tool = drafted("Look a record up", json.dumps(
        {"name": "lookup", "arguments": json.dumps({"id": 3, "tags": ["a"]})}))
    assert tool["name"] == "lookup"
    assert tool["parameters"]["properties"]["tags"]["items"] == {"type": "string"}


def test_the_demo_model_drafts_through_the_request_path() -> None:
    messages, settings = draft_request(
        "Send an email to a recipient with a subject and a body", "",
        ChatSettings(model=DEMO_MODEL, stream=False))
    result = run_turn(Endpoint("demo", DEMO_BASE_URL, DEMO_MODEL), messages, [], settings)
    assert result.message is not None, result.error
    assert not result.exchange.request_body.get("tools")  # it asks for text
    tool = yaml.safe_load(draft_text(result.message.content))
    assert list(tool["parameters"]["properties"]) == ["recipient", "subject", "body"]
    assert result.exchange.usage is not None  # counted like any request
