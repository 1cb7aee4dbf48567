"""core.store on real databases: a SQLite file in tmp (always) and PostgreSQL (when
TOOLSMITH_TEST_DATABASE_URL is set). Migrations, writing as a chat grows, reading back,
search, rename, delete, fork, concurrent writers, and the secrets audit over real turns.
"""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Iterator
from dataclasses import asdict, replace
from pathlib import Path

import pytest
import sqlalchemy as sa

import core.store as core_store
from core.conversation import Conversation
from core.store import SCHEMA_VERSION, Store, migrate, title_for
from core.types import ChatSettings, Message
from core.wire.openai_chat import tool_to_wire
from tests.support.history import (
    BACKENDS,
    SEED,
    T0,
    TABLES,
    WEATHER,
    Backend,
    answer_calls,
    backend,
    demo_endpoint,
    grow_sessions,
    marker_hits,
    process_writer,
    rich_conversation,
    rows_where,
    simple_conversation,
    snapshot,
    take_turn,
    wire_endpoint,
)
from tests.support.wire_server import WireServer, error_body, json_reply


@pytest.fixture(params=BACKENDS)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    """An empty database (nothing created yet)."""
    with backend(request.param, tmp_path) as found:
        yield found


@pytest.fixture
def store(db: Backend) -> Store:
    return db.open()


def versions(store_or_engine: Store | sa.Engine) -> list[tuple[int, str, float]]:
    engine = store_or_engine.engine if isinstance(store_or_engine, Store) else store_or_engine
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text(
            "SELECT version, name, applied_at FROM schema_migrations ORDER BY version"))]


def insert_as_old_version(engine: sa.Engine, conversation: Conversation, title: str) -> None:
    """Rows as an older app wrote them: only the columns the database has so far."""
    inspector = sa.inspect(engine)
    have = {t: {c["name"] for c in inspector.get_columns(t)}
            for t in ("sessions", "messages", "exchanges")}

    def only(table: str, row: dict[str, object]) -> dict[str, object]:
        return {k: v for k, v in row.items() if k in have[table]}

    with engine.begin() as conn:
        conn.execute(core_store.sessions.insert().values(**only("sessions", {
            "id": conversation.id, "title": title, "created_at": T0, "updated_at": T0,
            "provider": "openai", "model": "gpt-4o-2024-08-06",
            "settings_json": '{"model": "gpt-4o-2024-08-06"}'})))
        conn.execute(core_store.messages.insert(), [
            only("messages", core_store._message_row(conversation.id, i, m))
            for i, m in enumerate(conversation.messages)])
        if conversation.exchanges:
            # Before migration 8, an exchange's provider was its wire format's name.
            conn.execute(core_store.exchanges.insert(), [
                only("exchanges", {**core_store._exchange_row(conversation.id, e),
                                   "provider": e.wire})
                for e in conversation.exchanges.values()])


def index_names(engine: sa.Engine) -> set[str]:
    inspector = sa.inspect(engine)
    return {ix["name"] for table in ("sessions", "messages", "exchanges")
            for ix in inspector.get_indexes(table)}


# --- Migrations --------------------------------------------------------------------------------

ALL_VERSIONS = [version for version, _, _ in core_store._MIGRATIONS]


def test_migrations_from_an_empty_database(db: Backend) -> None:
    engine = db.engine()
    assert list(range(1, SCHEMA_VERSION + 1)) == ALL_VERSIONS  # ordered, no gaps
    assert migrate(engine) == ALL_VERSIONS
    applied = versions(engine)
    assert [(v, name) for v, name, _ in applied] == [(v, n) for v, n, _ in core_store._MIGRATIONS]
    assert set(TABLES) <= set(sa.inspect(engine).get_table_names())
    assert {"exchanges_by_time", "exchanges_by_session", "sessions_by_update",
            "messages_by_session"} <= index_names(engine)
    # Run again: nothing to do, nothing recorded twice.
    assert migrate(engine) == []
    assert versions(engine) == applied
    # The tables hold every column the store's queries name.
    inspector = sa.inspect(engine)
    for table in (core_store.sessions, core_store.messages, core_store.exchanges):
        assert {c.name for c in table.columns} <= {
            c["name"] for c in inspector.get_columns(table.name)}, table.name


def test_sqlite_file_is_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    with backend("sqlite", tmp_path) as db:
        store = db.open()
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert db.db_path is not None and db.db_path.exists()


