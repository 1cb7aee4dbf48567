"""The History page through AppTest on the real app.py, with the SQLite file in the test's
TOOLSMITH_DATA_DIR (see conftest.py: no OPENAI_* variables, so the demo model answers at once).

Sessions come from real chats on the Chat page, or are written straight to the same database
file with core.store when a test needs several of them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.session_io import FORMAT, dumps, export_session
from core.store import Store, default_url
from tests.pages.conftest import APP
from tests.support.history import SEED, simple_conversation, snapshot
from tests.support.wire_server import WireServer

MakeApp = Callable[[], AppTest]
RESULT = '{"temperature": 22, "unit": "celsius"}'
MARKER = "sk-test-SECRETMARKER-9f8e7d"


# --- helpers -----------------------------------------------------------------------------------

def run(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def db() -> Store:
    """The database the app uses (TOOLSMITH_DATA_DIR set by the clean_env fixture)."""
    return Store.open(default_url())


def chat_turn(at: AppTest) -> AppTest:
    """On the Chat page: the seed question, the tool result typed, the model's answer."""
    at.chat_input(key="chat.input").set_value(SEED)
    run(at)
    [box] = [t for t in at.text_area if (t.key or "").startswith("chat.result.")]
    box.input(RESULT)
    at.button(key="chat.send_results").click()
    return run(at)


def open_history(at: AppTest) -> AppTest:
    at.switch_page("app_pages/history.py")
    run(at)
    assert [t.value for t in at.title] == ["History"]
    return at


def titles(at: AppTest) -> list[str]:
    """Session titles as listed (each row starts with the bold title)."""
    return [m.value[2:-2] for m in at.markdown
            if m.value.startswith("**") and m.value.endswith("**")]


def row_caption(at: AppTest, session_id: str) -> str:
    [caption] = [c.value for c in at.caption if f"`{session_id}`" in c.value]
    return caption


def flashes(at: AppTest) -> list[str]:
    return [e.value for e in (*at.success, *at.error)]


def click(at: AppTest, key: str) -> AppTest:
    at.button(key=key).click()
    return run(at)


def manage(at: AppTest, session_id: str) -> AppTest:
    return click(at, f"history.manage.{session_id}")


def export_via_page_code(session_id: str) -> str:
    """What the row's Export button downloads: the same callable, run inside a script.

    AppTest cannot fetch a deferred download, so a one-line page calls
    components.history_actions.export_text — the function the button hands to Streamlit —
    with the app's store and the test's secrets.
    """

    def probe(session_id: str) -> None:
        import streamlit as st

        from components import history_actions

        st.code(history_actions.export_text(session_id), language="json")

    at = AppTest.from_function(probe, args=(session_id,), default_timeout=30)
    at.secrets["TOOLSMITH_TESTS"] = "isolated"
    run(at)
    [code] = at.code
    return code.value


# --- the list --------------------------------------------------------------------------------

def test_empty_history_says_how_sessions_get_there(make_app: MakeApp) -> None:
    at = open_history(make_app())
    assert titles(at) == []
    assert any("No saved sessions yet" in i.value for i in at.info)


def test_a_chat_is_listed_with_its_counts(make_app: MakeApp) -> None:
    at = chat_turn(make_app())
    session_id = at.session_state["chat.state"].conversation.id
    assert at.query_params["session"] == session_id

    open_history(at)

    assert titles(at) == [SEED]
    caption = row_caption(at, session_id)
    assert "toolsmith-demo (demo)" in caption
    assert "4 messages · 2 requests" in caption
    [info] = db().list_sessions()
    assert f"{info.tokens:,} tokens" in caption
    assert info.tokens > 0
    assert at.button(key=f"history.open.{session_id}").label == "Open"
    [export] = [b for b in at.get("download_button") if b.key == f"history.export.{session_id}"]
    assert export.label == "Export"


def test_counts_are_worded_for_one_and_many(make_app: MakeApp) -> None:
    at = make_app()
    one = simple_conversation("just one", "an answer")
    db().record(one)
    open_history(at)
    assert "2 messages · 1 request · 100 tokens" in row_caption(at, one.id)


