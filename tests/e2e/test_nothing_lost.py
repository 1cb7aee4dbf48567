"""Nothing the user saw or set is lost without a word (issue 13, "Lost without a word").

One browser test per item, each seen failing before the fix: the session link across page
switches; a session's own settings after a reload; a quick follow-up; rapid Retry; a tab
closed while an answer streams; a whitespace-only message; the canned result named "error";
the History page's import message, uploader and rename.
"""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import time
from dataclasses import replace
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import UI_TIMEOUT_MS, StartServer, StreamlitServer
from tests.e2e.ui import (
    SEED,
    answer_call,
    ask,
    bubbles,
    by_key,
    go_to,
    main,
    no_exception,
    open_chat,
    result_box,
    sidebar,
    user_bubble,
)
from tests.support.wire_server import WireServer, text_completion

pytestmark = pytest.mark.e2e

RESULT = '{"temperature": 17, "unit": "celsius", "sky": "drizzle"}'
PROMPT = "Always answer in French."
NOT_ANSWERED = "The model has not answered the last message yet."
SESSION = re.compile(r"[?&]session=(ses_[0-9a-f]+)")


def session_id(page: Page) -> str:
    expect(page).to_have_url(SESSION)
    found = SESSION.search(page.url)
    assert found
    return found.group(1)


def test_the_session_link_survives_the_navigation(start_server: StartServer,
                                                   page: Page) -> None:
    server = start_server()
    open_chat(page, server.url)
    ask(page, SEED)
    expect(result_box(page)).to_be_visible()
    first = session_id(page)

    go_to(page, "Tools")
    assert session_id(page) == first  # the link is in every page's address
    page.reload()  # a reload on another page keeps the conversation too
    expect(main(page).get_by_role("heading", name="Tools", exact=True)).to_be_visible()
    go_to(page, "Chat")
    expect(user_bubble(page, SEED)).to_have_count(1)
    assert session_id(page) == first

    page.reload()  # a reload reopens the conversation, as the README promises
    expect(user_bubble(page, SEED)).to_have_count(1)
    expect(result_box(page)).to_be_visible()
    assert session_id(page) == first
    no_exception(page)


def test_a_session_keeps_and_restores_its_settings(start_server: StartServer,
                                                   page: Page) -> None:
    with WireServer() as wire:
        server = start_server(env={"OPENAI_BASE_URL": wire.base_url,
                                   "OPENAI_MODEL": "gpt-4o-2024-08-06"})
        open_chat(page, server.url)
        prompt_box = by_key(sidebar(page), "sidebar.system_prompt").locator("textarea")
        prompt_box.fill(PROMPT)
        prompt_box.press("Control+Enter")
        expect(prompt_box).to_have_value(PROMPT)
        # Tools page: one tool off, tool_choice and the parallel switch set.
        go_to(page, "Tools")
        by_key(main(page), "tools.enable.web_search").locator("label").click()
        expect(by_key(main(page), "tools.enable.web_search").get_by_role("switch")) \
            .not_to_be_checked()
        choose(page, "tools.tool_choice", "required")
        choose(page, "tools.parallel", "off")
        go_to(page, "Chat")
        ask(page, SEED)
        answer_call(page, RESULT)
        expect(bubbles(page).filter(has_text="Tool results:")).to_have_count(1)
        first = wire.chat_requests[0].json
        assert first["messages"][0] == {"role": "system", "content": PROMPT}

        page.reload()  # a new browser session: everything comes back from the database
        expect(user_bubble(page, SEED)).to_have_count(1)
        expect(prompt_box).to_have_value(PROMPT)
        # The system prompt heads the conversation.
        expect(by_key(main(page), "chat.system_prompt")).to_contain_text(PROMPT)
        expect(by_key(main(page), "chat.tool_choice").get_by_role("combobox").first) \
            .to_have_value("required")
        ask(page, "And in Tokyo?")
        expect(result_box(page)).to_be_visible()
        last = wire.chat_requests[-1].json
        assert last["messages"][0] == {"role": "system", "content": PROMPT}
        assert last["tool_choice"] == "required"
        assert last["parallel_tool_calls"] is False
        assert "web_search" not in [t["function"]["name"] for t in last["tools"]]
        assert "get_current_weather" in [t["function"]["name"] for t in last["tools"]]

        # In a tab where another model was chosen, one click goes back to the recorded one.
        set_model_name(page, "gpt-4o-mini")
        page.get_by_role("button", name=re.compile(r"Use gpt-4o-2024-08-06")).click()
        expect(main(page).get_by_text(re.compile(r"^Model\s+gpt-4o-2024-08-06\s+·"))) \
            .to_be_visible()
        no_exception(page)
        # Restoring set the widgets' values once: no widget was also given a default.
        assert "created with a default value" not in server.log()


