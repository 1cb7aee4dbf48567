"""core.usage: the Usage page's numbers, from exchanges written to a real SQLite file.

Token parts must add up (uncached + cached = prompt; completion_other + reasoning = completion),
filters must pick exactly the requested rows, and cost must follow the price table with
unknown models left as NaN ("no price"), never as 0.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.conversation import Conversation
from core.store import Store
from core.types import Exchange, Message, Usage
from core.usage import (
    Filters,
    Price,
    apply_filters,
    cumulative,
    dump_prices,
    exchanges_frame,
    load_prices,
    parse_prices,
    price_for,
    totals,
    with_cost,
)
from tests.support.history import BACKENDS, ROOT, backend
from tests.support.stack import run_with_small_stack


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    with backend(request.param, tmp_path) as db:
        yield db.open()


def at(day: int, hour: int = 12) -> float:
    return datetime(2026, 3, day, hour, tzinfo=UTC).timestamp()


def exchange(model: str, provider: str, started_at: float, usage: Usage | None, *,
             ttft: float | None = 0.25, latency: float | None = 1.0) -> Exchange:
    return Exchange(provider=provider, model=model, base_url="https://example.test/v1",
                    request_body={"model": model}, stream=True, started_at=started_at,
                    first_token_at=None if ttft is None else started_at + ttft,
                    ended_at=None if latency is None else started_at + latency,
                    status=200 if usage else 500, usage=usage)


def add_session(store: Store, *exchanges: Exchange) -> str:
    conversation = Conversation(messages=[Message(role="user", content="q")])
    conversation.exchanges = {e.id: e for e in exchanges}
    store.record(conversation)
    return conversation.id


def usage(prompt: int, cached: int, completion: int, reasoning: int = 0) -> Usage:
    return Usage(prompt_tokens=prompt, completion_tokens=completion,
                 total_tokens=prompt + completion, cached_tokens=cached,
                 reasoning_tokens=reasoning)


# --- The frame -----------------------------------------------------------------------------------

def test_frame_derives_token_parts_latency_and_ttft(store: Store) -> None:
    rich = exchange("gpt-4o", "openai", at(2), usage(1200, 1024, 300, 128), ttft=0.875,
                    latency=1.5)
    failed = exchange("gpt-4o", "openai", at(2, 13), None, ttft=None, latency=2.25)
    early = exchange("gpt-4o-mini", "openai", at(1), usage(100, 0, 50))
    session = add_session(store, rich, failed, early)

    frame = exchanges_frame(store)

    assert list(frame["model"]) == ["gpt-4o-mini", "gpt-4o", "gpt-4o"]  # in time order
    assert list(frame["started_at"]) == [early.started_at, rich.started_at, failed.started_at]
    assert set(frame["session_id"]) == {session}
    assert list(frame["uncached_prompt"]) == [100, 176, 0]
    assert list(frame["cached_tokens"]) == [0, 1024, 0]
    assert list(frame["completion_other"]) == [50, 172, 0]
    assert list(frame["reasoning_tokens"]) == [0, 128, 0]
    assert list(frame["total_tokens"]) == [150, 1500, 0]
    for column in ("prompt_tokens", "cached_tokens", "completion_tokens", "reasoning_tokens",
                   "total_tokens", "uncached_prompt", "completion_other"):
        assert frame[column].dtype == np.int64, column
    # The stacked parts add up to what the provider reported.
    assert (frame["uncached_prompt"] + frame["cached_tokens"] == frame["prompt_tokens"]).all()
    assert (frame["completion_other"] + frame["reasoning_tokens"]
            == frame["completion_tokens"]).all()
    assert list(frame["latency_s"]) == [1.0, 1.5, 2.25]
    assert frame["ttft_s"].iloc[0] == 0.25
    assert frame["ttft_s"].iloc[1] == 0.875
    assert pd.isna(frame["ttft_s"].iloc[2])
    assert frame["started"].dt.tz is not None
    assert list(frame["started"].dt.date) == [date(2026, 3, 1), date(2026, 3, 2),
                                              date(2026, 3, 2)]


def test_frame_of_an_empty_store(store: Store) -> None:
    frame = exchanges_frame(store)
    assert frame.empty
    assert {"uncached_prompt", "completion_other", "latency_s", "ttft_s", "started"} <= set(
        frame.columns)
    assert apply_filters(frame, Filters(models=["gpt-4o"])).empty


def test_parts_never_go_negative(store: Store) -> None:
    """A provider that reports more cached than prompt tokens must not chart below zero."""
    add_session(store, exchange("odd", "openai", at(1), Usage(
        prompt_tokens=10, completion_tokens=5, total_tokens=15, cached_tokens=12,
        reasoning_tokens=9)))
    frame = exchanges_frame(store)
    assert (frame["uncached_prompt"].iloc[0], frame["completion_other"].iloc[0]) == (0, 0)


def test_frame_when_no_request_got_a_first_token(store: Store) -> None:
    add_session(store, exchange("gpt-4o", "openai", at(1), None, ttft=None, latency=0.5),
                exchange("gpt-4o", "openai", at(2), None, ttft=None, latency=None))
    frame = exchanges_frame(store)
    assert frame["ttft_s"].isna().all()
    assert frame["latency_s"].iloc[0] == 0.5
    assert pd.isna(frame["latency_s"].iloc[1])
    shown = with_cost(frame, {"gpt-4o": Price(2.5, 1.25, 10.0)})
    assert list(shown["cost_usd"]) == [0.0, 0.0]
    assert list(totals(shown, "model")["requests"]) == [2]


# --- Filters -------------------------------------------------------------------------------------

@pytest.fixture
def three_days(store: Store) -> dict[str, str]:
    """One request a day: OpenAI on 1 March, Anthropic on 2 March, the demo on 3 March."""
    return {
        "openai": add_session(store, exchange("gpt-4o", "openai", at(1), usage(100, 0, 10))),
        "anthropic": add_session(store, exchange("claude-haiku-4-5", "anthropic", at(2),
                                                 usage(200, 0, 20))),
        "demo": add_session(store, exchange("toolsmith-demo", "demo", at(3), usage(300, 0, 30))),
    }


@pytest.mark.parametrize(("filters", "expected"), [
    (Filters(), ["gpt-4o", "claude-haiku-4-5", "toolsmith-demo"]),
    (Filters(sessions=[], models=[], providers=[]),
     ["gpt-4o", "claude-haiku-4-5", "toolsmith-demo"]),
    (Filters(start=date(2026, 3, 2)), ["claude-haiku-4-5", "toolsmith-demo"]),
    (Filters(end=date(2026, 3, 2)), ["gpt-4o", "claude-haiku-4-5"]),
    (Filters(start=date(2026, 3, 2), end=date(2026, 3, 2)), ["claude-haiku-4-5"]),
    (Filters(start=date(2026, 3, 4)), []),
    (Filters(models=["gpt-4o", "toolsmith-demo"]), ["gpt-4o", "toolsmith-demo"]),
    (Filters(models=["nothing-like-it"]), []),
    (Filters(providers=["anthropic"]), ["claude-haiku-4-5"]),
    (Filters(providers=["openai", "demo"], end=date(2026, 3, 1)), ["gpt-4o"]),
])
def test_filters(store: Store, three_days: dict[str, str], filters: Filters,
                 expected: list[str]) -> None:
    assert list(apply_filters(exchanges_frame(store), filters)["model"]) == expected


def test_filter_by_session(store: Store, three_days: dict[str, str]) -> None:
    frame = exchanges_frame(store)
    picked = apply_filters(frame, Filters(sessions=[three_days["anthropic"], three_days["demo"]]))
    assert list(picked["provider"]) == ["anthropic", "demo"]
    assert len(frame) == 3  # the frame itself is not filtered in place


# --- Prices and cost -----------------------------------------------------------------------------

PRICES = {
    "gpt-4o": Price(input=2.5, cached_input=1.25, output=10.0),
    "gpt-4o-mini": Price(input=0.15, cached_input=0.075, output=0.6),
    "claude": Price(input=3.0, cached_input=0.3, output=15.0),
}


@pytest.mark.parametrize(("model", "expected"), [
    ("gpt-4o", "gpt-4o"),  # exact
    ("gpt-4o-mini", "gpt-4o-mini"),  # exact beats the shorter prefix
    ("gpt-4o-2024-08-06", "gpt-4o"),  # prefix
    ("gpt-4o-mini-2024-07-18", "gpt-4o-mini"),  # the longest prefix wins
    ("claude-haiku-4-5", "claude"),
    ("gpt-4", None),  # a prefix of a name is not a match
    ("o4-mini", None),
    ("", None),
])
def test_price_for(model: str, expected: str | None) -> None:
    assert price_for(model, PRICES) == (PRICES[expected] if expected else None)


def test_price_for_with_an_empty_table() -> None:
    assert price_for("gpt-4o", {}) is None


def test_cost_per_request(store: Store) -> None:
    add_session(store,
                exchange("gpt-4o-2024-08-06", "openai", at(1), usage(1200, 1024, 300, 128)),
                exchange("gpt-4o-mini", "openai", at(2), usage(1000, 0, 100)),
                exchange("my-local-llama", "openai", at(3), usage(500, 0, 50)),
                exchange("gpt-4o", "openai", at(4), None, ttft=None))
    frame = exchanges_frame(store)

    shown = with_cost(frame, PRICES)

    assert "cost_usd" not in frame.columns  # a copy, not an edit
    cost = list(shown["cost_usd"])
    # Uncached prompt at the input price, cached at the cached price, and all completion
    # tokens (reasoning included, once) at the output price.
    assert cost[0] == pytest.approx((176 * 2.5 + 1024 * 1.25 + 300 * 10.0) / 1e6)
    assert cost[1] == pytest.approx((1000 * 0.15 + 100 * 0.6) / 1e6)
    assert math.isnan(cost[2])  # unknown model: no price, not free
    assert cost[3] == 0.0  # a failed request with no usage costs nothing


def test_cache_writes_are_kept_and_priced_apart(store: Store) -> None:
    written = Usage(prompt_tokens=3596, cached_tokens=2048, cache_write_tokens=1536,
                    completion_tokens=11, total_tokens=3607)
    session = add_session(store, exchange("claude-sonnet-4-5", "anthropic", at(1), written),
                          exchange("claude-haiku-4-5", "anthropic", at(2), written))
    loaded = store.load(session)
    assert loaded is not None
    assert sorted(e.usage.cache_write_tokens for e in loaded.exchanges.values()) == [1536, 1536]
    prices = {"claude-sonnet-4-5": Price(3.0, 0.3, 15.0, cache_write=3.75),
              "claude-haiku-4-5": Price(1.0, 0.1, 5.0)}  # no cache_write: the input price
    shown = with_cost(exchanges_frame(store), prices)
    assert list(shown["cost_usd"]) == pytest.approx([
        (12 * 3.0 + 1536 * 3.75 + 2048 * 0.3 + 11 * 15.0) / 1e6,
        ((12 + 1536) * 1.0 + 2048 * 0.1 + 11 * 5.0) / 1e6])
    assert list(totals(shown, "model")["cache_write"]) == [1536, 1536]


def test_forks_of_forks_count_each_request_once_whatever_is_deleted(store: Store) -> None:
    session = add_session(store, exchange("gpt-4o", "openai", at(1), usage(100, 0, 10)),
                          exchange("gpt-4o", "openai", at(2), usage(200, 0, 20)))
    conversation = store.load(session)
    assert conversation is not None
    for ex_id in conversation.exchanges:  # messages that point at the exchanges, for fork
        conversation.messages.append(Message(role="assistant", content="a", exchange_id=ex_id))
    store.delete(session)
    store.record(conversation)
    last = conversation.messages[-1].id
    fork = store.fork(conversation.id, last)
    fork_message = store.load(fork).messages[-1].id  # type: ignore[union-attr]
    store.fork(fork, fork_message)
    assert len(exchanges_frame(store)) == 2
    store.delete(conversation.id)
    assert len(exchanges_frame(store)) == 2
    store.delete(fork)
    assert sorted(exchanges_frame(store)["total_tokens"]) == [110, 220]


def test_cost_of_no_requests(store: Store, three_days: dict[str, str]) -> None:
    nothing = apply_filters(exchanges_frame(store), Filters(models=["not-used"]))
    assert nothing.empty
    shown = with_cost(nothing, PRICES)
    assert shown.empty and "cost_usd" in shown.columns
    assert math.isnan(shown["cost_usd"].sum(min_count=1))


def test_totals_by_model_and_provider(store: Store) -> None:
    add_session(store,
                exchange("gpt-4o", "openai", at(1), usage(100, 50, 10, 4)),
                exchange("gpt-4o", "openai", at(2), usage(300, 0, 30)),
                exchange("my-local-llama", "openai", at(3), usage(1000, 0, 100)),
                exchange("toolsmith-demo", "demo", at(4), usage(10, 0, 5)))
    shown = with_cost(exchanges_frame(store), {**PRICES, "toolsmith-demo": Price(0, 0, 0)})

    by_model = totals(shown, "model")
    assert list(by_model["model"]) == ["my-local-llama", "gpt-4o", "toolsmith-demo"]  # largest
    row = by_model.set_index("model").loc["gpt-4o"]
    assert (row["requests"], row["uncached_prompt"], row["cached"], row["completion"],
            row["reasoning"], row["total"]) == (2, 350, 50, 40, 4, 440)
    assert row["cost_usd"] == pytest.approx((350 * 2.5 + 50 * 1.25 + 40 * 10.0) / 1e6)
    assert math.isnan(by_model.set_index("model").loc["my-local-llama", "cost_usd"])
    assert by_model.set_index("model").loc["toolsmith-demo", "cost_usd"] == 0.0

    by_provider = totals(shown, "provider").set_index("provider")
    assert by_provider.loc["openai", "requests"] == 3
    assert by_provider.loc["openai", "total"] == 440 + 1100
    # Priced parts are summed; the unpriced model is left out rather than making it NaN.
    assert by_provider.loc["openai", "cost_usd"] == pytest.approx(row["cost_usd"])


def test_cumulative_tokens_in_time_order(store: Store) -> None:
    add_session(store, exchange("m", "openai", at(3), usage(30, 0, 0)),
                exchange("m", "openai", at(1), usage(10, 0, 0)))
    add_session(store, exchange("m", "openai", at(2), usage(20, 0, 0)))
    table = cumulative(exchanges_frame(store))
    assert list(table["total_tokens"]) == [10, 20, 30]
    assert list(table["cumulative_tokens"]) == [10, 30, 60]
    assert table["started"].is_monotonic_increasing


# --- The price table -----------------------------------------------------------------------------

def test_parse_prices() -> None:
    prices = parse_prices("""