def test_migration_from_a_previous_version_database(db: Backend) -> None:
    old = db.engine()
    assert migrate(old, upto=1) == [1]
    assert [v for v, _, _ in versions(old)] == [1]
    assert "exchanges_by_time" not in index_names(old)
    # The version-1 app wrote data, with the columns version 1 had.
    conversation = rich_conversation()
    insert_as_old_version(old, conversation, "From version 1")
    before = snapshot(Store(old))
    old.dispose()

    store = db.open()

    applied = versions(store)
    assert [v for v, _, _ in applied] == ALL_VERSIONS
    assert "exchanges_by_time" in index_names(store.engine)
    after = snapshot(store)
    # Columns added later (sessions.kind, exchanges.eval_run_id, …) come after the old ones.
    # Migration 8: "provider" was the wire format's name; it is now the server that answered
    # (the base URL's host), and the wire format has its own column.
    width = len(before["sessions"][0])
    provider = 4  # id, title, created_at, updated_at, provider, …
    assert [r[provider] for r in after["sessions"]] == ["api.openai.com"]
    assert [r[:provider] + r[provider + 1:width] for r in after["sessions"]] == [
        r[:provider] + r[provider + 1:] for r in before["sessions"]]
    width = len(before["messages"][0])  # messages.images_json (migration 10) comes after
    assert [r[:width] for r in after["messages"]] == before["messages"]
    assert all(r[width:] == (None,) * (len(r) - width) for r in after["messages"])
    width = len(before["exchanges"][0])
    assert sorted(r[:width] for r in after["exchanges"]) != sorted(before["exchanges"])
    loaded = store.load(conversation.id)
    assert loaded is not None
    assert loaded.messages == conversation.messages
    assert len(loaded.exchanges) == 3
    for exchange_id, exchange in conversation.exchanges.items():
        # Columns added later read back as their defaults; the provider is the server now.
        assert loaded.exchanges[exchange_id] == replace(
            exchange, url="", response_headers={}, provider="api.openai.com", wire="openai")
    [info] = store.list_sessions()
    assert (info.title, info.messages, info.requests, info.tokens) == (
        "From version 1", 5, 3, 1500 + 1460)

    # The upgraded database takes new writes, and opening again applies nothing.
    conversation.messages.append(Message(role="user", content="still here"))
    store.record(conversation)
    assert rows_where(store, "messages", conversation.id) == 6
    assert migrate(store.engine) == []
    again = db.open()
    assert versions(again) == applied


def test_migration_from_the_version_before_the_last(db: Backend) -> None:
    old = db.engine()
    assert migrate(old, upto=SCHEMA_VERSION - 1) == ALL_VERSIONS[:-1]
    insert_as_old_version(old, simple_conversation("q", "ok"), "made before the last migration")
    old.dispose()
    store = db.open()
    assert [v for v, _, _ in versions(store)] == ALL_VERSIONS
    assert [s.title for s in store.list_sessions()] == ["made before the last migration"]


@pytest.mark.parametrize("name", BACKENDS)
def test_a_migration_cut_short_leaves_nothing_behind(name: str, tmp_path: Path) -> None:
    """migrate() runs each migration in its own transaction: one that fails before it is
    recorded leaves no half-made schema behind (regression: SQLite DDL used to autocommit)."""
    with backend(name, tmp_path) as db:
        engine = db.engine()
        with pytest.raises(RuntimeError), engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE sessions (id TEXT PRIMARY KEY)")
            raise RuntimeError("the process died here")
        assert not sa.inspect(engine).has_table("sessions")
        store = db.open()
        assert [v for v, _, _ in versions(store)] == ALL_VERSIONS


# Migration 3 as commit b56ea97 shipped it, before "wire" was added to it in place.
SHIPPED_MIGRATION_3 = [
    "ALTER TABLE exchanges ADD COLUMN url TEXT",
    "ALTER TABLE exchanges ADD COLUMN response_headers_json TEXT",
]


def test_a_database_at_migration_3_as_first_shipped_still_works(db: Backend) -> None:
    engine = db.engine()
    migrate(engine, upto=2)
    with engine.begin() as conn:
        for statement in SHIPPED_MIGRATION_3:
            conn.exec_driver_sql(statement)
        conn.execute(core_store.migrations_table.insert().values(
            version=3, name="request URL and notable response headers of each exchange",
            applied_at=T0))
    engine.dispose()

    store = db.open()
    conversation = rich_conversation()
    store.record(conversation)
    loaded = store.load(conversation.id)
    assert loaded is not None and loaded.exchanges == conversation.exchanges