def test_search_filters_the_list(make_app: MakeApp) -> None:
    store = db()
    boston = simple_conversation("Weather in Boston", "Sunny in Boston.")
    tokyo = simple_conversation("Plans for Tokyo", "It rains in Tokyo, bring an umbrella.")
    for conversation in (boston, tokyo):
        store.record(conversation, provider="api.openai.com", model="gpt-4o-mini")
    at = open_history(make_app())
    assert set(titles(at)) == {"Weather in Boston", "Plans for Tokyo"}

    at.text_input(key="history.search").input("UMBRELLA")  # message text, any case
    run(at)
    assert titles(at) == ["Plans for Tokyo"]

    at.text_input(key="history.search").input("boston")
    run(at)
    assert titles(at) == ["Weather in Boston"]

    at.text_input(key="history.search").input("paris")
    run(at)
    assert titles(at) == []
    assert any("No saved sessions match." in i.value for i in at.info)

    at.text_input(key="history.search").input("")
    run(at)
    assert len(titles(at)) == 2


def test_rename(make_app: MakeApp) -> None:
    at = chat_turn(make_app())
    session_id = at.session_state["chat.state"].conversation.id
    manage(open_history(at), session_id)
    title_box = at.text_input(key=f"history.title.{session_id}")
    assert title_box.value == SEED

    title_box.input("Boston weather check")
    run(at)
    click(at, f"history.rename.{session_id}")

    assert "Renamed to “Boston weather check”." in flashes(at)
    assert titles(at)[0] == "Boston weather check"
    info = db().session_info(session_id)
    assert info is not None and info.title == "Boston weather check"


def test_fork_from_a_chosen_message(make_app: MakeApp) -> None:
    at = chat_turn(make_app())
    source = at.session_state["chat.state"].conversation
    manage(open_history(at), source.id)
    picker = at.selectbox(key=f"history.fork_at.{source.id}")
    assert picker.value == source.messages[-1].id  # the last message by default
    assert len(picker.options) == 4

    picker.set_value(source.messages[1].id)  # the assistant's tool call
    run(at)
    click(at, f"history.fork.{source.id}")

    store = db()
    listed = store.list_sessions()
    assert len(listed) == 2
    fork = listed[0]  # newest first
    assert fork.id != source.id
    assert fork.title == f"Fork of {SEED}"
    assert (fork.messages, fork.requests) == (2, 1)
    assert any(f"Forked into a new session `{fork.id}`" in f for f in flashes(at))
    assert titles(at)[0] == f"Fork of {SEED}"
    loaded = store.load(fork.id)
    assert loaded is not None
    assert [m.content for m in loaded.messages] == [m.content for m in source.messages[:2]]
    assert loaded.messages[1].tool_calls[0].arguments == source.messages[1].tool_calls[0].arguments
    source_info = store.session_info(source.id)
    assert source_info is not None and source_info.messages == 4


def test_delete_asks_first(make_app: MakeApp) -> None:
    store = db()
    doomed = simple_conversation("Delete me", "ok")
    kept = simple_conversation("Keep me", "ok")
    for conversation in (doomed, kept):
        store.record(conversation, provider="api.openai.com", model="gpt-4o-mini")
    at = manage(open_history(make_app()), doomed.id)

    click(at, f"history.delete.{doomed.id}")
    assert any("This cannot be undone." in e.value for e in at.error)
    assert store.session_info(doomed.id) is not None  # nothing deleted yet
    click(at, f"history.delete_no.{doomed.id}")
    assert not at.error
    assert store.session_info(doomed.id) is not None
    assert set(titles(at)) == {"Delete me", "Keep me"}

    click(at, f"history.delete.{doomed.id}")
    click(at, f"history.delete_yes.{doomed.id}")

    assert "Session deleted." in flashes(at)
    assert titles(at) == ["Keep me"]
    assert store.session_info(doomed.id) is None
    assert store.load(doomed.id) is None
    assert [s.id for s in store.list_sessions()] == [kept.id]


def test_deleting_the_open_chat_starts_a_new_one(make_app: MakeApp) -> None:
    at = chat_turn(make_app())
    session_id = at.session_state["chat.state"].conversation.id
    manage(open_history(at), session_id)
    click(at, f"history.delete.{session_id}")
    click(at, f"history.delete_yes.{session_id}")
    assert at.session_state["chat.state"].conversation.id != session_id
    assert at.session_state["chat.state"].conversation.messages == []
    assert "session" not in at.query_params
    assert db().list_sessions() == []


