"""The secrets audit: one browser session with a marked key goes through every page, then the
key is searched for everywhere the app writes: the HTML of every page and state it showed,
every exported file, every row of every table and the raw bytes of the SQLite files, and the
server's log. Zero hits, even from a server that quotes the key back in its errors.

One local server answers both wire formats (tests/support/anthropic_server.py); the key goes
out in every request (checked), so the audit is not vacuous.
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import StartServer
from tests.e2e.ui import (
    SEED,
    answer_call,
    ask,
    bubbles,
    by_key,
    error_box,
    go_to,
    main,
    no_exception,
    open_chat,
    result_box,
    set_model,
    sidebar,
    switch_wire,
)
from tests.support.anthropic_server import AnthropicWireServer

pytestmark = pytest.mark.e2e

KEY = "sk-test-AUDIT-7f3a9c2e"
# The key, and the parts of it a careless mask ("sk-test-****9c2e") or a cut might keep.
NEEDLES = (KEY, "AUDIT-7f3a9c2e", "7f3a9c2e", "AUDIT-7f3a")
REDACTED = "[API key redacted]"
GOOD_MODEL = "gpt-4o-2024-08-06"
CALL = "call_4yKljCtGceYj1heJY8G9h3te"
RESULT = '{"temperature": 17, "unit": "celsius", "sky": "drizzle"}'
RESULT_ANTHROPIC = '{"temperature": 12, "unit": "celsius", "sky": "fog"}'
LANGUAGES = ("curl", "Python (official SDK)", "Python (httpx)", "JavaScript (fetch)")


class Audit:
    """Everything the session showed or wrote, by label, to be searched at the end."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.texts: dict[str, str] = {}

    def snap(self, label: str) -> None:
        no_exception(self.page)
        # page.content() is the live DOM: what the app rendered, widget values included.
        self.texts[f"page: {label}"] = self.page.content()

    def add(self, label: str, text: str) -> None:
        self.texts[label] = text

    def hits(self) -> list[str]:
        return [f"{label}: {needle!r}" for label, text in self.texts.items()
                for needle in NEEDLES if needle in text]


def set_show_code(page: Page, on: bool) -> None:
    """The "Show the code for the next request" toggle (key chat.show_code)."""
    switch = by_key(page, "chat.show_code").get_by_role("switch")
    if switch.is_checked() != on:
        # By keyboard: the toggle is the page's last element, and a mouse click can land on
        # the chat input bar fixed over the bottom of the page instead.
        switch.focus()
        switch.press("Space")
    expect(switch).to_be_checked(checked=on)
    expect(by_key(page, "chat.next.lang")).to_have_count(1 if on else 0)




def each_language(audit: Audit, page: Page, lang_key: str, label: str) -> None:
    """Show the request as every language of a code block, and snap each."""
    group = by_key(page, lang_key)
    expect(group).to_be_visible()
    for language in LANGUAGES:
        option = group.get_by_role("radio", name=language, exact=True)
        option.click()
        expect(option).to_be_checked()
        code = group.locator("xpath=following::*[@data-testid='stCode'][1]")
        expect(code).to_contain_text(re.compile(r"(OPENAI|ANTHROPIC)_API_KEY"))
        audit.snap(f"{label} · {language}")


def inspect(audit: Audit, page: Page, exchange_id: str, label: str, *,
            languages: bool = True) -> None:
    """Open the inspector on one exchange, go through its tabs and its code (in every language,
    or only the default curl), then close it."""
    button = by_key(page, f"chat.inspect.{exchange_id}").get_by_role("button")
    button.click()
    header = main(page).get_by_text(re.compile(rf"Exchange\s+{exchange_id}\s"))
    expect(header).to_be_visible()
    for tab in ("Request", "Response", "Timing"):
        main(page).get_by_role("tab", name=tab, exact=True).click()
        audit.snap(f"{label} · inspector {tab}")
    main(page).get_by_role("tab", name="Code", exact=True).click()
    if languages:
        each_language(audit, page, f"inspect.{exchange_id}.lang", f"{label} · inspector code")
    else:
        audit.snap(f"{label} · inspector code")
    button.click()
    expect(header).to_have_count(0)


def exchange_ids(page: Page) -> list[str]:
    """The exchanges on the Chat page, oldest first, from the keys of their 🔍 buttons."""
    classes = main(page).locator(
        "[class*='st-key-chat-inspect-']:not([data-stale='true'])").evaluate_all(
        "els => els.map(e => e.className)")
    found: list[str] = []
    for name in classes:
        match = re.search(r"st-key-chat-inspect-(\S+)", name)
        if match and match.group(1) not in found:
            found.append(match.group(1))
    return found


