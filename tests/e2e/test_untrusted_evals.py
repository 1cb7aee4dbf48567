"""Untrusted text on the Evals page, in the real browser: a run against a local server whose
model id, error text and answer carry Markdown (a backtick, a link, an image on that server, a
right-to-left override), of a suite whose case name carries the same. The page must show them
as text: no <img> pointing at the server, no <a> to the injected addresses, no image request
reaching the server, and the override shown as �, not obeyed."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml
from playwright.sync_api import Page, expect

from tests.e2e.conftest import ROOT, StartServer
from tests.e2e.test_untrusted_text import EVIL, image_requests, injected_links, remote_images
from tests.e2e.ui import by_key, go_to, main, no_exception, open_chat
from tests.support.wire_server import WireServer, error_body, json_reply, text_completion

pytestmark = pytest.mark.e2e

RTL = "\u202e"


def hostile(server: WireServer, where: str) -> str:
    """A backtick, a link, an image on the test server and an RTL override, named `where`."""
    return (f"{where}` [Login again]({EVIL}/{where}) "
            f"![x](http://{server.host}:{server.port}/{where}.png) {RTL}gnp.exe")


def overrides_shown(page: Page) -> bool:
    return page.evaluate(f"document.body.innerText.includes('{RTL}')")


def assert_inert(page: Page, wire: WireServer) -> None:
    assert remote_images(page, wire) == []
    # The text answer is the model's own Markdown, drawn as on the Chat page (its links kept,
    # its images placeholders); every other injected link must be text.
    links = injected_links(page, wire)
    assert [link.split(" in ")[0] for link in links] == [f"{EVIL}/answer"], links
    assert not overrides_shown(page)
    assert image_requests(wire) == []


def test_evals_page_shows_hostile_ids_errors_and_case_names_as_text(
        start_server: StartServer, page: Page, tmp_path: Path) -> None:
    tools, evals = tmp_path / "tools", tmp_path / "evals"
    tools.mkdir()
    evals.mkdir()
    shutil.copy(ROOT / "tools" / "get_current_weather.yaml", tools)
    with WireServer() as wire:
        # A model id has no spaces; the rest of the hostile text fits in one.
        model = f"gpt-4o`![m](http://{wire.host}:{wire.port}/model.png)[Login]({EVIL}/model)"
        case = hostile(wire, "case")
        (evals / "hostile.yaml").write_text(yaml.safe_dump({
            "name": "hostile", "tools": ["get_current_weather"],
            "cases": [{"name": case, "messages": "What's the weather in Boston?",
                       "expect": {"tool": "get_current_weather"}}]}, allow_unicode=True))
        server = start_server({"OPENAI_BASE_URL": wire.base_url, "OPENAI_API_KEY": "",
                               "OPENAI_MODEL": model, "TOOLSMITH_TOOLS_DIR": str(tools),
                               "TOOLSMITH_EVALS_DIR": str(evals)})
        # One repeat is refused with a hostile error text, the other answers in hostile text
        # (its failure, "got no tool call (it answered: …)", quotes it).
        wire.script(
            json_reply(error_body(hostile(wire, "error"), "invalid_request_error"), status=400),
            text_completion(f"No. ![a](http://{wire.host}:{wire.port}/answer.png) "
                            f"[Login]({EVIL}/answer)", stream=True, model="gpt-4o"))
        open_chat(page, server.url)
        go_to(page, "Evals")
        by_key(page, "evals.view").get_by_text("Run", exact=True).click()
        checkbox = main(page).get_by_text(re.compile(r"^The sidebar's server: "))
        expect(checkbox).to_contain_text("![m]")  # the model id, as typed
        by_key(page, "evals.repeats").locator("input").fill("2")
        by_key(page, "evals.repeats").locator("input").press("Enter")
        main(page).get_by_role("button", name="Run 2 request(s)").click()
        expect(main(page).get_by_text(re.compile(r"2/2 answered"))).to_be_visible()
        expect(main(page).get_by_role("button", name="Download JUnit XML")).to_be_visible()
        assert len(wire.chat_requests) == 2

        by_key(page, "evals.cell_pick").click()
        page.get_by_role("option").filter(has_text="Login again").first.click()
        cell = main(page)
        expect(cell.get_by_text("The request failed:", exact=False)).to_be_visible()
        # Shown as written (addresses as code spans, the override as �).
        expect(cell.get_by_text("error` [Login again](", exact=False).first).to_be_visible()
        expect(cell.locator("strong", has_text="case` [Login again](")).to_be_visible()
        expect(cell.get_by_text("got no tool call (it answered: 'No. ![a](",
                                exact=False)).to_be_visible()
        expect(cell.get_by_text("\ufffdgnp.exe", exact=False).first).to_be_visible()
        # Plain-text labels (the pickers) show the override as � too.
        expect(main(page).get_by_role("combobox", name="Or open a cell")).to_have_value(
            re.compile("\ufffdgnp\\.exe"))
        expect(cell.get_by_text("image not loaded", exact=False)).to_be_visible()
        assert_inert(page, wire)
        no_exception(page)
