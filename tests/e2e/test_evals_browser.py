"""The schema-testing loop in a real browser: save a chat turn as a test case, run the suite
against the demo model in two formats, see the grid and a cell, change the tool's description,
run again, and compare the two runs."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import ROOT, StartServer
from tests.e2e.ui import SEED, ask, by_key, go_to, main, no_exception, open_chat

pytestmark = pytest.mark.e2e

SUITE = """name: weather
tools: [get_current_weather]
cases:
  - name: no tool for thanks
    messages: Thanks, that is all for now!
    expect: {no_tool: true}
"""
OLD = "Get the current weather in a given location"
NEW = "Current weather for a city, as reported by the nearest station"


def view(page: Page, name: str) -> None:
    by_key(page, "evals.view").get_by_text(name, exact=True).click()


def run_suite(page: Page, requests: int) -> None:
    view(page, "Run")
    button = main(page).get_by_role("button", name=f"Run {requests} request(s)")
    if not button.is_visible():  # the second target is ticked once; ticks are kept
        main(page).get_by_text("Demo model (anthropic format)").click()
    button.click()
    expect(main(page).get_by_text(re.compile(rf"{requests}/{requests} answered"))).to_be_visible()
    # Drawn once the run's thread has ended and the page has redrawn in full.
    expect(main(page).get_by_role("button", name="Download JUnit XML")).to_be_visible()


def test_save_run_edit_run_again_and_compare(start_server: StartServer, page: Page,
                                            tmp_path: Path) -> None:
    tools, evals = tmp_path / "tools", tmp_path / "evals"
    tools.mkdir()
    evals.mkdir()
    shutil.copy(ROOT / "tools" / "get_current_weather.yaml", tools)
    (evals / "weather.yaml").write_text(SUITE)
    server = start_server({"TOOLSMITH_TOOLS_DIR": str(tools),
                           "TOOLSMITH_EVALS_DIR": str(evals)})

    # 1. A chat turn becomes a test case.
    open_chat(page, server.url)
    ask(page, SEED)
    expect(main(page).get_by_text("call id", exact=False).first).to_be_visible()
    main(page).get_by_role("button", name="Save as test case").first.click()
    expect(main(page).get_by_role("heading", name="Evals", exact=True)).to_be_visible()
    expect(main(page).get_by_text("A case saved from a conversation is waiting")).to_be_visible()
    main(page).get_by_role("button", name="Add it to weather.yaml").click()
    expect(main(page).get_by_text("Valid: 2 case(s)", exact=False)).to_be_visible()
    main(page).get_by_role("button", name="Save").click()
    expect(main(page).get_by_text("Saved weather.yaml")).to_be_visible()
    saved = (evals / "weather.yaml").read_text()
    assert "tool: get_current_weather" in saved and "location: Boston, MA" in saved

    # 2. Run it against the demo model in both wire formats: 2 cases x 2 targets x 3 repeats.
    run_suite(page, 12)
    expect(main(page).get_by_text("12/12 answered · 12 pass · 0 fail · 0 error")).to_be_visible()
    expect(main(page).get_by_test_id("stDataFrame").first).to_be_visible()
    picker = by_key(page, "evals.cell_pick")
    picker.click()
    page.get_by_role("option", name=re.compile(r"^What's the weather.*anthropic")).click()
    cell = main(page).get_by_text("Arguments fit the schema that was sent.").first
    expect(cell).to_be_visible()
    main(page).get_by_role("button", name="🔍 Inspect request").first.click()
    expect(main(page).get_by_text("Body, exactly as sent").first).to_be_visible()

    # 3. Change the tool's description, as in an editor on tools/*.yaml (the Tools page's
    # own editor has its browser tests; files are how a team versions its schemas).
    weather = tools / "get_current_weather.yaml"
    weather.write_text(weather.read_text().replace(OLD, NEW))
    go_to(page, "Tools")
    expect(main(page).get_by_text(NEW[:40], exact=False).first).to_be_visible()

    # 4. Run again and compare: the description diff, and how each cell moved.
    go_to(page, "Evals")
    run_suite(page, 12)
    view(page, "Compare")
    expect(main(page).get_by_text(f"-description: {OLD}", exact=False)).to_be_visible()
    expect(main(page).get_by_text(f"+description: {NEW}", exact=False)).to_be_visible()
    expect(main(page).get_by_text(re.compile(
        r"Per case and target — \d+ better, \d+ worse, \d+ unchanged"))).to_be_visible()
    no_exception(page)
