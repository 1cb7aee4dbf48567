"""core.conversation.fresh_copy: what a tab saves when another tab continued its session.

On a real SQLite file: the stale tab's record raises SessionConflict; its fresh copy stores as a
new session with its own message and exchange ids, the original is untouched, and Usage counts
each request once.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from core.conversation import Conversation, fresh_copy
from core.store import SessionConflict, Store
from core.types import Exchange, Message, Usage
from core.usage import exchanges_frame


def turn(conversation: Conversation, text: str) -> None:
    exchange = Exchange(provider="openai", model="m", base_url="http://x/v1",
                        request_body={"q": text}, stream=True, started_at=1_750_000_000.0,
                        ended_at=1_750_000_001.0,
                        usage=Usage(prompt_tokens=10, completion_tokens=5, total_tokens=15))
    conversation.exchanges[exchange.id] = exchange
    conversation.messages += [Message(role="user", content=text),
                              Message(role="assistant", content=f"re: {text}",
                                      exchange_id=exchange.id)]


def test_a_stale_tab_saves_its_messages_as_a_fork(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'db.sqlite'}")
    tab_a = Conversation()
    turn(tab_a, "first")
    store.record(tab_a)
    tab_b = replace(tab_a, messages=list(tab_a.messages), exchanges=dict(tab_a.exchanges))
    turn(tab_a, "from A")
    store.record(tab_a)
    turn(tab_b, "from B")
    with pytest.raises(SessionConflict):
        store.record(tab_b)

    fork = fresh_copy(tab_b)
    store.record(fork)
    assert fork.id != tab_a.id
    assert not {m.id for m in fork.messages} & {m.id for m in tab_b.messages}
    assert not set(fork.exchanges) & set(tab_b.exchanges)
    for message in fork.messages:
        assert message.exchange_id is None or message.exchange_id in fork.exchanges
    loaded_a, loaded_fork = store.load(tab_a.id), store.load(fork.id)
    assert loaded_a is not None and loaded_fork is not None
    assert [m.content for m in loaded_a.messages] == ["first", "re: first", "from A",
                                                      "re: from A"]
    assert [m.content for m in loaded_fork.messages] == ["first", "re: first", "from B",
                                                         "re: from B"]
    # Three requests were made (first, from A, from B): the fork's copy of "first" is one.
    assert len(exchanges_frame(store)) == 3