def choose(page: Page, key: str, option: str) -> None:
    combo = by_key(main(page), key).get_by_role("combobox")
    combo.click()
    combo.fill(option)
    combo.press("Enter")
    expect(combo).to_have_value(option)


def set_model_name(page: Page, model: str) -> None:
    box = sidebar(page).get_by_role("combobox", name="Model")
    box.click()
    box.fill(model)
    box.press("Enter")
    expect(main(page).get_by_text(re.compile(rf"^Model\s+{re.escape(model)}\s+·"))) \
        .to_be_visible()


def test_a_quick_follow_up_is_never_dropped(start_server: StartServer, page: Page) -> None:
    # Each demo chunk waits 200 ms: the tool-call turn streams for a few seconds.
    server = start_server(env={"TOOLSMITH_DEMO_DELAY": "0.2"})
    open_chat(page, server.url)
    box = page.get_by_test_id("stChatInputTextArea")
    ask(page, SEED)
    follow_up = "Also, should I take an umbrella?"
    # Sent as the turn streams: it ends in a tool call, so the follow-up cannot go yet (the
    # model waits for the result) — but it must still be there.
    expect(page.get_by_role("button", name="Stop")).to_be_visible()
    box.fill(follow_up)
    box.press("Enter")
    expect(result_box(page)).to_be_visible()
    expect(bubbles(page).filter(has_text="call id")).to_have_count(1)
    expect(box).to_have_value(follow_up)
    expect(main(page).get_by_text("was not sent yet", exact=False)).to_be_visible()
    answer_call(page, RESULT)
    expect(bubbles(page).filter(has_text="Here is what I found")).to_have_count(1)
    expect(box).to_be_enabled()
    box.press("Enter")
    expect(user_bubble(page, follow_up)).to_have_count(1)
    no_exception(page)


def test_rapid_retry_always_ends_answered(start_server: StartServer, page: Page) -> None:
    server = start_server(env={"TOOLSMITH_DEMO_DELAY": "0.1"})
    open_chat(page, server.url)
    ask(page, SEED)
    expect(result_box(page)).to_be_visible()
    # Two clicks 60 ms apart: the second lands while the first is being carried out.
    page.get_by_role("button", name="Retry this turn").evaluate(
        "b => { b.click(); setTimeout(() => b.click(), 60); }")
    expect(main(page).get_by_text("Arguments arriving")).to_have_count(0)
    expect(result_box(page)).to_be_visible()
    expect(page.get_by_role("button", name="Retry this turn")).to_be_visible()
    expect(main(page).get_by_text(NOT_ANSWERED)).to_have_count(0)
    expect(bubbles(page).filter(has_text="call id")).to_have_count(1)
    no_exception(page)


