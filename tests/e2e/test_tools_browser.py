"""The schema author's loop in a real browser: break a schema, see the error, fix it, enable
the tool, and see the model's call checked against it on the Chat page."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.conftest import ROOT, StartServer

pytestmark = pytest.mark.e2e

SEED = "What's the weather like in Boston today?"
WEATHER = ROOT / "tools" / "get_current_weather.yaml"
EDITOR_SHOT = ROOT / "docs" / "editor.png"

# The seed tool with a pattern the demo model's "Boston, MA" does not match, so the card on the
# Chat page must show a violation at /location.
FIXED = """name: get_current_weather
description: Get the current weather in a given location
parameters:
  type: object
  properties:
    location:
      type: string
      description: An airport code, e.g. BOS
      pattern: "^[A-Z]{3}$"
    unit:
      type: string
      enum: [celsius, fahrenheit]
  required: [location]
"""
BROKEN = FIXED.replace("type: string\n      enum", "type: strin\n      enum")


def editor(page: Page) -> Locator:
    """The code editor's text area (CodeMirror's content element, inside the component)."""
    return page.get_by_test_id("tool-editor")


def commit(box_text: str, page: Page) -> None:
    """Replace the editor's text as a person does (select all, paste) and check it at once
    (Ctrl+Enter)."""
    box = editor(page)
    box.click()
    page.keyboard.press("Control+a")
    page.keyboard.insert_text(box_text)
    page.keyboard.press("Control+Enter")


def open_tools_page(start_server: StartServer, page: Page,
                    tmp_path: Path) -> tuple[Path, Locator]:
    """A server whose library is a copy of the seed tool, with the Tools page open; returns
    the library folder and the page's main area."""
    library = tmp_path / "tools"
    library.mkdir()
    shutil.copy(WEATHER, library / WEATHER.name)
    server = start_server({"TOOLSMITH_TOOLS_DIR": str(library)})
    page.goto(server.url + "/tools")
    return library, page.get_by_test_id("stMainBlockContainer")


def test_break_fix_enable_and_see_the_call_checked(
    start_server: StartServer, page: Page, tmp_path: Path,
) -> None:
    library, main = open_tools_page(start_server, page, tmp_path)

    # Start with the tool switched off.
    send = main.get_by_text("Send", exact=True)
    expect(send).to_be_visible()
    send.click()
    expect(main.get_by_text("0 sent with each Chat request", exact=False)).to_be_visible()

    page.get_by_role("tab", name="Editor").click()
    commit(BROKEN, page)
    problem = main.get_by_text("/parameters/properties/unit/type", exact=False)
    expect(problem).to_be_visible()
    expect(main.get_by_role("button", name="Save")).to_be_disabled()

    commit(FIXED, page)
    expect(main.get_by_text("Valid:", exact=False)).to_be_visible()
    main.get_by_role("button", name="Save").click()
    expect(main.get_by_text("Saved get_current_weather.yaml", exact=False)).to_be_visible()
    assert (library / WEATHER.name).read_text(encoding="utf-8") == FIXED

    page.get_by_role("tab", name="Library").click()
    main.get_by_text("Send", exact=True).click()
    expect(main.get_by_text("1 sent with each Chat request", exact=False)).to_be_visible()

    page.get_by_test_id("stSidebarNav").get_by_text("Chat", exact=True).click()
    box = page.get_by_test_id("stChatInputTextArea")
    expect(box).to_be_enabled()
    box.fill(SEED)
    box.press("Enter")
    card = main.get_by_test_id("stChatMessage").filter(has_text="call id")
    expect(card).to_contain_text("Arguments break the schema that was sent")
    expect(card).to_contain_text("/location")
    expect(card).to_contain_text(re.compile(r"does not match"))
    expect(page.get_by_test_id("stException")).to_have_count(0)


