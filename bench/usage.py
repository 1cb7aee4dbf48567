"""Usage page data for 100,000 exchanges, and opening a 2,000-message session.

Peers, same database, same run:
- Usage: a plain `SELECT *` of the exchanges table into pandas (what a first version would do),
  against Toolsmith's column-pruned load plus every aggregate the Usage page draws.
- Session: the raw sqlite3 rows of the session (floor) against Store.load (rows -> messages).
"""

from __future__ import annotations

import json
import random
import sqlite3
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from core import usage
from core.conversation import Conversation
from core.store import Store, exchanges, sessions
from core.types import Message, ToolCall

MODELS = ["gpt-4o-2024-08-06", "gpt-4o-mini", "claude-sonnet-4-5", "deepseek-chat", "llama3.1"]
PROVIDERS = {"llama3.1": "openai", "claude-sonnet-4-5": "anthropic"}


def fill(store: Store, count: int, sessions_n: int = 1000) -> None:
    rng = random.Random(7)
    now = time.time() - 30 * 86400
    body = json.dumps({"model": "m", "messages": [{"role": "user", "content": "x" * 400}]})
    with store.engine.begin() as conn:
        conn.execute(sessions.insert(), [
            {"id": f"ses_{i}", "title": f"session {i}", "created_at": now, "updated_at": now,
             "provider": "openai", "model": MODELS[i % 5]} for i in range(sessions_n)])
        batch = []
        for i in range(count):
            model = MODELS[i % len(MODELS)]
            prompt = rng.randint(50, 4000)
            completion = rng.randint(5, 800)
            start = now + i * 25
            batch.append({
                "id": f"ex_{i}", "session_id": f"ses_{i % sessions_n}",
                "provider": PROVIDERS.get(model, "openai"), "model": model,
                "base_url": "https://api.example.com/v1", "base_url_host": "api.example.com",
                "stream": 1, "started_at": start, "first_byte_at": start + 0.2,
                "first_token_at": start + 0.3, "ended_at": start + rng.uniform(0.5, 9),
                "status": 200, "request_json": body, "transcript": "data: {}\n\n" * 20,
                "prompt_tokens": prompt, "cached_tokens": rng.randint(0, prompt // 2),
                "completion_tokens": completion,
                "reasoning_tokens": rng.randint(0, completion // 3),
                "total_tokens": prompt + completion, "usage_estimated": 0, "wire": "openai"})
            if len(batch) == 10_000:
                conn.execute(exchanges.insert(), batch)
                batch = []
        if batch:
            conn.execute(exchanges.insert(), batch)


def usage_page_data(store: Store) -> pd.DataFrame:
    prices = usage.load_prices(Path(__file__).resolve().parent.parent / "pricing.yaml")
    frame = usage.with_cost(usage.apply_filters(usage.exchanges_frame(store), usage.Filters()),
                            prices)
    usage.totals(frame, "model")
    usage.totals(frame, "provider")
    usage.cumulative(frame)
    return frame


def naive_usage(path: Path) -> pd.DataFrame:
    with sqlite3.connect(path) as conn:
        return pd.read_sql_query("SELECT * FROM exchanges", conn)


def long_session(store: Store, n: int) -> str:
    conversation = Conversation(id="ses_long")
    for i in range(n // 4):
        call = ToolCall(f"call_{i}", "get_current_weather", '{"location": "Boston, MA"}')
        conversation.messages += [
            Message("user", f"question {i} " + "lorem ipsum " * 20),
            Message("assistant", "", tool_calls=[call], finish_reason="tool_calls"),
            Message("tool", '{"temperature": 22}', tool_call_id=call.id, name=call.name),
            Message("assistant", "It is 22 degrees. " * 10, finish_reason="stop")]
    store.record(conversation, provider="openai", model="gpt-4o")
    return conversation.id


def _best(fn: Callable[[], object], repeat: int = 5) -> float:
    fn()
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def run(count: int = 100_000) -> list[dict[str, object]]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.db"
        store = Store.open(f"sqlite:///{path}")
        fill(store, count)
        ours = _best(lambda: usage_page_data(store), 3)
        naive = _best(lambda: naive_usage(path), 3)
        session_id = long_session(store, 2000)

        def raw_rows() -> list:
            with sqlite3.connect(path) as conn:
                return conn.execute("SELECT * FROM messages WHERE session_id = ? ORDER BY "
                                    "position", (session_id,)).fetchall()

        load = _best(lambda: store.load(session_id))
        floor = _best(raw_rows)
        store.engine.dispose()
    return [
        {"name": f"Usage page data, {count:,} exchanges: Toolsmith vs SELECT * into pandas",
         "value": ours * 1000, "unit": "ms", "peer": naive * 1000, "ratio": ours / naive,
         "target": "< 1000 ms"},
        {"name": "open a 2,000-message session: Store.load vs raw sqlite3 rows",
         "value": load * 1000, "unit": "ms", "peer": floor * 1000, "ratio": load / floor,
         "target": "(reported)"},
    ]