def test_a_tab_closed_mid_answer_is_recorded(start_server: StartServer,
                                             browser: Browser) -> None:
    story = "Once upon a time there was a model that streamed and streamed and streamed"
    reply = text_completion(story, stream=True, model="gpt-4o-2024-08-06")
    cut = reply.body.index(b"\n\n", reply.body.index(b'"time ')) + 2
    with WireServer() as wire:
        wire.script(replace(reply, stall_after=cut))  # sends "Once upon a time", then waits
        server = start_server(env={"OPENAI_BASE_URL": wire.base_url,
                                   "OPENAI_MODEL": "gpt-4o-2024-08-06"})
        context = browser.new_context()
        context.set_default_timeout(UI_TIMEOUT_MS)
        page = context.new_page()
        open_chat(page, server.url)
        ask(page, "Tell me a story")
        expect(bubbles(page).filter(has_text="Once upon a time")).to_have_count(1)
        sid = session_id(page)
        context.close()  # the tab goes away while the answer streams

        rows = poll_rows(server, "SELECT error_kind, response_json FROM exchanges")
        assert rows[0][0] == "interrupted", rows
        assert "Once upon a time" in rows[0][1]

        again = browser.new_context().new_page()
        again.goto(f"{server.url}/?session={sid}")
        answer = bubbles(again).filter(has_text="Once upon a time")
        expect(answer).to_have_count(1)
        expect(answer).to_contain_text("interrupted")
        go_to(again, "History")
        expect(main(again).get_by_text(re.compile(r"2 messages · 1 request"))).to_be_visible()
        again.context.close()


def poll_rows(server: StreamlitServer, query: str) -> list[tuple]:
    """Rows of the query once there are some: the server writes them when it notices the tab
    is gone. Each pause also notices a server that died."""
    db = server.log_path.parent / "data" / "toolsmith.db"
    deadline = time.monotonic() + UI_TIMEOUT_MS / 1000
    while time.monotonic() < deadline:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            rows = conn.execute(query).fetchall()
        if rows:
            return rows
        try:
            code = server.process.wait(timeout=0.05)
        except subprocess.TimeoutExpired:
            continue
        raise AssertionError(f"streamlit exited with {code}:\n{server.log()}")
    return []


def test_a_whitespace_only_message_is_not_sent(start_server: StartServer,
                                               page: Page) -> None:
    server = start_server()
    open_chat(page, server.url)
    box = page.get_by_test_id("stChatInputTextArea")
    box.fill("   \n  ")
    box.press("Enter")
    ask(page, "hello there")
    expect(user_bubble(page, "hello there")).to_have_count(1)
    expect(main(page).get_by_label("Chat message from assistant")).to_have_count(1)  # the answer
    expect(bubbles(page)).to_have_count(2)
    no_exception(page)


def test_the_canned_result_named_error_ticks_the_error_switch(start_server: StartServer,
                                                             page: Page) -> None:
    server = start_server()
    open_chat(page, server.url)
    ask(page, "Search the web for Streamlit release notes")
    box = page.get_by_label(re.compile(r"^Result of web_search"))
    expect(box).to_be_visible()
    page.get_by_role("button", name="Use “error”").click()
    expect(box).to_have_value('{"error": "search backend timed out"}')
    expect(page.get_by_role("checkbox", name="This result is an error")).to_be_checked()
    page.get_by_role("button", name="Use “ok”").click()
    expect(page.get_by_role("checkbox", name="This result is an error")).not_to_be_checked()
    no_exception(page)


