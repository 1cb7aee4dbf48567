"""core.tools.form: the tree of tables the form shows, the round trip table ⇄ schema (exact for
what is not edited), what it leaves as written, and st.data_editor's edit deltas."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from core.tools.form import (
    COLUMNS,
    KEY,
    OTHER,
    apply_editor_delta,
    duplicate_names,
    levels,
    not_shown,
    object_at,
    object_from_rows,
    rows_from_object,
    with_object_at,
)
from core.tools.library import load_library
from core.tools.schemas import strict_document

ROOT = Path(__file__).resolve().parents[3]
LIBRARY = {e.spec.name: e.spec for e in load_library(ROOT / "tools") if e.spec}
WEATHER = LIBRARY["get_current_weather"].parameters

NESTED = {
    "type": "object",
    "properties": {
        "query": {"type": "string", "minLength": 1, "maxLength": 200, "pattern": "^\\S"},
        "when": {"type": ["string", "null"], "format": "date", "default": None},
        "limit": {"type": "integer", "minimum": 1, "maximum": 50, "default": 10},
        "filters": {
            "type": "array",
            "description": "Conditions, all must hold",
            "items": {
                "type": "object",
                "properties": {
                    "field": {"type": "string", "enum": ["title", "author"]},
                    "range": {"type": "object", "properties": {
                        "low": {"type": "number"}, "high": {"type": "number"}}},
                },
                "required": ["field"],
            },
        },
        "tags": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["query"],
}


def edit(parameters: dict[str, Any], path: tuple[str, ...], delta: dict[str, Any],
         ) -> dict[str, Any]:
    """The page's whole path for one table: schema → rows → delta → schema."""
    schema = object_at(parameters, path)
    rows = apply_editor_delta(rows_from_object(schema), delta)
    return with_object_at(parameters, path, object_from_rows(rows, schema))


# --- the tree --------------------------------------------------------------------------------

def test_objects_and_arrays_of_objects_are_levels_of_the_tree() -> None:
    assert [(lv.label, lv.path, lv.depth) for lv in levels(NESTED)] == [
        ("", (), 0),
        ("filters[]", ("properties", "filters", "items"), 1),
        ("filters[].range", ("properties", "filters", "items", "properties", "range"), 2),
    ]


@pytest.mark.parametrize("name", sorted(LIBRARY))
@pytest.mark.parametrize("strict", [False, True])
def test_the_round_trip_is_exact_at_every_level(name: str, strict: bool) -> None:
    params = LIBRARY[name].parameters
    if strict:
        params = strict_document({"parameters": params})["parameters"]
    for level in levels(params):
        schema = object_at(params, level.path)
        again = object_from_rows(rows_from_object(schema), schema)
        assert again == schema and list(again) == list(schema)


def test_rows_show_every_column_of_a_property() -> None:
    rows = {r["name"]: r for r in rows_from_object(NESTED)}
    assert list(rows["query"]) == [*COLUMNS, KEY]
    assert (rows["query"]["minLength"], rows["query"]["maxLength"], rows["query"]["pattern"]) \
        == (1, 200, "^\\S")
    assert (rows["when"]["type"], rows["when"]["nullable"], rows["when"]["format"],
            rows["when"]["default"]) == ("string", True, "date", "null")
    assert (rows["limit"]["minimum"], rows["limit"]["default"]) == (1, "10")
    assert (rows["filters"]["type"], rows["filters"]["items"]) == ("array", "object")
    assert (rows["tags"]["type"], rows["tags"]["items"]) == ("array", "string")
    assert rows["query"]["required"] and not rows["limit"]["required"]


# --- edits, form → schema → form ------------------------------------------------------------------

