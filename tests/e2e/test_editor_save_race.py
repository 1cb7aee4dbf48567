"""What the user sees in the editor is what Save writes: an edit typed a moment before Save
(still inside the editor's typing pause, so not yet sent to Python) is saved, not dropped."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import StartServer
from tests.e2e.test_tools_browser import WEATHER, editor, open_tools_page

pytestmark = pytest.mark.e2e

ADDED = " (typed just before saving)"


def _type_at_end_of_description(page: Page) -> None:
    box = editor(page)
    expect(box).to_contain_text("name: get_current_weather")
    box.get_by_text("description: Get the current weather", exact=False).first.click()
    page.keyboard.press("End")
    page.keyboard.type(ADDED, delay=5)


@pytest.mark.parametrize("how", ["button", "ctrl-s", "button-after-pause"])
def test_the_text_typed_right_before_save_is_the_text_saved(
    start_server: StartServer, page: Page, tmp_path, how: str,
) -> None:
    library, main = open_tools_page(start_server, page, tmp_path)
    page.get_by_role("tab", name="Editor").click()
    _type_at_end_of_description(page)
    if how == "ctrl-s":
        page.keyboard.press("Control+s")
    else:
        if how == "button-after-pause":
            # The typing pause has passed and the check came back: Save is clicked after.
            expect(main.get_by_text("Unsaved changes", exact=False)).to_be_visible()
        main.get_by_role("button", name="Save").click()
    expect(main.get_by_text("Saved get_current_weather.yaml", exact=False)).to_be_visible()
    saved = (library / WEATHER.name).read_text(encoding="utf-8")
    assert f"Get the current weather in a given location{ADDED}" in saved
    expect(main.get_by_text("Unsaved changes", exact=False)).to_have_count(0)
    expect(page.get_by_test_id("stException")).to_have_count(0)


def test_revert_right_after_typing_brings_back_the_file_text(
    start_server: StartServer, page: Page, tmp_path,
) -> None:
    """The text sent as the editor loses focus to Revert must not come back after it."""
    library, main = open_tools_page(start_server, page, tmp_path)
    page.get_by_role("tab", name="Editor").click()
    _type_at_end_of_description(page)
    expect(main.get_by_text("Unsaved changes", exact=False)).to_be_visible()
    page.keyboard.type(" more", delay=5)
    main.get_by_role("button", name="Revert").click()
    expect(main.get_by_text("Unsaved changes", exact=False)).to_have_count(0)
    expect(editor(page)).not_to_contain_text(ADDED)
    main.get_by_role("button", name="Save").click()
    expect(main.get_by_text("Saved get_current_weather.yaml", exact=False)).to_be_visible()
    assert ADDED not in (library / WEATHER.name).read_text(encoding="utf-8")


def test_undo_after_a_format_switch_stays_in_the_new_format(
    start_server: StartServer, page: Page, tmp_path,
) -> None:
    """Undo must not bring the YAML text back under the JSON switch (the switch starts a fresh
    undo history, as the text is a different document now)."""
    _, main = open_tools_page(start_server, page, tmp_path)
    page.get_by_role("tab", name="Editor").click()
    _type_at_end_of_description(page)
    expect(main.get_by_text("Unsaved changes", exact=False)).to_be_visible()
    main.get_by_text("JSON", exact=True).click()
    box = editor(page)
    expect(box).to_contain_text('"name": "get_current_weather"')
    box.click()
    page.keyboard.press("Control+z")
    page.keyboard.press("Control+z")
    expect(box).to_contain_text('"name": "get_current_weather"')
    expect(box).to_contain_text(ADDED)
    expect(box).not_to_contain_text("name: get_current_weather")