def test_history_import_message_uploader_and_rename(start_server: StartServer, page: Page,
                                                    tmp_path: Path) -> None:
    server = start_server()
    open_chat(page, server.url)
    ask(page, "first question")
    expect(bubbles(page)).to_have_count(2)
    page.get_by_role("button", name="New chat").click()
    expect(bubbles(page)).to_have_count(0)
    ask(page, "second question")
    expect(bubbles(page)).to_have_count(2)
    go_to(page, "History")
    rows = main(page).get_by_text(re.compile(r"^(first|second) question$"))
    expect(rows).to_have_count(2)
    expect(rows.first).to_have_text("second question")

    # Renaming the older session keeps it where it was: a title is not activity.
    main(page).get_by_role("button", name="Manage").nth(1).click()
    title = main(page).get_by_label("Title", exact=True)
    title.fill("Renamed first")
    main(page).get_by_role("button", name="Rename").click()
    expect(main(page).get_by_text(re.compile(r"^Renamed to "))).to_be_visible()
    rows = main(page).get_by_text(re.compile(r"^(Renamed first|second question)$"))
    expect(rows).to_have_count(2)
    expect(rows.first).to_have_text("second question")

    # Import a session export: the message shows by the uploader, which is cleared.
    with page.expect_download() as download:
        main(page).get_by_role("button", name="Export").first.click()
    export = tmp_path / "export.json"
    export.write_text(Path(download.value.path()).read_text(encoding="utf-8"))
    assert json.loads(export.read_text())["format"] == "toolsmith.session"
    main(page).locator("input[type=file]").set_input_files(str(export))
    main(page).get_by_role("button", name=re.compile(r"^Import export\.json")).click()
    done = main(page).get_by_text(re.compile(r"^Imported as session"))
    expect(done).to_be_visible()
    heading = main(page).get_by_role("heading", name="Import a session")
    assert done.bounding_box()["y"] > heading.bounding_box()["y"]
    expect(main(page).get_by_test_id("stFileUploaderFile")).to_have_count(0)
    no_exception(page)


def test_stop_then_edit_and_branch_in_the_browser(start_server: StartServer, page: Page) -> None:
    story = "Once upon a time there was a model that streamed and streamed and streamed"
    reply = text_completion(story, stream=True, model="gpt-4o-2024-08-06")
    cut = reply.body.index(b"\n\n", reply.body.index(b'"time ')) + 2
    with WireServer() as wire:
        wire.script(replace(reply, stall_after=cut))  # "Once upon a time", then silence
        server = start_server(env={"OPENAI_BASE_URL": wire.base_url,
                                   "OPENAI_MODEL": "gpt-4o-2024-08-06"})
        open_chat(page, server.url)
        ask(page, "Tell me a story")
        answer = bubbles(page).filter(has_text="Once upon a time")
        expect(answer).to_have_count(1)
        page.get_by_role("button", name="Stop").click()
        expect(answer).to_contain_text("Stopped by you")
        expect(page.get_by_role("button", name="Stop")).to_have_count(0)
        expect(page.get_by_test_id("stChatInputTextArea")).to_be_enabled()
        first = session_id(page)
        rows = poll_rows(server, "SELECT error_kind FROM exchanges")
        assert rows == [("stopped",)]

        # Edit the question and send it: a new branch; the stopped one stays reachable.
        user_bubble(page, "Tell me a story").get_by_role("button", name="Edit").click()
        box = main(page).get_by_label("Edit the message")
        expect(box).to_have_value("Tell me a story")
        box.fill(SEED)
        page.get_by_role("button", name="Send as a new branch").click()
        expect(result_box(page)).to_be_visible()
        expect(user_bubble(page, "Tell me a story")).to_have_count(0)
        second = session_id(page)
        assert second != first
        note = main(page).get_by_text("This conversation is a branch")
        expect(note).to_be_visible()
        with page.expect_popup() as popup:  # Markdown links open in a new tab
            note.get_by_role("link", name="reopen it").click()
        previous = popup.value
        expect(bubbles(previous).filter(has_text="Once upon a time")).to_have_count(1)
        expect(user_bubble(previous, "Tell me a story")).to_have_count(1)
        assert session_id(previous) == first
        # The way back is kept with the branch: after a reload, and in its History row.
        page.reload()
        expect(main(page).get_by_text("This conversation is a branch")).to_be_visible()
        go_to(page, "History")
        expect(main(page).get_by_text(f"A branch of {first}")).to_have_count(1)
        no_exception(page)