def test_two_servers_opening_a_fresh_sqlite_file_at_once(tmp_path: Path) -> None:
    """Two processes (say two `streamlit run`, or a server and the benchmark) start on a new
    data dir together: both must end up with one fully migrated database.

    The interleaving is forced, not left to chance: the first migrator stops just before its
    first CREATE (it has already looked at the schema) until the second has finished or
    1.5 s have passed — a migrator that holds the write lock while it looks makes the second
    one wait, which is fine."""
    with backend("sqlite", tmp_path) as db:
        first, second = db.engine(), db.engine()
        paused, second_done = threading.Event(), threading.Event()

        def pause_before_first_create(_conn, _cursor, statement, *_args) -> None:
            if statement.lstrip().upper().startswith("CREATE") and not paused.is_set():
                paused.set()
                second_done.wait(timeout=1.5)

        sa.event.listen(first, "before_cursor_execute", pause_before_first_create)
        results: dict[str, list[int] | Exception] = {}

        def run(name: str, engine: sa.Engine) -> None:
            try:
                results[name] = migrate(engine)
            except Exception as exc:  # reported by the assertions below
                results[name] = exc

        thread = threading.Thread(target=run, args=("first", first))
        thread.start()
        assert paused.wait(timeout=30)
        run("second", second)
        second_done.set()
        thread.join(timeout=60)

        outcomes = {name: repr(result) for name, result in results.items()
                    if isinstance(result, Exception)}
        assert outcomes == {}
        done = [v for result in results.values() if isinstance(result, list) for v in result]
        assert sorted(done) == ALL_VERSIONS  # each applied once, by one of the two
        assert [v for v, _, _ in versions(first)] == ALL_VERSIONS


# --- Writing as the conversation happens ------------------------------------------------------

def test_record_as_a_demo_conversation_grows(store: Store) -> None:
    conversation = Conversation()
    conversation.messages.append(Message(role="user", content=SEED))
    settings = {**asdict(ChatSettings(model="toolsmith-demo")), "base_url": "demo"}
    tools = [tool_to_wire(WEATHER)]
    store.record(conversation, provider="demo", model="toolsmith-demo", settings=settings,
                 tools=tools)
    row = store.session_row(conversation.id)
    assert row is not None
    assert row["title"] == SEED
    assert (row["provider"], row["model"]) == ("demo", "toolsmith-demo")
    assert rows_where(store, "messages", conversation.id) == 1
    assert rows_where(store, "exchanges", conversation.id) == 0
    created = row["created_at"]

    take_turn(conversation, demo_endpoint())  # the tool call
    store.record(conversation, provider="demo", model="toolsmith-demo")
    store.record(conversation)  # nothing new: nothing written twice
    assert rows_where(store, "messages", conversation.id) == 2
    assert rows_where(store, "exchanges", conversation.id) == 1

    answer_calls(conversation, '{"temperature": 22, "unit": "celsius"}')
    store.record(conversation)
    take_turn(conversation, demo_endpoint())  # the answer
    store.record(conversation)

    assert [m.role for m in conversation.messages] == ["user", "assistant", "tool", "assistant"]
    assert rows_where(store, "messages", conversation.id) == 4
    assert rows_where(store, "exchanges", conversation.id) == 2
    with store.engine.connect() as conn:
        stored = conn.execute(sa.text(
            "SELECT position, id FROM messages WHERE session_id = :s ORDER BY position"),
            {"s": conversation.id}).all()
    assert [tuple(r) for r in stored] == [(i, m.id) for i, m in enumerate(conversation.messages)]
    row = store.session_row(conversation.id)
    assert row is not None
    assert row["title"] == SEED  # still the first user message
    assert row["created_at"] == created
    assert row["updated_at"] >= created
    # A later record without settings keeps the ones stored before.
    assert row["settings_json"] is not None and '"toolsmith-demo"' in row["settings_json"]
    assert row["tools_json"] is not None and "get_current_weather" in row["tools_json"]
    loaded = store.load(conversation.id)
    assert loaded is not None
    assert loaded.messages == conversation.messages
    assert loaded.exchanges == conversation.exchanges


