"""Helpers for the session-history tests: databases to test on, conversations, real turns.

Store tests run on a real SQLite file in the test's tmp dir, and on PostgreSQL too when
TOOLSMITH_TEST_DATABASE_URL is set (each test then gets a schema of its own, dropped at the
end, so the database named by the variable is left as it was).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import yaml
from sqlalchemy.engine import Engine, make_url

from core.config import DEMO_BASE_URL, DEMO_MODEL, Endpoint
from core.conversation import Conversation, tool_result_messages
from core.store import Store, make_engine
from core.turn import TurnResult, run_turn
from core.types import Attempt, ChatSettings, Exchange, Message, ToolCall, ToolSpec, Usage
from core.wire.http import RetryPolicy, Timeouts

ROOT = Path(__file__).resolve().parents[2]
PG_URL = os.environ.get("TOOLSMITH_TEST_DATABASE_URL", "")
PG_SKIP = ("PostgreSQL store tests run only when TOOLSMITH_TEST_DATABASE_URL is set "
           "(e.g. postgresql+psycopg://user@127.0.0.1/db)")
BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.skipif(not PG_URL, reason=PG_SKIP)),
]
SEED = "What's the weather like in Boston today?"
TABLES = ("schema_migrations", "sessions", "messages", "exchanges", "result_drafts")


def load_tool(name: str) -> ToolSpec:
    data = yaml.safe_load((ROOT / "tools" / f"{name}.yaml").read_text(encoding="utf-8"))
    return ToolSpec(name=data["name"], description=data.get("description", ""),
                    parameters=data["parameters"], strict=data.get("strict"))


WEATHER = load_tool("get_current_weather")


# --- Databases -----------------------------------------------------------------------------------

@dataclass
class Backend:
    """One empty database to test on; `open()` gives a migrated Store on it."""

    name: str
    url: str
    db_path: Path | None = None  # the SQLite file, None for PostgreSQL
    _engines: list[Engine] = field(default_factory=list)

    def engine(self) -> Engine:
        engine = make_engine(self.url)
        self._engines.append(engine)
        return engine

    def open(self) -> Store:
        store = Store.open(self.url)
        self._engines.append(store.engine)
        return store

    def files(self) -> list[Path]:
        """The SQLite file and its WAL and shared-memory companions."""
        assert self.db_path is not None
        return sorted(self.db_path.parent.glob(self.db_path.name + "*"))

    def dispose(self) -> None:
        for engine in self._engines:
            engine.dispose()


@contextmanager
def backend(name: str, tmp_path: Path) -> Iterator[Backend]:
    if name == "sqlite":
        path = tmp_path / "db" / "toolsmith.db"
        path.parent.mkdir(parents=True, exist_ok=True)
        found = Backend("sqlite", f"sqlite:///{path}", path)
        try:
            yield found
        finally:
            found.dispose()
        return
    schema = f"toolsmith_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG_URL)
    with admin.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    url = make_url(PG_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    found = Backend("postgres", url.render_as_string(hide_password=False))
    try:
        yield found
    finally:
        found.dispose()
        with admin.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


# --- Reading everything back ---------------------------------------------------------------------

def snapshot(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (SELECT *, whatever the schema version), in a stable order:
    equal snapshots mean nothing changed."""
    names = set(sa.inspect(store.engine).get_table_names())
    seen: dict[str, list[tuple[Any, ...]]] = {}
    with store.engine.connect() as conn:
        for table in TABLES:
            if table in names:
                rows = conn.exec_driver_sql(f"SELECT * FROM {table}").all()
                seen[table] = sorted((tuple(r) for r in rows), key=repr)
    return seen


def rows_where(store: Store, table: str, session_id: str) -> int:
    with store.engine.connect() as conn:
        return conn.execute(sa.text(f"SELECT count(*) FROM {table} WHERE session_id = :s"),
                            {"s": session_id}).scalar_one()


def marker_hits(store: Store, marker: str) -> list[str]:
    """table.column of every stored value that contains the marker."""
    hits: list[str] = []

    def visit(table: str, rows: list[Any]) -> None:
        for row in rows:
            for column, value in row._mapping.items():
                if value is not None and marker in str(value):
                    hits.append(f"{table}.{column}")

    store.each_table(visit)
    return hits