def test_the_editor_tab_stays_open_through_edits_and_messages(
    start_server: StartServer, page: Page, tmp_path: Path,
) -> None:
    """A message appearing above the tabs (Saved, Rewritten for strict mode, an error) must not
    send the user back to the Library tab."""
    _, main = open_tools_page(start_server, page, tmp_path)
    main.get_by_role("button", name="Edit").first.click()
    tab = page.get_by_role("tab", name="Editor")
    expect(tab).to_have_attribute("aria-selected", "true")  # Edit opens the Editor tab

    main.get_by_text("JSON", exact=True).click()
    expect(editor(page)).to_contain_text('"name": "get_current_weather"')
    expect(tab).to_have_attribute("aria-selected", "true")
    main.get_by_role("button", name="Save").click()
    expect(main.get_by_text("Saved", exact=False).first).to_be_visible()
    expect(tab).to_have_attribute("aria-selected", "true")
    expect(page.get_by_test_id("stException")).to_have_count(0)


def test_type_see_the_mark_jump_fix_and_save_with_the_keyboard(
    start_server: StartServer, page: Page, tmp_path: Path,
) -> None:
    """The editor as a person uses it: a typo is marked where it is (message on hover, listed
    under the text), the list jumps to it, typing fixes it, Ctrl+S saves."""
    library, main = open_tools_page(start_server, page, tmp_path)
    page.get_by_role("tab", name="Editor").click()
    box = editor(page)
    expect(box).to_contain_text("name: get_current_weather")
    expect(page.locator(".cm-lineNumbers")).to_contain_text("12")
    box.click()
    page.keyboard.press("Control+a")
    page.keyboard.insert_text(BROKEN)  # pasted; checked when typing pauses, no key needed

    mark = page.locator(".cm-lintRange-error")
    expect(mark).to_have_count(1)
    expect(mark).to_have_text("type: strin")
    problem = page.locator(".ts-problems li")
    expect(problem).to_have_count(1)
    expect(problem).to_contain_text("/parameters/properties/unit/type")
    mark.hover()
    expect(page.locator(".cm-tooltip-lint")).to_contain_text("not valid JSON Schema")
    expect(main.get_by_role("button", name="Save")).to_be_disabled()
    page.screenshot(path=str(EDITOR_SHOT))  # the README's picture of the editor

    page.locator(".cm-content").press("Control+Home")  # elsewhere, then back by the list
    problem.click()
    expect(page.locator(".cm-activeLine")).to_have_text("      type: strin")
    page.keyboard.press("End")
    page.keyboard.type("g")
    expect(page.locator(".cm-lintRange-error")).to_have_count(0)
    expect(main.get_by_text("Valid:", exact=False)).to_be_visible()

    page.keyboard.press("Control+s")
    expect(main.get_by_text("Saved get_current_weather.yaml", exact=False)).to_be_visible()
    assert (library / WEATHER.name).read_text(encoding="utf-8") == FIXED
    expect(page.get_by_test_id("stException")).to_have_count(0)


def test_keywords_and_type_values_are_completed(
    start_server: StartServer, page: Page, tmp_path: Path,
) -> None:
    _, main = open_tools_page(start_server, page, tmp_path)
    page.get_by_role("tab", name="Editor").click()
    box = editor(page)
    expect(box).to_contain_text("name: get_current_weather")
    box.click()
    page.keyboard.press("Control+a")
    page.keyboard.insert_text(FIXED.replace("      pattern: \"^[A-Z]{3}$\"\n", ""))
    page.get_by_text("description: An airport code, e.g. BOS").click()
    page.keyboard.press("End")
    page.keyboard.press("Enter")  # indented like the line above
    page.keyboard.type("minLe")
    options = page.locator(".cm-tooltip-autocomplete")
    expect(options).to_contain_text("minLength")
    # Checked as typed: a key without its colon is marked while the list is open. (Seeing it
    # also lets CodeMirror's guard against an accidental Enter on a new list pass.)
    expect(page.locator(".ts-problems li")).to_contain_text("YAML syntax error")
    page.keyboard.press("Enter")
    page.keyboard.type("3")
    expect(box).to_contain_text("minLength: 3")
    page.get_by_text("type: string").first.click()
    page.keyboard.press("End")
    for _ in range(len("string")):
        page.keyboard.press("Backspace")
    page.keyboard.type("inte")
    expect(options).to_contain_text("integer")
    expect(page.locator(".ts-problems li")).to_contain_text("'inte' is not valid")
    page.keyboard.press("Enter")
    expect(box).to_contain_text("type: integer")
    page.keyboard.press("Enter")
    page.keyboard.type("format: da")
    expect(options).to_contain_text("date-time")
    expect(main.get_by_text("Valid:", exact=False)).to_be_visible()  # checked as typed


