"""core.tools.library: the tools/ directory — loading (broken files listed, not fatal), saving with
renames, deleting, and names for duplicates. Every test works on a copy in tmp_path."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from core.tools.library import (
    MAX_TOOL_FILE_BYTES,
    delete_tool,
    free_name,
    load_library,
    path_for,
    save_tool,
)
from core.tools.schemas import NAME_RULE, ToolFileError, parse_tool, parse_tool_yaml
from core.types import ToolSpec
from tests.support.stack import run_with_small_stack

ROOT = Path(__file__).resolve().parents[3]
SHIPPED = sorted(p.name for p in (ROOT / "tools").glob("*.yaml"))
BROKEN_YAML = "name: broken\ndescription: [unclosed\nparameters:\n  type: object\n"


@pytest.fixture
def tools_dir(tmp_path: Path) -> Path:
    target = tmp_path / "tools"
    shutil.copytree(ROOT / "tools", target)
    return target


def spec(name: str = "lookup", description: str = "Look something up") -> ToolSpec:
    return ToolSpec(name, description, {"type": "object", "properties": {
        "q": {"type": "string"}}, "required": ["q"]}, results={"ok": '{"hits": 1}'})


# --- loading -----------------------------------------------------------------------------------

def test_the_shipped_library_loads_cleanly(tools_dir: Path) -> None:
    entries = load_library(tools_dir)
    assert [e.path.name for e in entries] == SHIPPED
    assert len(entries) >= 5
    for entry in entries:
        assert entry.spec is not None, entry.error
        assert entry.problems == []
        assert entry.error is None
        assert entry.name == entry.path.stem == entry.spec.name
        assert entry.source == entry.path.read_text(encoding="utf-8")


def test_the_shipped_library_exercises_the_schema_features(tools_dir: Path) -> None:
    specs = {e.spec.name: e.spec for e in load_library(tools_dir) if e.spec}
    kinds = set()
    for s in specs.values():
        for sub in s.parameters.get("properties", {}).values():
            kinds.add(str(sub.get("type")))
            kinds.update(k for k in ("enum", "minimum", "maximum", "items", "properties")
                         if k in sub)
    assert {"object", "array", "integer", "number", "enum", "minimum", "maximum",
            "items", "properties"} <= kinds
    assert any(not s.parameters.get("properties") for s in specs.values())  # no parameters
    assert any(set(s.parameters.get("properties", {})) - set(s.parameters.get("required", []))
               for s in specs.values())  # optional fields
    assert all(s.results for s in specs.values())  # canned results everywhere


def test_a_broken_file_is_listed_with_its_error_and_the_rest_loads(tools_dir: Path) -> None:
    (tools_dir / "aaa_broken.yaml").write_text(BROKEN_YAML, encoding="utf-8")
    entries = load_library(tools_dir)
    assert [e.path.name for e in entries] == sorted(["aaa_broken.yaml", *SHIPPED])
    broken = entries[0]
    assert broken.spec is None
    assert broken.name == "aaa_broken"
    assert broken.source == BROKEN_YAML
    [problem] = broken.problems
    assert (problem.line, problem.column) == (3, 11)
    assert broken.error is not None
    assert broken.error.startswith("line 3, column 11: YAML syntax error")
    assert all(e.spec is not None for e in entries[1:])


def test_a_file_that_parses_but_is_not_a_tool_lists_pointers(tools_dir: Path) -> None:
    (tools_dir / "bad_schema.yaml").write_text(
        "name: bad schema\ndescription: ''\nparameters:\n  type: object\n"
        "  properties:\n    n: {type: integr}\n", encoding="utf-8")
    [entry] = [e for e in load_library(tools_dir) if e.path.name == "bad_schema.yaml"]
    assert entry.spec is None
    assert [p.pointer for p in entry.problems] == [
        "/name", "/description", "/parameters/properties/n/type"]
    assert "/parameters/properties/n/type: not valid JSON Schema" in (entry.error or "")


def test_an_oversize_file_is_listed_not_read(tools_dir: Path) -> None:
    big = tools_dir / "huge.yaml"
    big.write_text("name: huge\ndescription: '" + "x" * MAX_TOOL_FILE_BYTES + "'\n",
                   encoding="utf-8")
    [entry] = [e for e in load_library(tools_dir) if e.path.name == "huge.yaml"]
    assert entry.spec is None
    assert entry.source == ""
    assert entry.error == f"/: the file is larger than {MAX_TOOL_FILE_BYTES // 1000} kB"


def deep_tool(depth: int, flow: bool = True) -> str:
    """A tool whose parameters.default nests lists `depth` deep (the review's crafted file)."""
    default = "[" * depth + "]" * depth
    return (f"name: deep\ndescription: Deep default\nparameters:\n  type: object\n"
            f"  properties: {{}}\n  default: {default}\n")


@pytest.mark.parametrize("depth", [63, 320, 5_000])
def test_a_deeply_nested_file_is_listed_with_a_message_and_the_rest_loads(
        tools_dir: Path, depth: int) -> None:
    """A file nested past the limit is a broken entry with its line, never a RecursionError
    (even in a thread with little stack left, as a Streamlit script has)."""
    (tools_dir / "deep.yaml").write_text(deep_tool(depth), encoding="utf-8")
    entries = run_with_small_stack(lambda: load_library(tools_dir))
    [deep] = [e for e in entries if e.path.name == "deep.yaml"]
    assert deep.spec is None
    assert deep.source == deep_tool(depth)  # the editor can show it, to fix or delete
    [problem] = deep.problems
    assert "nested deeper than 64 levels" in problem.message
    assert problem.line == 6
    assert sum(e.spec is not None for e in entries) == len(SHIPPED)


def test_a_file_at_the_depth_limit_loads(tools_dir: Path) -> None:
    (tools_dir / "deep.yaml").write_text(deep_tool(62), encoding="utf-8")  # 64 with the tool
    [deep] = [e for e in run_with_small_stack(lambda: load_library(tools_dir))
              if e.path.name == "deep.yaml"]
    assert deep.spec is not None, deep.error


def test_a_tool_nested_too_deep_is_never_saved(tools_dir: Path) -> None:
    value: list[object] = []
    for _ in range(70):
        value = [value]
    deep = ToolSpec("deep", "Deep default", {"type": "object", "default": value})
    with pytest.raises(ToolFileError, match="nested deeper than 64"):
        save_tool(tools_dir, deep)
    assert not (tools_dir / "deep.yaml").exists()


def test_a_file_that_is_not_utf8(tools_dir: Path) -> None:
    (tools_dir / "latin1.yaml").write_bytes("name: caf\xe9\n".encode("latin-1"))
    [entry] = [e for e in load_library(tools_dir) if e.path.name == "latin1.yaml"]
    assert entry.spec is None
    assert "cannot be read" in (entry.error or "")


def test_yml_files_count_and_other_files_do_not(tools_dir: Path) -> None:
    (tools_dir / "extra.yml").write_text(
        "name: extra\ndescription: An extra tool\n", encoding="utf-8")
    (tools_dir / "notes.txt").write_text("not a tool", encoding="utf-8")
    (tools_dir / "tool.json").write_text("{}", encoding="utf-8")
    names = [e.path.name for e in load_library(tools_dir)]
    assert "extra.yml" in names
    assert "notes.txt" not in names and "tool.json" not in names


def test_an_empty_or_missing_directory(tmp_path: Path) -> None:
    assert load_library(tmp_path) == []
    assert load_library(tmp_path / "nope") == []


def test_name_and_file_may_differ(tools_dir: Path) -> None:
    (tools_dir / "file_name.yaml").write_text(
        "name: tool_name\ndescription: Named differently\n", encoding="utf-8")
    [entry] = [e for e in load_library(tools_dir) if e.path.name == "file_name.yaml"]
    assert entry.name == "tool_name"


# --- saving ----------------------------------------------------------------------------------

def test_save_a_new_tool_writes_a_file_named_after_it(tools_dir: Path) -> None:
    path = save_tool(tools_dir, spec())
    assert path == tools_dir / "lookup.yaml" == path_for(tools_dir, "lookup")
    again, problems = parse_tool(path.read_text(encoding="utf-8"))
    assert problems == []
    assert again == spec()
    assert sorted(p.name for p in tools_dir.iterdir()) == sorted([*SHIPPED, "lookup.yaml"])
    assert [e.spec for e in load_library(tools_dir) if e.name == "lookup"] == [spec()]


def test_save_never_writes_over_a_file_holding_another_tool(tools_dir: Path) -> None:
    """{name}.yaml may hold a tool of another name: saving (or importing) `lookup` must not
    destroy it, whether it is new or renamed from another file."""
    other = tools_dir / "lookup.yaml"
    other.write_text("name: forecast\ndescription: Another tool\n", encoding="utf-8")
    first = save_tool(tools_dir, spec())
    assert first == tools_dir / "lookup-2.yaml"
    renamed_from = tools_dir / "old_name.yaml"
    renamed_from.write_text("name: old_name\ndescription: x\n", encoding="utf-8")
    second = save_tool(tools_dir, spec(), replaces=renamed_from)
    assert second == tools_dir / "lookup-3.yaml" and not renamed_from.exists()
    assert other.read_text(encoding="utf-8").startswith("name: forecast")


def test_save_into_a_directory_that_does_not_exist_yet(tmp_path: Path) -> None:
    path = save_tool(tmp_path / "new" / "tools", spec())
    assert path.exists()


def test_save_over_the_same_file_keeps_it(tools_dir: Path) -> None:
    original = tools_dir / "get_current_weather.yaml"
    [entry] = [e for e in load_library(tools_dir) if e.path == original]
    assert entry.spec is not None
    changed = ToolSpec(entry.spec.name, "A better description", entry.spec.parameters,
                       entry.spec.strict, entry.spec.results)
    path = save_tool(tools_dir, changed, replaces=original)
    assert path == original
    assert original.exists()
    assert parse_tool(original.read_text(encoding="utf-8"))[0] == changed


def test_rename_removes_the_old_file(tools_dir: Path) -> None:
    old = tools_dir / "get_current_weather.yaml"
    [entry] = [e for e in load_library(tools_dir) if e.path == old]
    assert entry.spec is not None
    renamed = ToolSpec("get_weather_now", entry.spec.description, entry.spec.parameters,
                       entry.spec.strict, entry.spec.results)
    path = save_tool(tools_dir, renamed, replaces=old)
    assert path == tools_dir / "get_weather_now.yaml"
    assert not old.exists()
    names = [e.name for e in load_library(tools_dir)]
    assert "get_weather_now" in names and "get_current_weather" not in names
    assert len(names) == len(SHIPPED)


def test_rename_of_a_file_whose_name_differs_from_the_tool(tools_dir: Path) -> None:
    odd = tools_dir / "odd file.yaml"
    odd.write_text("name: odd\ndescription: An odd one\n", encoding="utf-8")
    path = save_tool(tools_dir, spec("odd", "An odd one"), replaces=odd)
    assert path.name == "odd.yaml"
    assert not odd.exists()


def test_an_invalid_tool_is_not_written(tools_dir: Path) -> None:
    before = sorted(p.name for p in tools_dir.iterdir())
    with pytest.raises(ToolFileError) as caught:
        save_tool(tools_dir, ToolSpec("bad name", "", {"type": "array"}))
    assert [p.pointer for p in caught.value.problems] == ["/name", "/description",
                                                          "/parameters/type"]
    assert sorted(p.name for p in tools_dir.iterdir()) == before


def test_a_failed_rename_keeps_the_old_file(tools_dir: Path) -> None:
    old = tools_dir / "web_search.yaml"
    with pytest.raises(ToolFileError):
        save_tool(tools_dir, ToolSpec("web search", "x", {"type": "object"}), replaces=old)
    assert old.exists()


def test_saving_leaves_no_temporary_files(tools_dir: Path) -> None:
    for n in range(3):
        save_tool(tools_dir, spec(f"t{n}"))
    assert not [p for p in tools_dir.iterdir() if p.name.startswith(".")]


def test_saved_yaml_keeps_the_library_key_order(tools_dir: Path) -> None:
    strict = ToolSpec("s", "Strict one", {"type": "object", "properties": {},
                                          "required": [], "additionalProperties": False},
                      strict=True, results={"ok": "{}"})
    text = save_tool(tools_dir, strict).read_text(encoding="utf-8")
    keys = [line.split(":")[0] for line in text.splitlines() if not line.startswith(" ")]
    assert keys == ["name", "description", "strict", "parameters", "results"]


# --- deleting and naming -----------------------------------------------------------------------

def test_delete_removes_the_file_and_tolerates_a_missing_one(tools_dir: Path) -> None:
    target = tools_dir / "convert_units.yaml"
    delete_tool(target)
    assert not target.exists()
    delete_tool(target)  # already gone: no error
    assert "convert_units" not in [e.name for e in load_library(tools_dir)]


@pytest.mark.parametrize(("base", "taken", "expected"), [
    ("web_search", {"web_search"}, "web_search_copy"),
    ("web_search", {"web_search", "web_search_copy"}, "web_search_copy2"),
    ("web_search", {"web_search", "web_search_copy", "web_search_copy2"}, "web_search_copy3"),
    ("x", set(), "x_copy"),
])
def test_free_name(base: str, taken: set[str], expected: str) -> None:
    assert free_name(base, taken) == expected


def test_free_name_stays_a_valid_name_for_long_names() -> None:
    base = "a" * 64
    taken = {base}
    for _ in range(15):
        name = free_name(base, taken)
        assert name not in taken
        assert NAME_RULE.match(name), name
        taken.add(name)
    long = "b" * 62
    assert free_name(long, {long}) == ("b" * 62 + "_copy")[:64]


def test_saving_the_authors_yaml_keeps_comments_and_layout(tmp_path: Path) -> None:
    text = ("# Looks up the weather.\nname: weather\ndescription: Weather now  # short\n"
            "parameters: {type: object, properties: {city: {type: string}}}\n")
    spec = parse_tool_yaml(text)
    path = save_tool(tmp_path, spec, yaml_text=text)
    assert path.read_text(encoding="utf-8") == text
    assert load_library(tmp_path)[0].spec == spec


def test_text_that_does_not_hold_the_tool_is_never_written(tmp_path: Path) -> None:
    """A good file is never replaced by text that does not hold the checked tool (a draft
    still in JSON, an older text, or `null`): the save is refused and the file stays."""
    text = "name: weather\ndescription: Weather now\n"
    path = save_tool(tmp_path, parse_tool_yaml(text), yaml_text=text)
    changed = parse_tool_yaml("name: weather\ndescription: Weather today\n")
    for wrong in ("null\n...\n", text, '{"name": "weather"}'):
        with pytest.raises(ToolFileError, match="does not hold this tool"):
            save_tool(tmp_path, changed, replaces=path, yaml_text=wrong)
        assert path.read_text(encoding="utf-8") == text


HTTP_TOOL = """name: fetch_order
description: Fetch an order from the order service.
parameters:
  type: object
  properties:
    order: {type: string}
run:
  http:
    method: GET
    url: "http://127.0.0.1:9/orders/{order}"
"""


def test_own_tools_never_define_or_run_an_http_tool(tmp_path: Path) -> None:
    """Team mode: a person's own tools (programs=False) may not carry a `run` section; the
    shared library (programs=True) may."""
    own = tmp_path / "own"
    spec = parse_tool_yaml(HTTP_TOOL)
    assert spec.run is not None
    with pytest.raises(ToolFileError, match="HTTP tools come only from the admins"):
        save_tool(own, spec, yaml_text=HTTP_TOOL, programs=False)
    assert not own.exists() or not list(own.iterdir())  # nothing written
    # A row written before this rule (or straight into the database) loads as broken: never run.
    own.mkdir(exist_ok=True)
    (own / "fetch_order.yaml").write_text(HTTP_TOOL, encoding="utf-8")
    [entry] = load_library(own, programs=False)
    assert entry.spec is None and entry.error and "HTTP tools come only" in entry.error
    assert entry.source == HTTP_TOOL  # shown as typed, so its owner can fix it
    [shared] = load_library(own)  # the same file in the admins' library is an HTTP tool
    assert shared.spec is not None and shared.spec.run is not None
    assert save_tool(tmp_path / "tools", spec, yaml_text=HTTP_TOOL).exists()