@pytest.mark.parametrize(("messages", "title"), [
    ([Message(role="user", content="  Hello\n\n  there\tfriend ")], "Hello there friend"),
    ([Message(role="system", content="be brief"), Message(role="user", content="Why?")], "Why?"),
    ([Message(role="user", content="x" * 78)], "x" * 78),
    ([Message(role="user", content="y" * 79)], "y" * 77 + "…"),
    ([Message(role="user", content="   ")], "Untitled session"),
    ([], "Untitled session"),
])
def test_session_title_from_the_first_user_message(messages: list[Message], title: str) -> None:
    assert title_for(Conversation(messages=messages)) == title


def test_record_keeps_a_given_title_and_a_rename(store: Store) -> None:
    conversation = simple_conversation("first question", "first answer")
    store.record(conversation, title="Imported title")
    assert store.list_sessions()[0].title == "Imported title"
    store.rename(conversation.id, "Renamed")
    conversation.messages.append(Message(role="user", content="more"))
    store.record(conversation, provider="openai", model="gpt-4o-mini")
    assert store.list_sessions()[0].title == "Renamed"


def test_two_tabs_on_one_session_do_not_mix_silently(store: Store) -> None:
    source = simple_conversation("q", "a")
    store.record(source)
    tab_a, tab_b = store.load(source.id), store.load(source.id)
    assert tab_a is not None and tab_b is not None
    tab_a.messages.append(Message(role="user", content="question from tab A"))
    store.record(tab_a)
    tab_b.messages += [Message(role="user", content="question from tab B"),
                       Message(role="assistant", content="answer for tab B")]
    try:
        store.record(tab_b)
    except Exception:  # refusing loudly is fine; mixing silently is not
        return
    stored = [m.content for m in store.load(source.id).messages]  # type: ignore[union-attr]
    assert "question from tab B" in stored
    assert stored.index("answer for tab B") == stored.index("question from tab B") + 1


# --- Reading back ------------------------------------------------------------------------------

def test_reasoning_items_and_server_activity_survive_a_reload(store: Store) -> None:
    """OpenAI Responses' encrypted reasoning goes back in the next request, also after a
    reload; the tools a server ran stay shown (migration 12)."""
    conversation = simple_conversation("q", "ok")
    answer = conversation.messages[-1]
    answer.reasoning_items = [{"type": "reasoning", "id": "rs_1", "summary": [],
                               "encrypted_content": "gAAAA-opaque"}]
    answer.server_activity = ['server ran web_search: {"query":"x"}']
    store.record(conversation, provider="api.openai.com", model="o4-mini")
    loaded = store.load(conversation.id)
    assert loaded is not None
    assert loaded.messages[-1].reasoning_items == answer.reasoning_items
    assert loaded.messages[-1].server_activity == answer.server_activity
    assert loaded.messages[0].reasoning_items == []  # nothing stored for a plain message


def test_load_round_trip_is_equal(store: Store) -> None:
    conversation = rich_conversation()
    store.record(conversation, provider="openai", model="gpt-4o-2024-08-06")
    loaded = store.load(conversation.id)
    assert loaded is not None
    assert loaded.id == conversation.id
    assert loaded.messages == conversation.messages
    assert loaded.exchanges == conversation.exchanges
    assert list(loaded.exchanges) == list(conversation.exchanges)  # in time order
    # The parts the brief names, explicitly.
    tool_call_msg = loaded.messages[1]
    assert [c.id for c in tool_call_msg.tool_calls] == ["call_a1", "call_b2"]
    assert tool_call_msg.reasoning == "Two places, so two calls."
    assert tool_call_msg.usage is not None and tool_call_msg.usage.cached_tokens == 1024
    assert loaded.messages[3].is_error is True
    first = next(iter(loaded.exchanges.values()))
    assert [a.status for a in first.attempts] == [429, 200]
    assert (first.latency_s, first.ttft_s) == (1.5, 0.875)


def test_load_of_an_unknown_session_is_none(store: Store) -> None:
    assert store.load("ses_nope") is None
    assert store.session_info("ses_nope") is None
    assert store.session_row("ses_nope") is None


def test_list_sessions_counts_and_order(store: Store) -> None:
    one = simple_conversation("one", "a", tokens=100)
    two = simple_conversation("two", "a", "b", "c", tokens=40)
    rich = rich_conversation()
    empty = Conversation(messages=[Message(role="user", content="no answer yet")])
    for conversation in (one, two, rich, empty):
        store.record(conversation)
    listed = store.list_sessions()
    assert [s.id for s in listed] == [empty.id, rich.id, two.id, one.id]  # newest first
    counts = {s.id: (s.messages, s.requests, s.tokens) for s in listed}
    assert counts == {one.id: (2, 1, 100), two.id: (6, 3, 120), rich.id: (5, 3, 2960),
                      empty.id: (1, 0, 0)}
    assert store.session_info(two.id) == next(s for s in listed if s.id == two.id)
    assert len(store.list_sessions(limit=2)) == 2


