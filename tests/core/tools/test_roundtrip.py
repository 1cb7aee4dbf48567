"""Automatic edits change only the lines they must: asserted on the diff of hand-written YAML."""

from __future__ import annotations

import difflib

from core.tools.roundtrip import rewrite, strict_rewrite
from core.tools.schemas import parse_text, strict_problems

HAND_WRITTEN = """\
# Weather lookup, written by hand.
name: get_weather
description: >-
  Get the current weather for a city. Use it whenever the user
  asks about temperature, rain or wind.
parameters:
  type: object
  properties:
    location:   # where
      type: string
      description: "City and country, e.g. Paris, FR"
      minLength: 2
    unit:
      type: string
      enum: [celsius, fahrenheit]
      default: celsius
    days:
      type: integer
      minimum: 1
  required: [location]
results:
  ok: '{"temp": 21, "unit": "celsius"}'
"""


def diff(before: str, after: str) -> list[str]:
    """The changed lines only (no headers, no context)."""
    return [line for line in difflib.unified_diff(before.splitlines(), after.splitlines(),
                                                  lineterm="", n=0)
            if not line.startswith(("---", "+++", "@@"))]


def test_make_strict_changes_only_the_lines_it_must() -> None:
    data, _ = parse_text(HAND_WRITTEN, "yaml")
    after = strict_rewrite(HAND_WRITTEN, "yaml", data)
    assert diff(HAND_WRITTEN, after) == [
        "+strict: true",
        "-      minLength: 2",
        "-      type: string",
        "-      enum: [celsius, fahrenheit]",
        "-      default: celsius",
        "+      type: [string, 'null']",
        "+      enum: [celsius, fahrenheit, null]",
        "-      type: integer",
        "+      type: [integer, 'null']",
        "-  required: [location]",
        "+  required: [location, unit, days]",
        "+  additionalProperties: false",
    ]
    strict, problems = parse_text(after, "yaml")
    assert problems == [] and strict["strict"] is True
    assert strict_problems(strict["parameters"]) == []
    assert "# Weather lookup, written by hand." in after and "location:   # where" in after


def test_an_unchanged_document_gives_back_the_same_text() -> None:
    data, _ = parse_text(HAND_WRITTEN, "yaml")
    assert rewrite(HAND_WRITTEN, "yaml", data) == HAND_WRITTEN


def test_yaml_to_json_and_back_restores_comments_and_layout() -> None:
    data, _ = parse_text(HAND_WRITTEN, "yaml")
    as_json = rewrite("", "json", data)
    edited, _ = parse_text(as_json.replace("Get the current", "Get today's"), "json")
    back = rewrite(HAND_WRITTEN, "yaml", edited)
    # The folded description stays folded; its changed text is one line (folds are the
    # author's to place again).
    assert diff(HAND_WRITTEN, back) == [
        "-  Get the current weather for a city. Use it whenever the user",
        "-  asks about temperature, rain or wind.",
        "+  Get today's weather for a city. Use it whenever the user asks about temperature, "
        "rain or wind.",
    ]


def test_a_new_parameter_adds_its_lines_and_nothing_else() -> None:
    data, _ = parse_text(HAND_WRITTEN, "yaml")
    data["parameters"]["properties"]["country"] = {"type": "string", "enum": ["FR", "DE"]}
    data["parameters"]["required"].append("country")
    after = rewrite(HAND_WRITTEN, "yaml", data)
    assert diff(HAND_WRITTEN, after) == [
        "-  required: [location]",
        "+    country:",
        "+      type: string",
        "+      enum: [FR, DE]",
        "+  required: [location, country]",
    ]


def test_block_lists_keep_their_dash_indent() -> None:
    for dash in ("", "  "):
        text = (f"name: t\ndescription: d\nparameters:\n  type: object\n  required:\n"
                f"  {dash}- a\n  properties:\n    a: {{type: string}}\n")
        data, _ = parse_text(text, "yaml")
        data["parameters"]["required"].append("b")
        data["parameters"]["properties"]["b"] = {"type": "string"}
        assert diff(text, rewrite(text, "yaml", data)) == [
            f"+  {dash}- b", "+    b:", "+      type: string"]


def test_json_keeps_its_indentation() -> None:
    text = '{\n    "name": "t",\n    "description": "d"\n}\n'
    assert rewrite(text, "json", {"name": "u", "description": "d"}) == \
        '{\n    "name": "u",\n    "description": "d"\n}\n'