def test_a_nested_edit_changes_that_object_only() -> None:
    path = ("properties", "filters", "items")
    out = edit(NESTED, path, {
        "edited_rows": {"0": {"enum": "title, author, year", "required": False}},
        "added_rows": [{"name": "value", "type": "string", "nullable": True,
                        "required": True, "maxLength": 80}]})
    items = out["properties"]["filters"]["items"]
    assert items["properties"]["field"] == {"type": "string",
                                            "enum": ["title", "author", "year"]}
    assert items["properties"]["value"] == {"type": ["string", "null"], "maxLength": 80}
    assert items["required"] == ["value"]
    assert items["properties"]["range"] == NESTED["properties"]["filters"]["items"][
        "properties"]["range"]  # the deeper object is untouched
    assert {k: v for k, v in out["properties"].items() if k != "filters"} == {
        k: v for k, v in NESTED["properties"].items() if k != "filters"}
    assert NESTED["properties"]["filters"]["items"]["required"] == ["field"]  # not in place
    # ...and back to the form: the rows say what was typed.
    rows = {r["name"]: r for r in rows_from_object(object_at(out, path))}
    assert rows["value"]["nullable"] and rows["value"]["maxLength"] == 80
    assert rows["field"]["enum"] == "title, author, year"


def test_values_take_the_type_of_their_row() -> None:
    out = edit({"type": "object", "properties": {}}, (), {"added_rows": [
        {"name": "n", "type": "integer", "enum": "1, 2", "default": "2", "minimum": 1.0},
        {"name": "x", "type": "number", "default": "0.5", "maximum": 9.5},
        {"name": "b", "type": "boolean", "default": "true"},
        {"name": "s", "type": "string", "enum": "1, a", "default": "1"},
        {"name": "o", "type": "object"},
        {"name": "l", "type": "array", "items": "integer", "default": "[1, 2]"},
    ]})
    p = out["properties"]
    assert p["n"] == {"type": "integer", "enum": [1, 2], "default": 2, "minimum": 1}
    assert p["x"] == {"type": "number", "default": 0.5, "maximum": 9.5}
    assert p["b"] == {"type": "boolean", "default": True}
    assert p["s"] == {"type": "string", "enum": ["1", "a"], "default": "1"}
    assert p["o"] == {"type": "object"}
    assert p["l"] == {"type": "array", "items": {"type": "integer"}, "default": [1, 2]}
    assert [lv.label for lv in levels(out)] == ["", "o"]  # a new object gets its own table


def test_a_rename_keeps_what_the_form_does_not_show() -> None:
    params = {"type": "object", "properties": {
        "old": {"type": "string", "x-ui": {"widget": "color"}, "examples": ["red"]}},
        "required": ["old"]}
    out = edit(params, (), {"edited_rows": {"0": {"name": "new"}}})
    assert out["properties"] == {"new": {"type": "string", "x-ui": {"widget": "color"},
                                         "examples": ["red"]}}
    assert out["required"] == ["new"]


def test_a_type_change_drops_what_no_longer_applies() -> None:
    out = edit(NESTED, (), {"edited_rows": {"3": {"type": "string"}}})
    assert out["properties"]["filters"] == {"type": "string",
                                            "description": "Conditions, all must hold"}
    out = edit(NESTED, (), {"edited_rows": {"1": {"nullable": False}}})
    assert out["properties"]["when"]["type"] == "string"


def test_cleared_cells_remove_their_keyword() -> None:
    out = edit(NESTED, (), {"edited_rows": {"0": {"minLength": None, "pattern": ""}}})
    assert out["properties"]["query"] == {"type": "string", "maxLength": 200}


def test_keywords_of_the_object_itself_are_carried_over() -> None:
    original = {"type": "object", "title": "Weather query", "additionalProperties": False,
                "$comment": "kept", "properties": {"old": {"type": "string"}},
                "required": ["old"]}
    out = edit(original, (), {"deleted_rows": [0], "added_rows": [
        {"name": "new", "type": "integer", "required": True}]})
    assert out == {"type": "object", "title": "Weather query", "additionalProperties": False,
                   "$comment": "kept", "properties": {"new": {"type": "integer"}},
                   "required": ["new"]}


