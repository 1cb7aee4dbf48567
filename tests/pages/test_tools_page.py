"""The Tools page (library, editor, form, import/export) and the Chat page's argument checks,
driven through streamlit.testing.v1.AppTest on the real app.py.

Every test works on a copy of tools/ in tmp_path (TOOLSMITH_TOOLS_DIR). components.state reads
that variable when it is first imported, so the `tools_dir` fixture drops the cached
components.* modules for the test and restores them afterwards; it also checks that the real
tools/ directory was not touched.
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import json
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from streamlit.testing.v1 import AppTest

from core.tools.formats import export
from core.tools.library import load_library
from core.tools.schemas import parse_text, strict_document, strict_problems
from core.tools.token_count import offline_tokens
from core.types import Exchange, Message, ToolSpec
from tests.support.code_editor import editor_data, press_in_editor, type_into_editor
from tests.support.wire_server import REFERENCE_RESPONSE, Reply, WireServer, json_reply

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "tools"
SEED = "What's the weather like in Boston today?"
BROKEN_YAML = "name: broken\ndescription: [unclosed\nparameters:\n  type: object\n"
BAD_SCHEMA_YAML = ("name: bad_schema\ndescription: A schema with a typo\nparameters:\n"
                   "  type: object\n  properties:\n    n: {type: integr}\n")

MakeApp = Callable[[], AppTest]


# --- fixtures ----------------------------------------------------------------------------------

def _snapshot(directory: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(directory.iterdir()) if p.is_file()}


@pytest.fixture
def tools_dir(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """A copy of the shipped library that the app reads and writes for this test only."""
    target = tmp_path / "tools"
    shutil.copytree(SHIPPED, target)
    before = _snapshot(SHIPPED)
    clean_env.setenv("TOOLSMITH_TOOLS_DIR", str(target))
    try:
        yield target
    finally:
        assert _snapshot(SHIPPED) == before, "a test wrote into the real tools/ directory"


@pytest.fixture
def open_app(make_app: MakeApp, tools_dir: Path) -> Callable[..., AppTest]:
    """A fresh app reading `tools_dir`, on the Tools page (or the page asked for)."""

    def make(page: str = "tools") -> AppTest:
        at = make_app()
        from components.state import tools_dir as app_tools_dir

        assert app_tools_dir() == tools_dir
        if page == "tools":
            go(at, "tools")
        return at

    return make


# --- helpers -----------------------------------------------------------------------------------

def run(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert not [e for e in at.error if "Something went wrong" in e.value], "page failed"
    return at


def go(at: AppTest, page: str) -> AppTest:
    at.switch_page(f"app_pages/{page}.py")
    return run(at)


def editor_text(at: AppTest, editor_id: str) -> str:
    """The text the page gives the code editor."""
    return editor_data(at, editor_id)["text"]


def type_text(at: AppTest, editor_id: str, text: str) -> AppTest:
    type_into_editor(at, editor_id, text)
    return run(at)


def press(at: AppTest, editor_id: str, kind: str, text: str) -> AppTest:
    """Ctrl+S (save) or Ctrl+Enter (check) in the editor, holding `text`."""
    press_in_editor(at, editor_id, kind, text)
    assert not at.exception, [e.value for e in at.exception]
    return at


def editors_on_page(at: AppTest) -> list[Any]:
    return [e for e in at.get("bidi_component") if (e.key or "").startswith("tools.editor.code.")]


def open_in_editor(at: AppTest, stem: str) -> AppTest:
    at.button(key=f"tools.edit.{stem}").click()
    run(at)
    assert at.selectbox(key="tools.editor.selected").value == stem
    return at


def set_format(at: AppTest, editor_id: str, fmt: str) -> AppTest:
    at.segmented_control(key=f"tools.editor.fmt.{editor_id}").set_value(fmt)
    return run(at)


def click(at: AppTest, key: str) -> AppTest:
    at.button(key=key).click()
    return run(at)


def errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


def problem_lines(at: AppTest) -> list[str]:
    """The problems the code editor marks and lists: location first, then the message."""
    found = editors_on_page(at)
    if not found:
        return []
    data = json.loads(found[0].proto.json)
    return [f"**{p['where']}** — {p['message']}" for p in data["problems"]]


def successes(at: AppTest) -> list[str]:
    return [s.value for s in at.success]


def unsaved_warning(at: AppTest) -> bool:
    return any(w.value.startswith("Unsaved changes") for w in at.warning)


def markdown_texts(at: AppTest) -> list[str]:
    return [m.value for m in at.markdown]


def captions(at: AppTest) -> list[str]:
    return [c.value for c in at.caption]


def code_blocks(at: AppTest, language: str | None = None) -> list[str]:
    return [c.value for c in at.code if language is None or c.language == language]


def library(tools_dir: Path) -> dict[str, ToolSpec]:
    return {e.spec.name: e.spec for e in load_library(tools_dir) if e.spec}


def file_names(tools_dir: Path) -> list[str]:
    return sorted(p.name for p in tools_dir.iterdir() if not p.name.startswith("."))


def form_table(at: AppTest, path: str = "parameters") -> Any:
    """The form's table of one object (`parameters` is the top; else its path, e.g.
    `properties/location`)."""
    found = [t for t in at.data_editor if (t.key or "").endswith(f".{path}")]
    assert len(found) == 1, [t.key for t in at.data_editor]
    return found[0]


def edit_form(at: AppTest, delta: dict[str, Any], path: str = "parameters") -> AppTest:
    """Send a table edit as the browser does: the data editor's widget state.

    AppTest cannot edit st.data_editor cells, and seeding its session state does not run the
    widget's on_change callback (which is how the page applies an edit). So the edit goes in
    the widget-state message a browser would send, through AppTest's run with widget states.
    """
    table = form_table(at, path)
    states = at._tree.get_widget_states()
    state = states.widgets.add()
    state.id = table.proto.id
    state.string_value = json.dumps(delta)
    at._run(states)
    assert not at.exception, [e.value for e in at.exception]
    return at


def last_exchange(at: AppTest) -> Exchange:
    return list(at.session_state["chat.state"].conversation.exchanges.values())[-1]


def messages(at: AppTest) -> list[Message]:
    return at.session_state["chat.state"].conversation.messages


def ask(at: AppTest, text: str) -> AppTest:
    at.chat_input(key="chat.input").set_value(text)
    return run(at)


def sent_tool_names(at: AppTest) -> list[str]:
    return [t["function"]["name"] for t in last_exchange(at).request_body.get("tools") or []]


# --- the library -------------------------------------------------------------------------------

def test_library_lists_every_tool_with_parameters_and_token_estimates(
    open_app: Callable[..., AppTest], tools_dir: Path,
) -> None:
    at = open_app()
    specs = library(tools_dir)
    assert len(specs) >= 5
    heads = markdown_texts(at)
    total = 0
    for spec in specs.values():
        assert f"**`{spec.name}`** — {spec.description}" in heads
        n = len(spec.parameters.get("properties") or {})
        tokens = offline_tokens(spec).tokens  # the demo model speaks Chat Completions
        total += tokens
        [caption] = [c for c in captions(at) if c.endswith(f"`{spec.name}.yaml`")]
        assert caption.startswith(f"{n} parameter{'s' if n != 1 else ''}")
        assert f"≈ {tokens} tokens (o200k_base)" in caption
        for param in spec.parameters.get("properties") or {}:
            assert f"`{param}`" in caption
        assert ("strict" in caption) is bool(spec.strict)
        assert at.toggle(key=f"tools.enable.{spec.name}").value is True
    [summary] = [c for c in captions(at) if "tool files in" in c]
    assert summary.startswith(f"{len(specs)} tool files in `{tools_dir}`")
    assert f"{len(specs)} sent with each Chat request, adding ≈ {total} tokens" in summary
    assert "o200k_base tokenizer, offline" in summary


def test_switching_a_tool_off_updates_the_estimate(open_app: Callable[..., AppTest],
                                                   tools_dir: Path) -> None:
    at = open_app()
    specs = library(tools_dir)
    at.toggle(key="tools.enable.create_calendar_event").set_value(False)
    run(at)
    expected = sum(offline_tokens(s).tokens for n, s in specs.items()
                   if n != "create_calendar_event")
    assert any(f"{len(specs) - 1} sent with each Chat request, adding ≈ {expected} tokens" in c
               for c in captions(at))


def test_count_exactly_asks_the_counting_endpoint_and_names_its_source(
        open_app: Callable[..., AppTest], tools_dir: Path) -> None:
    """With the demo model in the Responses format, Count exactly asks POST
    …/responses/input_tokens (the demo answers with the bundled tokenizer); in Chat Completions
    the button says why it cannot count."""
    at = open_app()
    assert at.button(key="tools.count_exactly").disabled  # Chat Completions: no endpoint
    at.selectbox(key="sidebar.wire").set_value("responses")
    run(at)
    at.button(key="tools.count_exactly").click()
    run(at)
    [done] = [s.value for s in at.success if s.value.startswith("Exactly")]
    assert "counted by demo (POST …/responses/input_tokens)" in done
    specs = library(tools_dir)
    for spec in specs.values():
        [caption] = [c for c in captions(at) if c.endswith(f"`{spec.name}.yaml`")]
        assert re.search(r"exactly \d+ \(server\)", caption), caption
    run(at)  # cached: still shown on the next rerun, without asking again
    assert any(s.value.startswith("Exactly") for s in at.success)
    assert at.button(key="tools.count_exactly").disabled


ODD_STRICT_YAML = """name: zz_bad
description: d
strict: true
parameters:
  type: object
  properties:
    a: {type: object, properties: [x, y]}
  required: 5