# USD per 1M tokens
gpt-4o: {input: 2.50, cached_input: 1.25, output: 10}
cheap: {input: "0.5", output: 1}
claude: {input: 3, cached_input: 0.3, output: 15, cache_write: 3.75}
""")
    assert prices == {"gpt-4o": Price(2.5, 1.25, 10.0), "cheap": Price(0.5, 0.5, 1.0),
                      "claude": Price(3.0, 0.3, 15.0, cache_write=3.75)}
    assert prices["cheap"].cache_write_rate == 0.5
    assert parse_prices("") == {}
    assert parse_prices("# nothing yet\n") == {}


@pytest.mark.parametrize(("text", "message"), [
    ("- gpt-4o\n- gpt-4o-mini\n", "the price table must map model names to prices"),
    ("just some words", "the price table must map model names to prices"),
    ("gpt-4o: 2.5\n", "gpt-4o: expected input, cached_input and output"),
    ("gpt-4o: {input: 2.5}\n", "gpt-4o: input and output must be numbers"),
    ("gpt-4o: {output: 2.5}\n", "gpt-4o: input and output must be numbers"),
    ("gpt-4o: {input: cheap, output: 1}\n", "gpt-4o: input and output must be numbers"),
    ("gpt-4o: {input: 1, output: [1]}\n", "gpt-4o: input and output must be numbers"),
    ("ok: {input: 1, output: 1}\nbad: {input: -1, output: 1}\n",
     "bad: prices cannot be negative"),
    ("gpt-4o: {input: 1, cached_input: -0.1, output: 1}\n", "gpt-4o: prices cannot be negative"),
    ("c: {input: 1, output: 1, cache_write: -2}\n", "c: prices cannot be negative"),
    ("c: {input: 1, output: 1, cache_write: lots}\n", "c: cache_write must be a number"),
])
def test_parse_prices_errors_name_the_entry(text: str, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_prices(text)
    assert str(caught.value) == message


def test_the_shipped_price_table() -> None:
    prices = parse_prices((ROOT / "pricing.yaml").read_text(encoding="utf-8"))
    assert prices["toolsmith-demo"] == Price(0.0, 0.0, 0.0)
    assert {"gpt-4o", "gpt-4o-mini", "claude-sonnet-4-5"} <= set(prices)
    for model, price in prices.items():
        assert price.cached_input <= price.input, model
    # Dated model names find their family's price.
    assert price_for("gpt-4o-2024-08-06", prices) == prices["gpt-4o"]
    assert price_for("gpt-4o-mini-2024-07-18", prices) == prices["gpt-4o-mini"]


def test_dump_and_load_prices(tmp_path: Path) -> None:
    prices = {"gpt-4o": Price(2.5, 1.25, 10.0), "model with spaces: odd": Price(1, 0.5, 2)}
    assert parse_prices(dump_prices(prices)) == prices
    user_copy, shipped = tmp_path / "prices.yaml", tmp_path / "shipped.yaml"
    shipped.write_text(dump_prices({"shipped": Price(1, 1, 1)}))
    assert load_prices(user_copy, shipped) == {"shipped": Price(1, 1, 1)}
    user_copy.write_text(dump_prices(prices))
    assert load_prices(user_copy, shipped) == prices  # the user's copy first
    assert load_prices(tmp_path / "none.yaml") == {}


# --- Hostile values: a stored time or price file never takes the page down ----------------------

@pytest.mark.parametrize("when", [1e20, 1e300, -1e12, math.inf, -math.inf])
def test_a_time_out_of_range_is_no_time_and_the_rest_is_counted(store: Store,
                                                                 when: float) -> None:
    """Rows written before imports were checked (or by another version) may hold any float."""
    add_session(store, exchange("gpt-4o", "openai", at(1), usage(100, 0, 10)),
                exchange("gpt-4o", "openai", when, usage(50, 0, 5)))
    frame = exchanges_frame(store)
    assert len(frame) == 2
    assert frame["started"].isna().sum() == 1  # not a date in the year 10^12
    bad = frame[frame["started"].isna()].iloc[0]
    assert math.isnan(bad["latency_s"]) and math.isnan(bad["ttft_s"])
    assert int(frame["total_tokens"].sum()) == 165
    picked = apply_filters(frame, Filters(start=date(2026, 3, 2), end=date(2026, 3, 3)))
    assert len(picked) == 1 and picked["started"].isna().all()  # undated: never filtered out
    assert int(totals(with_cost(frame, {}), "model")["total"].sum()) == 165
    assert len(cumulative(frame)) == 2


@pytest.mark.parametrize(("text", "message"), [
    ("m: {input: .inf, output: 1}\n", "numbers must be finite"),
    ("m: {input: 1, output: .nan}\n", "numbers must be finite"),
    ("m: {input: 1, output: 1.0e+999}\n", "numbers must be finite"),
    ("m: {input: 1, output: !!binary aGk=}\n", "tag"),
    ("m: !!python/object:os.system {input: 1, output: 1}\n", "tag"),
    ("m: {input: 1, output: 1" + "0" * 400 + "}\n", "too large"),
    ("m: {input: 1, output: 100000000000000000000}\n", "too large"),
    ("m: " + "[" * 400 + "]" * 400 + "\n", "nested deeper than"),
    ("m: " + "[" * 50_000 + "]" * 50_000 + "\n", "nested deeper than"),
    ("m: {input: 1e7, output: 1}\n", "m: prices must be at most 1,000,000"),
    ("m: {input: 1, output: 1000001}\n", "m: prices must be at most 1,000,000"),
    ("m: {input: 'inf', output: 1}\n", "m: prices must be at most 1,000,000"),
    ("m: {input: 1, output: 1, cache_write: '1e999'}\n", "m: prices must be at most 1,000,000"),
    ("a: &p {input: 1, output: 1}\nb: *p\n", "aliases"),
])
def test_a_bad_price_file_is_a_clear_message(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "prices.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=re.escape(message)):
        run_with_small_stack(lambda: load_prices(path))


def test_a_price_file_that_is_not_utf8_is_a_clear_message(tmp_path: Path) -> None:
    path = tmp_path / "prices.yaml"
    path.write_bytes(b"m: {input: 1, output: 1}\n# caf\xe9\n")
    with pytest.raises(ValueError, match="UTF-8"):
        load_prices(path)
