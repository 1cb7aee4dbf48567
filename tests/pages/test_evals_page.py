"""The Evals page through AppTest on the real app.py: suites listed and checked as edited, a
case added by the form and saved, a run against the demo model in two formats (in the
background), the grid, a cell's repeats with the inspector, and Compare."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.evals import jobs
from core.evals.records import EvalRecords
from core.store import Store, default_url
from tests.support.apptest import rendered_text, run

ROOT = Path(__file__).resolve().parents[2]
MakeApp = Callable[[], AppTest]


@pytest.fixture
def evals_dir(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    folder = tmp_path / "evals"
    shutil.copytree(ROOT / "evals", folder)
    clean_env.setenv("TOOLSMITH_EVALS_DIR", str(folder))
    return folder


def open_evals(at: AppTest, view: str = "Suites") -> AppTest:
    at.switch_page("app_pages/evals.py")
    run(at)
    assert [t.value for t in at.title] == ["Evals"]
    at.radio(key="evals.view").set_value(view)
    return run(at)


def editor(at: AppTest):
    return next(t for t in at.text_area if t.key.startswith("evals.editor."))


def finish_runs() -> None:
    for run_id in jobs.live():
        assert jobs.wait(run_id, timeout=60)


def test_suites_are_listed_and_the_editor_checks_as_you_type(make_app: MakeApp,
                                                             evals_dir: Path) -> None:
    at = open_evals(make_app())
    text = rendered_text(at)
    assert "library_tools.yaml" in text and "ready" in text
    assert any("Valid: 6 case(s)" in s.value for s in at.success)
    editor(at).set_value(editor(at).value.replace("tools: [get_current_weather,",
                                                  "tools: [get_weather_typo,"))
    run(at)
    assert any("problem(s)" in e.value for e in at.error)
    assert "unknown tool 'get_weather_typo'" in rendered_text(at)
    assert "line 5, column 9" in rendered_text(at)
    assert at.button(key="evals.save").disabled
    # The broken text survives a page switch, unsaved; the file is untouched.
    at.switch_page("app_pages/tools.py")
    run(at)
    at = open_evals(at)
    assert "get_weather_typo" in editor(at).value
    assert "get_weather_typo" not in (evals_dir / "library_tools.yaml").read_text()
    at.button(key="evals.revert").click()
    run(at)
    assert "get_weather_typo" not in editor(at).value


def test_the_form_adds_a_case_that_save_writes(make_app: MakeApp, evals_dir: Path) -> None:
    at = open_evals(make_app())
    path = str(evals_dir / "library_tools.yaml")
    at.text_input(key=f"evals.form.name.{path}.0").set_value("paris")
    at.text_area(key=f"evals.form.prompt.{path}.0").set_value("Weather in Paris?")
    at.selectbox(key=f"evals.form.tool.{path}.0").set_value("get_current_weather")
    run(at)
    at.session_state[f"evals.form.rows.{path}.0"] = {
        "edited_rows": {0: {"check": "matches", "value": "^Paris"}}, "added_rows": [],
        "deleted_rows": []}
    run(at)
    at.button(key=f"evals.form.add.{path}").click()
    run(at)
    assert "name: paris" in editor(at).value
    assert "matches: ^Paris" in editor(at).value
    assert any("Valid: 7 case(s)" in s.value for s in at.success)
    at.button(key="evals.save").click()
    run(at)
    saved = (evals_dir / "library_tools.yaml").read_text()
    assert "name: paris" in saved and saved.startswith("# Does each shipped tool")


def test_a_run_in_the_background_fills_the_grid_and_a_cell_opens(make_app: MakeApp,
                                                                  evals_dir: Path) -> None:
    at = open_evals(make_app(), "Run")
    at.checkbox(key="evals.t.demo.anthropic").check()
    at.number_input(key="evals.repeats").set_value(2)
    run(at)
    assert at.button(key="evals.start").label == "Run 24 request(s)"
    at.button(key="evals.start").click()
    run(at)
    assert at.radio(key="evals.view").value == "Results"
    finish_runs()
    run(at)
    text = rendered_text(at)
    assert "24/24 answered · 24 pass · 0 fail · 0 error" in text
    assert "🟩 2/2 pass" in text
    [stored] = EvalRecords(Store.open(default_url())).runs()
    assert stored.status == "done" and stored.answered == 24
    options = at.selectbox(key="evals.cell_pick").options
    pick = next(o for o in options if o.startswith("weather in one city ×"))
    at.selectbox(key="evals.cell_pick").set_value(pick)
    run(at)
    text = rendered_text(at)
    assert "get_current_weather" in text and "Boston, MA" in text
    assert "Arguments fit the schema that was sent." in text
    inspect = next(b for b in at.button if b.key.startswith("evals.inspect."))
    inspect.click()
    run(at)
    assert "Body, exactly as sent" in rendered_text(at)
    assert "Pass rate per target" in rendered_text(at)


def test_compare_shows_what_changed_between_two_runs(make_app: MakeApp, evals_dir: Path,
                                                     clean_env: pytest.MonkeyPatch) -> None:
    at = open_evals(make_app(), "Run")
    at.number_input(key="evals.repeats").set_value(1)
    at.button(key="evals.start").click()
    run(at)
    finish_runs()
    weather = Path(ROOT / "tools" / "get_current_weather.yaml").read_text()
    tools = evals_dir.parent / "tools"
    shutil.copytree(ROOT / "tools", tools)
    (tools / "get_current_weather.yaml").write_text(
        weather.replace("Get the current weather in a given location",
                        "Current weather for a city"))
    clean_env.setenv("TOOLSMITH_TOOLS_DIR", str(tools))  # the edited library from here on
    at.radio(key="evals.view").set_value("Run")
    run(at)
    at.button(key="evals.start").click()
    run(at)
    finish_runs()
    at.radio(key="evals.view").set_value("Compare")
    run(at)
    text = rendered_text(at)
    assert "-description: Get the current weather in a given location" in text
    assert "+description: Current weather for a city" in text
    assert "= same" in text


def test_progress_while_running_then_cancel_and_resume(make_app: MakeApp,
                                                       evals_dir: Path) -> None:
    from tests.support.eval_server import EvalServer

    with EvalServer(hold=True) as server:
        at = open_evals(make_app(), "Run")
        at.checkbox(key="evals.t.sidebar").uncheck()
        at.text_input(key="evals.t.custom_base").set_value(server.base_url)
        at.text_input(key="evals.t.custom_model").set_value("gpt-test")
        at.number_input(key="evals.repeats").set_value(1)
        at.number_input(key="evals.concurrency").set_value(2)
        run(at)
        assert at.button(key="evals.start").label == "Run 6 request(s)"
        at.button(key="evals.start").click()
        run(at)
        assert server.wait_for_posts(2)
        text = rendered_text(at)
        assert "running" in text and "0/6 answered" in text
        cancel = next(b for b in at.button if b.key.startswith("evals.cancel."))
        cancel.click()
        run(at)  # the callback cancels; only then may the held requests finish
        server.release()
        finish_runs()
        run(at)
        [stored] = EvalRecords(Store.open(default_url())).runs()
        assert stored.status == "cancelled" and stored.answered == 2
        assert "4 of 6 cells not answered" in rendered_text(at)
        resume = next(b for b in at.button if b.key.startswith("evals.resume."))
        assert resume.label == "Resume (4 missing)"
        resume.click()
        run(at)
        finish_runs()
        run(at)
        assert "6/6 answered · 6 pass" in rendered_text(at)
        assert server.posts == 6


def test_save_a_chat_turn_as_a_test_case(make_app: MakeApp, evals_dir: Path) -> None:
    from tests.support.apptest import ask

    at = ask(make_app(), "What's the weather like in Boston today?")
    save = next(b for b in at.button if b.key.startswith("chat.save_case."))
    save.click()
    run(at)  # the callback keeps the case, the page switches in the same run
    assert [t.value for t in at.title] == ["Evals"]
    assert "A case saved from a conversation is waiting" in rendered_text(at)
    at.button(key="evals.pending_add").click()
    run(at)
    text = editor(at).value
    assert "name: What's the weather like in Boston today?" in text
    assert "tool: get_current_weather" in text and "location: Boston, MA" in text
    assert any("Valid: 7 case(s)" in s.value for s in at.success)
    at.button(key="evals.save").click()
    run(at)
    assert "location: Boston, MA" in (evals_dir / "library_tools.yaml").read_text()


def test_save_a_case_from_the_history_page(make_app: MakeApp, evals_dir: Path) -> None:
    from tests.support.apptest import ask

    at = ask(make_app(), "What time is it on the server?")
    at.switch_page("app_pages/history.py")
    run(at)
    next(b for b in at.button if b.key.startswith("history.manage.")).click()
    run(at)
    next(b for b in at.button if b.key.startswith("history.save_case.")).click()
    run(at)  # the callback keeps the case, the page switches in the same run
    assert [t.value for t in at.title] == ["Evals"]
    assert "tool: get_server_time" in rendered_text(at)


def test_a_saved_case_with_no_suite_yet_becomes_a_new_suite(
        make_app: MakeApp, clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from tests.support.apptest import ask

    empty = tmp_path / "no-suites"
    empty.mkdir()
    clean_env.setenv("TOOLSMITH_EVALS_DIR", str(empty))
    at = ask(make_app(), "What's the weather like in Boston today?")
    next(b for b in at.button if b.key.startswith("chat.save_case.")).click()
    run(at)
    assert "is waiting: create a suite for it" in rendered_text(at)
    at.text_input(key="evals.new_name").set_value("weather")
    at.button(key="evals.create").click()
    run(at)
    text = (empty / "weather.yaml").read_text()
    assert "tools:\n- get_current_weather" in text and "location: Boston, MA" in text
    assert any("Valid: 1 case(s)" in s.value for s in at.success)
    assert "is waiting" not in rendered_text(at)
