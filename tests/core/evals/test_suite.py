"""Suite files: good ones parse into cases, bad ones report every problem with line and column."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.evals.suite import load_suites, parse_suite
from core.tools.library import load_library
from core.types import ToolSpec

ROOT = Path(__file__).resolve().parents[3]
LIBRARY = {e.spec.name: e.spec for e in load_library(ROOT / "tools") if e.spec}


def parse(text: str, library: dict[str, ToolSpec] | None = None):
    return parse_suite(text, LIBRARY if library is None else library)


def test_the_shipped_suites_parse_against_the_shipped_tools() -> None:
    files = load_suites(ROOT / "evals", LIBRARY)
    assert files, "evals/ ships at least one suite"
    for f in files:
        assert f.problems == [], (f.path, [str(p) for p in f.problems])
        assert f.suite is not None and len(f.suite.cases) >= 5


def test_a_full_suite_parses_with_every_assertion_kind() -> None:
    suite, problems = parse("""
name: weather
tools: [get_current_weather, convert_units]
system: Be brief.
cases:
  - name: boston
    messages: What's the weather like in Boston today?
    expect:
      tool: get_current_weather
      args:
        location: {matches: "^Boston"}
        unit: {one_of: [celsius, fahrenheit], optional: true}
  - messages:
      - {role: user, content: convert 3 km to miles}
    expect:
      tools: [convert_units, {tool: get_current_weather, args: {location: "Paris"}}]
  - name: none
    messages: hi
    expect: {no_tool: true}
""")
    assert problems == []
    assert suite is not None and suite.name == "weather" and suite.system == "Be brief."
    assert [t.name for t in suite.tools] == ["get_current_weather", "convert_units"]
    boston, second, none = suite.cases
    assert boston.messages[0].content.startswith("What's the weather")
    location, unit = boston.expect.calls[0].args
    assert location.matches == "^Boston" and not location.optional
    assert unit.one_of == ["celsius", "fahrenheit"] and unit.optional
    assert second.name == "case 2"
    assert [c.tool for c in second.expect.calls] == ["convert_units", "get_current_weather"]
    plain = second.expect.calls[1].args[0]
    assert plain.has_equals and plain.equals == "Paris"
    assert none.expect.no_tool


def test_inline_tool_definitions_and_a_conversation_prefix() -> None:
    suite, problems = parse("""
tools:
  - name: lookup
    description: Look a word up
    parameters: {type: object, properties: {word: {type: string}}, required: [word]}
cases:
  - messages:
      - {role: user, content: define cat}
      - role: assistant
        tool_calls: [{id: c1, name: lookup, arguments: {word: cat}}]
      - {role: tool, tool_call_id: c1, content: a small feline}
    expect: {no_tool: true}
""", {})
    assert problems == [], problems
    assert suite is not None
    messages = suite.cases[0].messages
    assert [m.role for m in messages] == ["user", "assistant", "tool"]
    assert messages[1].tool_calls[0].arguments == '{"word": "cat"}'


@pytest.mark.parametrize(("text", "message", "line", "column"), [
    ("tools: [get_current_weather\ncases: []\n", "YAML syntax error", 2, 6),
    ("tools: [get_current_weather, no_such_tool]\ncases:\n  - messages: hi\n"
     "    expect: {no_tool: true}\n", "unknown tool 'no_such_tool'", 1, 30),
    ("tools: [get_current_weather]\ncases:\n  - messages: hi\n    expect:\n"
     "      tool: web_search\n", "expected tool 'web_search' is not one of", 5, 13),
    ("tools: [get_current_weather]\ncases:\n  - messages: hi\n    expect:\n"
     "      tool: get_current_weather\n      args:\n        location: {matchez: x}\n",
     "unknown assertion 'matchez'", 7, 20),
    ("tools: [get_current_weather]\ncases:\n  - messages: hi\n    expect:\n"
     "      tool: get_current_weather\n      args:\n        location: {matches: '('}\n",
     "not a valid regular expression", 7, 29),
    ("tools: [get_current_weather]\ncases:\n  - messages: hi\n    expect:\n"
     "      tool: get_current_weather\n      no_tool: true\n", "exactly one of", 5, 7),
    ("tools: [get_current_weather]\ncases:\n  - messages: hi\n    expect:\n"
     "      tool: get_current_weather\n      args:\n        unit: {schema: {type: nope}}\n",
     "not valid JSON Schema", 7, 24),
    ("tools: [get_current_weather]\ncases:\n  - messages:\n      - {role: tool, "
     "tool_call_id: x, content: hi}\n    expect: {no_tool: true}\n", "answers no earlier", 4, 9),
    ("tools: [get_current_weather]\ncases:\n  - name: a\n    messages: hi\n"
     "    expect: {no_tool: true}\n  - name: a\n    messages: hi\n    expect: {no_tool: true}\n",
     "two cases are named 'a'", 6, 11),
    ("tools: [get_current_weather]\ncases: []\n", "cases must be a non-empty list", 2, 8),
    ("- just a list\n", "a suite is a mapping", 1, 1),
    ("tools: [get_current_weather]\ncases:\n  - messages: hi\n    expect: {no_tool: true}\n"
     "    weight: 3\n", "unknown key 'weight'", 5, 5),
])
def test_a_bad_suite_names_the_problem_and_where(text: str, message: str, line: int,
                                                 column: int) -> None:
    suite, problems = parse(text)
    assert suite is None
    hits = [p for p in problems if message in p.message]
    assert hits, [str(p) for p in problems]
    assert (hits[0].line, hits[0].column) == (line, column), str(hits[0])


def test_yaml_aliases_and_tags_are_refused_safely() -> None:
    suite, problems = parse("tools: !!python/object/apply:os.system [echo]\ncases: []\n")
    assert suite is None and problems and problems[0].line == 1
    suite, problems = parse("a: &x [1]\nb: *x\n")
    assert suite is None and "aliases" in problems[0].message


def test_a_broken_file_is_listed_beside_the_good_ones(tmp_path: Path) -> None:
    (tmp_path / "good.yaml").write_text(
        "tools: [get_server_time]\ncases:\n  - messages: time?\n"
        "    expect: {tool: get_server_time}\n")
    (tmp_path / "bad.yaml").write_text("tools: [nope]\ncases: [{messages: x, expect: "
                                       "{no_tool: true}}]\n")
    bad, good = load_suites(tmp_path, LIBRARY)
    assert good.suite is not None and good.name == "good"
    assert bad.suite is None and "unknown tool 'nope'" in str(bad.problems[0])