def database_texts(data_dir: Path) -> dict[str, str]:
    """Every row of every table, read through SQLite, and the raw bytes of its files."""
    db = data_dir / "toolsmith.db"
    assert db.exists(), sorted(p.name for p in data_dir.iterdir())
    texts: dict[str, str] = {}
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        tables = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")]
        assert {"sessions", "messages", "exchanges"} <= set(tables)
        for table in tables:
            rows = conn.execute(f'SELECT * FROM "{table}"').fetchall()
            texts[f"table {table}"] = "\n".join(repr(r) for r in rows)
        counts = {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]
                  for t in ("sessions", "messages", "exchanges")}
    for path in sorted(data_dir.iterdir()):
        if path.name.startswith("toolsmith.db"):
            texts[f"raw {path.name}"] = path.read_bytes().decode("latin-1")
    texts["row counts"] = repr(counts)
    return texts


def test_a_marked_key_appears_nowhere(start_server: StartServer, page: Page) -> None:
    with AnthropicWireServer() as wire:
        server = start_server(env={
            "OPENAI_BASE_URL": wire.base_url,
            "OPENAI_API_KEY": KEY,
            "OPENAI_MODEL": GOOD_MODEL,
        })
        data_dir = server.log_path.parent / "data"
        audit = Audit(page)
        run_the_session(audit, page, server.url, wire)

        # The key really went out: as a Bearer token, then (typed) as x-api-key.
        assert wire.chat_requests
        assert all(r.headers.get("authorization") == f"Bearer {KEY}"
                   for r in wire.chat_requests)
        assert wire.message_requests
        assert all(r.headers.get("x-api-key") == KEY for r in wire.message_requests)
        # ...and the echoing server put it in its answers (the page showed them redacted).
        assert any(r.json and r.json.get("model") == "fault-401-echo-key"
                   for r in wire.chat_requests)

    for label, text in database_texts(data_dir).items():
        audit.add(f"database {label}", text)
    audit.add("streamlit log", server.log())
    assert audit.hits() == []
    # The searches looked at what they should have: the turns are all stored.
    counts = audit.texts["database row counts"]
    assert "'sessions': 1" in counts, counts
    assert len(audit.texts) > 40