def test_search_fold_and_undo_work_as_in_other_editors(
    start_server: StartServer, page: Page, tmp_path: Path,
) -> None:
    open_tools_page(start_server, page, tmp_path)
    page.get_by_role("tab", name="Editor").click()
    box = editor(page)
    expect(box).to_contain_text("name: get_current_weather")
    box.click()

    page.keyboard.press("Control+f")  # the search panel, inside the editor
    search = page.locator(".cm-search input[name=search]")
    expect(search).to_be_focused()
    page.keyboard.type("fahrenheit")
    page.keyboard.press("Enter")
    expect(page.locator(".cm-searchMatch-selected")).to_have_text("fahrenheit")
    page.keyboard.press("Escape")

    # Fold `parameters:` from its gutter marker, then open it again from the placeholder.
    page.locator(".cm-foldGutter [title='Fold line']").first.click()
    placeholder = page.locator(".cm-foldPlaceholder")
    expect(placeholder).to_have_count(1)
    expect(box).not_to_contain_text("fahrenheit")
    placeholder.click()
    expect(box).to_contain_text("fahrenheit")

    page.keyboard.press("Control+End")
    page.keyboard.type("# a note")
    expect(box).to_contain_text("# a note")
    page.keyboard.press("Control+z")
    expect(box).not_to_contain_text("# a note")
    page.keyboard.press("Tab")  # indents, as in other code editors (focus stays)
    page.keyboard.type("x")
    expect(page.locator(".cm-activeLine")).to_have_text("  x")
    expect(page.get_by_test_id("stException")).to_have_count(0)


def test_generate_with_the_demo_model_opens_the_draft_in_the_editor(
    start_server: StartServer, page: Page, tmp_path: Path,
) -> None:
    library, main = open_tools_page(start_server, page, tmp_path)
    page.get_by_role("tab", name="Editor").click()
    main.get_by_text("Generate a tool from a description").click()
    main.get_by_label("What should the tool do?").fill(
        "Send an email to a recipient with a subject and a body")
    main.get_by_role("button", name="Generate with").click()
    # The draft opens as a new tool: its own editor (the previous one leaves with the rerun).
    box = editor(page).filter(has_text="name: send_email_recipient")
    expect(box).to_contain_text("subject:")
    expect(main.get_by_text("Drafted by toolsmith-demo", exact=False)).to_be_visible()
    expect(main.get_by_text("Valid:", exact=False)).to_be_visible()
    box.click()
    page.keyboard.press("Control+s")
    expect(main.get_by_text("Saved send_email_recipient.yaml", exact=False)).to_be_visible()
    assert (library / "send_email_recipient.yaml").exists()
    expect(page.get_by_test_id("stException")).to_have_count(0)


def test_without_the_bundle_a_plain_box_still_edits_the_tool(
    start_server: StartServer, page: Page, tmp_path: Path,
) -> None:
    """Static serving off (the bundle cannot be fetched): the tool is still editable."""
    library = tmp_path / "tools"
    library.mkdir()
    shutil.copy(WEATHER, library / WEATHER.name)
    server = start_server({"TOOLSMITH_TOOLS_DIR": str(library),
                           "STREAMLIT_SERVER_ENABLE_STATIC_SERVING": "false"})
    page.goto(server.url + "/tools")
    main = page.get_by_test_id("stMainBlockContainer")
    page.get_by_role("tab", name="Editor").click()
    expect(main.get_by_text("The code editor could not be loaded", exact=False)).to_be_visible()
    box = main.get_by_role("textbox", name="Tool definition")
    expect(box).to_have_value(re.compile("name: get_current_weather"))
    box.fill(BROKEN)
    expect(main.get_by_text("1 problem: this tool cannot be saved", exact=False)).to_be_visible()
    box.fill(FIXED)
    expect(main.get_by_text("Valid:", exact=False)).to_be_visible()
    main.get_by_role("button", name="Save").click()
    expect(main.get_by_text("Saved get_current_weather.yaml", exact=False)).to_be_visible()
    assert (library / WEATHER.name).read_text(encoding="utf-8") == FIXED
