"""core.tools.formats: export to OpenAI / Anthropic / MCP, import from whatever people paste,
round trips through every format for every shipped tool, and the import plan."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from core.tools.formats import (
    MAX_IMPORT_BYTES,
    export,
    import_plan,
    keep_canned_results,
    parse_import,
    to_anthropic,
    to_mcp,
    to_openai,
)
from core.tools.library import load_library
from core.tools.schemas import document_from_spec, dump_text, parse_tool
from core.types import ToolSpec
from core.wire.openai_chat import tool_to_wire

ROOT = Path(__file__).resolve().parents[3]
LIBRARY = [e.spec for e in load_library(ROOT / "tools") if e.spec]
IDS = [s.name for s in LIBRARY]
FORMATS = ("openai", "anthropic", "mcp")

REFERENCE_TOOLS = [{
    "type": "function",
    "function": {
        "name": "get_current_weather",
        "description": "Get the current weather in a given location",
        "parameters": {
            "type": "object",
            "properties": {
                "location": {"type": "string",
                             "description": "The city and state, e.g. San Francisco, CA"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            },
            "required": ["location"],
        },
    },
}]


def wire_view(spec: ToolSpec, *, strict: bool = True) -> tuple[Any, ...]:
    """What a wire format carries of a spec (canned results are the library's own)."""
    return (spec.name, spec.description, spec.parameters, spec.strict if strict else None)


def imported(text: str) -> list[ToolSpec]:
    result = parse_import(text)
    assert result.problems == [], [str(p) for p in result.problems]
    return result.specs


# --- export ------------------------------------------------------------------------------------

def test_openai_export_is_the_request_tools_array() -> None:
    assert to_openai(LIBRARY) == [tool_to_wire(s) for s in LIBRARY]
    [strict] = [t for t in to_openai(LIBRARY) if t["function"]["name"] == "query_database"]
    assert strict["function"]["strict"] is True
    assert all(t["type"] == "function" for t in to_openai(LIBRARY))
    assert all("results" not in t["function"] for t in to_openai(LIBRARY))


def test_anthropic_export_uses_input_schema() -> None:
    out = to_anthropic(LIBRARY)
    assert [set(t) for t in out] == [{"name", "description", "input_schema"}] * len(LIBRARY)
    assert [t["input_schema"] for t in out] == [s.parameters for s in LIBRARY]


def test_mcp_export_is_a_tools_list_result() -> None:
    out = to_mcp(LIBRARY)
    assert list(out) == ["tools"]
    assert [set(t) for t in out["tools"]] == [{"name", "description", "inputSchema"}] * len(
        LIBRARY)
    assert [t["inputSchema"] for t in out["tools"]] == [s.parameters for s in LIBRARY]


@pytest.mark.parametrize("fmt", FORMATS)
def test_export_text_is_the_pretty_json_of_the_format(fmt: str) -> None:
    text = export(LIBRARY, fmt)  # type: ignore[arg-type]
    expected = {"openai": to_openai, "anthropic": to_anthropic, "mcp": to_mcp}[fmt](LIBRARY)
    assert json.loads(text) == expected
    assert text.endswith("\n")
    assert "\n  " in text  # indented, for people


def test_export_of_nothing() -> None:
    assert json.loads(export([], "openai")) == []
    assert json.loads(export([], "mcp")) == {"tools": []}


# --- round trips for every shipped tool --------------------------------------------------------

@pytest.mark.parametrize("spec", LIBRARY, ids=IDS)
def test_yaml_round_trip(spec: ToolSpec) -> None:
    again, problems = parse_tool(dump_text(document_from_spec(spec), "yaml"))
    assert problems == []
    assert again == spec


@pytest.mark.parametrize("spec", LIBRARY, ids=IDS)
@pytest.mark.parametrize("fmt", FORMATS)
def test_export_then_import_gives_the_spec_back(spec: ToolSpec, fmt: str) -> None:
    result = parse_import(export([spec], fmt))  # type: ignore[arg-type]
    assert result.problems == []
    assert result.formats == {fmt}
    [again] = result.specs
    # Only the OpenAI format has a place for strict; no format carries canned results.
    assert wire_view(again, strict=fmt == "openai") == wire_view(spec, strict=fmt == "openai")


@pytest.mark.parametrize("spec", LIBRARY, ids=IDS)
def test_yaml_openai_anthropic_mcp_yaml_chain(spec: ToolSpec) -> None:
    via_openai = imported(export([spec], "openai"))
    via_anthropic = imported(export(via_openai, "anthropic"))
    via_mcp = imported(export(via_anthropic, "mcp"))
    back = imported(dump_text(document_from_spec(via_mcp[0]), "yaml"))
    assert wire_view(back[0], strict=False) == wire_view(spec, strict=False)
    # And the way back: MCP → Anthropic → OpenAI is the same OpenAI tool, strict aside.
    reverse = imported(export(imported(export(back, "anthropic")), "openai"))
    expected = tool_to_wire(ToolSpec(spec.name, spec.description, spec.parameters))
    assert to_openai(reverse) == [expected]


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_whole_library_round_trips_wire_for_wire(fmt: str) -> None:
    text = export(LIBRARY, fmt)  # type: ignore[arg-type]
    assert export(imported(text), fmt) == text  # type: ignore[arg-type]


def test_yaml_export_of_an_anthropic_list_imports_too() -> None:
    text = yaml.safe_dump(to_anthropic(LIBRARY), sort_keys=False)
    assert [s.parameters for s in imported(text)] == [s.parameters for s in LIBRARY]


# --- import: the shapes people paste ------------------------------------------------------------

def test_import_a_tools_array() -> None:
    result = parse_import(json.dumps(REFERENCE_TOOLS))
    assert result.formats == {"openai"}
    [spec] = result.specs
    assert spec.name == "get_current_weather"
    assert spec.parameters == REFERENCE_TOOLS[0]["function"]["parameters"]
    assert spec.strict is None


def test_import_a_whole_openai_request_body() -> None:
    body = {"model": "gpt-4o-2024-08-06",
            "messages": [{"role": "user", "content": "What's the weather like in Boston?"}],
            "tools": REFERENCE_TOOLS, "tool_choice": "auto", "stream": True}
    assert [s.name for s in imported(json.dumps(body, indent=2))] == ["get_current_weather"]


def test_import_a_json_rpc_tools_list_response() -> None:
    response = {"jsonrpc": "2.0", "id": 7, "result": {
        "tools": [{"name": "read_file", "description": "Read a file",
                   "inputSchema": {"type": "object", "properties": {"path": {"type": "string"}},
                                   "required": ["path"]},
                   "annotations": {"readOnlyHint": True}}],
        "nextCursor": "abc"}}
    result = parse_import(json.dumps(response))
    assert result.formats == {"mcp"}
    [spec] = result.specs
    assert (spec.name, spec.parameters["required"]) == ("read_file", ["path"])


def test_import_a_tools_list_result_without_the_envelope() -> None:
    assert [s.name for s in imported(json.dumps(to_mcp(LIBRARY)))] == IDS


def test_import_a_bare_openai_function_tool() -> None:
    result = parse_import(json.dumps(REFERENCE_TOOLS[0]))
    assert result.formats == {"openai"}
    assert [s.name for s in result.specs] == ["get_current_weather"]


def test_import_a_bare_function_definition() -> None:
    function = {**REFERENCE_TOOLS[0]["function"], "strict": False}
    result = parse_import(json.dumps(function))
    assert result.formats == {"function"}
    [spec] = result.specs
    assert (spec.name, spec.strict) == ("get_current_weather", False)


def test_import_yaml_in_the_library_shape_keeps_canned_results() -> None:
    text = ("- name: lookup\n  description: Look something up\n  parameters:\n"
            "    type: object\n    properties:\n      q: {type: string}\n"
            "  results:\n    ok: '{\"hits\": 3}'\n"
            "- name: ping\n  description: Ping\n")
    specs = imported(text)
    assert [s.name for s in specs] == ["lookup", "ping"]
    assert specs[0].results == {"ok": '{"hits": 3}'}
    assert specs[1].parameters == {"type": "object", "properties": {}}


def test_import_yaml_of_an_openai_tools_array() -> None:
    result = parse_import(yaml.safe_dump(REFERENCE_TOOLS))
    assert result.formats == {"openai"}
    assert result.specs[0].parameters == REFERENCE_TOOLS[0]["function"]["parameters"]


def test_import_a_mixed_list() -> None:
    mixed = [REFERENCE_TOOLS[0], *to_anthropic(LIBRARY[:1]), *to_mcp(LIBRARY[1:2])["tools"]]
    result = parse_import(json.dumps(mixed))
    assert result.problems == []
    assert result.formats == {"openai", "anthropic", "mcp"}
    assert len(result.specs) == 3


def test_an_empty_list_imports_nothing_without_problems() -> None:
    for text in ("[]", '{"tools": []}', '{"jsonrpc": "2.0", "id": 1, "result": {"tools": []}}'):
        result = parse_import(text)
        assert (result.specs, result.problems) == ([], [])


# --- import: wrong shapes and sizes -------------------------------------------------------------

@pytest.mark.parametrize("text", [
    '{"model": "gpt-4o", "messages": []}',
    '"just text"',
    "42",
    "a plain sentence",
    '{"jsonrpc": "2.0", "id": 1, "error": {"code": -32601, "message": "Method not found"}}',
    "key: value\nother: 1\n",
])
def test_no_tool_list_found(text: str) -> None:
    result = parse_import(text)
    assert result.specs == []
    [problem] = result.problems
    assert problem.message.startswith("no tool list found")
    assert "OpenAI" in problem.message and "Anthropic" in problem.message \
        and "MCP" in problem.message


def test_items_that_are_no_tool_are_named_by_index() -> None:
    text = json.dumps([REFERENCE_TOOLS[0], 3, {"description": "no name"}, ["x"]])
    result = parse_import(text)
    assert [s.name for s in result.specs] == ["get_current_weather"]
    assert [(p.pointer, p.message) for p in result.problems] == [
        ("/1", "not a tool definition in any known format"),
        ("/2", "not a tool definition in any known format"),
        ("/3", "not a tool definition in any known format"),
    ]


def test_invalid_tools_are_reported_with_pointers_and_the_rest_imports() -> None:
    bad_name = {"type": "function", "function": {"name": "get weather", "description": "d",
                                                 "parameters": {"type": "object"}}}
    bad_schema = {"name": "x", "description": "d",
                  "input_schema": {"type": "object", "properties": {"n": {"type": "integr"}}}}
    no_description = {"name": "y", "inputSchema": {"type": "object"}}
    array_top = {"name": "z", "description": "d", "parameters": {"type": "array"}}
    result = parse_import(json.dumps([bad_name, REFERENCE_TOOLS[0], bad_schema, no_description,
                                      array_top]))
    assert [s.name for s in result.specs] == ["get_current_weather"]
    assert [p.pointer for p in result.problems] == [
        "/0/name", "/2/parameters/properties/n/type", "/3/description", "/4/parameters/type"]


def test_syntax_errors_have_line_and_column() -> None:
    result = parse_import('[\n  {"name": "a",\n   "description": }\n]')
    [problem] = result.problems
    assert (problem.line, problem.column) == (3, 19)
    assert problem.message.startswith("JSON syntax error")
    result = parse_import("- name: a\n  description: [x\n")
    [problem] = result.problems
    assert problem.message.startswith("YAML syntax error")
    assert problem.line == 3


def test_oversize_input_is_refused_before_parsing() -> None:
    # Just over the cap in bytes (é is two bytes in UTF-8), though under it in characters.
    text = '["' + "é" * (MAX_IMPORT_BYTES // 2) + '"]'
    assert len(text) < MAX_IMPORT_BYTES < len(text.encode())
    result = parse_import(text)
    assert result.specs == []
    [problem] = result.problems
    assert problem.message == "the import is larger than 1 MB; split it"


def test_input_at_the_cap_is_read() -> None:
    tool = json.dumps(REFERENCE_TOOLS[0])
    text = "[" + tool + "]"
    text += " " * (MAX_IMPORT_BYTES - len(text))
    assert len(text.encode()) == MAX_IMPORT_BYTES
    assert [s.name for s in imported(text)] == ["get_current_weather"]


def alias_bomb(levels: int) -> str:
    """A few hundred bytes of YAML whose aliases expand to 10**levels schema objects."""
    lines = ["defs:", "  l0: &l0 {type: string}"]
    for i in range(1, levels + 1):
        refs = ", ".join(f"k{j}: *l{i - 1}" for j in range(10))
        lines.append(f"  l{i}: &l{i} {{type: object, properties: {{{refs}}}}}")
    lines += ["tools:", "  - name: bomb", "    description: d", f"    parameters: *l{levels}"]
    return "\n".join(lines) + "\n"


@pytest.mark.timeout(3)
def test_yaml_aliases_cannot_get_round_the_size_cap() -> None:
    text = alias_bomb(5)
    assert len(text.encode()) < 1000
    result = parse_import(text)
    assert result.specs == []
    assert result.problems


# --- the import plan ---------------------------------------------------------------------------

def test_import_plan_says_add_or_replace() -> None:
    incoming = imported(json.dumps([*REFERENCE_TOOLS, {"name": "new_one", "description": "d"}]))
    plan = import_plan(incoming, {"get_current_weather", "web_search"})
    assert plan == [("replace", "get_current_weather"), ("add", "new_one")]
    assert import_plan(incoming, set()) == [("add", "get_current_weather"), ("add", "new_one")]
    assert import_plan([], {"a"}) == []


def test_a_name_twice_in_one_import_is_a_problem_and_the_first_is_kept() -> None:
    result = parse_import(json.dumps([
        {"name": "dup", "description": "A", "input_schema": {"type": "object"}},
        {"name": "other", "description": "B", "input_schema": {"type": "object"}},
        {"name": "dup", "description": "C", "input_schema": {"type": "object"}}]))
    assert [(s.name, s.description) for s in result.specs] == [("dup", "A"), ("other", "B")]
    [problem] = result.problems
    assert problem.pointer == "/2" and "second tool named 'dup' (the first is /0)" in str(problem)


def test_an_import_keeps_the_canned_results_of_the_tool_it_replaces() -> None:
    old = ToolSpec("w", "old", {"type": "object"}, results={"ok": '{"t": 1}'})
    bare = ToolSpec("w", "new", {"type": "object"})
    own = ToolSpec("w", "new", {"type": "object"}, results={"mine": "x"})
    assert keep_canned_results(bare, old).results == {"ok": '{"t": 1}'}
    assert keep_canned_results(own, old).results == {"mine": "x"}  # its own win
    assert keep_canned_results(bare, None) is bare
    assert import_plan([bare, own], {"w": old}) == [
        ("replace, keeping its canned results", "w"), ("replace", "w")]


def test_yaml_flow_style_that_starts_with_a_brace_is_read_as_yaml() -> None:
    result = parse_import("{name: lookup, description: Look it up, "
                          "parameters: {type: object, properties: {}}}")
    assert result.problems == []
    assert [s.name for s in result.specs] == ["lookup"]