def test_search_over_titles_and_message_text(store: Store) -> None:
    boston = simple_conversation("Weather in Boston?", "It is sunny in Boston.")
    tokyo = simple_conversation("And Tokyo", "Rain in Tokyo, 12 C")
    rich = rich_conversation()
    for conversation in (boston, tokyo, rich):
        store.record(conversation)

    def found(text: str) -> set[str]:
        return {s.id for s in store.list_sessions(text)}

    assert found("boston") == {boston.id}  # title, any case
    assert found("  BOSTON ") == {boston.id}
    assert found("12 c") == {tokyo.id}  # assistant text only
    assert found("timed out") == {rich.id}  # assistant answer
    assert found("timeout after") == {rich.id}  # a tool result
    assert found("in") == {boston.id, tokyo.id, rich.id}
    assert found("paris") == set()
    assert found("") == found("   ") == {boston.id, tokyo.id, rich.id}
    store.rename(tokyo.id, "Japan trip")
    assert found("japan") == {tokyo.id}


def test_search_treats_percent_and_underscore_literally(store: Store) -> None:
    """Regression: '%' and '_' in the search text used to act as LIKE wildcards."""
    sale = simple_conversation("50% off everything", "ok")
    errors = simple_conversation("500 errors from the gateway", "ok")
    snake = simple_conversation("what does a_b mean", "ok")
    other = simple_conversation("what does axb mean", "ok")
    for conversation in (sale, errors, snake, other):
        store.record(conversation)
    assert {s.id for s in store.list_sessions("50%")} == {sale.id}
    assert {s.id for s in store.list_sessions("a_b")} == {snake.id}
    backslash = simple_conversation(r"path C:\temp\x", "ok")
    store.record(backslash)
    assert {s.id for s in store.list_sessions(r"c:\temp")} == {backslash.id}


def test_search_ignores_case_of_non_ascii_letters(store: Store) -> None:
    """Regression: SQLite's own lower() folds ASCII only, so 'école' missed 'École'."""
    school = simple_conversation("École ouverte", "oui")
    store.record(school)
    assert [s.id for s in store.list_sessions("école")] == [school.id]
    assert [s.id for s in store.list_sessions("ÉCOLE")] == [school.id]
    moscow = simple_conversation("q", "ПОГОДА В МОСКВЕ: снег")
    store.record(moscow)
    assert [s.id for s in store.list_sessions("погода")] == [moscow.id]  # message text too


# --- Editing -----------------------------------------------------------------------------------

def test_rename(store: Store) -> None:
    conversation = simple_conversation("original", "a")
    store.record(conversation)
    before = store.session_row(conversation.id)
    assert before is not None
    store.rename(conversation.id, "  A better title  ")
    row = store.session_row(conversation.id)
    assert row is not None
    assert row["title"] == "A better title"
    assert row["updated_at"] == before["updated_at"]  # a title is not activity
    store.rename(conversation.id, "   ")
    assert store.list_sessions()[0].title == "Untitled session"
    loaded = store.load(conversation.id)
    assert loaded is not None and loaded.messages == conversation.messages


def test_typed_results_are_kept_until_sent(store: Store) -> None:
    conversation = Conversation()
    conversation.messages.append(Message(role="user", content=SEED))
    assert not store.save_result_draft(conversation.id, "call_x", "early")  # no session yet
    take_turn(conversation, demo_endpoint())
    store.record(conversation)
    [call] = conversation.messages[-1].tool_calls

    assert store.save_result_draft(conversation.id, call.id, '{"temperature": 9}')
    assert store.save_result_draft(conversation.id, call.id, '{"temperature": 21}', True)
    assert store.result_drafts(conversation.id) == {call.id: ('{"temperature": 21}', True)}
    store.save_result_draft(conversation.id, call.id, "")  # emptied box: nothing kept
    assert store.result_drafts(conversation.id) == {}

    store.save_result_draft(conversation.id, call.id, "22 C")
    answer_calls(conversation, "22 C")
    store.record(conversation)  # sent: the result is a message now, the draft goes
    assert store.result_drafts(conversation.id) == {}
    assert rows_where(store, "messages", conversation.id) == 3


