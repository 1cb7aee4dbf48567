"""Edit, delete, re-run and branch from any message on the Chat page (AppTest on app.py, the
offline demo model answering, a real SQLite database in the test's data dir)."""

from __future__ import annotations

from collections.abc import Callable

from streamlit.testing.v1 import AppTest

from core.store import Store, default_url
from tests.support.apptest import ask, messages, run

SEED = "What's the weather like in Boston today?"
RESULT = '{"temperature": 22, "unit": "celsius"}'

MakeApp = Callable[[], AppTest]


def db() -> Store:
    return Store.open(default_url())


def session_id(at: AppTest) -> str:
    return at.session_state["chat.state"].conversation.id


def seed_turn(at: AppTest) -> AppTest:
    ask(at, SEED)
    [box] = [t for t in at.text_area if (t.key or "").startswith("chat.result.")]
    box.input(RESULT)
    at.button(key="chat.send_results").click()
    return run(at)


def click(at: AppTest, key: str) -> AppTest:
    at.button(key=key).click()
    return run(at)


def test_editing_a_user_message_branches_and_keeps_the_old_branch(make_app: MakeApp) -> None:
    at = seed_turn(make_app())
    old = session_id(at)
    first = messages(at)[0]
    before = [m.content for m in messages(at)]

    click(at, f"chat.msg.edit.{first.id}")
    box = at.text_area(key=f"chat.edit.{first.id}")
    assert box.value == SEED  # the box starts with the message's text
    box.input("What's the weather like in Tokyo today?")
    click(at, f"chat.msg.send_edit.{first.id}")

    new = session_id(at)
    assert new != old
    now = messages(at)
    assert now[0].content == "What's the weather like in Tokyo today?"
    assert now[1].role == "assistant" and "Tokyo" in now[1].tool_calls[0].arguments
    assert at.query_params["session"] in (new, [new])
    # The previous branch is untouched in the database and linked from the page.
    stored_old = db().load(old)
    assert stored_old is not None and [m.content for m in stored_old.messages] == before
    assert [m.content for m in db().load(new).messages][:1] == [now[0].content]
    assert any(f"?session={old}" in i.value for i in at.info)


def test_branch_from_a_message_keeps_what_came_before(make_app: MakeApp) -> None:
    at = seed_turn(make_app())
    old = session_id(at)
    call_turn = messages(at)[1]
    click(at, f"chat.msg.branch.{call_turn.id}")
    assert session_id(at) != old
    branch = messages(at)
    assert [m.role for m in branch] == ["user", "assistant"]
    assert branch[1].tool_calls[0].name == call_turn.tool_calls[0].name
    assert branch[1].id != call_turn.id  # fresh ids: the stored original keeps its own
    assert len(db().load(old).messages) == 4
    assert [m.role for m in db().load(session_id(at)).messages] == ["user", "assistant"]
    # The branch waits for the result of the call, as the original did at that point.
    assert [t for t in at.text_area if (t.key or "").startswith("chat.result.")]


def test_delete_takes_an_answers_tool_results_with_it(make_app: MakeApp) -> None:
    at = seed_turn(make_app())
    sid = session_id(at)
    call_turn = messages(at)[1]
    click(at, f"chat.msg.delete.{call_turn.id}")
    assert session_id(at) == sid  # in place
    assert [m.role for m in messages(at)] == ["user", "assistant"]
    assert not messages(at)[1].tool_calls
    assert [m.role for m in db().load(sid).messages] == ["user", "assistant"]


def test_rerun_the_last_answer_in_place_and_an_earlier_one_in_a_branch(
    make_app: MakeApp,
) -> None:
    at = seed_turn(make_app())
    sid = session_id(at)
    last = messages(at)[-1]
    click(at, f"chat.msg.rerun.{last.id}")
    assert session_id(at) == sid
    assert len(messages(at)) == 4 and messages(at)[-1].id != last.id
    assert len(db().load(sid).messages) == 4

    earlier = messages(at)[1]
    click(at, f"chat.msg.rerun.{earlier.id}")
    assert session_id(at) != sid
    assert [m.role for m in messages(at)] == ["user", "assistant"]
    assert messages(at)[1].id != earlier.id  # asked again: a new answer
    assert len(db().load(sid).messages) == 4


def test_a_whitespace_only_message_is_not_sent(make_app: MakeApp) -> None:
    at = make_app()
    ask(at, "   \n ")
    assert messages(at) == []


def test_a_long_message_is_folded_with_expand_and_copy(make_app: MakeApp) -> None:
    at = make_app()
    long = " ".join(f"word{i}" for i in range(4_000))  # about 31,000 characters
    ask(at, long)
    user = messages(at)[0]
    shown = [m.value for m in at.markdown if "word0 " in m.value]
    assert shown and all(len(v) < 2_000 for v in shown)
    assert any(f"of {len(long):,} characters" in c.value for c in at.caption)
    # Copy holds the whole text (in a code block with its copy button).
    assert any(c.value == long for c in at.code)
    click(at, f"chat.fold.{user.id}")
    assert any(m.value.endswith("word3999") for m in at.markdown)
    assert at.button(key=f"chat.fold.{user.id}").label == "Fold"
