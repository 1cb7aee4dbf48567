"""What the browser tests do on the page: widgets found by their key, the moves of a chat,
and the checks every page must pass. Playwright's auto-waiting does the waiting."""

from __future__ import annotations

import re

from playwright.sync_api import Locator, Page, expect

SEED = "What's the weather like in Boston today?"
RESULT_LABEL = re.compile(r"^Result of get_current_weather \([\w-]+\)$")
# What components/shell.py shows instead of a traceback: a crash all the same.
GUARD_MESSAGE = "Something went wrong inside Toolsmith"


def by_key(root: Page | Locator, key: str) -> Locator:
    """The element of the widget with this key (Streamlit gives it the class st-key-<key>).

    Stale copies are left out: while a script run redraws the page, the element a widget had
    in the previous run stays (data-stale="true") until the run ends, so a widget drawn at a
    new place (an Inspect button when the messages above it changed) is briefly there twice.
    """
    name = re.sub(r"[^a-zA-Z0-9_-]", "-", key.strip())
    return root.locator(f".st-key-{name}:not([data-stale='true'])")


def main(page: Page) -> Locator:
    return page.get_by_test_id("stMainBlockContainer")


def sidebar(page: Page) -> Locator:
    return page.get_by_test_id("stSidebar")


def no_exception(page: Page) -> None:
    expect(page.get_by_test_id("stException")).to_have_count(0)
    expect(page.get_by_text(GUARD_MESSAGE)).to_have_count(0)


def open_chat(page: Page, url: str) -> None:
    page.goto(url + "/")
    expect(main(page).get_by_role("heading", name="Chat")).to_be_visible()
    expect(page.get_by_test_id("stChatInputTextArea")).to_be_enabled()


def go_to(page: Page, name: str) -> None:
    page.get_by_test_id("stSidebarNav").get_by_role("link").filter(has_text=name).click()
    expect(main(page).get_by_role("heading", name=name, exact=True)).to_be_visible()


def ask(page: Page, text: str) -> None:
    box = page.get_by_test_id("stChatInputTextArea")
    expect(box).to_be_enabled()
    box.fill(text)
    box.press("Enter")


def model_caption(page: Page, model: str) -> Locator:
    """The caption under the Chat heading naming the model the next request goes to."""
    return main(page).get_by_text(re.compile(rf"^Model\s+{re.escape(model)}\s+·"))


def set_model(page: Page, model: str) -> None:
    """Type a model name into the sidebar's Model box (it accepts names not in the list)."""
    box = sidebar(page).get_by_role("combobox", name="Model")
    box.click()
    box.fill(model)
    box.press("Enter")
    expect(box).to_have_value(model)
    expect(model_caption(page, model)).to_be_visible()


def switch_wire(page: Page, label: str) -> None:
    """Choose a wire format by its short label in the sidebar's Wire format box."""
    box = by_key(sidebar(page), "sidebar.wire")
    box.get_by_role("combobox").click()
    page.get_by_role("option", name=label, exact=True).click()
    expect(box.get_by_role("combobox")).to_have_value(label)


def set_base_url(page: Page, url: str) -> None:
    box = by_key(sidebar(page), "sidebar.base_url").locator("input")
    box.fill(url)
    box.press("Enter")
    expect(box).to_have_value(url)


def set_idle_timeout(page: Page, seconds: int) -> None:
    """The Idle timeout in the sidebar's Timeouts expander (also the wait for headers)."""
    box = by_key(sidebar(page), "sidebar.idle_timeout").locator("input")
    if not box.is_visible():
        sidebar(page).get_by_test_id("stExpander").filter(has_text="Timeouts") \
            .locator("summary").click()
    box.fill(str(seconds))
    box.press("Enter")
    expect(box).to_have_value(str(seconds))


def bubbles(page: Page) -> Locator:
    return main(page).get_by_test_id("stChatMessage")


def user_bubble(page: Page, text: str) -> Locator:
    """A message of the user's holding `text` (not the demo model's answer quoting it)."""
    return main(page).get_by_label("Chat message from user").filter(has_text=text)


def tool_result_bubble(page: Page) -> Locator:
    return bubbles(page).filter(has_text=re.compile(r"Result of get_current_weather for call"))


def result_box(page: Page) -> Locator:
    return page.get_by_label(RESULT_LABEL)


def answer_call(page: Page, result: str) -> None:
    """Type the result of the one pending get_current_weather call and send it."""
    box = result_box(page)
    expect(box).to_be_visible()
    box.fill(result)
    page.get_by_role("button", name="Send tool results").click()


def error_box(page: Page) -> Locator:
    """The failed turn: the assistant bubble that holds the Retry button."""
    return bubbles(page).filter(has=page.get_by_role("button", name="Retry", exact=True))


def watch_alerts(page: Page) -> None:
    """Record the text of every alert that appears from now on, however briefly (a retry
    notice lives only while the client waits); read them with seen_alerts()."""
    page.evaluate("""() => {
        window.__alerts = [];
        const note = () => document.querySelectorAll('[data-testid=stAlert]').forEach(a => {
            const text = a.innerText;
            if (text && !window.__alerts.includes(text)) window.__alerts.push(text);
        });
        new MutationObserver(note).observe(document.body,
            {subtree: true, childList: true, characterData: true});
    }""")


def seen_alerts(page: Page) -> list[str]:
    return page.evaluate("() => window.__alerts || []")