# --- Conversations -------------------------------------------------------------------------------

T0 = 1_750_000_000.0


def rich_conversation() -> Conversation:
    """Everything a session can hold: reasoning, parallel tool calls, an error result, usage of
    every kind, a retried exchange, a failed exchange with no message, non-ASCII text."""
    call_a = ToolCall("call_a1", "get_current_weather", '{"location": "Zürich"}')
    call_b = ToolCall("call_b2", "get_current_weather", '{"location": "東京", "unit": "celsius"}')
    first = Exchange(
        provider="api.openai.com", model="gpt-4o-2024-08-06", base_url="https://api.openai.com/v1",
        request_body={"model": "gpt-4o-2024-08-06", "stream": True,
                      "messages": [{"role": "user", "content": "Weather in Zürich and 東京?"}],
                      "tools": [{"type": "function", "function": {"name": "get_current_weather"}}]},
        stream=True, started_at=T0,
        request_headers={"Authorization": "Bearer $OPENAI_API_KEY",
                         "Content-Type": "application/json"},
        url="https://api.openai.com/v1/chat/completions",
        response_headers={"x-request-id": "req_7f3a", "x-ratelimit-remaining-tokens": "29000"},
        status=200, request_id="req_7f3a", response_body={"id": "chatcmpl-1", "choices": []},
        transcript='data: {"id":"chatcmpl-1"}\n\ndata: [DONE]\n\n',
        first_byte_at=T0 + 0.75, first_token_at=T0 + 0.875, ended_at=T0 + 1.5,
        attempts=[Attempt(started_at=T0, status=429, error="rate limited", retry_after_s=0.5,
                          answered_at=T0 + 0.1),
                  Attempt(started_at=T0 + 0.5, status=200, answered_at=T0 + 0.6)],
        usage=Usage(prompt_tokens=1200, completion_tokens=300, total_tokens=1500,
                    cached_tokens=1024, reasoning_tokens=128),
    )
    failed = Exchange(
        provider="api.openai.com", model="gpt-4o-2024-08-06", base_url="https://api.openai.com/v1",
        request_body={"model": "gpt-4o-2024-08-06", "stream": False, "messages": []},
        stream=False, started_at=T0 + 10, status=500, error="The server answered 500",
        error_kind="status", ended_at=T0 + 12.25,
        attempts=[Attempt(started_at=T0 + 10 + i, status=500, error="server_error")
                  for i in range(3)],
    )
    answer = Exchange(
        provider="api.openai.com", model="gpt-4o-2024-08-06", base_url="https://api.openai.com/v1",
        request_body={"model": "gpt-4o-2024-08-06", "stream": True, "messages": []},
        stream=True, started_at=T0 + 20, status=200, first_byte_at=T0 + 20.25,
        first_token_at=T0 + 20.5, ended_at=T0 + 21, attempts=[Attempt(started_at=T0 + 20,
                                                                      status=200)],
        usage=Usage(prompt_tokens=1400, completion_tokens=60, total_tokens=1460,
                    cached_tokens=1280, reasoning_tokens=0, estimated=False),
    )
    conversation = Conversation()
    conversation.messages = [
        Message(role="user", content="Weather in Zürich and 東京? 🌦"),
        Message(role="assistant", content="", tool_calls=[call_a, call_b],
                reasoning="Two places, so two calls.", usage=replace(first.usage),
                finish_reason="tool_calls", exchange_id=first.id),
        Message(role="tool", content='{"temperature": 18, "unit": "celsius"}',
                tool_call_id=call_a.id, name=call_a.name),
        Message(role="tool", content="timeout after 5 s", tool_call_id=call_b.id,
                name=call_b.name, is_error=True),
        Message(role="assistant", content="Zürich: 18 °C. 東京: the lookup timed out.",
                usage=replace(answer.usage), finish_reason="stop", exchange_id=answer.id),
    ]
    conversation.exchanges = {e.id: e for e in (first, failed, answer)}
    return conversation