# --- open, export, import --------------------------------------------------------------------

def test_open_continues_the_session_on_the_chat_page(make_app: MakeApp) -> None:
    at = chat_turn(make_app())
    source = at.session_state["chat.state"].conversation
    source_ids = [m.id for m in source.messages]
    click(at, "chat.new")
    assert at.session_state["chat.state"].conversation.messages == []
    open_history(at)

    click(at, f"history.open.{source.id}")

    assert [t.value for t in at.title] == ["Chat"]
    assert at.query_params["session"] == source.id
    opened = at.session_state["chat.state"].conversation
    assert opened.id == source.id
    assert [m.id for m in opened.messages] == source_ids
    assert len(opened.exchanges) == 2
    markdown = [m.value for m in at.markdown]
    assert SEED in markdown
    assert opened.messages[-1].content in markdown

    # Going on with it appends to the same stored session. (AppTest keeps asking for the
    # page its own switch_page named last; the browser is on the Chat page's URL by now.)
    at.switch_page("app_pages/chat.py")
    run(at)
    assert at.session_state["chat.state"].conversation.id == source.id
    at.chat_input(key="chat.input").set_value("What about Tokyo?")
    run(at)
    assert [t.value for t in at.title] == ["Chat"]
    info = db().session_info(source.id)
    assert info is not None and info.messages > 4
    assert len(db().list_sessions()) == 1


def app_at(session_id: str) -> AppTest:
    """A new browser session (a reload, or a restarted server) opened on /?session=<id>."""
    at = AppTest.from_file(str(APP), default_timeout=30)
    at.secrets["TOOLSMITH_TESTS"] = "isolated"
    at.query_params["session"] = session_id
    return run(at)


def test_a_new_browser_session_restores_the_chat_from_the_url(make_app: MakeApp) -> None:
    first = chat_turn(make_app())
    source = first.session_state["chat.state"].conversation

    at = app_at(source.id)

    restored = at.session_state["chat.state"].conversation
    assert restored.id == source.id
    assert restored.messages == source.messages
    assert restored.exchanges == source.exchanges
    assert at.query_params["session"] == source.id
    assert source.messages[-1].content in [m.value for m in at.markdown]
    assert not at.warning


def type_result(at: AppTest, text: str, *, is_error: bool) -> str:
    """Type into the one pending result box and set its error switch; returns the call id."""
    [box] = [t for t in at.text_area if (t.key or "").startswith("chat.result.")]
    call_id = box.key.removeprefix("chat.result.")
    box.input(text)
    at.checkbox(key=f"chat.result_error.{call_id}").set_value(is_error)
    run(at)
    return call_id


def test_typed_results_survive_a_page_switch_and_a_reload(make_app: MakeApp) -> None:
    at = make_app()
    at.chat_input(key="chat.input").set_value(SEED)
    run(at)
    call_id = type_result(at, "tool crashed: no such city", is_error=True)
    session_id = at.session_state["chat.state"].conversation.id

    at.switch_page("app_pages/tools.py")
    run(at)
    at.switch_page("app_pages/chat.py")
    run(at)
    assert at.text_area(key=f"chat.result.{call_id}").value == "tool crashed: no such city"
    assert at.checkbox(key=f"chat.result_error.{call_id}").value is True

    again = app_at(session_id)  # a reload, or a restarted server
    assert again.text_area(key=f"chat.result.{call_id}").value == "tool crashed: no such city"
    assert again.checkbox(key=f"chat.result_error.{call_id}").value is True

    again.button(key="chat.send_results").click()
    run(again)
    [sent] = [m for m in again.session_state["chat.state"].conversation.messages
              if m.role == "tool"]
    assert (sent.content, sent.is_error) == ("tool crashed: no such city", True)
    assert db().result_drafts(session_id) == {}