"""


def test_a_strict_tool_of_an_odd_shape_breaks_no_page(open_app: Callable[..., AppTest],
                                                     tools_dir: Path) -> None:
    (tools_dir / "zz_bad.yaml").write_text(ODD_STRICT_YAML, encoding="utf-8")
    at = open_app()
    assert "**`zz_bad.yaml`** — cannot be used" in markdown_texts(at)
    go(at, "chat")
    assert not [e for e in errors(at) if "Something went wrong" in e]
    go(at, "tools")
    open_in_editor(at, "zz_bad")  # the editor, its checks, Make strict and the form
    assert any("not valid JSON Schema" in line for line in problem_lines(at))
    at.toggle(key="tools.strict_preview.zz_bad").set_value(True)
    run(at)
    assert not [e for e in errors(at) if "Something went wrong" in e]


def test_make_strict_is_offered_when_strict_mode_problems_block_the_tool(
    open_app: Callable[..., AppTest], tools_dir: Path,
) -> None:
    (tools_dir / "half_strict.yaml").write_text(
        "name: half_strict\ndescription: d\nstrict: true\nparameters:\n  type: object\n"
        "  properties:\n    q: {type: string}\n    n: {type: integer}\n  required: [q]\n",
        encoding="utf-8")
    at = open_in_editor(open_app(), "half_strict")
    assert at.button(key="tools.save").disabled  # strict-mode problems block it...
    at.toggle(key="tools.strict_preview.half_strict").set_value(True)  # ...and this fixes them
    run(at)
    click(at, "tools.strict_apply")
    assert not problem_lines(at)
    assert not at.button(key="tools.save").disabled


def test_a_broken_file_is_listed_with_its_error_and_can_be_fixed(
    open_app: Callable[..., AppTest], tools_dir: Path,
) -> None:
    (tools_dir / "broken.yaml").write_text(BROKEN_YAML, encoding="utf-8")
    (tools_dir / "bad_schema.yaml").write_text(BAD_SCHEMA_YAML, encoding="utf-8")
    at = open_app()

    heads = markdown_texts(at)
    assert "**`broken.yaml`** — cannot be used" in heads
    assert "**`bad_schema.yaml`** — cannot be used" in heads
    listed = errors(at)
    assert any(e.startswith("line 3, column 11: YAML syntax error") for e in listed), listed
    assert any(e.startswith("/parameters/properties/n/type: not valid JSON Schema") for e in listed)
    # No switch: a file that is not a valid tool cannot be enabled.
    keys = {t.key for t in at.toggle}
    assert "tools.enable.broken" not in keys and "tools.enable.bad_schema" not in keys
    # Every valid tool still works.
    for name in library(tools_dir):
        assert f"tools.enable.{name}" in keys

    # Open it, see the problem with its location, fix it, save it.
    open_in_editor(at, "broken")
    assert at.session_state["tools.tab"] == "Editor"  # Edit switches to the Editor tab
    assert editor_text(at, "broken") == BROKEN_YAML
    assert problem_lines(at) == [
        "**line 3, column 11** — YAML syntax error: expected ',' or ']', but got ':' "
        "(while parsing a flow sequence)"]
    assert at.button(key="tools.save").disabled
    type_text(at, "broken", BROKEN_YAML.replace("[unclosed", "Now a real tool"))
    assert problem_lines(at) == []
    assert any(s.startswith("Valid:") for s in successes(at))
    click(at, "tools.save")
    assert "Saved `broken.yaml`." in successes(at)
    assert library(tools_dir)["broken"].description == "Now a real tool"
    # Valid now, so it has a switch, and can be sent.
    at.toggle(key="tools.enable.broken").set_value(True)
    run(at)
    go(at, "chat")
    ask(at, SEED)
    assert "broken" in sent_tool_names(at)


def test_an_oversize_file_is_listed_and_the_page_works(open_app: Callable[..., AppTest],
                                                       tools_dir: Path) -> None:
    (tools_dir / "huge.yaml").write_text("name: huge\ndescription: '" + "x" * 300_000 + "'\n",
                                         encoding="utf-8")
    at = open_app()
    assert "**`huge.yaml`** — cannot be used" in markdown_texts(at)
    assert any("larger than 256 kB" in e for e in errors(at))


def deep_yaml(depth: int) -> str:
    """The review's crafted tool: parameters.default nests lists `depth` deep."""
    return ("name: deep\ndescription: Deep default\nparameters:\n  type: object\n"
            f"  properties: {{}}\n  default: {'[' * depth}{']' * depth}\n")


def test_a_deeply_nested_file_breaks_no_page_and_can_be_deleted(
    open_app: Callable[..., AppTest], tools_dir: Path,
) -> None:
    (tools_dir / "deep.yaml").write_text(deep_yaml(320), encoding="utf-8")
    at = open_app("chat")
    ask(at, SEED)  # the Chat page reads the library on every rerun
    go(at, "tools")
    assert "**`deep.yaml`** — cannot be used" in markdown_texts(at)
    assert any("nested deeper than 64 levels" in e for e in errors(at)), errors(at)
    open_in_editor(at, "deep")
    assert editor_text(at, "deep") == deep_yaml(320)  # there to fix
    click(at, "tools.delete")
    click(at, "tools.delete_yes")
    assert "Deleted `deep.yaml`." in successes(at)
    assert not (tools_dir / "deep.yaml").exists()


@pytest.mark.parametrize("depth", [70, 400, 5_000])
def test_deep_nesting_typed_or_imported_is_a_message(open_app: Callable[..., AppTest],
                                                     tools_dir: Path, depth: int) -> None:
    before = _snapshot(tools_dir)
    at = open_in_editor(open_app(), "convert_units")
    type_text(at, "convert_units", deep_yaml(depth))
    assert any("nested deeper than 64 levels" in line for line in problem_lines(at))
    assert at.button(key="tools.save").disabled
    at.text_area(key="tools.import_text").input(json.dumps([{"name": "d", "description": "d"}])
                                                .replace('"d"}', '"d", "x": ' + "[" * depth
                                                         + "]" * depth + "}"))
    run(at)
    assert any("nested deeper than 64 levels" in e for e in errors(at)), errors(at)
    assert "tools.import_go" not in {b.key for b in at.button}
    assert _snapshot(tools_dir) == before


# --- the editor: checks as the user types ------------------------------------------------------

def test_yaml_syntax_error_shows_line_and_column_and_disables_save(
    open_app: Callable[..., AppTest], tools_dir: Path,
) -> None:
    at = open_in_editor(open_app(), "get_current_weather")
    original = editor_text(at, "get_current_weather")
    broken = original.replace("  type: object", "  type: object\n\tbad: tab", 1)
    type_text(at, "get_current_weather", broken)

    [line] = problem_lines(at)
    assert line.startswith("**line 5, column 1** — YAML syntax error")
    assert "1 problem: this tool cannot be saved, enabled or sent" in errors(at)[0]
    assert at.button(key="tools.save").disabled
    assert at.toggle(key="tools.strict_preview.get_current_weather").disabled
    assert unsaved_warning(at)
    assert any("once the text parses" in i.value for i in at.info)
    assert editor_text(at, "get_current_weather") == broken  # what was typed is kept
    assert (tools_dir / "get_current_weather.yaml").read_text(encoding="utf-8") == original

    type_text(at, "get_current_weather", original)
    assert problem_lines(at) == []
    assert not at.button(key="tools.save").disabled
    assert not unsaved_warning(at)


def test_json_syntax_error_shows_line_and_column(open_app: Callable[..., AppTest]) -> None:
    at = open_in_editor(open_app(), "get_current_weather")
    set_format(at, "get_current_weather", "json")
    text = editor_text(at, "get_current_weather")
    type_text(at, "get_current_weather", text.replace('"description": "Get', '"description" "Get'))
    [line] = problem_lines(at)
    assert line.startswith("**line 3, column 17** — JSON syntax error: Expecting ':' delimiter")
    assert at.button(key="tools.save").disabled


