"""The Usage page through AppTest on the real app.py, reading the SQLite file in the test's
TOOLSMITH_DATA_DIR: the empty state, metrics after real demo turns, filters, and the price
table saved to TOOLSMITH_DATA_DIR/prices.yaml.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from streamlit.testing.v1 import AppTest

from core.conversation import Conversation
from core.store import Store, default_url
from core.types import Exchange, Message, Usage
from core.usage import Price, parse_prices
from tests.support.history import SEED, T0, simple_conversation

MakeApp = Callable[[], AppTest]


def run(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def open_usage(at: AppTest) -> AppTest:
    at.switch_page("app_pages/usage.py")
    run(at)
    assert [t.value for t in at.title] == ["Usage"]
    return at


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def captions(at: AppTest) -> list[str]:
    return [c.value for c in at.caption]


def seed(*exchanges: tuple[str, str, int]) -> Store:
    """One session per (model, provider, total tokens) request, straight into the app's db."""
    store = Store.open(default_url())
    for index, (model, provider, total) in enumerate(exchanges):
        exchange = Exchange(provider=provider, model=model, base_url="https://example.test/v1",
                            request_body={"model": model}, stream=True, started_at=T0 + index,
                            first_token_at=T0 + index + 0.25, ended_at=T0 + index + 1,
                            status=200, usage=Usage(prompt_tokens=total - 100,
                                                    completion_tokens=100, total_tokens=total,
                                                    cached_tokens=0, reasoning_tokens=0))
        conversation = Conversation(messages=[Message(role="user", content=f"q{index}")])
        conversation.exchanges[exchange.id] = exchange
        store.record(conversation, provider=provider, model=model)
    return store


def prices_file() -> Path:
    return Path(os.environ["TOOLSMITH_DATA_DIR"]) / "prices.yaml"


def test_empty_state_says_how_to_get_data(make_app: MakeApp) -> None:
    at = open_usage(make_app())
    [info] = at.main.info
    assert info.value.startswith("No requests recorded yet.")
    assert "Chat page" in info.value
    assert "offline demo model" in info.value
    assert not at.metric


def test_metrics_after_demo_turns(make_app: MakeApp) -> None:
    at = make_app()
    at.chat_input(key="chat.input").set_value(SEED)
    run(at)
    [box] = [t for t in at.text_area if (t.key or "").startswith("chat.result.")]
    box.input('{"temperature": 22, "unit": "celsius"}')
    at.button(key="chat.send_results").click()
    run(at)
    exchanges = list(at.session_state["chat.state"].conversation.exchanges.values())
    assert len(exchanges) == 2
    tokens = sum(e.usage.total for e in exchanges if e.usage)

    open_usage(at)

    shown = metrics(at)
    assert shown["Requests"] == "2"
    assert shown["Total tokens"] == f"{tokens:,}"
    assert shown["Cached prompt"] == "0"
    assert shown["Reasoning"] == "0"
    assert shown["Estimated cost"] == "$0"  # the demo model is priced at 0
    assert "Requests to the offline demo model carry estimated token counts." in captions(at)
    assert not any(c.startswith("No price for") for c in captions(at))
    # Each chart comes with its table and a CSV download.
    labels = [b.label for b in at.get("download_button")]
    for title in ("tokens per request", "cumulative tokens", "totals by model",
                  "totals by provider", "latency and time to first token"):
        assert f"Download {title} (CSV)" in labels
    assert len(at.get("vega_lite_chart")) == 5


def test_a_charts_table_is_drawn_when_its_tab_is_opened(make_app: MakeApp) -> None:
    seed(("gpt-4o", "openai", 1000), ("toolsmith-demo", "demo", 300))
    at = open_usage(make_app())

    def tables() -> list:  # the price table is always there
        return [d for d in at.dataframe if d.key != "usage.prices"]

    assert tables() == []  # five charts; their tables wait for their tabs
    at.session_state["usage.tab.latency"] = "Table"
    at.run()
    assert len(at.get("vega_lite_chart")) == 4
    [table] = tables()
    assert list(table.value.columns) == ["request", "started", "model", "latency_s", "ttft_s"]
    assert len(table.value) == 2


def test_filter_by_model(make_app: MakeApp) -> None:
    seed(("gpt-4o", "openai", 1000), ("gpt-4o", "openai", 600),
         ("mystery-model", "openai", 2000), ("toolsmith-demo", "demo", 300))
    at = open_usage(make_app())
    assert metrics(at)["Requests"] == "4"
    assert metrics(at)["Total tokens"] == "3,900"
    assert "No price for: `mystery-model` — add them to the price table to include them." in (
        captions(at))
    models = at.multiselect(key="usage.models")
    assert models.options == ["gpt-4o", "mystery-model", "toolsmith-demo"]

    models.set_value(["gpt-4o"])
    run(at)

    shown = metrics(at)
    assert (shown["Requests"], shown["Total tokens"]) == ("2", "1,600")
    # 1,400 uncached prompt and 200 completion tokens at gpt-4o's shipped price.
    assert shown["Estimated cost"] == "$0.0055"
    assert not any(c.startswith("No price for") for c in captions(at))

    at.multiselect(key="usage.models").set_value(["mystery-model"])
    run(at)
    assert metrics(at)["Estimated cost"] == "no price"

    at.multiselect(key="usage.models").set_value([])
    at.multiselect(key="usage.providers").set_value(["demo"])
    run(at)
    assert (metrics(at)["Requests"], metrics(at)["Total tokens"]) == ("1", "300")