def test_a_long_session_shows_recent_messages_and_earlier_ones_on_request(
    make_app: MakeApp,
) -> None:
    make_app()  # the test's data directory and settings
    long = simple_conversation("a long chat", *(f"answer number {i}" for i in range(50)))
    db().record(long)
    at = app_at(long.id)
    shown = " ".join(m.value for m in at.markdown)
    assert "answer number 49" in shown and "answer number 0" not in shown

    while any(b.key == "chat.more" for b in at.button):
        at.button(key="chat.more").click()
        run(at)
    shown = " ".join(m.value for m in at.markdown)
    assert all(f"answer number {i} " in shown + " " for i in range(50))
    assert "a long chat" in shown


def test_the_database_url_can_come_from_secrets(make_app: MakeApp, tmp_path: Path) -> None:
    """`[connections.sql] url` in .streamlit/secrets.toml, as st.connection("sql") reads it."""
    url = f"sqlite:///{tmp_path / 'from-secrets.db'}"
    at = make_app()
    at.secrets["connections"] = {"sql": {"url": url}}
    chat_turn(at)
    [stored] = Store.open(url).list_sessions()
    assert stored.id == at.session_state["chat.state"].conversation.id
    assert not db().list_sessions()  # the default SQLite file got nothing


def test_a_reopened_session_says_which_model_it_was_recorded_with(make_app: MakeApp) -> None:
    make_app()
    old = simple_conversation("from last week", "an answer")
    db().record(old, provider="api.openai.com", model="gpt-4o-mini")
    at = app_at(old.id)
    said = [c.value for c in at.caption if "was recorded with" in c.value]
    assert said == ["This session was recorded with `gpt-4o-mini` (api.openai.com); it continues "
                    "with the model chosen in the sidebar."]
    at.chat_input(key="chat.input").set_value("and now?")
    run(at)  # continued with the sidebar's model: the note has done its job
    assert not [c.value for c in at.caption if "was recorded with" in c.value]

    same = chat_turn(make_app())  # recorded with the demo model, reopened with it: no note
    again = app_at(same.session_state["chat.state"].conversation.id)
    assert not [c.value for c in again.caption if "was recorded with" in c.value]


def test_retry_this_turn_forgets_the_results_typed_for_the_discarded_calls(
    make_app: MakeApp,
) -> None:
    at = make_app()
    at.chat_input(key="chat.input").set_value(SEED)
    run(at)
    type_result(at, "typed for the old call", is_error=True)
    session_id = at.session_state["chat.state"].conversation.id
    assert db().result_drafts(session_id)

    at.button(key="chat.regenerate").click()
    run(at)
    [box] = [t for t in at.text_area if (t.key or "").startswith("chat.result.")]
    assert box.value == ""  # the demo model's new call may even have the same id
    assert at.checkbox(key=box.key.replace("chat.result.", "chat.result_error.")).value is False
    assert db().result_drafts(session_id) == {}


def test_a_link_to_a_deleted_session_says_so(make_app: MakeApp) -> None:
    make_app()  # the clean environment and database
    at = app_at("ses_0123456789abcdef")
    assert any("No saved session `ses_0123456789abcdef`" in w.value for w in at.warning)
    assert at.session_state["chat.state"].conversation.messages == []
    assert "session" not in at.query_params


def test_export_is_valid_and_holds_no_key(
    make_app: MakeApp, clean_env: pytest.MonkeyPatch, wire_server: WireServer,
) -> None:
    clean_env.setenv("OPENAI_BASE_URL", wire_server.base_url)
    clean_env.setenv("OPENAI_API_KEY", MARKER)
    clean_env.setenv("OPENAI_MODEL", "gpt-4o-2024-08-06")
    at = chat_turn(make_app())
    assert at.session_state["chat.state"].conversation.messages[-1].content.startswith(
        "Tool results:")
    assert all(r.headers["authorization"] == f"Bearer {MARKER}"
               for r in wire_server.chat_requests)
    session_id = at.session_state["chat.state"].conversation.id
    open_history(at)

    text = export_via_page_code(session_id)

    document = json.loads(text)
    assert document["format"] == FORMAT
    assert document["session"]["id"] == session_id
    assert document["session"]["title"] == SEED
    assert [m["role"] for m in document["messages"]] == ["user", "assistant", "tool",
                                                         "assistant"]
    assert document["messages"][2]["content"] == RESULT
    assert len(document["exchanges"]) == 2
    assert document["session"]["tools"]
    assert "SECRETMARKER" not in text
    assert all(e["request_headers"].get("Authorization") == "Bearer $OPENAI_API_KEY"
               for e in document["exchanges"])
    assert text == dumps(export_session(db(), session_id))