def test_schema_errors_show_their_json_pointer(open_app: Callable[..., AppTest]) -> None:
    at = open_in_editor(open_app(), "get_current_weather")
    text = editor_text(at, "get_current_weather")
    bad = text.replace("type: string\n      enum", "type: strng\n      enum").replace(
        "name: get_current_weather", "name: get current weather")
    type_text(at, "get_current_weather", bad)
    assert problem_lines(at) == [
        "**/name** — name must be 1-64 letters, digits, '_' or '-' (got 'get current weather')",
        "**/parameters/properties/unit/type** — not valid JSON Schema: 'strng' is not valid "
        "under any of the given schemas",
    ]
    assert errors(at)[0].startswith("2 problems: this tool cannot be saved")
    assert at.button(key="tools.save").disabled


def test_strict_problems_are_listed_with_pointers(open_app: Callable[..., AppTest]) -> None:
    at = open_in_editor(open_app(), "get_current_weather")
    text = editor_text(at, "get_current_weather")
    type_text(at, "get_current_weather", text.replace("parameters:", "strict: true\nparameters:"))
    lines = problem_lines(at)
    assert "**/parameters** — strict mode needs additionalProperties: false on every object" \
        in lines
    assert any(line.startswith("**/parameters/required** — strict mode needs every property")
               and line.endswith("not listed: unit") for line in lines)


def marked(at: AppTest, editor_id: str) -> dict[str, str]:
    """Each problem's location -> the text its mark covers (offsets are UTF-16 units)."""
    data = editor_data(at, editor_id)
    units = data["text"].encode("utf-16-le")
    return {p["where"]: units[2 * p["from"]:2 * p["to"]].decode("utf-16-le")
            for p in data["problems"]}


def test_each_kind_of_problem_is_marked_at_its_range(open_app: Callable[..., AppTest]) -> None:
    at = open_in_editor(open_app(), "get_current_weather")
    text = editor_text(at, "get_current_weather")

    type_text(at, "get_current_weather", text.replace("  type: object", "  type: [object", 1))
    [(where, covered)] = marked(at, "get_current_weather").items()
    assert where.startswith("line 5, column 13") and covered == ":"  # syntax: the stray ':'

    bad = text.replace("name: get_current_weather", "name: get weather").replace(
        "type: string\n      enum", "type: strng\n      enum").replace(
        "parameters:", "strict: true\nparameters:")
    type_text(at, "get_current_weather", bad)
    marks = marked(at, "get_current_weather")
    assert marks["/name"] == "name: get weather"  # provider rule
    assert marks["/parameters/properties/unit/type"] == "type: strng"  # metaschema
    assert marks["/parameters"] == "parameters"  # strict lint: the object without a closing
    assert marks["/parameters/required"] == "required"  # strict lint: a missing name

    type_text(at, "get_current_weather", text.replace("name: get_current_weather", "name: ok é 😀"))
    assert marked(at, "get_current_weather")["/name"] == "name: ok é 😀"  # after non-ASCII


def test_json_problems_are_marked_on_the_json_text(open_app: Callable[..., AppTest]) -> None:
    at = open_in_editor(open_app(), "get_current_weather")
    set_format(at, "get_current_weather", "json")
    text = editor_text(at, "get_current_weather")
    type_text(at, "get_current_weather", text.replace('"celsius"', '"celsius", 7', 1))
    assert marked(at, "get_current_weather") == {}  # 7 is a valid enum value in JSON Schema
    type_text(at, "get_current_weather", text.replace('"required": [', '"required": 3, "x": [', 1))
    assert marked(at, "get_current_weather")["/parameters/required"] == '"required": 3'
    type_text(at, "get_current_weather", text.replace('"type": "object"', '"type" "object"', 1))
    [(where, covered)] = marked(at, "get_current_weather").items()
    assert where.startswith("line ") and covered.startswith('"object"')


def test_ctrl_s_in_the_editor_saves_what_is_typed(open_app: Callable[..., AppTest],
                                                 tools_dir: Path) -> None:
    at = open_in_editor(open_app(), "get_current_weather")
    text = editor_text(at, "get_current_weather").replace("Get the current", "Get today's")
    press(at, "get_current_weather", "save", text)  # typed and saved at once
    assert "Saved `get_current_weather.yaml`." in successes(at)
    assert (tools_dir / "get_current_weather.yaml").read_text(encoding="utf-8") == text

    broken = text.replace("type: object", "type: [object")
    press(at, "get_current_weather", "save", broken)
    assert "Not saved: fix the problems listed first." in errors(at)
    assert editor_text(at, "get_current_weather") == broken  # kept, marked
    assert problem_lines(at)[0].startswith("**line ")
    assert (tools_dir / "get_current_weather.yaml").read_text(encoding="utf-8") == text


def test_ctrl_enter_checks_the_text_at_once(open_app: Callable[..., AppTest]) -> None:
    at = open_in_editor(open_app(), "web_search")
    text = editor_text(at, "web_search").replace("type: object", "type: objec", 1)
    press(at, "web_search", "check", text)
    assert editor_text(at, "web_search") == text
    assert any("/parameters/type" in line for line in problem_lines(at))


def test_the_editor_adopts_rewrites_but_not_its_own_typing(
    open_app: Callable[..., AppTest],
) -> None:
    """The browser's editor replaces its text only when the revision moves on: typing must not
    move it (a late rerun would undo keystrokes), a rewrite by the page must."""
    at = open_in_editor(open_app(), "web_search")
    first = editor_data(at, "web_search")["revision"]
    type_text(at, "web_search", editor_text(at, "web_search").replace("Search", "Find", 1))
    assert editor_data(at, "web_search")["revision"] == first
    set_format(at, "web_search", "json")
    assert editor_data(at, "web_search")["revision"] > first
    assert editor_data(at, "web_search")["fmt"] == "json"
    after_switch = editor_data(at, "web_search")["revision"]
    click(at, "tools.revert")  # a fresh draft of the same tool is still a new revision
    assert editor_data(at, "web_search")["revision"] > after_switch


# --- the editor: formats --------------------------------------------------------------------------

def test_yaml_to_json_to_yaml_keeps_the_document(open_app: Callable[..., AppTest],
                                                 tools_dir: Path) -> None:
    at = open_in_editor(open_app(), "create_calendar_event")
    original, _ = parse_text(editor_text(at, "create_calendar_event"), "yaml")

    set_format(at, "create_calendar_event", "json")
    as_json = editor_text(at, "create_calendar_event")
    assert json.loads(as_json) == original
    assert list(json.loads(as_json)) == list(original)
    assert editor_data(at, "create_calendar_event")["fmt"] == "json"  # highlighted as JSON
    assert not unsaved_warning(at)

    set_format(at, "create_calendar_event", "yaml")
    back, problems = parse_text(editor_text(at, "create_calendar_event"), "yaml")
    assert problems == []
    assert back == original
    assert editor_data(at, "create_calendar_event")["fmt"] == "yaml"
    assert not unsaved_warning(at)
    assert library(tools_dir)["create_calendar_event"].parameters == original["parameters"]


def test_switching_format_while_the_text_does_not_parse_is_refused(
    open_app: Callable[..., AppTest],
) -> None:
    at = open_in_editor(open_app(), "convert_units")
    broken = editor_text(at, "convert_units") + "oops: [\n"
    type_text(at, "convert_units", broken)

    set_format(at, "convert_units", "json")
    assert "Fix the YAML syntax first: converting text that does not parse would lose it." \
        in errors(at)
    assert at.segmented_control(key="tools.editor.fmt.convert_units").value == "yaml"
    assert editor_text(at, "convert_units") == broken
    assert problem_lines(at)[0].startswith("**line ")


def test_an_empty_format_report_is_no_switch(open_app: Callable[..., AppTest],
                                             tools_dir: Path) -> None:
    """Streamlit can report the required format switch as empty when a rerun races its first
    draw (seen in Chromium): the draft stays in its format and later typing stays YAML."""
    at = open_in_editor(open_app(), "convert_units")
    original = editor_text(at, "convert_units")
    set_format(at, "convert_units", None)  # type: ignore[arg-type]
    assert at.segmented_control(key="tools.editor.fmt.convert_units").value == "yaml"
    assert editor_data(at, "convert_units")["fmt"] == "yaml"
    assert editor_text(at, "convert_units") == original
    edited = original.replace("description:", "description: Edited.", 1)
    type_text(at, "convert_units", edited)
    set_format(at, "convert_units", "json")
    assert json.loads(editor_text(at, "convert_units"))["description"].startswith("Edited.")
    click(at, "tools.save")
    assert "Edited." in (tools_dir / "convert_units.yaml").read_text(encoding="utf-8")