def simple_conversation(title: str, *replies: str, model: str = "gpt-4o-mini",
                        provider: str = "openai", started_at: float = T0,
                        tokens: int = 100) -> Conversation:
    """A user message, then one answered exchange per reply."""
    conversation = Conversation()
    conversation.messages.append(Message(role="user", content=title))
    for index, text in enumerate(replies):
        exchange = Exchange(provider=provider, model=model, base_url="https://example.test/v1",
                            request_body={"model": model}, stream=True,
                            started_at=started_at + index, first_token_at=started_at + index + 0.25,
                            ended_at=started_at + index + 1, status=200,
                            usage=Usage(prompt_tokens=tokens - 10, completion_tokens=10,
                                        total_tokens=tokens))
        conversation.exchanges[exchange.id] = exchange
        conversation.messages.append(Message(role="assistant", content=text,
                                             exchange_id=exchange.id, usage=exchange.usage))
        if index + 1 < len(replies):
            conversation.messages.append(Message(role="user", content=f"and then? ({index})"))
    return conversation


# --- Real turns ----------------------------------------------------------------------------------

def demo_endpoint(api_key: str = "") -> Endpoint:
    return Endpoint("demo", DEMO_BASE_URL, DEMO_MODEL, api_key=api_key)


def wire_endpoint(base_url: str, model: str, api_key: str) -> Endpoint:
    return Endpoint(preset="custom", base_url=base_url, model=model, api_key=api_key,
                    timeouts=Timeouts(connect=5.0, idle=10.0), retry=RetryPolicy())


def take_turn(conversation: Conversation, endpoint: Endpoint, *, stream: bool = True,
              sleep: Callable[[float], None] | None = None) -> TurnResult:
    """One run_turn on the conversation, kept the way the Chat page keeps it."""
    result = run_turn(endpoint, conversation.messages, [WEATHER],
                      ChatSettings(model=endpoint.model, stream=stream),
                      sleep=sleep or _no_sleep)
    conversation.exchanges[result.exchange.id] = result.exchange
    if result.message is not None:
        conversation.messages.append(result.message)
    return result


def answer_calls(conversation: Conversation, result: str) -> None:
    calls = conversation.messages[-1].tool_calls
    assert calls, "the model did not call a tool"
    conversation.messages.extend(tool_result_messages(calls, {c.id: result for c in calls}))


def _no_sleep(seconds: float) -> None:
    raise AssertionError(f"unexpected retry (asked to wait {seconds} s)")


# --- Writers for the concurrency test (module level so a spawned process can import them) ---

def grow_sessions(store: Store, prefix: str, sessions: int, steps: int) -> list[Conversation]:
    """`sessions` conversations grown together, one step each in turn, recorded every step."""
    conversations = [Conversation(id=f"ses_{prefix}_{n}") for n in range(sessions)]
    for step in range(steps):
        for n, conversation in enumerate(conversations):
            conversation.messages.append(Message(role="user", content=f"{prefix} {n} ask {step}",
                                                 id=f"msg_{prefix}_{n}_{step}_q"))
            store.record(conversation, provider="api.openai.com", model="gpt-4o-mini")
            exchange = Exchange(provider="api.openai.com", model="gpt-4o-mini",
                                base_url="https://example.test/v1", request_body={"step": step},
                                stream=False, started_at=T0 + step,
                                id=f"ex_{prefix}_{n}_{step}",
                                usage=Usage(prompt_tokens=10, completion_tokens=5,
                                            total_tokens=15))
            conversation.exchanges[exchange.id] = exchange
            conversation.messages.append(Message(role="assistant",
                                                 content=f"{prefix} {n} answer {step}",
                                                 exchange_id=exchange.id,
                                                 id=f"msg_{prefix}_{n}_{step}_a"))
            store.record(conversation)
    return conversations


def process_writer(url: str, prefix: str, sessions: int, steps: int, barrier: Any) -> None:
    store = Store.open(url)
    barrier.wait(timeout=60)
    grow_sessions(store, prefix, sessions, steps)
    store.engine.dispose()
