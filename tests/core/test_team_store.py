"""Each person's own data in team mode, on real databases (SQLite file, PostgreSQL when set):
sessions, typed results, usage and eval runs belong to their owner; a shared session can be
read and forked by teammates, never changed by them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from core.evals.records import EvalRecords
from core.store import NotYourSession, Store
from core.tools.schemas import ToolFileError
from core.types import Message
from tests.support.history import BACKENDS, Backend, backend, simple_conversation

ALICE, BOB = "alice@example.com", "bob@example.com"


@pytest.fixture(params=BACKENDS)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    with backend(request.param, tmp_path) as found:
        yield found


@pytest.fixture
def stores(db: Backend) -> tuple[Store, Store, Store]:
    """The same database as Alice, as Bob, and unscoped (local mode)."""
    local = db.open()
    return local.as_owner(ALICE), local.as_owner(BOB), local


def test_each_person_lists_and_opens_only_their_own_sessions(
        stores: tuple[Store, Store, Store]) -> None:
    alice, bob, local = stores
    mine = simple_conversation("Alice's weather", "sunny", tokens=100)
    theirs = simple_conversation("Bob's weather", "rainy", tokens=7)
    alice.record(mine)
    bob.record(theirs)
    assert [s.id for s in alice.list_sessions()] == [mine.id]
    assert [s.id for s in bob.list_sessions()] == [theirs.id]
    assert {s.id for s in local.list_sessions()} == {mine.id, theirs.id}
    assert alice.list_sessions()[0].owner == ALICE
    assert bob.list_sessions("Alice") == [] and bob.list_sessions("sunny") == []
    assert bob.load(mine.id) is None and bob.session_row(mine.id) is None
    assert bob.session_info(mine.id) is None
    # Typed results are their author's, even for someone who guesses the session id.
    assert alice.save_result_draft(mine.id, "call_1", "72F and sunny")
    assert not bob.save_result_draft(mine.id, "call_1", "overwritten")
    assert bob.result_drafts(mine.id) == {}
    assert alice.result_drafts(mine.id) == {"call_1": ("72F and sunny", False)}
    # Nor can anyone else rename, cut or delete it.
    bob.rename(mine.id, "Mine now")
    bob.truncate(mine.id, 0)
    bob.delete(mine.id)
    kept = alice.load(mine.id)
    assert kept is not None and kept.messages == mine.messages
    assert alice.list_sessions()[0].title == "Alice's weather"


def test_a_shared_session_is_read_only_and_forkable(stores: tuple[Store, Store, Store]) -> None:
    alice, bob, _ = stores
    mine = simple_conversation("Demo for the team", "sunny")
    alice.record(mine)
    alice.save_result_draft(mine.id, "call_x", "private draft")
    assert not bob.set_shared(mine.id, True)  # only the owner shares
    assert bob.load(mine.id) is None
    assert alice.set_shared(mine.id, True)
    opened = bob.load(mine.id)
    assert opened is not None and opened.messages == mine.messages
    assert bob.session_row(mine.id)["owner"] == ALICE
    assert bob.result_drafts(mine.id) == {}  # shared is the conversation, not the drafts
    assert bob.list_sessions() == []  # a shared session is opened by link, not listed
    opened.messages.append(Message(role="user", content="Bob adds this"))
    with pytest.raises(NotYourSession):
        bob.record(opened)
    fork_id = bob.fork(mine.id, mine.messages[-1].id)
    assert [s.id for s in bob.list_sessions()] == [fork_id]
    assert bob.list_sessions()[0].owner == BOB
    assert [s.id for s in alice.list_sessions()] == [mine.id]
    original = alice.load(mine.id)
    assert original is not None and len(original.messages) == len(mine.messages)
    assert alice.set_shared(mine.id, False)
    assert bob.load(mine.id) is None


def test_usage_is_each_persons_own_and_admins_see_everyone_by_user(
        stores: tuple[Store, Store, Store]) -> None:
    alice, bob, _ = stores
    alice.record(simple_conversation("a", "one", "two", tokens=100))
    bob.record(simple_conversation("b", "three", tokens=7))
    names, rows = bob.usage_rows()
    assert "user" in names
    tokens, user = names.index("total_tokens"), names.index("user")
    assert [(r[tokens], r[user]) for r in rows] == [(7, BOB)]
    assert bob.usage_version()[0] == 1 and alice.usage_version()[0] == 2
    admin = alice.as_owner(ALICE, all_usage=True)
    names, rows = admin.usage_rows()
    assert sorted((r[names.index("user")], r[names.index("total_tokens")]) for r in rows) == [
        (ALICE, 100), (ALICE, 100), (BOB, 7)]
    assert admin.usage_version()[0] == 3


def test_owner_names_are_data_not_sql(stores: tuple[Store, Store, Store]) -> None:
    _, bob, local = stores
    bob.record(simple_conversation("b", "three", tokens=7))
    sly = local.as_owner("x' OR '1'='1")
    assert sly.usage_rows()[1] == [] and sly.list_sessions() == []


def test_eval_runs_belong_to_their_author(stores: tuple[Store, Store, Store]) -> None:
    alice, bob, local = stores
    run_id = EvalRecords(alice).create_run(
        suite_name="weather", suite_path=None, suite_source="cases: []", tools=[],
        settings={}, targets=[], repeats=1, concurrency=1, total_cells=0)
    assert [r.id for r in EvalRecords(alice).runs()] == [run_id]
    assert EvalRecords(bob).runs() == [] and EvalRecords(bob).run(run_id) is None
    EvalRecords(bob).delete_run(run_id)
    assert EvalRecords(alice).run(run_id) is not None
    assert [r.id for r in EvalRecords(local).runs()] == [run_id]


def test_own_tools_are_kept_per_person(stores: tuple[Store, Store, Store]) -> None:
    alice, bob, local = stores
    alice.save_own_tool("lookup", "name: lookup\n# Alice's\n")
    alice.save_own_tool("lookup", "name: lookup\n# Alice's, edited\n")
    bob.save_own_tool("lookup", "name: lookup\n# Bob's\n")
    assert alice.own_tools() == {"lookup": "name: lookup\n# Alice's, edited\n"}
    assert bob.own_tools() == {"lookup": "name: lookup\n# Bob's\n"}
    assert local.own_tools() == {}  # local mode has the tools/ folder only
    bob.delete_own_tool("lookup")
    assert bob.own_tools() == {} and list(alice.own_tools()) == ["lookup"]


def test_own_tools_refuse_a_run_section(stores: tuple[Store, Store, Store]) -> None:
    """HTTP tools come only from the admins' tools/ library: the database never keeps one as
    somebody's own tool, whichever page path tried to save it."""
    _, bob, _ = stores
    http_tool = ("name: fetch\ndescription: x\nparameters: {type: object}\n"
                 "run:\n  http: {method: GET, url: 'http://127.0.0.1:9/'}\n")
    with pytest.raises(ToolFileError, match="HTTP tools come only from the admins"):
        bob.save_own_tool("fetch", http_tool)
    assert bob.own_tools() == {}
    bob.save_own_tool("fetch", "name: fetch\ndescription: x\nparameters: {type: object}\n")
    assert list(bob.own_tools()) == ["fetch"]