def test_json_edits_are_saved_as_yaml(open_app: Callable[..., AppTest], tools_dir: Path) -> None:
    at = open_in_editor(open_app(), "convert_units")
    set_format(at, "convert_units", "json")
    data = json.loads(editor_text(at, "convert_units"))
    data["description"] = "Convert units (edited as JSON)."
    type_text(at, "convert_units", json.dumps(data, indent=2))
    assert unsaved_warning(at)
    click(at, "tools.save")
    saved = (tools_dir / "convert_units.yaml").read_text(encoding="utf-8")
    assert yaml.safe_load(saved)["description"] == "Convert units (edited as JSON)."
    assert at.segmented_control(key="tools.editor.fmt.convert_units").value == "json"
    assert not unsaved_warning(at)


# --- unsaved edits -------------------------------------------------------------------------------

def test_a_generate_description_survives_a_visit_to_the_chat_page(
    open_app: Callable[..., AppTest],
) -> None:
    at = open_app()
    at.text_area(key="tools.generate.description").input("Track a parcel by its code")
    at.text_area(key="tools.generate.example").input("track(code='A1')")
    run(at)
    go(at, "chat")
    go(at, "tools")
    assert at.text_area(key="tools.generate.description").value == "Track a parcel by its code"
    assert at.text_area(key="tools.generate.example").value == "track(code='A1')"


def test_unsaved_edits_survive_a_visit_to_the_chat_page(open_app: Callable[..., AppTest],
                                                        tools_dir: Path) -> None:
    at = open_in_editor(open_app(), "web_search")
    set_format(at, "web_search", "json")
    edited = editor_text(at, "web_search").replace("Search the web", "Search the WHOLE web")
    type_text(at, "web_search", edited)
    assert unsaved_warning(at)

    go(at, "chat")
    assert not editors_on_page(at)
    go(at, "tools")

    assert at.selectbox(key="tools.editor.selected").value == "web_search"
    assert at.segmented_control(key="tools.editor.fmt.web_search").value == "json"
    assert editor_text(at, "web_search") == edited
    assert unsaved_warning(at)
    assert "WHOLE" not in (tools_dir / "web_search.yaml").read_text(encoding="utf-8")

    click(at, "tools.revert")
    assert "WHOLE" not in editor_text(at, "web_search")
    assert not unsaved_warning(at)


def test_broken_unsaved_text_survives_a_page_switch(open_app: Callable[..., AppTest]) -> None:
    at = open_in_editor(open_app(), "get_server_time")
    type_text(at, "get_server_time", "name: get_server_time\ndescription: [\n")
    go(at, "chat")
    go(at, "tools")
    assert editor_text(at, "get_server_time") == "name: get_server_time\ndescription: [\n"
    assert problem_lines(at)[0].startswith("**line 3, column 1**")


# --- save, rename, new, duplicate, delete ----------------------------------------------------

def test_save_writes_the_file(open_app: Callable[..., AppTest], tools_dir: Path) -> None:
    at = open_in_editor(open_app(), "get_current_weather")
    type_text(at, "get_current_weather", editor_text(at, "get_current_weather").replace(
        "enum: [celsius, fahrenheit]", "enum: [celsius, fahrenheit, kelvin]"))
    assert unsaved_warning(at)
    click(at, "tools.save")
    assert "Saved `get_current_weather.yaml`." in successes(at)
    spec = library(tools_dir)["get_current_weather"]
    assert spec.parameters["properties"]["unit"]["enum"] == ["celsius", "fahrenheit", "kelvin"]
    assert spec.results  # canned results kept
    assert not unsaved_warning(at)
    assert at.button(key="tools.revert").disabled


def test_rename_on_save_removes_the_old_file_and_keeps_it_enabled(
    open_app: Callable[..., AppTest], tools_dir: Path,
) -> None:
    at = open_in_editor(open_app(), "get_current_weather")
    type_text(at, "get_current_weather", editor_text(at, "get_current_weather").replace(
        "name: get_current_weather", "name: weather_now"))
    click(at, "tools.save")

    assert "Saved `weather_now.yaml`." in successes(at)
    assert not (tools_dir / "get_current_weather.yaml").exists()
    assert (tools_dir / "weather_now.yaml").exists()
    assert at.selectbox(key="tools.editor.selected").value == "weather_now"
    assert "get_current_weather" not in at.selectbox(key="tools.editor.selected").options
    assert at.toggle(key="tools.enable.weather_now").value is True

    go(at, "chat")
    ask(at, SEED)
    assert "weather_now" in sent_tool_names(at)
    assert "get_current_weather" not in sent_tool_names(at)


def test_save_refuses_a_name_another_tool_has(open_app: Callable[..., AppTest],
                                             tools_dir: Path) -> None:
    before = (tools_dir / "web_search.yaml").read_text(encoding="utf-8")
    at = open_in_editor(open_app(), "convert_units")
    type_text(at, "convert_units", editor_text(at, "convert_units").replace(
        "name: convert_units", "name: web_search"))
    # Said as soon as it is typed, and Save is off until the name is unique.
    assert "**/name** — another tool in the library is already named 'web_search'; names " \
        "must be unique" in problem_lines(at)
    assert at.button(key="tools.save").disabled
    assert (tools_dir / "web_search.yaml").read_text(encoding="utf-8") == before
    assert (tools_dir / "convert_units.yaml").exists()
    assert unsaved_warning(at)


def test_new_tool_is_saved_under_its_name(open_app: Callable[..., AppTest],
                                          tools_dir: Path) -> None:
    at = click(open_app(), "tools.new")
    assert at.selectbox(key="tools.editor.selected").value == "new-1"
    text = editor_text(at, "new-1")
    assert "name: new_tool" in text
    assert unsaved_warning(at)
    assert at.button(key="tools.delete").disabled  # nothing on disk to delete yet
    type_text(at, "new-1", text.replace("new_tool", "lookup_order"))
    click(at, "tools.save")
    assert "lookup_order.yaml" in file_names(tools_dir)
    assert at.selectbox(key="tools.editor.selected").value == "lookup_order"
    assert at.toggle(key="tools.enable.lookup_order").value is True


def test_duplicate_makes_an_unsaved_copy(open_app: Callable[..., AppTest],
                                         tools_dir: Path) -> None:
    before = file_names(tools_dir)
    at = open_in_editor(open_app(), "web_search")
    click(at, "tools.duplicate")

    assert "Duplicated as `web_search_copy` (not saved yet)." in successes(at)
    new_id = at.selectbox(key="tools.editor.selected").value
    assert new_id.startswith("new-")
    assert f"{new_id} (new, unsaved)" in at.selectbox(key="tools.editor.selected").options
    copy_doc, _ = parse_text(editor_text(at, new_id), "yaml")
    original_doc, _ = parse_text((tools_dir / "web_search.yaml").read_text(), "yaml")
    assert copy_doc == {**original_doc, "name": "web_search_copy"}
    assert file_names(tools_dir) == before  # not saved yet

    click(at, "tools.save")
    assert file_names(tools_dir) == sorted([*before, "web_search_copy.yaml"])
    assert library(tools_dir)["web_search_copy"].parameters == \
        library(tools_dir)["web_search"].parameters

    open_in_editor(at, "web_search")
    click(at, "tools.duplicate")
    assert "Duplicated as `web_search_copy2` (not saved yet)." in successes(at)


def test_delete_asks_first_then_removes_the_file(open_app: Callable[..., AppTest],
                                                 tools_dir: Path) -> None:
    at = open_in_editor(open_app(), "convert_units")
    click(at, "tools.delete")
    assert "Delete `convert_units.yaml` from the library? This cannot be undone." in errors(at)
    assert (tools_dir / "convert_units.yaml").exists()

    click(at, "tools.delete_no")
    assert not [e for e in errors(at) if e.startswith("Delete `")]
    assert (tools_dir / "convert_units.yaml").exists()

    click(at, "tools.delete")
    click(at, "tools.delete_yes")
    assert "Deleted `convert_units.yaml`." in successes(at)
    assert not (tools_dir / "convert_units.yaml").exists()
    assert "tools.enable.convert_units" not in {t.key for t in at.toggle}
    assert "convert_units" not in at.selectbox(key="tools.editor.selected").options
    go(at, "chat")
    ask(at, SEED)
    assert "convert_units" not in sent_tool_names(at)


# --- make strict --------------------------------------------------------------------------------