def run_the_session(audit: Audit, page: Page, url: str, wire: AnthropicWireServer) -> None:
    # --- Chat: a tool-call turn and its follow-up (OpenAI format, key from the environment).
    open_chat(page, url)
    audit.snap("chat, start")
    ask(page, SEED)
    expect(page.get_by_label(f"Result of get_current_weather ({CALL})", exact=True)) \
        .to_be_visible()
    audit.snap("chat, tool call")
    answer_call(page, RESULT)
    answer = bubbles(page).filter(has_text=f"Tool results: {CALL} said")
    expect(answer).to_have_count(1)
    audit.snap("chat, answered")

    # --- The inspector on both exchanges, every tab and every language of its code.
    expect(main(page).locator("[class*='st-key-chat-inspect-']:not([data-stale='true'])")).to_have_count(2)
    first_ids = exchange_ids(page)
    assert len(first_ids) == 2, first_ids
    for n, exchange_id in enumerate(first_ids):
        inspect(audit, page, exchange_id, f"openai exchange {n + 1}", languages=n == 0)

    # --- "Show the code for the next request", every language.
    set_show_code(page, True)
    each_language(audit, page, "chat.next.lang", "next request (openai)")

    # --- The Anthropic wire format: no key configured for it, so one is typed; a turn.
    switch_wire(page, "Anthropic Messages")
    key_box = sidebar(page).get_by_label("API key (ANTHROPIC_API_KEY)", exact=True)
    expect(key_box).to_be_visible()
    audit.snap("anthropic, no key yet")
    key_box.fill(KEY)
    key_box.press("Enter")
    expect(sidebar(page).get_by_text("API key set (typed in this browser session)")) \
        .to_be_visible()
    expect(sidebar(page).get_by_label("Replace API key (ANTHROPIC_API_KEY)", exact=True)) \
        .to_have_value("")
    audit.snap("anthropic, key typed")
    each_language(audit, page, "chat.next.lang", "next request (anthropic)")
    ask(page, "And is it foggy there now?")
    expect(result_box(page)).to_be_visible()
    audit.snap("anthropic, tool call")
    answer_call(page, RESULT_ANTHROPIC)
    expect(bubbles(page).filter(has_text=f"said {RESULT_ANTHROPIC}")).to_have_count(1)
    audit.snap("anthropic, answered")
    ids = exchange_ids(page)
    assert len(ids) == 4, ids
    for n, exchange_id in enumerate(ids[2:]):
        inspect(audit, page, exchange_id, f"anthropic exchange {n + 1}", languages=n == 1)

    # --- Back to the OpenAI format; error turns from a server that quotes the key.
    switch_wire(page, "Chat Completions")
    set_model(page, "fault-401-echo-key")
    ask(page, "Is it raining in Boston?")
    error = error_box(page)
    expect(error).to_contain_text("The server answered 401")
    expect(error).to_contain_text(f"Incorrect API key provided: {REDACTED}")
    audit.snap("error 401 echoing the key")
    set_model(page, "fault-stream-error-echo-key")
    error.get_by_role("button", name="Retry", exact=True).click()
    expect(error).to_contain_text("The server reported an error in the middle of its answer")
    expect(error).to_contain_text(f"Quota exceeded for key {REDACTED}")
    audit.snap("error in a stream echoing the key")
    ids = exchange_ids(page)
    # The failed exchanges are inspected from the error box (one button for the last).
    inspect(audit, page, ids[-1], "stream error exchange", languages=False)
    audit.snap("next request after errors")

    # --- Tools: every tab, and the exported tool list.
    go_to(page, "Tools")
    for tab in ("Library", "Editor", "Import / export"):
        main(page).get_by_role("tab", name=tab, exact=True).click()
        audit.snap(f"tools · {tab}")
    with page.expect_download() as tools_download:
        export = re.compile(r"^Download OpenAI .*tools \(JSON\)")
        main(page).get_by_role("button", name=export).click()
    audit.add("tools export", Path(tools_download.value.path()).read_text(encoding="utf-8"))

    # --- History: the session listed, exported, managed.
    go_to(page, "History")
    row = main(page).get_by_text(SEED, exact=True)
    expect(row).to_be_visible()
    audit.snap("history")
    with page.expect_download() as session_download:
        main(page).get_by_role("button", name="Export").click()
    exported = Path(session_download.value.path()).read_text(encoding="utf-8")
    assert '"format": "toolsmith.session"' in exported or '"toolsmith.session"' in exported
    assert "fault-401-echo-key" in exported  # the error turns are in it too
    audit.add("session export", exported)
    main(page).get_by_role("button", name="Manage").click()
    expect(main(page).get_by_role("button", name="Fork")).to_be_visible()
    audit.snap("history · manage")

    # --- Usage, filters open.
    go_to(page, "Usage")
    expect(main(page).get_by_test_id("stMetric").filter(has_text="Requests")).to_be_visible()
    main(page).get_by_test_id("stExpander").filter(has_text="Filters").locator("summary").click()
    audit.snap("usage")

    # --- Back on Chat: the conversation restored from the store.
    go_to(page, "Chat")
    expect(bubbles(page).filter(has_text=SEED)).to_have_count(1)
    audit.snap("chat, at the end")


@pytest.mark.parametrize(("model", "said"), [
    # A proxy's plain-text 403 dumping the request headers, the key from character 280: the
    # page quotes the first 300 characters of an error body.
    pytest.param("fault-403-echo-key-text", "The server answered 403", id="error-body"),
    # The same text with status 200, labelled JSON: the page quotes what it got instead.
    pytest.param("fault-200-echo-key-text", "The server answered 2xx but not with JSON",
                 id="2xx-body"),
    # Inside a 200 stream, a non-JSON event quoting the key from character 100: the page
    # quotes the first 120 characters of a chunk it cannot read.
    pytest.param("fault-not-json-echo-key", "The stream carried a chunk that is not JSON",
                 id="stream-chunk"),
])
def test_a_key_echoed_across_an_excerpt_is_not_shown_in_part(
    start_server: StartServer, page: Page, model: str, said: str,
) -> None:
    with AnthropicWireServer() as wire:
        server = start_server(env={
            "OPENAI_BASE_URL": wire.base_url,
            "OPENAI_API_KEY": KEY,
            "OPENAI_MODEL": model,
        })
        open_chat(page, server.url)
        ask(page, SEED)
        error = error_box(page)
        expect(error).to_contain_text(said)
        expect(error).to_contain_text("Authorization: Bearer")  # the excerpt reaches the key
        no_exception(page)
        assert wire.chat_requests[0].headers["authorization"] == f"Bearer {KEY}"
        shown = page.content()
    stored = database_texts(server.log_path.parent / "data")
    prefix = KEY[:11]  # "sk-test-AUD": the public "sk-test-" and the secret's first letters
    hits = [label for label, text in stored.items() if prefix in text]
    assert (prefix in shown, hits) == (False, [])
