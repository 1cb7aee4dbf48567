"""Usage charts: each a Vega-Lite chart with its table and a CSV download beside it.

The specs are plain dicts for st.vega_lite_chart rather than Altair charts: Altair is only a
way of writing these dicts, and importing it made the first visit of the Usage page about a
third of a second slower.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd
import streamlit as st

TOKEN_PARTS = {"uncached_prompt": "prompt (uncached)", "cached_tokens": "prompt (cached)",
               "completion_other": "completion", "reasoning_tokens": "reasoning"}


Spec = dict[str, Any]


def _field(name: str, kind: str, **more: Any) -> Spec:
    """One encoding channel: a column and its Vega-Lite type (quantitative, ordinal, …)."""
    return {"field": name, "type": kind, **more}


@dataclass
class Chart:
    data: pd.DataFrame
    spec: Spec


def _chart(data: pd.DataFrame, mark: Spec, height: int, **encoding: Any) -> Chart:
    return Chart(data, {"mark": mark, "height": height, "encoding": encoding})


def _with_table(key: str, chart: Chart, table: pd.DataFrame, title: str,
                full: pd.DataFrame | None = None) -> None:
    """`table` is what the chart shows; `full`, when given, is every row the filters kept: a
    chart of the latest requests stays readable, the CSV still has them all."""
    st.markdown(f"**{title}**")
    rows = table if full is None else full
    if len(rows) > len(table):
        st.caption(f"Chart and table: the latest {len(table):,} of {len(rows):,} requests; "
                   "the CSV has all of them.")
    # Each tab drawn only while open: five charts and five data grids at once made leaving
    # and entering the page slow in the browser, and both are made from the rows anyway.
    chart_tab, table_tab = st.tabs(["Chart", "Table"], key=f"usage.tab.{key}",
                                   on_change="rerun")
    if chart_tab.open is not False:
        with chart_tab:
            st.vega_lite_chart(chart.data, chart.spec, width="stretch")
    if table_tab.open:
        with table_tab:
            st.dataframe(table, hide_index=True, width="stretch", placeholder="—")
    # Written only when clicked: 100,000 rows of CSV on every rerun would slow the page.
    st.download_button(f"Download {title.lower()} (CSV)", lambda: rows.to_csv(index=False),
                       file_name=f"toolsmith-{key}.csv", mime="text/csv",
                       key=f"usage.csv.{key}", on_click="ignore")


def _numbered(frame: pd.DataFrame) -> pd.DataFrame:
    """Requests numbered 1..n in time order, over everything the filters kept."""
    return frame.reset_index(drop=True).assign(request=lambda f: f.index + 1)


def tokens_per_request(frame: pd.DataFrame, limit: int = 500) -> None:
    every = _numbered(frame)
    recent = every.tail(limit)
    long = recent.melt(id_vars=["request", "started", "model"], value_vars=list(TOKEN_PARTS),
                       var_name="part", value_name="tokens")
    long["part"] = long["part"].map(TOKEN_PARTS)
    chart = _chart(
        long, {"type": "bar"}, 280,
        x=_field("request", "ordinal", title=f"request ({len(recent)} latest of {len(every)})",
                 axis={"labels": len(recent) <= 60}),
        y=_field("tokens", "quantitative", aggregate="sum", title="tokens"),
        color=_field("part", "nominal", sort=list(TOKEN_PARTS.values()), title=None),
        tooltip=[_field("request", "ordinal"), _field("model", "nominal"),
                 _field("part", "nominal"), _field("tokens", "quantitative")],
    )
    columns = ["request", "started", "model", *TOKEN_PARTS, "cache_write_tokens", "total_tokens"]
    _with_table("tokens-per-request", chart, recent[columns], "Tokens per request",
                every[columns])


def cumulative_tokens(table: pd.DataFrame) -> None:
    chart = _chart(
        table, {"type": "line", "interpolate": "step-after"}, 240,
        x=_field("started", "temporal", title="time (UTC)", axis={"format": "%b %d %H:%M"}),
        y=_field("cumulative_tokens", "quantitative", title="tokens so far"),
    )
    _with_table("cumulative", chart, table, "Cumulative tokens")


TOTAL_PARTS = {"uncached_prompt": "prompt (uncached)", "cached": "prompt (cached)",
               "completion_other": "completion", "reasoning": "reasoning"}


def totals_chart(key: str, table: pd.DataFrame, by: str) -> None:
    table = table.assign(completion_other=(table["completion"] - table["reasoning"]).clip(0))
    long = table.melt(id_vars=[by], value_vars=list(TOTAL_PARTS), var_name="part",
                      value_name="tokens")
    long["part"] = long["part"].map(TOTAL_PARTS)
    chart = _chart(
        long, {"type": "bar"}, max(120, 28 * len(table)),
        y=_field(by, "nominal", sort="-x", title=None),
        x=_field("tokens", "quantitative", aggregate="sum", title="tokens"),
        color=_field("part", "nominal", sort=list(TOKEN_PARTS.values()), title=None),
        tooltip=[_field(by, "nominal"), _field("part", "nominal"),
                 _field("tokens", "quantitative")],
    )
    shown = table.drop(columns="completion_other").assign(cost_usd=table["cost_usd"].map(
        lambda c: "no price" if pd.isna(c) else f"${c:,.4f}"))
    _with_table(key, chart, shown, f"Totals by {by}")


def latency(frame: pd.DataFrame, limit: int = 500) -> None:
    every = _numbered(frame)
    recent = every.tail(limit)
    long = recent.melt(id_vars=["request", "model"], value_vars=["latency_s", "ttft_s"],
                       var_name="measure", value_name="seconds").dropna()
    long["measure"] = long["measure"].map({"latency_s": "latency", "ttft_s": "first token"})
    chart = _chart(
        long, {"type": "line", "point": True}, 240,
        x=_field("request", "quantitative",
                 title=f"request ({len(recent)} latest of {len(every)})",
                 axis={"tickMinStep": 1, "format": "d"}),  # requests are whole numbers
        y=_field("seconds", "quantitative"), color=_field("measure", "nominal", title=None),
        tooltip=[_field("request", "quantitative"), _field("model", "nominal"),
                 _field("measure", "nominal"), _field("seconds", "quantitative", format=".3f")],
    )
    columns = ["request", "started", "model", "latency_s", "ttft_s"]
    _with_table("latency", chart, recent[columns], "Latency and time to first token",
                every[columns])