def test_make_strict_shows_a_diff_then_apply_rewrites_the_text(
    open_app: Callable[..., AppTest], tools_dir: Path,
) -> None:
    at = open_in_editor(open_app(), "web_search")
    text = editor_text(at, "web_search")
    at.toggle(key="tools.strict_preview.web_search").set_value(True)
    run(at)

    [diff] = code_blocks(at, "diff")
    assert diff.startswith("--- current\n+++ strict\n")
    assert "-      default: 5" in diff
    assert "+  additionalProperties: false" in diff
    assert "+strict: true" in diff
    assert editor_text(at, "web_search") == text  # nothing changed before Apply

    click(at, "tools.strict_apply")
    assert "Rewritten for strict mode. Review, then Save." in successes(at)
    data, _ = parse_text(editor_text(at, "web_search"), "yaml")
    original, _ = parse_text(text, "yaml")
    assert data == strict_document(original)
    assert strict_problems(data["parameters"]) == []
    assert problem_lines(at) == []
    assert "Already strict: nothing to change." in successes(at)
    assert unsaved_warning(at)

    click(at, "tools.save")
    saved = library(tools_dir)["web_search"]
    assert saved.strict is True
    assert saved.parameters == strict_document(original)["parameters"]


def test_make_strict_on_a_strict_tool_changes_nothing(open_app: Callable[..., AppTest]) -> None:
    at = open_in_editor(open_app(), "query_database")
    at.toggle(key="tools.strict_preview.query_database").set_value(True)
    run(at)
    # The file is strict already; only the text's layout may differ.
    diff = code_blocks(at, "diff")
    if diff:
        click(at, "tools.strict_apply")
    assert parse_text(editor_text(at, "query_database"), "yaml")[0]["strict"] is True
    assert problem_lines(at) == []


COMMENTED_YAML = """\
# Order lookup, written by hand.
name: lookup_order
description: Find an order by its number.   # shown to the model
parameters:
  type: object
  properties:
    number:
      type: string
      description: "The order number, e.g. A-1001"
      maxLength: 12
    verbose: {type: boolean}
  required: [number]
"""


def test_make_strict_on_hand_written_yaml_changes_only_what_it_must(
    open_app: Callable[..., AppTest], tools_dir: Path,
) -> None:
    (tools_dir / "lookup_order.yaml").write_text(COMMENTED_YAML, encoding="utf-8")
    at = open_in_editor(open_app(), "lookup_order")
    at.toggle(key="tools.strict_preview.lookup_order").set_value(True)
    run(at)
    [preview] = code_blocks(at, "diff")
    changed = [line for line in preview.splitlines()[2:] if line[:1] in "+-"]
    assert changed == [
        "+strict: true",
        "-      maxLength: 12",
        "-    verbose: {type: boolean}",
        "-  required: [number]",
        "+    verbose: {type: [boolean, 'null']}",
        "+  required: [number, verbose]",
        "+  additionalProperties: false",
    ]
    click(at, "tools.strict_apply")
    text = editor_text(at, "lookup_order")
    assert text.startswith("# Order lookup, written by hand.\n")
    assert "description: Find an order by its number.   # shown to the model" in text
    assert '"The order number, e.g. A-1001"' in text
    click(at, "tools.save")
    assert (tools_dir / "lookup_order.yaml").read_text(encoding="utf-8") == text


def test_a_json_detour_keeps_the_yaml_comments_in_the_editor_and_the_file(
    open_app: Callable[..., AppTest], tools_dir: Path,
) -> None:
    (tools_dir / "lookup_order.yaml").write_text(COMMENTED_YAML, encoding="utf-8")
    at = open_in_editor(open_app(), "lookup_order")
    set_format(at, "lookup_order", "json")
    set_format(at, "lookup_order", "yaml")
    assert editor_text(at, "lookup_order") == COMMENTED_YAML  # nothing lost on the way

    set_format(at, "lookup_order", "json")
    type_text(at, "lookup_order", editor_text(at, "lookup_order").replace(
        "Find an order", "Look up an order"))
    click(at, "tools.save")
    saved = (tools_dir / "lookup_order.yaml").read_text(encoding="utf-8")
    changed = [line for line in difflib.unified_diff(COMMENTED_YAML.splitlines(),
                                                     saved.splitlines(), lineterm="", n=0)
               if line[:1] in "+-" and not line.startswith(("---", "+++"))]
    assert changed == [  # the line edited in JSON, its comment kept (pushed along by the text)
        "-description: Find an order by its number.   # shown to the model",
        "+description: Look up an order by its number. # shown to the model",
    ]


# --- the parameter form -----------------------------------------------------------------------

def test_the_form_edits_the_schema(open_app: Callable[..., AppTest], tools_dir: Path) -> None:
    at = open_in_editor(open_app(), "get_current_weather")
    table = form_table(at)
    assert list(table.value["name"]) == ["location", "unit"]
    assert list(table.value["enum"]) == ["", "celsius, fahrenheit"]

    edit_form(at, {"edited_rows": {"1": {"enum": "celsius, fahrenheit, kelvin",
                                         "description": "Temperature unit"}},
                   "added_rows": [{"name": "days", "type": "integer", "required": True,
                                   "description": "Forecast days"}],
                   "deleted_rows": []})

    data, problems = parse_text(editor_text(at, "get_current_weather"), "yaml")
    assert problems == []
    props = data["parameters"]["properties"]
    assert props["unit"] == {"type": "string", "description": "Temperature unit",
                             "enum": ["celsius", "fahrenheit", "kelvin"]}
    assert props["days"] == {"type": "integer", "description": "Forecast days"}
    assert data["parameters"]["required"] == ["location", "days"]
    assert data["results"]  # the rest of the document is kept
    assert unsaved_warning(at)
    assert list(form_table(at).value["name"]) == ["location", "unit", "days"]

    edit_form(at, {"edited_rows": {}, "added_rows": [], "deleted_rows": [0]})
    data, _ = parse_text(editor_text(at, "get_current_weather"), "yaml")
    assert list(data["parameters"]["properties"]) == ["unit", "days"]
    assert data["parameters"]["required"] == ["days"]

    click(at, "tools.save")
    assert list(library(tools_dir)["get_current_weather"].parameters["properties"]) == [
        "unit", "days"]


def test_the_form_is_drawn_only_while_the_editor_tab_is_open(
        open_app: Callable[..., AppTest]) -> None:
    at = open_app()
    assert at.session_state["tools.tab"] == "Library"
    assert not at.data_editor  # made from the text when needed: nothing to keep meanwhile
    open_in_editor(at, "get_current_weather")
    assert list(form_table(at).value["name"]) == ["location", "unit"]


def test_the_form_follows_the_text_and_the_format(open_app: Callable[..., AppTest]) -> None:
    at = open_in_editor(open_app(), "convert_units")
    set_format(at, "convert_units", "json")
    edit_form(at, {"edited_rows": {"0": {"name": "amount"}}, "added_rows": [],
                   "deleted_rows": []})
    data = json.loads(editor_text(at, "convert_units"))  # still JSON
    assert next(iter(data["parameters"]["properties"])) == "amount"
    # The renamed row keeps its required flag.
    assert data["parameters"]["required"] == ["amount", "from_unit", "to_unit"]


def test_the_form_shows_nested_objects_and_names_what_it_leaves(
    open_app: Callable[..., AppTest],
) -> None:
    at = open_in_editor(open_app(), "create_calendar_event")
    assert list(form_table(at).value["name"]) == [
        "title", "start", "duration_minutes", "attendees", "location", "reminder"]
    attendees = form_table(at, "properties/attendees/items")
    assert list(attendees.value["name"]) == ["email", "optional"]
    assert list(form_table(at, "properties/location").value["name"]) == ["kind", "value"]
    row = form_table(at).value.set_index("name").loc["duration_minutes"]
    assert (row["minimum"], row["maximum"]) == (5, 1440)
    row = form_table(at).value.set_index("name").loc["start"]
    assert (row["type"], row["format"]) == ("string", "date-time")

    at = open_in_editor(open_app(), "web_search")
    [note] = [i.value for i in at.info if i.value.startswith("Not in the form")]
    assert "`/properties/domains/maxItems`" in note