def test_filters_that_match_nothing(make_app: MakeApp) -> None:
    seed(("gpt-4o", "openai", 1000), ("toolsmith-demo", "demo", 300))
    at = open_usage(make_app())
    at.multiselect(key="usage.models").set_value(["gpt-4o"])
    at.multiselect(key="usage.providers").set_value(["demo"])
    run(at)
    assert any("No requests match these filters." in w.value for w in at.warning)
    assert not at.metric


def test_price_table_edit_and_save(make_app: MakeApp) -> None:
    seed(("gpt-4o", "openai", 1000), ("my-local-model", "openai", 2000))
    at = open_usage(make_app())
    [editor] = at.data_editor
    table = editor.value
    shipped = list(table["model"])
    assert "gpt-4o" in shipped
    row = shipped.index("gpt-4o")
    assert not prices_file().exists()

    # Edit gpt-4o's input price and add a row for the local model, as typed in the grid.
    at.session_state["usage.prices"] = {
        "edited_rows": {row: {"input": 5.0}},
        "added_rows": [{"model": "my-local-model", "input": 1.0, "cached_input": 0.5,
                        "output": 2.0}],
        "deleted_rows": [],
    }
    at.button(key="usage.prices_save").click()
    run(at)

    saved = parse_prices(prices_file().read_text(encoding="utf-8"))
    assert saved["gpt-4o"] == Price(input=5.0, cached_input=1.25, output=10.0)
    assert saved["my-local-model"] == Price(input=1.0, cached_input=0.5, output=2.0)
    assert set(saved) == set(shipped) | {"my-local-model"}
    # The page now prices both models from the saved table.
    expected = (900 * 5.0 + 100 * 10.0 + 1900 * 1.0 + 100 * 2.0) / 1e6
    assert metrics(at)["Estimated cost"] == f"${expected:,.4f}"
    assert not any(c.startswith("No price for") for c in captions(at))
    assert f"Saved {len(saved)} prices." in [m.value for m in at.success]  # after the rerun


def test_a_negative_price_is_refused_and_nothing_saved(make_app: MakeApp) -> None:
    seed(("gpt-4o", "openai", 1000))
    at = open_usage(make_app())
    at.session_state["usage.prices"] = {
        "edited_rows": {0: {"output": -1.0}}, "added_rows": [], "deleted_rows": []}
    at.button(key="usage.prices_save").click()
    run(at)
    assert any("prices must be numbers of 0 or more. Nothing was saved." in e.value
               for e in at.error)
    assert not prices_file().exists()


def test_only_failed_requests(make_app: MakeApp) -> None:
    """Requests that never got a first token (all failed) still make a page, not a crash."""
    store = Store.open(default_url())
    conversation = Conversation(messages=[Message(role="user", content="q")])
    failed = Exchange(provider="openai", model="gpt-4o", base_url="https://example.test/v1",
                      request_body={}, stream=True, started_at=T0, ended_at=T0 + 0.5,
                      status=401, error="The server answered 401", error_kind="status")
    conversation.exchanges[failed.id] = failed
    store.record(conversation, provider="openai", model="gpt-4o")
    unpriced = replace(failed, id="ex_unpriced", model="my-local-model")
    conversation.exchanges[unpriced.id] = unpriced
    store.record(conversation)
    at = open_usage(make_app())
    shown = metrics(at)
    assert (shown["Requests"], shown["Total tokens"], shown["Estimated cost"]) == (
        "2", "0", "$0")
    # A request that used no tokens costs nothing: no "no price" for its model.
    assert not any(c.startswith("No price for") for c in captions(at))


def test_charts_of_many_requests_say_the_csv_has_them_all(make_app: MakeApp) -> None:
    at = make_app()
    Store.open(default_url()).record(simple_conversation("many", *(f"a{i}" for i in range(510))))
    open_usage(at)
    said = [c for c in captions(at) if "the CSV has all of them" in c]
    assert said == ["Chart and table: the latest 500 of 510 requests; the CSV has all of them."] * 2


def test_a_time_out_of_range_and_a_hostile_price_file_break_nothing(make_app: MakeApp) -> None:
    """The review's import (started_at 1e20) stored before imports were checked, and a price
    file holding .inf and 400-deep nesting: the page shows both requests and says why costs
    are missing."""
    store = seed(("gpt-4o", "openai", 1_000), ("gpt-4o", "openai", 500))
    with store.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE exchanges SET started_at = 1e20 WHERE total_tokens = 500")
    prices_file().parent.mkdir(parents=True, exist_ok=True)
    prices_file().write_text("gpt-4o: {input: .inf, output: " + "[" * 400 + "]" * 400 + "}\n",
                             encoding="utf-8")
    at = open_usage(make_app())
    assert not [e for e in at.error if "Something went wrong" in e.value]
    assert metrics(at)["Requests"] == "2"
    assert any("price table could not be read" in w.value for w in at.warning)


def test_an_unset_price_is_an_empty_cell_not_none(make_app: MakeApp) -> None:
    """cache_write is unset for most shipped models: the grid shows nothing there."""
    seed(("gpt-4o", "openai", 1000))
    at = open_usage(make_app())
    [editor] = at.data_editor
    assert editor.value["cache_write"].isna().any()
    assert editor.proto.HasField("placeholder") and editor.proto.placeholder == ""