def test_a_result_is_kept_as_it_is_typed(start_server: StartServer, page: Page) -> None:
    server = start_server()
    open_chat(page, server.url)
    ask(page, SEED)
    box = result_box(page)
    box.click()
    page.keyboard.type('{"temperature": 17,')  # no blur, no Ctrl+Enter
    rows = poll_rows(server, "SELECT content FROM result_drafts")
    assert rows == [('{"temperature": 17,',)]
    page.keyboard.type(' "unit": "celsius"}')  # typing on while the draft was kept
    expect(box).to_have_value('{"temperature": 17, "unit": "celsius"}')
    expect(box).to_be_focused()
    poll_rows(server, "SELECT content FROM result_drafts WHERE content LIKE '%celsius%'")
    page.reload()
    expect(result_box(page)).to_have_value('{"temperature": 17, "unit": "celsius"}')
    no_exception(page)


def test_a_result_typed_and_not_left_survives_a_visit_to_another_page(
        start_server: StartServer, page: Page) -> None:
    """The box is left by the click in the navigation: Streamlit gets its text in a rerun of
    the Chat page that arrives after the switch, and the box drawn after that came back empty
    and sent "" over the kept draft (found by a walk-through in Chromium)."""
    server = start_server()
    open_chat(page, server.url)
    ask(page, SEED)
    box = result_box(page)
    box.click()
    page.keyboard.type(RESULT)  # no blur, no Ctrl+Enter
    poll_rows(server, "SELECT content FROM result_drafts WHERE content LIKE '%drizzle%'")
    # One click: the keeper handed the text over at the typing pause, so the box holds none
    # Streamlit lacks (a box holding some made the first click only hand it over).
    go_to(page, "Tools")
    go_to(page, "Chat")
    expect(result_box(page)).to_have_value(RESULT)
    time.sleep(1.5)  # longer than the keeper's typing pause: nothing sends "" afterwards
    expect(result_box(page)).to_have_value(RESULT)
    page.reload()
    expect(result_box(page)).to_have_value(RESULT)
    no_exception(page)



def test_a_second_click_on_re_run_does_not_stop_the_new_answer(start_server: StartServer,
                                                                 page: Page) -> None:
    """Stop used to be drawn where Re-run was: the second click of a double click on Re-run
    stopped the new answer at its first words, and the answer it replaced was gone."""
    model = "gpt-4o-2024-08-06"
    story = "Once upon a time there was a model that streamed and streamed and streamed"
    stalled = text_completion(story, stream=True, model=model)
    cut = stalled.body.index(b"\n\n", stalled.body.index(b'"time ')) + 2
    with WireServer() as wire:
        wire.script(text_completion("A complete first answer.", stream=True, model=model),
                    replace(stalled, stall_after=cut))  # the re-run: "Once upon a time", then
        server = start_server(env={"OPENAI_BASE_URL": wire.base_url, "OPENAI_MODEL": model})
        open_chat(page, server.url)
        ask(page, "Tell me a story")
        expect(bubbles(page).filter(has_text="A complete first answer.")).to_have_count(1)
        # As in the walk-through: a window the conversation overflows, scrolled to its end,
        # so what is drawn at the bottom takes the place of what was there.
        page.set_viewport_size({"width": 1200, "height": 420})
        page.mouse.move(700, 200)
        page.mouse.wheel(0, 5_000)
        re_run = main(page).get_by_role("button", name="Re-run").last
        expect(re_run).to_be_in_viewport()
        box = re_run.bounding_box()
        assert box is not None
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        re_run.click()
        stop = page.get_by_role("button", name="Stop")
        expect(stop).to_be_visible()
        expect(bubbles(page).filter(has_text="Once upon a time")).to_have_count(1)
        expect(bubbles(page).filter(has_text="A complete first answer.")).to_have_count(0)
        page.mouse.click(x, y)  # the second click of the double click, where Re-run was
        page.wait_for_timeout(1_500)  # a Stop takes effect within 0.1 s: give it ample time
        expect(main(page).get_by_text("Stopped by you", exact=False)).to_have_count(0)
        expect(stop).to_be_visible()
        stop.click()  # Stop itself still stops
        expect(main(page).get_by_text("Stopped by you", exact=False)).to_have_count(1)
        no_exception(page)