def test_form_to_text_to_form_on_a_nested_schema(open_app: Callable[..., AppTest],
                                                 tools_dir: Path) -> None:
    at = open_in_editor(open_app(), "create_calendar_event")
    before = editor_text(at, "create_calendar_event")
    edit_form(at, {"edited_rows": {"1": {"nullable": True, "default": "null"}},
                   "added_rows": [{"name": "role", "type": "string", "enum": "chair, guest",
                                   "maxLength": 10, "required": True}],
                   "deleted_rows": []}, "properties/attendees/items")
    text = editor_text(at, "create_calendar_event")
    data, problems = parse_text(text, "yaml")
    assert problems == []
    items = data["parameters"]["properties"]["attendees"]["items"]
    assert items["properties"]["optional"]["type"] == ["boolean", "null"]
    assert items["properties"]["optional"]["default"] is None
    assert items["properties"]["role"] == {"type": "string", "enum": ["chair", "guest"],
                                           "maxLength": 10}
    assert "role" in items["required"]
    changed = [line for line in difflib.unified_diff(before.splitlines(), text.splitlines(),
                                                     lineterm="", n=0)
               if line[:1] in "+-" and not line.startswith(("---", "+++"))]
    assert changed == [  # only the lines of what the form changed
        "-            type: boolean",
        "-        required: [email]",
        "+            type: [boolean, 'null']",
        "+            default:",
        "+          role:",
        "+            type: string",
        "+            enum: [chair, guest]",
        "+            maxLength: 10",
        "+        required: [email, role]",
    ]
    # ...and back: the form shows what the text now says.
    row = form_table(at, "properties/attendees/items").value.set_index("name")
    assert bool(row.loc["optional", "nullable"]) and row.loc["optional", "default"] == "null"
    assert row.loc["role", "enum"] == "chair, guest" and row.loc["role", "maxLength"] == 10

    edit_form(at, {"edited_rows": {"1": {"maxLength": 200, "pattern": "^\\S"}},
                   "added_rows": [], "deleted_rows": []}, "properties/location")
    location = parse_text(editor_text(at, "create_calendar_event"), "yaml")[0]["parameters"][
        "properties"]["location"]
    assert location["properties"]["value"] == {"type": "string", "maxLength": 200,
                                               "pattern": "^\\S"}
    assert location["required"] == ["kind", "value"]  # the rest of the object as it was


def test_the_form_edits_the_tool_name_and_description(open_app: Callable[..., AppTest]) -> None:
    at = open_in_editor(open_app(), "get_current_weather")
    [name] = [t for t in at.text_input if (t.key or "").startswith("tools.form.")]
    name.input("get_weather")
    run(at)
    [description] = [t for t in at.text_area if (t.key or "").startswith("tools.form.")]
    description.input("Current weather for a place.")
    run(at)
    text = editor_text(at, "get_current_weather")
    assert text.startswith("name: get_weather\ndescription: Current weather for a place.\n")


def test_generate_with_the_demo_model_opens_a_checked_draft(
    open_app: Callable[..., AppTest], tools_dir: Path,
) -> None:
    at = open_app()
    at.button(key="tools.generate.go").click()
    run(at)
    assert "Describe the tool first: what it does, and what it needs to know." in errors(at)

    at.text_area(key="tools.generate.description").input(
        "Look up the shipping status of an order by its order number.")
    at.text_area(key="tools.generate.example").input('track_order(order_number="A-1001")')
    at.button(key="tools.generate.go").click()
    run(at)
    assert at.session_state["tools.tab"] == "Editor"
    editor_id = at.selectbox(key="tools.editor.selected").value
    assert editor_id.startswith("new-")
    data, problems = parse_text(editor_text(at, editor_id), "yaml")
    assert problems == [] and data["name"] == "track_order"
    assert data["parameters"]["required"] == ["order_number"]
    assert problem_lines(at) == []  # checked like any edit: valid, Save is on
    assert any(s.startswith("Valid:") for s in successes(at))
    assert any("Drafted by `toolsmith-demo`" in c for c in captions(at))
    assert unsaved_warning(at)

    from core.store import Store, default_url
    from core.usage import exchanges_frame
    frame = exchanges_frame(Store.open(default_url()))
    assert list(frame["traffic"]) == ["drafted"]  # on the Usage page, marked as a tool draft
    [exchange_id] = [k for k in at.session_state["tools.generate.exchanges"].values()]
    at.button(key=f"chat.inspect.{exchange_id.id}").click()
    run(at)
    assert any("A tool draft" in c for c in captions(at))

    click(at, "tools.save")
    assert library(tools_dir)["track_order"].parameters["properties"]["order_number"]


# --- import and export ------------------------------------------------------------------------

def test_import_previews_then_writes(open_app: Callable[..., AppTest], tools_dir: Path) -> None:
    incoming = [
        {"name": "get_current_weather", "description": "Weather, imported",
         "input_schema": {"type": "object", "properties": {"city": {"type": "string"}},
                          "required": ["city"]}},
        {"name": "read_file", "description": "Read a file",
         "input_schema": {"type": "object", "properties": {"path": {"type": "string"}}}},
    ]
    before = _snapshot(tools_dir)
    canned = library(tools_dir)["get_current_weather"].results
    assert canned  # the shipped seed tool has canned results, which no import format carries
    at = open_app()
    at.text_area(key="tools.import_text").input(json.dumps(incoming, indent=2))
    run(at)

    assert any("Found **2** tool(s) (anthropic format)" in m for m in markdown_texts(at))
    [plan] = at.table
    assert plan.value.to_dict("records") == [
        # st.table renders Markdown: tool names from the pasted list are code spans
        {"action": "replace, keeping its canned results", "tool": "`get_current_weather`"},
        {"action": "add", "tool": "`read_file`"}]
    assert _snapshot(tools_dir) == before  # nothing written by the preview

    click(at, "tools.import_go")
    assert "Imported 2 tool(s): get_current_weather, read_file" in successes(at)
    specs = library(tools_dir)
    assert specs["get_current_weather"].description == "Weather, imported"
    assert specs["get_current_weather"].results == canned
    assert specs["read_file"].parameters["properties"] == {"path": {"type": "string"}}
    assert at.text_area(key="tools.import_text").value == ""
    assert at.toggle(key="tools.enable.read_file").value is True


def test_import_a_json_rpc_response_by_upload(open_app: Callable[..., AppTest],
                                              tools_dir: Path) -> None:
    response = {"jsonrpc": "2.0", "id": 1, "result": {"tools": [
        {"name": "list_dir", "description": "List a directory",
         "inputSchema": {"type": "object", "properties": {"path": {"type": "string"}}}}]}}
    at = open_app()
    at.file_uploader(key="tools.import_file").upload(
        "tools.json", json.dumps(response).encode(), "application/json")
    run(at)
    assert any("Found **1** tool(s) (mcp format)" in m for m in markdown_texts(at))
    click(at, "tools.import_go")
    assert "list_dir.yaml" in file_names(tools_dir)


@pytest.mark.parametrize(("text", "shown"), [
    ('{"model": "gpt-4o", "messages": []}', "/: no tool list found"),
    ('[\n  {"name": "a",\n   "description": }\n]', "line 3, column 19: JSON syntax error"),
    ('[{"name": "bad name", "description": "d", "parameters": {"type": "object"}}]',
     "/0/name: name must be 1-64 letters"),
    ("- name: x\n  description: [\n", "line 3, column 1: YAML syntax error"),
])
def test_import_of_the_wrong_shape_says_what_and_where(
    open_app: Callable[..., AppTest], tools_dir: Path, text: str, shown: str,
) -> None:
    before = _snapshot(tools_dir)
    at = open_app()
    at.text_area(key="tools.import_text").input(text)
    run(at)
    assert any(e.startswith(shown) for e in errors(at)), errors(at)
    assert "tools.import_go" not in {b.key for b in at.button}
    assert at.text_area(key="tools.import_text").value == text  # kept for fixing
    assert _snapshot(tools_dir) == before


def test_an_empty_list_says_there_is_nothing_to_import(open_app: Callable[..., AppTest]) -> None:
    at = open_app()
    at.text_area(key="tools.import_text").input('{"tools": []}')
    run(at)
    assert any("nothing to import" in w.value for w in at.warning)


@pytest.mark.parametrize("fmt", ["openai", "anthropic", "mcp"])
def test_export_is_the_enabled_tools_in_each_format(open_app: Callable[..., AppTest],
                                                    tools_dir: Path, fmt: str) -> None:
    at = open_app()
    at.toggle(key="tools.enable.web_search").set_value(False)
    run(at)
    at.segmented_control(key="tools.export_fmt").set_value(fmt)
    run(at)
    enabled = [s for n, s in library(tools_dir).items() if n != "web_search"]
    expected = export(enabled, fmt)  # type: ignore[arg-type]
    assert expected.rstrip("\n") in code_blocks(at, "json")
    [download] = [d for d in at.get("download_button") if d.proto.id.endswith(
        "tools.export_download")]
    assert download.proto.label.endswith("(JSON)")


def test_export_with_nothing_enabled(open_app: Callable[..., AppTest], tools_dir: Path) -> None:
    at = open_app()
    for name in library(tools_dir):
        at.toggle(key=f"tools.enable.{name}").set_value(False)
    run(at)
    assert any("No tools are enabled" in i.value for i in at.info)


# --- what the Chat page sends ------------------------------------------------------------------

