"""Problems to text ranges: what the editor marks for each kind of problem."""

from __future__ import annotations

import json

from core.tools.locate import marks
from core.tools.schemas import Problem, parse_tool

YAML = """\
name: lookup
description: Find a record
parameters:
  type: object
  properties:
    filters:
      type: array
      items:
        type: object
        properties:
          field: {type: strin}
  required: [filters, missing]
"""


def covered(text: str, problems: list[Problem], fmt: str = "yaml") -> dict[str, str]:
    units = text.encode("utf-16-le")
    return {m.where: units[2 * m.start:2 * m.end].decode("utf-16-le")
            for m in marks(text, fmt, problems)}  # type: ignore[arg-type]


def test_a_pointer_into_arrays_and_flow_mappings_marks_the_key_and_value() -> None:
    _, problems = parse_tool(YAML)
    assert covered(YAML, problems) == {
        "/parameters/properties/filters/items/properties/field/type": "type: strin"}


def test_a_pointer_to_something_missing_marks_the_nearest_key_that_exists() -> None:
    got = covered(YAML, [Problem("x", "/parameters/properties/filters/additionalProperties"),
                         Problem("y", "/parameters/required/5"),
                         Problem("z", "")])
    assert got["/parameters/properties/filters/additionalProperties"] == "filters"
    assert got["/parameters/required/5"] == "required"
    assert got["/"] == "n"  # the whole document: its first character


def test_a_container_is_marked_by_its_key_not_its_whole_block() -> None:
    assert covered(YAML, [Problem("x", "/parameters/properties")]) == {
        "/parameters/properties": "properties"}


def test_json_pointers_and_escaped_keys() -> None:
    text = json.dumps({"name": "a/b", "description": "d", "parameters": {
        "type": "object", "properties": {"a/b": {"type": "strin"}, "~x": {"type": 1}}}}, indent=2)
    got = covered(text, [Problem("x", "/parameters/properties/a~1b/type"),
                         Problem("y", "/parameters/properties/~0x")], "json")
    assert got == {"/parameters/properties/a~1b/type": '"type": "strin"',
                   "/parameters/properties/~0x": '"~x"'}


def test_syntax_errors_mark_from_the_column_to_the_end_of_the_line() -> None:
    text = "name: x\ndescription: [open\nparameters: {}\n"
    _, problems = parse_tool(text)
    [(where, mark)] = covered(text, problems).items()
    assert where == "line 3, column 11" and mark == ": {}"
    text = '{\n  "name": "x",\n  "description" "d"\n}'
    _, problems = parse_tool(text, "json")
    assert covered(text, problems, "json") == {"line 3, column 17": '"d"'}


def test_offsets_count_utf16_units_as_the_browser_does() -> None:
    text = "name: 😀 bad\ndescription: é\nparameters: {type: objct}\n"
    _, problems = parse_tool(text)
    got = covered(text, problems)
    assert got["/name"] == "name: 😀 bad"
    assert got["/parameters/type"] == "type: objct"
    [first] = [m for m in marks(text, "yaml", problems) if m.where == "/parameters/type"][:1]
    assert first.start == text.index("type: objct") + 1  # one emoji = two UTF-16 units