def test_two_tabs_saving_one_typed_result_at_once_never_fail(store: Store) -> None:
    conversation = simple_conversation("q", "a")
    store.record(conversation)
    failures: list[str] = []
    start = threading.Barrier(2)

    def tab(n: int) -> None:
        start.wait()
        for i in range(150):
            try:
                store.save_result_draft(conversation.id, "call_1", f"tab{n} {i}", i % 2 == 0)
            except Exception as exc:  # any failure is the finding
                failures.append(type(exc).__name__)

    threads = [threading.Thread(target=tab, args=(n,)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures, sorted(set(failures))
    [(text, _)] = store.result_drafts(conversation.id).values()
    assert text.endswith(" 149")


def test_typed_results_go_with_their_session(store: Store) -> None:
    conversation = Conversation()
    conversation.messages.append(Message(role="user", content=SEED))
    take_turn(conversation, demo_endpoint())
    store.record(conversation)
    [call] = conversation.messages[-1].tool_calls
    store.save_result_draft(conversation.id, call.id, "typed")
    store.delete(conversation.id)
    assert rows_where(store, "result_drafts", conversation.id) == 0


def test_delete_cascades_and_leaves_other_sessions(store: Store) -> None:
    doomed, kept = rich_conversation(), simple_conversation("keep me", "a", "b")
    store.record(doomed)
    store.record(kept)
    kept_before = {t: [r for r in rows if kept.id in r] for t, rows in snapshot(store).items()}

    store.delete(doomed.id)

    assert store.load(doomed.id) is None
    assert store.session_info(doomed.id) is None
    assert rows_where(store, "messages", doomed.id) == 0
    assert rows_where(store, "exchanges", doomed.id) == 0
    after = snapshot(store)
    assert all(doomed.id not in repr(rows) for rows in after.values())
    assert {t: [r for r in rows if kept.id in r] for t, rows in after.items()} == kept_before
    assert [s.id for s in store.list_sessions()] == [kept.id]
    store.delete("ses_unknown")  # nothing to delete: no error


def test_removing_a_session_row_cascades_in_the_schema(store: Store) -> None:
    """ON DELETE CASCADE holds even for a bare DELETE (foreign keys are on in SQLite too)."""
    conversation = rich_conversation()
    store.record(conversation)
    with store.engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM sessions WHERE id = :s"), {"s": conversation.id})
    assert rows_where(store, "messages", conversation.id) == 0
    assert rows_where(store, "exchanges", conversation.id) == 0


def test_fork_from_a_middle_message(store: Store) -> None:
    source = rich_conversation()
    store.record(source, provider="openai", model="gpt-4o-2024-08-06")
    store.rename(source.id, "Weather trip")
    before = snapshot(store)
    middle = source.messages[1]  # the assistant's two tool calls

    fork_id = store.fork(source.id, middle.id)

    assert fork_id != source.id
    fork = store.load(fork_id)
    assert fork is not None
    assert len(fork.messages) == 2
    old_ids = {m.id for m in source.messages} | set(source.exchanges)
    assert not old_ids & ({m.id for m in fork.messages} | set(fork.exchanges))
    for copied, original in zip(fork.messages, source.messages[:2], strict=True):
        assert replace(copied, id=original.id, exchange_id=original.exchange_id) == original
    [(new_ex_id, copied_ex)] = fork.exchanges.items()
    assert fork.messages[1].exchange_id == new_ex_id
    assert fork.messages[0].exchange_id is None
    # The copy records where it came from, so the Usage page counts the request once.
    assert copied_ex.copied_from == middle.exchange_id
    assert replace(copied_ex, id=middle.exchange_id, copied_from=None) \
        == source.exchanges[middle.exchange_id]
    info = store.session_info(fork_id)
    assert info is not None
    assert info.title == "Fork of Weather trip"
    assert (info.provider, info.model) == ("openai", "gpt-4o-2024-08-06")
    assert (info.messages, info.requests, info.tokens) == (2, 1, 1500)
    # The source is untouched.
    after = snapshot(store)
    for table in ("messages", "exchanges"):
        assert [r for r in after[table] if source.id in r] == before[table]
    assert store.load(source.id) == source
    assert store.list_sessions()[0].id == fork_id


def test_a_branch_names_the_session_it_came_from(store: Store) -> None:
    """Kept with the session, so the way back is shown whenever the branch is open."""
    source = rich_conversation()
    store.record(source)
    branch = simple_conversation("Another question", "Another answer")
    store.record(branch, branched_from=source.id)
    store.record(branch)  # a later save without it keeps it
    forked = store.fork(source.id, source.messages[0].id)
    rows = {s.id: s.branched_from for s in store.list_sessions()}
    assert rows == {source.id: None, branch.id: source.id, forked: source.id}
    assert (store.session_row(branch.id) or {})["branched_from"] == source.id


def test_fork_from_the_first_and_the_last_message(store: Store) -> None:
    source = rich_conversation()
    store.record(source)
    first = store.load(store.fork(source.id, source.messages[0].id))
    last = store.load(store.fork(source.id, source.messages[-1].id))
    assert first is not None and last is not None
    assert [m.content for m in first.messages] == [source.messages[0].content]
    assert first.exchanges == {}
    assert [m.content for m in last.messages] == [m.content for m in source.messages]
    # Only the exchanges that produced a kept message come along (not the failed one).
    assert len(last.exchanges) == 2


def test_fork_of_unknown_session_or_message_raises_key_error(store: Store) -> None:
    source = simple_conversation("q", "a")
    store.record(source)
    with pytest.raises(KeyError):
        store.fork("ses_missing", source.messages[0].id)
    with pytest.raises(KeyError):
        store.fork(source.id, "msg_missing")
    assert len(store.list_sessions()) == 1


def test_fork_keeps_settings_and_tools(store: Store) -> None:
    """Regression: a fork used to lose the source's settings and tool set."""
    source = simple_conversation("q", "a")
    store.record(source, provider="openai", model="gpt-4o-mini",
                 settings={"model": "gpt-4o-mini", "temperature": 0.2},
                 tools=[tool_to_wire(WEATHER)])
    fork_id = store.fork(source.id, source.messages[-1].id)
    row, fork_row = store.session_row(source.id), store.session_row(fork_id)
    assert row is not None and fork_row is not None
    assert (fork_row["settings_json"], fork_row["tools_json"]) == (
        row["settings_json"], row["tools_json"])


# --- Writers at the same time ------------------------------------------------------------------

def assert_all_written(store: Store, conversations: list[Conversation]) -> None:
    listed = {s.id: s for s in store.list_sessions()}
    for conversation in conversations:
        loaded = store.load(conversation.id)
        assert loaded is not None, conversation.id
        assert [m.id for m in loaded.messages] == [m.id for m in conversation.messages]
        assert set(loaded.exchanges) == set(conversation.exchanges)
        info = listed[conversation.id]
        assert (info.messages, info.requests, info.tokens) == (
            len(conversation.messages), len(conversation.exchanges),
            15 * len(conversation.exchanges))


def test_threads_writing_different_sessions_lose_nothing(db: Backend) -> None:
    shared = db.open()
    results: dict[str, list[Conversation]] = {}
    failures: list[BaseException] = []
    barrier = threading.Barrier(6)

    def work(n: int) -> None:
        try:
            # Half share the app's one store (one pool), half open their own engine.
            own = shared if n % 2 == 0 else db.open()
            barrier.wait(timeout=30)
            results[f"t{n}"] = grow_sessions(own, f"t{n}", sessions=2, steps=8)
        except BaseException as exc:  # reported below, with the thread that raised it
            failures.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not failures, failures
    assert len(results) == 6
    conversations = [c for found in results.values() for c in found]
    assert_all_written(shared, conversations)
    assert len(shared.list_sessions()) == 12


def test_processes_writing_different_sessions_lose_nothing(db: Backend) -> None:
    store = db.open()  # the schema exists before the writers start
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(2)
    workers = [context.Process(target=process_writer, args=(db.url, f"p{n}", 3, 10, barrier))
               for n in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=90)
    assert [w.exitcode for w in workers] == [0, 0]
    # What each process wrote, rebuilt the same way here without a database.
    expected = []
    for n in range(2):
        expected += grow_sessions(_NullStore(), f"p{n}", sessions=3, steps=10)
    assert_all_written(store, expected)
    assert len(store.list_sessions()) == 6


class _NullStore(Store):
    """Rebuilds the conversations a writer made, without writing them anywhere."""

    def __init__(self) -> None:
        pass

    def record(self, conversation: Conversation, **_: object) -> None:
        return None


# --- Secrets are never stored ------------------------------------------------------------------

MARKER = "sk-test-SECRETMARKER-9f8e7d"
MARK = "SECRETMARKER"  # the part no masking keeps


def record_like_the_app(store: Store, conversation: Conversation, provider: str,
                        model: str, base_url: str) -> None:
    settings = {**asdict(ChatSettings(model=model)), "base_url": base_url}
    store.record(conversation, provider=provider, model=model, settings=settings,
                 tools=[tool_to_wire(WEATHER)])


def test_no_secret_reaches_the_database(db: Backend, wire_server: WireServer) -> None:
    store = db.open()
    # The offline demo model, with a key configured anyway, streamed and not.
    for stream in (True, False):
        demo = Conversation(messages=[Message(role="user", content=SEED)])
        take_turn(demo, demo_endpoint(MARKER), stream=stream)
        answer_calls(demo, '{"temperature": 22, "unit": "celsius"}')
        take_turn(demo, demo_endpoint(MARKER), stream=stream)
        assert [m.role for m in demo.messages] == ["user", "assistant", "tool", "assistant"]
        assert demo.exchanges and all(e.error is None for e in demo.exchanges.values())
        record_like_the_app(store, demo, "demo", "toolsmith-demo", demo_endpoint().base_url)

    # The wire server over real HTTP: whole tool loops, a rejected key, retried 500s.
    for stream in (True, False):
        wire = Conversation(messages=[Message(role="user", content=SEED)])
        endpoint = wire_endpoint(wire_server.base_url, "gpt-4o-2024-08-06", MARKER)
        take_turn(wire, endpoint, stream=stream)
        answer_calls(wire, '{"temperature": 17, "unit": "celsius"}')
        take_turn(wire, endpoint, stream=stream)
        assert wire.messages[-1].content.startswith("Tool results:")
        record_like_the_app(store, wire, "openai", endpoint.model, endpoint.base_url)
    sleeps: list[float] = []
    for model in ("fault-401", "fault-500"):
        failed = Conversation(messages=[Message(role="user", content=SEED)])
        result = take_turn(failed, wire_endpoint(wire_server.base_url, model, MARKER),
                           sleep=sleeps.append)
        assert result.error is not None
        record_like_the_app(store, failed, "openai", model, wire_server.base_url)
    assert len(sleeps) == 2  # the 500 was retried twice

    # The key really went out, in every request.
    assert wire_server.chat_requests
    assert all(r.headers["authorization"] == f"Bearer {MARKER}"
               for r in wire_server.chat_requests)
    assert len(store.list_sessions()) == 6
    with store.engine.connect() as conn:
        headers = conn.execute(sa.text("SELECT request_headers_json FROM exchanges")).scalars()
        assert all("$OPENAI_API_KEY" in h for h in headers)

    assert marker_hits(store, MARK) == []
    if db.db_path is not None:
        files = db.files()
        assert db.db_path in files
        for path in files:
            assert MARK.encode() not in path.read_bytes(), path


def test_a_key_echoed_by_the_server_is_not_stored(db: Backend,
                                                  wire_server: WireServer) -> None:
    """Regression: a gateway that echoes the key in its error used to get it stored."""
    store = db.open()
    wire_server.script(json_reply(error_body(
        f"Incorrect API key provided: {MARKER}. You can find your API key at "
        "https://platform.openai.com/account/api-keys.", "invalid_request_error",
        "invalid_api_key"), 401))
    failed = Conversation(messages=[Message(role="user", content=SEED)])
    result = take_turn(failed, wire_endpoint(wire_server.base_url, "gpt-4o-mini", MARKER))
    assert result.error is not None and result.error.status == 401
    record_like_the_app(store, failed, "openai", "gpt-4o-mini", wire_server.base_url)
    assert marker_hits(store, MARK) == []
    assert "Incorrect API key provided" in (failed.exchanges[result.exchange.id].error or "")
    if db.db_path is not None:
        for path in db.files():
            assert MARK.encode() not in path.read_bytes(), path


def test_threads_probing_one_file_all_find_it_writable(tmp_path: Path) -> None:
    """Streamlit serves sessions from threads: a probe shared by name made one of two threads
    opening the store at once take a writable file for read-only (and read it as immutable)."""
    from core.store import writable

    path = tmp_path / "toolsmith.db"
    path.write_bytes(b"")
    answers: list[bool] = []
    barrier = threading.Barrier(8)

    def probe() -> None:
        barrier.wait(timeout=30)
        answers.extend(writable(path) for _ in range(200))

    threads = [threading.Thread(target=probe) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(answers) == 1600 and all(answers)