def test_an_invalid_tool_is_never_sent(open_app: Callable[..., AppTest], tools_dir: Path) -> None:
    (tools_dir / "bad_schema.yaml").write_text(BAD_SCHEMA_YAML, encoding="utf-8")
    at = open_app()
    # An unsaved draft that is broken is not what gets sent either.
    open_in_editor(at, "convert_units")
    type_text(at, "convert_units", "name: convert_units\ndescription: [\n")
    # A file that breaks after the tool was enabled.
    weather = tools_dir / "get_current_weather.yaml"
    weather.write_text(weather.read_text(encoding="utf-8").replace("type: object", "type: obj"),
                       encoding="utf-8")
    run(at)
    assert "tools.enable.get_current_weather" not in {t.key for t in at.toggle}

    go(at, "chat")
    [caption] = [c for c in captions(at) if "tools sent:" in c]
    assert "get_current_weather" not in caption and "bad_schema" not in caption
    ask(at, SEED)
    sent = sent_tool_names(at)
    assert "get_current_weather" not in sent
    assert "bad_schema" not in sent
    assert "convert_units" in sent  # the saved, valid file
    body = last_exchange(at).request_body
    [convert] = [t for t in body["tools"] if t["function"]["name"] == "convert_units"]
    assert convert["function"]["description"].startswith("Convert a quantity")
    assert not messages(at)[-1].tool_calls  # the demo model had no weather tool to call


def test_canned_results_from_the_library_fill_the_result_box(
    open_app: Callable[..., AppTest], tools_dir: Path,
) -> None:
    at = open_in_editor(open_app(), "get_current_weather")
    type_text(at, "get_current_weather", editor_text(at, "get_current_weather").replace(
        "results:\n", "results:\n  rainy: '{\"temperature\": 9, \"conditions\": \"rain\"}'\n"))
    click(at, "tools.save")

    go(at, "chat")
    ask(at, SEED)
    [call] = messages(at)[-1].tool_calls
    labels = {b.key: b.label for b in at.button if (b.key or "").startswith("chat.canned.")}
    assert labels == {f"chat.canned.{call.id}.ok": "Use “ok”",
                      f"chat.canned.{call.id}.unknown place": "Use “unknown place”",
                      f"chat.canned.{call.id}.rainy": "Use “rainy”"}
    click(at, f"chat.canned.{call.id}.rainy")
    assert at.text_area(key=f"chat.result.{call.id}").value == \
        '{"temperature": 9, "conditions": "rain"}'
    click(at, "chat.send_results")
    assert messages(at)[-2].content == '{"temperature": 9, "conditions": "rain"}'
    assert "rain" in messages(at)[-1].content


# --- bugs ------------------------------------------------------------------------------------

def test_two_files_with_the_same_tool_name_do_not_break_the_page(
    open_app: Callable[..., AppTest], tools_dir: Path,
) -> None:
    shutil.copy(tools_dir / "get_current_weather.yaml", tools_dir / "weather_copy.yaml")
    at = open_app()
    # The second file is listed as broken, naming the first; the first stays usable.
    assert any("already defines the tool 'get_current_weather'" in e for e in errors(at))
    assert at.selectbox(key="tools.editor.selected")


def test_a_duplicate_tool_name_is_not_sent_twice(open_app: Callable[..., AppTest],
                                                 tools_dir: Path) -> None:
    shutil.copy(tools_dir / "get_current_weather.yaml", tools_dir / "weather_copy.yaml")
    at = open_app(page="chat")
    ask(at, SEED)
    sent = sent_tool_names(at)
    assert len(sent) == len(set(sent)), sent


def test_more_than_128_tools_are_not_sent_silently(open_app: Callable[..., AppTest],
                                                   tools_dir: Path) -> None:
    for i in range(129 - len(library(tools_dir))):
        (tools_dir / f"extra_{i}.yaml").write_text(
            f"name: extra_{i}\ndescription: Extra tool {i}\n", encoding="utf-8")
    at = open_app(page="chat")
    ask(at, "hello")
    exchanges = at.session_state["chat.state"].conversation.exchanges
    sent = (last_exchange(at).request_body.get("tools") or []) if exchanges else []
    said = [e.value for e in [*at.error, *at.warning] if "128" in e.value]
    assert len(sent) <= 128 and said


def test_import_over_an_open_draft_keeps_the_editor_consistent(
    open_app: Callable[..., AppTest],
) -> None:
    at = open_in_editor(open_app(), "get_current_weather")
    type_text(at, "get_current_weather", editor_text(at, "get_current_weather").replace(
        "Get the current weather", "MY UNSAVED EDIT"))
    before = editor_data(at, "get_current_weather")["revision"]
    incoming = [{"name": "get_current_weather", "description": "Imported description",
                 "input_schema": {"type": "object", "properties": {}}}]
    at.text_area(key="tools.import_text").input(json.dumps(incoming))
    run(at)
    click(at, "tools.import_go")
    shown = editor_data(at, "get_current_weather")
    assert "Imported description" in shown["text"] and "MY UNSAVED" not in shown["text"]
    assert shown["revision"] != before  # a new revision: the browser's editor takes the text


def test_import_warns_before_it_replaces_unsaved_edits(open_app: Callable[..., AppTest]) -> None:
    at = open_in_editor(open_app(), "get_current_weather")
    incoming = [{"name": "get_current_weather", "description": "Imported description",
                 "input_schema": {"type": "object", "properties": {}}}]
    at.text_area(key="tools.import_text").input(json.dumps(incoming))
    run(at)
    assert not [w.value for w in at.warning if "unsaved edits" in w.value]  # nothing typed yet
    type_text(at, "get_current_weather", editor_text(at, "get_current_weather").replace(
        "Get the current weather", "MY UNSAVED EDIT"))
    [warning] = [w.value for w in at.warning if "unsaved edits" in w.value]
    assert "get_current_weather" in warning


def test_a_format_switch_alone_is_no_unsaved_edit_for_import(
    open_app: Callable[..., AppTest],
) -> None:
    at = open_in_editor(open_app(), "web_search")
    set_format(at, "web_search", "json")
    set_format(at, "web_search", "yaml")
    assert not unsaved_warning(at)
    incoming = [{"name": "web_search", "description": "Search, imported",
                 "input_schema": {"type": "object", "properties": {}}}]
    at.text_area(key="tools.import_text").input(json.dumps(incoming))
    run(at)
    assert not [w.value for w in at.warning if "unsaved edits" in w.value]


def test_import_replaces_a_tool_kept_under_another_file_name(open_app: Callable[..., AppTest],
                                                            tools_dir: Path) -> None:
    (tools_dir / "get_current_weather.yaml").rename(tools_dir / "weather.yaml")
    at = open_app()
    incoming = [{"name": "get_current_weather", "description": "Imported description",
                 "input_schema": {"type": "object", "properties": {}}}]
    at.text_area(key="tools.import_text").input(json.dumps(incoming))
    run(at)
    click(at, "tools.import_go")
    entries = load_library(tools_dir)
    named = [e for e in entries if e.name == "get_current_weather"]
    assert len(named) == 1 and named[0].spec.description == "Imported description"
    assert not (tools_dir / "weather.yaml").exists()
    assert not [e for e in entries if e.error], [e.error for e in entries]


def test_editing_an_unreadable_file_says_why(open_app: Callable[..., AppTest],
                                             tools_dir: Path) -> None:
    (tools_dir / "huge.yaml").write_text("name: huge\ndescription: '" + "x" * 300_000 + "'\n",
                                         encoding="utf-8")
    at = open_in_editor(open_app(), "huge")
    assert any("cannot be opened" in e and "larger than 256 kB" in e for e in errors(at)), \
        errors(at)
    assert not editors_on_page(at)  # no editor to overwrite it from


def test_a_yaml_date_in_a_tool_breaks_no_page(open_app: Callable[..., AppTest],
                                              tools_dir: Path) -> None:
    (tools_dir / "book_day.yaml").write_text(
        "name: book_day\ndescription: Book a day\nparameters:\n  type: object\n"
        "  properties:\n    day:\n      type: string\n      default: 2026-12-01\n",
        encoding="utf-8")
    at = open_app(page="chat")
    at.chat_input(key="chat.input").set_value(SEED)
    at.run()
    assert not [e for e in errors(at) if "Something went wrong" in e]
    go(at, "tools")


# --- argument checks on the Chat page -----------------------------------------------------------

FAKE_KEY = "sk-test-TOOLS-PAGE-000"


def use_wire_server(clean_env: pytest.MonkeyPatch, wire: WireServer) -> None:
    clean_env.setenv("OPENAI_BASE_URL", wire.base_url)
    clean_env.setenv("OPENAI_API_KEY", FAKE_KEY)
    clean_env.setenv("OPENAI_MODEL", "gpt-4o-2024-08-06")