def test_import_of_a_good_file(make_app: MakeApp) -> None:
    store = db()
    source = simple_conversation("To be copied", "a", "b")
    store.record(source, provider="api.openai.com", model="gpt-4o-mini")
    data = dumps(export_session(store, source.id)).encode()
    at = open_history(make_app())

    at.get("file_uploader")[0].set_value(("copy.json", data, "application/json"))
    run(at)
    click(at, "history.import_go")

    listed = store.list_sessions()
    assert len(listed) == 2
    new = next(s for s in listed if s.id != source.id)
    assert f"Imported as session `{new.id}`." in flashes(at)
    assert (new.title, new.messages, new.requests) == ("To be copied", 4, 2)
    assert titles(at).count("To be copied") == 2
    # The file is no longer attached (importing it twice by accident is not one click away).
    [uploader] = at.get("file_uploader")
    assert not uploader.value
    assert not [b for b in at.button if b.key == "history.import_go"]


@pytest.mark.parametrize(("data", "words"), [
    (b'{"format": "toolsmith.session", "version": 1, "sess', "not valid JSON (truncated?)"),
    (b'{"format": "something.else", "version": 1}', "not a Toolsmith session export"),
    (b'{"format": "toolsmith.session", "title": "\xc3\x28"}', "not UTF-8 text"),
])
def test_import_of_a_bad_file_shows_an_error_and_changes_nothing(
    make_app: MakeApp, data: bytes, words: str,
) -> None:
    store = db()
    store.record(simple_conversation("Already here", "ok"), provider="api.openai.com", model="m")
    before = snapshot(store)
    at = open_history(make_app())

    at.get("file_uploader")[0].set_value(("bad.json", data, "application/json"))
    run(at)
    assert at.button(key="history.import_go").label == "Import bad.json"
    click(at, "history.import_go")

    [error] = at.error
    assert error.value.startswith("Not imported: ")
    assert words in error.value
    assert error.value.endswith("Nothing was changed.")
    assert snapshot(store) == before
    assert titles(at) == ["Already here"]


def test_import_of_a_file_with_a_bad_attempt_shows_an_error(make_app: MakeApp) -> None:
    store = db()
    source = simple_conversation("Source", "a")
    store.record(source, provider="api.openai.com", model="m")
    document = export_session(store, source.id)
    document["exchanges"][0]["attempts"] = [{"status": 200}]
    before = snapshot(store)
    at = open_history(make_app())
    at.get("file_uploader")[0].set_value(("odd.json", dumps(document).encode(),
                                          "application/json"))
    run(at)
    at.button(key="history.import_go").click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(e.value.startswith("Not imported: ") for e in at.error)
    assert snapshot(store) == before


def test_data_dir_is_the_test_one(clean_env: pytest.MonkeyPatch) -> None:
    """Guard: these tests never touch a developer's ~/.toolsmith."""
    assert default_url().startswith("sqlite:///")
    assert default_url().endswith(os.path.join("data", "toolsmith.db"))
    assert os.environ["TOOLSMITH_DATA_DIR"] in default_url()


def test_sessions_with_the_same_first_question_are_told_apart(make_app: MakeApp) -> None:
    make_app()
    store = db()
    store.record(simple_conversation("Weather in Boston?", "Sunny, 22 °C."), model="m")
    store.record(simple_conversation("Weather in Boston?", "Rain all day."), model="m")
    at = open_history(make_app())
    latest = sorted(c.value for c in at.caption if c.value.startswith("Latest: "))
    assert latest == ["Latest: Rain all day\\.", "Latest: Sunny, 22 °C\\."] or \
        latest == ["Latest: Rain all day.", "Latest: Sunny, 22 °C."]
    helps = {b.help for b in at.button if (b.key or "").startswith("history.open.")}
    assert len(helps) == 2  # each Open says which session it opens
