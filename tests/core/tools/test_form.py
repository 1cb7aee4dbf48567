"""core.tools.form: what the parameter table can show, the round trip table ⇄ schema, and
st.data_editor's edit deltas."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from core.tools.form import (
    COLUMNS,
    apply_editor_delta,
    beyond_form,
    duplicate_names,
    parameters_from_rows,
    rows_from_parameters,
)
from core.tools.library import load_library

ROOT = Path(__file__).resolve().parents[3]
LIBRARY = {e.spec.name: e.spec for e in load_library(ROOT / "tools") if e.spec}
WEATHER = LIBRARY["get_current_weather"].parameters


def row(name: str, type_: str = "string", description: str = "", required: bool = False,
        enum: str = "") -> dict[str, Any]:
    return {"name": name, "type": type_, "description": description, "required": required,
            "enum": enum}


# --- beyond_form -------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["get_current_weather", "convert_units", "get_server_time"])
def test_flat_schemas_fit_the_form(name: str) -> None:
    assert beyond_form(LIBRARY[name].parameters) == []


def test_a_closed_flat_schema_fits() -> None:
    assert beyond_form({**WEATHER, "additionalProperties": False}) == []


@pytest.mark.parametrize(("parameters", "reasons"), [
    ({"type": "object", "properties": {}, "$defs": {}}, ["top-level keyword '$defs'"]),
    ({"type": "object", "description": "x", "properties": {}},
     ["top-level keyword 'description'"]),
    ({"type": "object", "properties": {"n": {"type": "integer", "minimum": 1}}},
     ["'n' uses minimum"]),
    ({"type": "object", "properties": {"tags": {"type": "array", "items": {"type": "string"}}}},
     ["'tags' uses items", "'tags' has type 'array'"]),
    ({"type": "object", "properties": {"o": {"type": "object"}}}, ["'o' has type 'object'"]),
    ({"type": "object", "properties": {"n": {"type": ["number", "null"]}}},
     ["'n' has type ['number', 'null']"]),
    ({"type": "object", "properties": {"u": {"description": "no type"}}},
     ["'u' has type None"]),
    ({"type": "object", "properties": {"k": {"type": "integer", "enum": [1, 2]}}}, []),
    ({"type": "object", "properties": {"k": {"type": "integer", "enum": ["1", 2.5]}}},
     ["'k' has enum values of another type than 'integer'"]),
    ({"type": "object", "properties": {"a": {"type": "string"}}, "required": 5},
     ["required is not a list of names"]),
    ({"type": "object", "properties": {"s": "string"}}, ["'s' is not a schema object"]),
    ({"type": "object", "properties": ["a"]}, ["properties is not a mapping"]),
    ({"type": "object", "properties": {"e": {"anyOf": [{"type": "string"}]}}},
     ["'e' uses anyOf", "'e' has type None"]),
])
def test_beyond_form_says_why(parameters: dict[str, Any], reasons: list[str]) -> None:
    assert beyond_form(parameters) == reasons


@pytest.mark.parametrize("name", ["create_calendar_event", "web_search", "query_database"])
def test_richer_library_tools_are_beyond_the_form(name: str) -> None:
    assert beyond_form(LIBRARY[name].parameters)


# --- rows ⇄ parameters -------------------------------------------------------------------------

def test_rows_from_the_weather_schema() -> None:
    assert rows_from_parameters(WEATHER) == [
        row("location", description="The city and state, e.g. San Francisco, CA",
            required=True),
        row("unit", enum="celsius, fahrenheit"),
    ]
    assert all(list(r) == list(COLUMNS) for r in rows_from_parameters(WEATHER))


@pytest.mark.parametrize("name", [n for n, s in LIBRARY.items() if not beyond_form(s.parameters)])
def test_round_trip_is_exact_for_what_the_form_shows(name: str) -> None:
    params = LIBRARY[name].parameters
    assert parameters_from_rows(rows_from_parameters(params), params) == params


def test_round_trip_of_every_form_type() -> None:
    params = {"type": "object", "properties": {
        "s": {"type": "string", "description": "text", "enum": ["a", "b"]},
        "n": {"type": "number"}, "i": {"type": "integer", "description": "count"},
        "b": {"type": "boolean"}}, "required": ["i", "s"], "additionalProperties": False}
    again = parameters_from_rows(rows_from_parameters(params), params)
    assert again["properties"] == params["properties"]
    assert set(again["required"]) == set(params["required"])
    assert again["additionalProperties"] is False


def test_keywords_outside_the_form_are_carried_over() -> None:
    original = {"type": "object", "title": "Weather query", "additionalProperties": False,
                "$comment": "kept", "properties": {"old": {"type": "string"}},
                "required": ["old"]}
    out = parameters_from_rows([row("new", "integer", required=True)], original)
    assert out == {"type": "object", "title": "Weather query", "additionalProperties": False,
                   "$comment": "kept", "properties": {"new": {"type": "integer"}},
                   "required": ["new"]}
    assert original["properties"] == {"old": {"type": "string"}}  # not changed in place


def test_rows_are_cleaned_up() -> None:
    rows = [row("  spaced  ", description="  padded  ", enum=" a, ,b ,"),
            row(""), row("   "), {"name": "bare"}]
    out = parameters_from_rows(rows, {"type": "object"})
    assert out == {"type": "object", "properties": {
        "spaced": {"type": "string", "description": "padded", "enum": ["a", "b"]},
        "bare": {"type": "string"}}}


def test_no_rows_gives_an_empty_object_schema() -> None:
    assert parameters_from_rows([], WEATHER) == {"type": "object", "properties": {}}


def test_the_top_is_always_type_object() -> None:
    assert parameters_from_rows([row("a")], {"properties": {}})["type"] == "object"


def test_an_enum_value_with_a_comma_survives_the_form() -> None:
    params = {"type": "object", "properties": {
        "size": {"type": "string", "enum": ["small, medium", "large"]}}}
    if beyond_form(params):
        return  # the form may refuse it instead: that is fine too
    assert parameters_from_rows(rows_from_parameters(params), params) == params


# --- apply_editor_delta ------------------------------------------------------------------------

def test_edits_change_cells_by_row_position() -> None:
    rows = rows_from_parameters(WEATHER)
    out = apply_editor_delta(rows, {"edited_rows": {1: {"required": True},
                                                    "0": {"description": "City"}}})
    assert out[0]["description"] == "City"
    assert out[1]["required"] is True
    assert rows == rows_from_parameters(WEATHER)  # the input rows are not changed


def test_added_rows_get_defaults_for_missing_columns() -> None:
    out = apply_editor_delta([], {"added_rows": [{"name": "days", "type": "integer"}, {}]})
    assert out == [row("days", "integer"), row("")]


def test_deleted_rows_refer_to_the_original_positions() -> None:
    rows = [row("a"), row("b"), row("c"), row("d")]
    out = apply_editor_delta(rows, {"deleted_rows": [0, 2]})
    assert [r["name"] for r in out] == ["b", "d"]


def test_a_mixed_delta_as_streamlit_sends_it() -> None:
    rows = [row("a"), row("b"), row("c")]
    delta = {"edited_rows": {2: {"name": "c2"}}, "added_rows": [{"name": "z"}],
             "deleted_rows": [1]}
    out = apply_editor_delta(rows, delta)
    assert [r["name"] for r in out] == ["a", "c2", "z"]


def test_out_of_range_positions_are_ignored() -> None:
    rows = [row("a")]
    out = apply_editor_delta(rows, {"edited_rows": {5: {"name": "x"}}, "deleted_rows": [3]})
    assert out == rows
    assert apply_editor_delta(rows, {}) == rows


def test_edit_through_the_table_changes_the_schema() -> None:
    """The whole path the page takes: schema → rows → delta → schema."""
    params = copy.deepcopy(WEATHER)
    delta = {"edited_rows": {1: {"enum": "celsius, fahrenheit, kelvin", "required": True}},
             "added_rows": [{"name": "days", "type": "integer", "description": "Forecast days"}],
             "deleted_rows": []}
    out = parameters_from_rows(apply_editor_delta(rows_from_parameters(params), delta), params)
    assert out["properties"]["unit"]["enum"] == ["celsius", "fahrenheit", "kelvin"]
    assert out["properties"]["days"] == {"type": "integer", "description": "Forecast days"}
    assert out["required"] == ["location", "unit"]
    out = parameters_from_rows(apply_editor_delta(rows_from_parameters(out),
                                                  {"deleted_rows": [0]}), out)
    assert list(out["properties"]) == ["unit", "days"]
    assert out["required"] == ["unit"]


def test_enum_values_take_the_type_of_their_row() -> None:
    rows = [{"name": "n", "type": "integer", "enum": "1, 2"},
            {"name": "x", "type": "number", "enum": "0.5, 2"},
            {"name": "b", "type": "boolean", "enum": "true"},
            {"name": "s", "type": "string", "enum": "1, a"}]
    properties = parameters_from_rows(rows, {})["properties"]
    assert [properties[k]["enum"] for k in "nxbs"] == [[1, 2], [0.5, 2], [True], ["1", "a"]]
    assert rows_from_parameters({"properties": properties})[2]["enum"] == "true"


def test_a_second_row_of_one_name_is_reported_and_the_first_kept() -> None:
    rows = [{"name": "a", "type": "string", "description": "first"},
            {"name": "a", "type": "integer", "description": "second"}]
    assert duplicate_names(rows) == ["a"]
    assert parameters_from_rows(rows, {})["properties"] == {
        "a": {"type": "string", "description": "first"}}


@pytest.mark.parametrize("parameters", [
    {"type": "object", "required": 5, "properties": {"a": {"type": "string"}}},
    {"type": "object", "properties": ["x", "y"]},
    {"type": "object", "properties": {"a": {"type": ["string", "null"], "enum": [1, None]}}},
])
def test_rows_of_an_odd_schema_never_raise(parameters: dict[str, Any]) -> None:
    rows_from_parameters(parameters)
    assert beyond_form(parameters)