def test_no_rows_gives_an_empty_object_schema() -> None:
    assert edit(WEATHER, (), {"deleted_rows": [0, 1]}) == {
        "type": "object", "properties": {}, "required": []}


# --- what the form leaves as written -----------------------------------------------------------

def test_what_the_form_cannot_show_is_named() -> None:
    params = {
        "type": "object", "$defs": {"x": {"type": "string"}},
        "properties": {
            "choice": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
            "ref": {"$ref": "#/$defs/x"},
            "list": {"type": "array", "items": {"type": "string", "maxLength": 3},
                     "maxItems": 4},
            "grid": {"type": "array", "items": {"type": "array"}},
            "size": {"type": "string", "enum": ["small, medium", "large"]},
            "obj": {"type": "object", "properties": {"a": {"type": "string", "x-k": 1}},
                    "patternProperties": {}},
        },
    }
    assert not_shown(params) == [
        "/$defs",
        "/properties/choice", "/properties/choice/anyOf",
        "/properties/ref", "/properties/ref/$ref",
        "/properties/list/maxItems", "/properties/list/items/maxLength",
        "/properties/grid/items",
        "/properties/size/enum (values with commas)",
        "/properties/obj/patternProperties",
        "/properties/obj/properties/a/x-k",
    ]
    rows = {r["name"]: r for r in rows_from_object(params)}
    assert rows["choice"]["type"] == OTHER
    for level in levels(params):  # shown or not, nothing changes without an edit
        schema = object_at(params, level.path)
        assert object_from_rows(rows_from_object(schema), schema) == schema


@pytest.mark.parametrize("parameters", [
    {"type": "object", "required": 5, "properties": {"a": {"type": "string"}}},
    {"type": "object", "properties": ["x", "y"]},
    {"type": "object", "properties": {"a": {"type": ["string", "null"], "enum": [1, None]}}},
    {"type": "object", "properties": {"s": "string"}},
])
def test_odd_schemas_never_raise(parameters: dict[str, Any]) -> None:
    rows_from_object(parameters)
    levels(parameters)
    assert not_shown(parameters) or parameters["properties"]["a"]


# --- apply_editor_delta ------------------------------------------------------------------------

def test_edits_change_cells_by_row_position() -> None:
    rows = rows_from_object(WEATHER)
    out = apply_editor_delta(rows, {"edited_rows": {1: {"required": True},
                                                    "0": {"description": "City"}}})
    assert out[0]["description"] == "City"
    assert out[1]["required"] is True
    assert rows == rows_from_object(WEATHER)  # the input rows are not changed


def test_added_rows_get_defaults_for_missing_columns() -> None:
    [added] = apply_editor_delta([], {"added_rows": [{"name": "days", "type": "integer"}]})
    assert added["type"] == "integer" and added[KEY] is None and added["required"] is False
    assert set(added) == {*COLUMNS, KEY}


def test_deleted_rows_refer_to_the_original_positions() -> None:
    rows = [{"name": n} for n in "abcd"]
    out = apply_editor_delta(rows, {"deleted_rows": [0, 2]})
    assert [r["name"] for r in out] == ["b", "d"]


def test_out_of_range_positions_are_ignored() -> None:
    rows = [{"name": "a"}]
    out = apply_editor_delta(rows, {"edited_rows": {5: {"name": "x"}}, "deleted_rows": [3]})
    assert out == rows
    assert apply_editor_delta(rows, {}) == rows


def test_a_second_row_of_one_name_is_reported_and_the_first_kept() -> None:
    rows = apply_editor_delta([], {"added_rows": [
        {"name": "a", "description": "first"}, {"name": "a", "type": "integer"}]})
    assert duplicate_names(rows) == ["a"]
    assert object_from_rows(rows, {})["properties"] == {
        "a": {"type": "string", "description": "first"}}


def test_the_input_schema_is_never_changed_in_place() -> None:
    before = copy.deepcopy(NESTED)
    edit(NESTED, ("properties", "filters", "items"), {"deleted_rows": [0]})
    assert before == NESTED