def tool_call_reply(*calls: tuple[str, Any]) -> Reply:
    """A whole (non-streamed) answer calling the given tools with the given arguments."""
    response = copy.deepcopy(REFERENCE_RESPONSE)
    response["choices"][0]["message"]["tool_calls"] = [
        {"id": f"call_{i}Abc", "type": "function",
         "function": {"name": name, "arguments": args if isinstance(args, str)
                      else json.dumps(args)}}
        for i, (name, args) in enumerate(calls)]
    return json_reply(response)


VIOLATION = re.compile(r"^- (`+) ?(.*?) ?\1: (.*) \(value (`+) ?(.*?) ?\4\)$")


def violation_rows(at: AppTest) -> list[dict[str, str]]:
    """The schema violations listed under a tool-call card (a Markdown list, as text)."""
    rows: list[dict[str, str]] = []
    for element in at.markdown:
        for line in element.value.split("\n"):
            found = VIOLATION.match(line)
            if found:
                rows.append({"where": found[2], "problem": re.sub(r"\\(.)", r"\1", found[3]),
                             "value": found[5]})
    return rows


@pytest.fixture
def chat_app(open_app: Callable[..., AppTest], clean_env: pytest.MonkeyPatch,
             wire_server: WireServer) -> Callable[[], AppTest]:
    use_wire_server(clean_env, wire_server)
    return lambda: open_app(page="chat")


def test_valid_arguments_are_marked_as_fitting(chat_app: Callable[[], AppTest],
                                               wire_server: WireServer) -> None:
    wire_server.script(tool_call_reply(("get_current_weather", {"location": "Boston, MA"})))
    at = ask(chat_app(), SEED)
    assert ":material/check_circle: Arguments fit the schema that was sent." in captions(at)
    assert not violation_rows(at)


def test_violations_are_listed_with_pointer_and_value(chat_app: Callable[[], AppTest],
                                                      wire_server: WireServer) -> None:
    wire_server.script(tool_call_reply(
        ("get_current_weather", {"location": 42, "unit": "kelvin"}),
        ("create_calendar_event", {"title": "Sync", "start": "2026-12-01T09:30:00Z",
                                   "duration_minutes": 30,
                                   "attendees": [{"email": "a@example.com"}, {"optional": 1}]}),
    ))
    at = ask(chat_app(), SEED)
    assert errors(at).count("Arguments break the schema that was sent (2 violations):") == 2
    rows = violation_rows(at)
    assert {(r["where"], r["value"]) for r in rows} == {
        ("/location", "42"), ("/unit", '"kelvin"'),
        ("/attendees/1", '{"optional": 1}'), ("/attendees/1/optional", "1")}
    by_where = {r["where"]: r["problem"] for r in rows}
    assert by_where["/location"] == "42 is not of type 'string'"
    assert by_where["/unit"] == "'kelvin' is not one of ['celsius', 'fahrenheit']"
    assert by_where["/attendees/1"] == "'email' is a required property"
    assert by_where["/attendees/1/optional"] == "1 is not of type 'boolean'"


def test_an_unknown_tool_is_flagged(chat_app: Callable[[], AppTest],
                                    wire_server: WireServer) -> None:
    wire_server.script(tool_call_reply(("get_stock_price", {"ticker": "ACME"})))
    at = ask(chat_app(), SEED)
    [flag] = [e for e in errors(at) if e.startswith("Unknown tool")]
    assert "no tool named `get_stock_price`" in flag
    assert "`get_current_weather`" in flag
    # The call can still be answered.
    assert at.text_area(key="chat.result.call_0Abc").value == ""


def test_a_tool_switched_off_is_unknown_to_the_request(open_app: Callable[..., AppTest],
                                                       clean_env: pytest.MonkeyPatch,
                                                       wire_server: WireServer) -> None:
    use_wire_server(clean_env, wire_server)
    at = open_app()
    at.toggle(key="tools.enable.get_current_weather").set_value(False)
    run(at)
    go(at, "chat")
    wire_server.script(tool_call_reply(("get_current_weather", {"location": "Boston, MA"})))
    ask(at, SEED)
    assert any(e.startswith("Unknown tool") and "`get_current_weather`" in e
               for e in errors(at))
    assert "get_current_weather" not in [
        t["function"]["name"] for t in wire_server.chat_requests[-1].json["tools"]]


def test_the_check_uses_the_schema_sent_even_after_the_tool_is_edited(
    chat_app: Callable[[], AppTest], wire_server: WireServer, tools_dir: Path,
) -> None:
    wire_server.script(tool_call_reply(("get_current_weather",
                                        {"location": "Boston, MA", "unit": "kelvin"})))
    at = ask(chat_app(), SEED)
    assert [r["where"] for r in violation_rows(at)] == ["/unit"]

    # Now kelvin is allowed and a new parameter is required in the library.
    go(at, "tools")
    open_in_editor(at, "get_current_weather")
    type_text(at, "get_current_weather", editor_text(at, "get_current_weather").replace(
        "enum: [celsius, fahrenheit]", "enum: [celsius, fahrenheit, kelvin]").replace(
        "required: [location]", "required: [location, unit]"))
    click(at, "tools.save")
    assert library(tools_dir)["get_current_weather"].parameters["properties"]["unit"][
        "enum"] == ["celsius", "fahrenheit", "kelvin"]

    go(at, "chat")
    rows = violation_rows(at)
    assert [(r["where"], r["value"]) for r in rows] == [("/unit", '"kelvin"')]
    assert rows[0]["problem"] == "'kelvin' is not one of ['celsius', 'fahrenheit']"


def test_arguments_that_are_not_json_are_shown_raw(chat_app: Callable[[], AppTest],
                                                   wire_server: WireServer) -> None:
    wire_server.script(tool_call_reply(("get_current_weather", '{"location": Boston}')))
    at = ask(chat_app(), SEED)
    assert any("The arguments are not valid JSON" in w.value for w in at.warning)
    assert '{"location": Boston}' in code_blocks(at)
    assert not violation_rows(at)


def test_a_schema_with_a_bad_pattern_does_not_break_the_chat_page(
    chat_app: Callable[[], AppTest], wire_server: WireServer, tools_dir: Path,
) -> None:
    (tools_dir / "lookup_code.yaml").write_text(
        "name: lookup_code\ndescription: Look up a code\nparameters:\n  type: object\n"
        "  properties:\n    code: {type: string, pattern: '('}\n", encoding="utf-8")
    wire_server.script(tool_call_reply(("lookup_code", {"code": "A1"})))
    at = chat_app()
    at.chat_input(key="chat.input").set_value("Look up A1")
    at.run()
    assert not [e for e in errors(at) if "Something went wrong" in e]
    assert at.text_area(key="chat.result.call_0Abc")


def test_generate_asks_the_sidebar_model_and_opens_its_answer(
    open_app: Callable[..., AppTest], clean_env: pytest.MonkeyPatch, wire_server: WireServer,
) -> None:
    """A real model's answer, over the wire: YAML in a code fence, opened checked; a bad draft
    opens too, its problems marked, nothing saved."""
    use_wire_server(clean_env, wire_server)
    answer = copy.deepcopy(REFERENCE_RESPONSE)
    answer["choices"][0]["message"].update({"tool_calls": None, "content": (
        "Here is the tool:\n```yaml\nname: track_parcel\ndescription: Where a parcel is now.\n"
        "parameters:\n  type: object\n  properties:\n    code: {type: string}\n"
        "  required: [code]\n```")})
    broken = copy.deepcopy(answer)
    broken["choices"][0]["message"]["content"] = "name: bad name\ndescription: x\n"
    wire_server.script(json_reply(answer), json_reply(broken))
    at = open_app()
    at.text_area(key="tools.generate.description").input("Track a parcel by its code")
    at.button(key="tools.generate.go").click()
    run(at)
    [request] = wire_server.chat_requests
    body = request.json
    assert "tools" not in body and not body.get("stream")
    assert body["messages"][0]["content"].startswith("[toolsmith:draft-tool]")
    assert "Track a parcel by its code" in body["messages"][-1]["content"]
    editor_id = at.selectbox(key="tools.editor.selected").value
    assert parse_text(editor_text(at, editor_id), "yaml")[0]["name"] == "track_parcel"
    assert problem_lines(at) == []
    assert any("Drafted by `gpt-4o-2024-08-06`" in c for c in captions(at))

    at.button(key="tools.generate.go").click()
    run(at)
    second = at.selectbox(key="tools.editor.selected").value
    assert second != editor_id  # each draft is a tool of its own
    assert any(line.startswith("**/name** — name must be") for line in problem_lines(at))
    assert at.button(key="tools.save").disabled
