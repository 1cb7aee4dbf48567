"""core.tools.schemas: parsing with line/column, provider rules with JSON pointers, the metaschema,
the strict-mode linter and its fix, argument checks, set rules and the token estimate."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from core.tools.library import load_library
from core.tools.schemas import (
    MAX_TOOLS,
    Problem,
    ToolFileError,
    document_from_spec,
    dropped_by_make_strict,
    dump_text,
    estimate_tokens,
    make_strict,
    metaschema_problems,
    parse_text,
    parse_tool,
    parse_tool_yaml,
    pointer,
    set_problems,
    strict_document,
    strict_problems,
    structure_problems,
)
from core.tools.schemas import argument_violations as violations_of
from core.types import ToolSpec

ROOT = Path(__file__).resolve().parents[3]
LIBRARY = [e.spec for e in load_library(ROOT / "tools") if e.spec]
WEATHER = {
    "type": "object",
    "properties": {
        "location": {"type": "string", "description": "The city and state"},
        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
    },
    "required": ["location"],
}


def doc(**overrides: Any) -> dict[str, Any]:
    base = {"name": "get_current_weather", "description": "Get the weather",
            "parameters": copy.deepcopy(WEATHER)}
    base.update(overrides)
    return base


def pointers(problems: list[Problem]) -> list[str]:
    return [p.pointer for p in problems]


# --- parse_text: syntax errors with line and column -------------------------------------------

YAML_CASES = [
    # text, line, column (1-based) of the reported mark
    ("name: a\ndescription: b\nparameters:\n  type: object\n\tproperties: {}\n", 5, 1),
    ("name: a\ndescription: 'unterminated\n", 3, 1),
    ("name: a\nparameters: {type: object\n", 3, 1),
    ("name: a\ndescription: x\n  bad: indent\n", 3, 6),
    ("- a\nb: c\n", 2, 1),
]


@pytest.mark.parametrize(("text", "line", "column"), YAML_CASES)
def test_yaml_syntax_errors_report_line_and_column(text: str, line: int, column: int) -> None:
    data, [problem] = parse_text(text, "yaml")
    assert data is None
    assert problem.message.startswith("YAML syntax error")
    assert (problem.line, problem.column) == (line, column)
    assert problem.where() == f"line {line}, column {column}"
    assert str(problem).startswith(f"line {line}, column {column}: YAML syntax error")


JSON_CASES = [
    ('{\n  "name": "a",\n  "description": }\n', 3, 18, "Expecting value"),
    ('{\n  "name": "a"\n  "description": "b"\n}\n', 3, 3, "Expecting ',' delimiter"),
    ('{"name": "a",}', 1, 14, "Expecting property name enclosed in double quotes"),
    ('{\n  "name": "a"\n', 3, 1, "Expecting ',' delimiter"),
    ("{'name': 'a'}", 1, 2, "Expecting property name enclosed in double quotes"),
]


@pytest.mark.parametrize(("text", "line", "column", "message"), JSON_CASES)
def test_json_syntax_errors_report_line_and_column(text: str, line: int, column: int,
                                                   message: str) -> None:
    data, [problem] = parse_text(text, "json")
    assert data is None
    assert problem.message == f"JSON syntax error: {message}"
    assert (problem.line, problem.column) == (line, column)


def test_yaml_is_loaded_safely() -> None:
    """No Python tags: safe_load refuses them, with a location, and runs nothing."""
    data, [problem] = parse_text("name: !!python/object/apply:os.system ['echo pwned']\n", "yaml")
    assert data is None
    assert "tag:yaml.org,2002:python/object/apply:os.system is not allowed" in problem.message
    assert (problem.line, problem.column) == (1, 7)


def test_yaml_aliases_are_refused_where_they_are() -> None:
    data, [problem] = parse_text("a: &x 1\nb: *x\n", "yaml")
    assert data is None and "aliases" in problem.message
    assert (problem.line, problem.column) == (2, 4)


def test_parse_text_accepts_both_formats() -> None:
    assert parse_text("name: a\nlist: [1, 2]\n", "yaml") == ({"name": "a", "list": [1, 2]}, [])
    assert parse_text('{"name": "a"}', "json") == ({"name": "a"}, [])


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_dump_then_parse_is_lossless_and_keeps_key_order(fmt: str) -> None:
    document = {"name": "zeta", "description": "Ünïcode — “quotes”: yes, #hash, 'single'",
                "strict": True, "parameters": {"type": "object", "properties": {
                    "z": {"type": "string"}, "a": {"type": ["number", "null"]},
                    "on": {"type": "boolean", "enum": [True, False]}},
                    "required": ["z", "a", "on"], "additionalProperties": False},
                "results": {"ok": '{"a": 1}', "no": "yes"}}
    text = dump_text(document, fmt)
    data, problems = parse_text(text, fmt)
    assert problems == []
    assert data == document
    assert list(data) == list(document)
    assert list(data["parameters"]["properties"]) == ["z", "a", "on"]
    assert "Ünïcode" in text  # written as text, not escaped


# --- structure_problems: the provider rules ---------------------------------------------------

def test_a_good_tool_has_no_problems() -> None:
    assert structure_problems(doc()) == []
    assert structure_problems(doc(strict=False)) == []


@pytest.mark.parametrize("name", ["a", "get-weather_2", "A" * 64, "x-y-z"])
def test_names_the_providers_accept(name: str) -> None:
    assert structure_problems(doc(name=name)) == []


@pytest.mark.parametrize("name", ["", "A" * 65, "get weather", "weather.get", "wetter_ä",
                                  "a/b", None, 42, ["a"]])
def test_names_the_providers_refuse(name: Any) -> None:
    [problem] = structure_problems(doc(name=name))
    assert problem.pointer == "/name"
    assert "1-64 letters, digits, '_' or '-'" in problem.message
    assert repr(name) in problem.message


@pytest.mark.parametrize("description", ["", "   ", None, 3])
def test_description_is_required(description: Any) -> None:
    [problem] = structure_problems(doc(description=description))
    assert problem.pointer == "/description"
    assert "description is missing" in problem.message


def test_description_missing_altogether() -> None:
    document = doc()
    del document["description"]
    assert pointers(structure_problems(document)) == ["/description"]


@pytest.mark.parametrize("top", [
    {"type": "array", "items": {"type": "string"}},
    {"properties": {"a": {"type": "string"}}},
    {"type": "string"},
])
def test_parameters_must_be_type_object_at_the_top(top: dict[str, Any]) -> None:
    problems = structure_problems(doc(parameters=top))
    assert pointers(problems) == ["/parameters/type"]
    assert "type: object at the top" in problems[0].message


@pytest.mark.parametrize("params", [[], "object", 3, None])
def test_parameters_must_be_a_mapping(params: Any) -> None:
    problems = structure_problems(doc(parameters=params))
    assert pointers(problems) == ["/parameters"]


def test_parameters_may_be_left_out() -> None:
    document = doc()
    del document["parameters"]
    assert structure_problems(document) == []
    spec, _ = parse_tool(json.dumps(document), "json")
    assert spec is not None
    assert spec.parameters == {"type": "object", "properties": {}}


@pytest.mark.parametrize("strict", ["yes", 1, "true", []])
def test_strict_must_be_a_boolean(strict: Any) -> None:
    assert pointers(structure_problems(doc(strict=strict))) == ["/strict"]


@pytest.mark.parametrize("results", [["ok"], {"ok": {"a": 1}}, "ok", {"ok": 3}])
def test_canned_results_must_map_names_to_text(results: Any) -> None:
    assert pointers(structure_problems(doc(results=results))) == ["/results"]


@pytest.mark.parametrize("document", [[], "a tool", 3, None])
def test_a_document_that_is_not_a_mapping(document: Any) -> None:
    [problem] = structure_problems(document)
    assert "must be a mapping" in problem.message
    assert problem.pointer == ""
    assert problem.where() == "/"


def test_every_problem_of_a_bad_tool_carries_a_pointer() -> None:
    bad = {
        "name": "bad name!",
        "description": "",
        "strict": "yes",
        "results": ["ok"],
        "parameters": {
            "type": "object",
            "properties": {
                "count": {"type": "integr", "minimum": "one"},
                "tags": {"type": "array", "items": {"type": "string"}, "minItems": -1},
                "when": {"type": "object", "properties": {"a/b~c": {"type": 7}}},
            },
            "required": "count",
        },
    }
    problems = structure_problems(bad)
    assert sorted(pointers(problems)) == sorted([
        "/name",
        "/description",
        "/parameters/properties/count/minimum",
        "/parameters/properties/count/type",
        "/parameters/properties/tags/minItems",
        "/parameters/properties/when/properties/a~1b~0c/type",
        "/parameters/required",
        "/strict",
        "/results",
    ])
    assert all(p.pointer.startswith("/") for p in problems)
    assert all(p.line is None for p in problems)
    assert all(p.severity == "error" for p in problems)
    spec, reported = parse_tool(json.dumps(bad), "json")
    assert spec is None
    assert reported == problems


# --- metaschema -------------------------------------------------------------------------------

@pytest.mark.parametrize(("schema", "where", "words"), [
    ({"type": "object", "properties": {"a": {"type": "strng"}}}, "/properties/a/type",
     "is not valid under any of the given schemas"),
    ({"type": "object", "properties": []}, "/properties", "is not of type 'object'"),
    ({"type": "object", "required": "a"}, "/required", "is not of type 'array'"),
    ({"type": "object", "required": ["a", "a"]}, "/required", "non-unique elements"),
    ({"type": "object", "properties": {"a": {"enum": "x"}}}, "/properties/a/enum",
     "is not of type 'array'"),
    ({"type": "object", "properties": {"a": {"type": "string", "maxLength": -2}}},
     "/properties/a/maxLength", "less than the minimum"),
])
def test_metaschema_problems_name_the_place(schema: dict[str, Any], where: str,
                                            words: str) -> None:
    problems = metaschema_problems(schema)
    assert [p.pointer for p in problems] == [f"/parameters{where}"]
    assert problems[0].message.startswith("not valid JSON Schema: ")
    assert words in problems[0].message


@pytest.mark.parametrize("schema", [
    {"type": "object", "properties": {"location": "string"}},
    {"type": "object", "additionalProperties": "no"},
])
def test_each_metaschema_problem_is_listed_once(schema: dict[str, Any]) -> None:
    problems = metaschema_problems(schema)
    assert len(problems) == 1, [str(p) for p in problems]


def test_a_subschema_that_is_not_a_schema_is_reported_where_it_is() -> None:
    problems = metaschema_problems({"type": "object", "properties": {"location": "string"}})
    assert {p.pointer for p in problems} == {"/parameters/properties/location"}
    assert "'string' is not of type 'object', 'boolean'" in problems[0].message


def test_metaschema_accepts_the_whole_library() -> None:
    assert len(LIBRARY) >= 5
    for spec in LIBRARY:
        assert metaschema_problems(spec.parameters) == [], spec.name


def test_unknown_keywords_are_not_a_metaschema_error() -> None:
    """JSON Schema allows extra keywords; the strict linter is what flags them."""
    schema = {"type": "object", "properties": {"a": {"type": "string", "x-ui": "wide"}}}
    assert metaschema_problems(schema) == []


def test_pointer_escapes_tilde_and_slash() -> None:
    assert pointer([]) == ""
    assert pointer(["properties", "a/b", "c~d", 0]) == "/properties/a~1b/c~0d/0"


# --- the strict-mode linter ------------------------------------------------------------------

CLOSED_WEATHER = {
    "type": "object",
    "properties": {"location": {"type": "string"},
                   "unit": {"type": ["string", "null"], "enum": ["celsius", "fahrenheit", None]}},
    "required": ["location", "unit"],
    "additionalProperties": False,
}


def test_a_strict_schema_passes() -> None:
    assert strict_problems(CLOSED_WEATHER) == []
    assert structure_problems(doc(strict=True, parameters=CLOSED_WEATHER)) == []


def test_strict_needs_additional_properties_false() -> None:
    schema = {**CLOSED_WEATHER}
    del schema["additionalProperties"]
    [problem] = strict_problems(schema)
    assert problem.pointer == "/parameters"
    assert "additionalProperties: false" in problem.message
    assert strict_problems({**CLOSED_WEATHER, "additionalProperties": True})[0].pointer == \
        "/parameters"


def test_strict_needs_every_property_required() -> None:
    [problem] = strict_problems({**CLOSED_WEATHER, "required": ["location"]})
    assert problem.pointer == "/parameters/required"
    assert problem.message.endswith("not listed: unit")
    assert '"null"' in problem.message  # says how to spell optional


def test_strict_flags_unsupported_keywords_where_they_are() -> None:
    schema = copy.deepcopy(CLOSED_WEATHER)
    schema["properties"]["location"].update(minLength=2, default="Boston")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    problems = strict_problems(schema)
    assert sorted(pointers(problems)) == [
        "/parameters/$schema",
        "/parameters/properties/location/default",
        "/parameters/properties/location/minLength",
    ]
    assert all("does not accept the keyword" in p.message for p in problems)


def test_property_names_are_not_mistaken_for_keywords() -> None:
    schema = {"type": "object", "properties": {"default": {"type": "string"},
                                               "minLength": {"type": "integer"}},
              "required": ["default", "minLength"], "additionalProperties": False}
    assert strict_problems(schema) == []


def test_strict_checks_nested_objects_arrays_of_objects_and_any_of() -> None:
    schema = {
        "type": "object",
        "properties": {
            "location": {"type": "object", "properties": {"kind": {"type": "string"},
                                                          "value": {"type": "string"}},
                         "required": ["kind"]},
            "attendees": {"type": "array", "items": {
                "type": "object", "properties": {"email": {"type": "string"}},
                "required": ["email"]}},
            "when": {"anyOf": [{"type": "string"}, {"type": "object", "properties": {
                "start": {"type": "string"}}, "additionalProperties": False}]},
        },
        "required": ["location", "attendees", "when"],
        "additionalProperties": False,
    }
    found = {(p.pointer, "additionalProperties" in p.message) for p in strict_problems(schema)}
    assert found == {
        ("/parameters/properties/location", True),
        ("/parameters/properties/location/required", False),
        ("/parameters/properties/attendees/items", True),
        ("/parameters/properties/when/anyOf/1/required", False),
    }


def test_strict_checks_defs() -> None:
    schema = {"type": "object", "properties": {"home": {"$ref": "#/$defs/address"}},
              "required": ["home"], "additionalProperties": False,
              "$defs": {"address": {"type": "object", "properties": {"city": {"type": "string"}},
                                    "minProperties": 1}}}
    assert sorted(pointers(strict_problems(schema))) == [
        "/parameters/$defs/address",
        "/parameters/$defs/address/minProperties",
        "/parameters/$defs/address/required",
    ]


def test_strict_problems_appear_only_for_strict_tools() -> None:
    loose = {"type": "object", "properties": {"a": {"type": "string", "default": "x"}}}
    assert structure_problems(doc(parameters=loose)) == []
    assert structure_problems(doc(parameters=loose, strict=False)) == []
    problems = structure_problems(doc(parameters=loose, strict=True))
    assert sorted(pointers(problems)) == ["/parameters", "/parameters/properties/a/default",
                                          "/parameters/required"]


# --- make_strict ------------------------------------------------------------------------------

RICH = {
    "type": "object",
    "description": "kept",
    "properties": {
        "query": {"type": "string", "minLength": 1},
        "max_results": {"type": "integer", "minimum": 1, "maximum": 10, "default": 5},
        "recency": {"type": "string", "enum": ["day", "week"]},
        "mode": {"enum": ["fast", "slow"]},
        "tags": {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
        "filters": {"type": "object", "properties": {
            "lang": {"type": "string"}, "safe": {"type": "boolean"}}, "required": ["lang"]},
        "people": {"type": "array", "items": {"type": "object", "properties": {
            "email": {"type": "string", "format": "email"}, "name": {"type": "string"}},
            "required": ["email"]}},
        "when": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
        "either": {"type": ["string", "number"]},
    },
    "required": ["query"],
}


def test_make_strict_rewrites_everything_the_linter_flags() -> None:
    assert strict_problems(RICH)  # plenty to fix
    strict = make_strict(RICH)
    assert strict_problems(strict) == []
    assert metaschema_problems(strict) == []
    props = strict["properties"]
    assert strict["required"] == list(RICH["properties"])
    assert strict["additionalProperties"] is False
    assert strict["description"] == "kept"
    assert props["query"] == {"type": "string"}  # required: not nullable; minLength dropped
    assert props["max_results"] == {"type": ["integer", "null"], "minimum": 1, "maximum": 10}
    assert props["recency"] == {"type": ["string", "null"], "enum": ["day", "week", None]}
    assert props["mode"] == {"enum": ["fast", "slow", None]}
    assert props["tags"] == {"type": ["array", "null"], "items": {"type": "string"}}
    assert props["filters"]["type"] == ["object", "null"]
    assert props["filters"]["required"] == ["lang", "safe"]
    assert props["filters"]["properties"]["lang"] == {"type": "string"}
    assert props["filters"]["properties"]["safe"] == {"type": ["boolean", "null"]}
    assert props["people"]["items"]["required"] == ["email", "name"]
    assert props["people"]["items"]["additionalProperties"] is False
    assert props["people"]["items"]["properties"]["email"] == {"type": "string",
                                                               "format": "email"}
    assert props["when"] == {"anyOf": [{"type": "string"}, {"type": "integer"},
                                       {"type": "null"}]}
    assert props["either"] == {"type": ["string", "number", "null"]}
    assert RICH["required"] == ["query"]  # the input is not changed


def test_make_strict_keeps_the_meaning_of_optional_properties() -> None:
    """Leaving an optional property out used to be fine; after the rewrite, null says so."""
    strict = make_strict(RICH)
    validator = jsonschema.Draft202012Validator(strict)
    omitted = {"query": "q", **{k: None for k in RICH["properties"] if k != "query"}}
    assert list(validator.iter_errors(omitted)) == []
    assert list(validator.iter_errors({**omitted, "query": None})) != []  # required stays


def test_make_strict_is_idempotent() -> None:
    once = make_strict(RICH)
    assert make_strict(once) == once
    for spec in LIBRARY:
        once = make_strict(spec.parameters)
        assert make_strict(once) == once, spec.name
        assert strict_problems(once) == [], spec.name


def test_already_strict_schemas_are_unchanged() -> None:
    assert make_strict(CLOSED_WEATHER) == CLOSED_WEATHER
    [query_database] = [s for s in LIBRARY if s.name == "query_database"]
    assert query_database.strict is True
    assert make_strict(query_database.parameters) == query_database.parameters


def test_make_strict_on_a_tool_without_parameters() -> None:
    assert make_strict({"type": "object", "properties": {}}) == {
        "type": "object", "properties": {}, "required": [], "additionalProperties": False}


def test_strict_document_sets_the_flag_and_rewrites_parameters() -> None:
    document = doc(results={"ok": "{}"})
    out = strict_document(document)
    assert out["strict"] is True
    assert out["parameters"] == make_strict(WEATHER)
    assert out["results"] == {"ok": "{}"}
    assert "strict" not in document
    assert structure_problems(out) == []
    no_params = {"name": "ping", "description": "Ping"}
    assert strict_document(no_params)["parameters"]["additionalProperties"] is False


def test_make_strict_makes_an_optional_ref_nullable() -> None:
    schema = {"type": "object",
              "$defs": {"address": {"type": "object", "properties": {"city": {"type": "string"}},
                                    "required": ["city"], "additionalProperties": False}},
              "properties": {"name": {"type": "string"},
                             "home": {"$ref": "#/$defs/address"}},
              "required": ["name"]}
    strict = make_strict(schema)
    assert strict["required"] == ["name", "home"]
    errors = list(jsonschema.Draft202012Validator(strict).iter_errors(
        {"name": "Ada", "home": None}))
    assert errors == []


# --- argument_violations ---------------------------------------------------------------------

def test_valid_arguments_have_no_violations() -> None:
    assert violations_of({"location": "Boston, MA"}, WEATHER) == []
    assert violations_of({"location": "Boston, MA", "unit": "celsius"}, WEATHER) == []


def test_wrong_type_names_pointer_and_value() -> None:
    [v] = violations_of({"location": 42}, WEATHER)
    assert (v.pointer, v.value) == ("/location", 42)
    assert "is not of type 'string'" in v.message


def test_enum_violation() -> None:
    [v] = violations_of({"location": "Boston", "unit": "kelvin"}, WEATHER)
    assert (v.pointer, v.value) == ("/unit", "kelvin")
    assert "is not one of ['celsius', 'fahrenheit']" in v.message


def test_missing_required_points_at_the_object() -> None:
    [v] = violations_of({"unit": "celsius"}, WEATHER)
    assert v.pointer == ""
    assert "'location' is a required property" in v.message
    assert v.value == {"unit": "celsius"}


def test_nested_violations_have_deep_pointers_in_order() -> None:
    [calendar] = [s for s in LIBRARY if s.name == "create_calendar_event"]
    arguments = {"title": "Sync", "start": "2026-12-01T09:30:00+01:00",
                 "duration_minutes": 2,
                 "attendees": [{"email": "a@example.com"}, {"optional": "yes"}],
                 "location": {"kind": "moon", "value": "Tranquility Base"}}
    found = [(v.pointer, v.value) for v in violations_of(arguments, calendar.parameters)]
    assert found == [
        ("/attendees/1", {"optional": "yes"}),  # email missing
        ("/attendees/1/optional", "yes"),
        ("/duration_minutes", 2),
        ("/location/kind", "moon"),
    ]


def test_arguments_that_are_not_an_object() -> None:
    [v] = violations_of(["Boston"], WEATHER)
    assert (v.pointer, v.value) == ("", ["Boston"])
    assert "is not of type 'object'" in v.message


def test_strict_schema_refuses_extra_arguments() -> None:
    [v] = violations_of({"location": "x", "unit": None, "extra": 1}, CLOSED_WEATHER)
    assert "Additional properties are not allowed ('extra' was unexpected)" in v.message


def test_pointer_escaping_in_violations() -> None:
    schema = {"type": "object", "properties": {"a/b": {"type": "integer"}}}
    [v] = violations_of({"a/b": "x"}, schema)
    assert v.pointer == "/a~1b"


@pytest.mark.parametrize("schema", [
    {"type": "strng"},
    {"type": "object", "properties": {"a": {"$ref": "#/$defs/missing"}}},
    {"$ref": "https://example.invalid/schema.json"},
    pytest.param({"type": "object", "properties": ["a"]}),
    pytest.param({"type": "object", "properties": {"a": {"type": "string", "pattern": "("}}}),
    pytest.param({"type": 5}),
])
def test_a_broken_schema_is_a_violation_not_a_crash(schema: dict[str, Any]) -> None:
    found = violations_of({"a": "x"}, schema)
    assert found, "a schema that cannot be used must not pass the arguments"
    assert any("the schema itself could not be used" in v.message for v in found)


def test_a_pattern_that_is_not_a_regex_is_reported() -> None:
    params = {"type": "object", "properties": {"code": {"type": "string", "pattern": "("}}}
    problems = structure_problems(doc(parameters=params))
    assert pointers(problems) == ["/parameters/properties/code/pattern"]


def test_a_yaml_value_that_is_not_json_is_reported_or_read_as_text() -> None:
    text = ("name: book_day\ndescription: Book a day\nparameters:\n  type: object\n"
            "  properties:\n    day:\n      type: string\n      default: 2026-12-01\n")
    spec, problems = parse_tool(text)
    if spec is None:
        assert [p.pointer for p in problems] == ["/parameters/properties/day/default"]
    else:
        json.dumps(spec.parameters)  # what is sent to a model must be JSON
        assert estimate_tokens(spec) > 0


# --- parse_tool / parse_tool_yaml ------------------------------------------------------------

def test_parse_tool_reads_every_field() -> None:
    text = dump_text(doc(strict=False, results={"ok": "sunny"}), "yaml")
    spec, problems = parse_tool(text)
    assert problems == []
    assert spec == ToolSpec("get_current_weather", "Get the weather", WEATHER, False,
                            {"ok": "sunny"})


def test_parse_tool_yaml_raises_with_every_problem() -> None:
    with pytest.raises(ToolFileError) as caught:
        parse_tool_yaml("name: 'a b'\ndescription: ''\nparameters: {type: array}\n")
    assert pointers(caught.value.problems) == ["/name", "/description", "/parameters/type"]
    assert "/name:" in str(caught.value)
    with pytest.raises(ToolFileError) as caught:
        parse_tool_yaml("name: [\n")
    assert caught.value.problems[0].line == 2


def test_document_from_spec_round_trip_for_the_library() -> None:
    for spec in LIBRARY:
        for fmt in ("yaml", "json"):
            again, problems = parse_tool(dump_text(document_from_spec(spec), fmt), fmt)
            assert problems == [], (spec.name, fmt)
            assert again == spec, (spec.name, fmt)


# --- sets of tools -----------------------------------------------------------------------------

def tool(name: str, description: str = "Does a thing") -> ToolSpec:
    return ToolSpec(name, description, {"type": "object", "properties": {}})


def test_set_rules_pass_for_unique_names() -> None:
    assert set_problems([]) == []
    assert set_problems(LIBRARY) == []
    assert set_problems([tool(f"t{i}") for i in range(MAX_TOOLS)]) == []


def test_duplicate_names_are_reported_once_per_repeat() -> None:
    problems = set_problems([tool("a"), tool("b"), tool("a"), tool("a")])
    assert len(problems) == 2
    assert all("'a'" in p.message and "unique" in p.message for p in problems)


def test_more_than_128_tools() -> None:
    [problem] = set_problems([tool(f"t{i}") for i in range(MAX_TOOLS + 1)])
    assert "129 tools are enabled" in problem.message
    assert "at most 128" in problem.message


# --- the token estimate -----------------------------------------------------------------------

def test_estimate_grows_with_the_description() -> None:
    sizes = [estimate_tokens(tool("t", "x" * n)) for n in (10, 100, 1000, 10_000)]
    assert sizes == sorted(sizes)
    assert len(set(sizes)) == 4
    # ≈ characters / 4: 9,000 more characters cost ≈ 2,250 more tokens
    assert sizes[3] - sizes[2] == pytest.approx(2250, abs=2)


def test_estimate_is_compact_json_over_four() -> None:
    spec = LIBRARY[0]
    body = {"type": "function", "function": {"name": spec.name, "description": spec.description,
                                             "parameters": spec.parameters}}
    chars = len(json.dumps(body, separators=(",", ":"), ensure_ascii=False))
    assert estimate_tokens(spec) == max(1, round(chars / 4))
    assert estimate_tokens(tool("t", "")) >= 1


def test_bigger_schemas_cost_more() -> None:
    by_name = {s.name: estimate_tokens(s) for s in LIBRARY}
    assert by_name["get_server_time"] < by_name["get_current_weather"] \
        < by_name["create_calendar_event"]


ODD_STRICT = [
    {"type": "object", "properties": {"a": {"type": "object", "properties": ["x", "y"]}}},
    {"type": "object", "properties": {"a": {"type": "string"}}, "required": 5},
    {"type": "object", "properties": "nope"},
]


@pytest.mark.parametrize("parameters", ODD_STRICT)
def test_strict_checks_of_an_odd_schema_report_instead_of_raising(
        parameters: dict[str, Any]) -> None:
    document = {"name": "zz_bad", "description": "d", "strict": True, "parameters": parameters}
    problems = structure_problems(document)
    assert any("not valid JSON Schema" in p.message for p in problems), problems
    make_strict(parameters)  # the Make strict preview must not raise either


def test_a_check_that_trips_is_reported_as_a_problem_of_the_document(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import core.tools.schemas as schemas

    def trips(_: Any) -> list[Problem]:
        raise KeyError("surprise")

    monkeypatch.setattr(schemas, "metaschema_problems", trips)
    [problem] = structure_problems({"name": "x", "description": "d",
                                    "parameters": {"type": "object"}})
    assert "could not be checked (KeyError" in problem.message


def test_make_strict_turns_one_of_into_any_of_and_says_what_it_drops() -> None:
    parameters = {"type": "object", "properties": {
        "id": {"oneOf": [{"type": "string"}, {"type": "integer"}]},
        "name": {"type": "string", "minLength": 2, "default": "x"}}, "required": ["id"]}
    strict = make_strict(parameters)
    assert strict["properties"]["id"] == {"anyOf": [{"type": "string"}, {"type": "integer"}]}
    assert strict["properties"]["name"] == {"type": ["string", "null"]}
    assert strict_problems(strict) == []
    assert dropped_by_make_strict(parameters) == [
        "/parameters/properties/name/minLength", "/parameters/properties/name/default"]
