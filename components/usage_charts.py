"""Usage charts: each an Altair chart with its table and a CSV download beside it."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

TOKEN_PARTS = {"uncached_prompt": "prompt (uncached)", "cached_tokens": "prompt (cached)",
               "completion_other": "completion", "reasoning_tokens": "reasoning"}


def _with_table(key: str, chart: alt.Chart, table: pd.DataFrame, title: str,
                full: pd.DataFrame | None = None) -> None:
    """`table` is what the chart shows; `full`, when given, is every row the filters kept: a
    chart of the latest requests stays readable, the CSV still has them all."""
    st.markdown(f"**{title}**")
    rows = table if full is None else full
    if len(rows) > len(table):
        st.caption(f"Chart and table: the latest {len(table):,} of {len(rows):,} requests; "
                   "the CSV has all of them.")
    chart_tab, table_tab = st.tabs(["Chart", "Table"])
    with chart_tab:
        st.altair_chart(chart, width="stretch")
    with table_tab:
        st.dataframe(table, hide_index=True, width="stretch")
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
    chart = alt.Chart(long).mark_bar().encode(
        x=alt.X("request:O", title=f"request ({len(recent)} latest of {len(every)})",
                axis=alt.Axis(labels=len(recent) <= 60)),
        y=alt.Y("sum(tokens):Q", title="tokens"),
        color=alt.Color("part:N", sort=list(TOKEN_PARTS.values()), title=None),
        tooltip=["request", "model", "part", "tokens"],
    ).properties(height=280)
    columns = ["request", "started", "model", *TOKEN_PARTS, "cache_write_tokens", "total_tokens"]
    _with_table("tokens-per-request", chart, recent[columns], "Tokens per request",
                every[columns])


def cumulative_tokens(table: pd.DataFrame) -> None:
    chart = alt.Chart(table).mark_line(interpolate="step-after").encode(
        x=alt.X("started:T", title="time (UTC)", axis=alt.Axis(format="%b %d %H:%M")),
        y=alt.Y("cumulative_tokens:Q", title="tokens so far"),
    ).properties(height=240)
    _with_table("cumulative", chart, table, "Cumulative tokens")


TOTAL_PARTS = {"uncached_prompt": "prompt (uncached)", "cached": "prompt (cached)",
               "completion_other": "completion", "reasoning": "reasoning"}


def totals_chart(key: str, table: pd.DataFrame, by: str) -> None:
    table = table.assign(completion_other=(table["completion"] - table["reasoning"]).clip(0))
    long = table.melt(id_vars=[by], value_vars=list(TOTAL_PARTS), var_name="part",
                      value_name="tokens")
    long["part"] = long["part"].map(TOTAL_PARTS)
    chart = alt.Chart(long).mark_bar().encode(
        y=alt.Y(f"{by}:N", sort="-x", title=None),
        x=alt.X("sum(tokens):Q", title="tokens"),
        color=alt.Color("part:N", sort=list(TOKEN_PARTS.values()), title=None),
        tooltip=[by, "part", "tokens"],
    ).properties(height=max(120, 28 * len(table)))
    shown = table.drop(columns="completion_other").assign(cost_usd=table["cost_usd"].map(
        lambda c: "no price" if pd.isna(c) else f"${c:,.4f}"))
    _with_table(key, chart, shown, f"Totals by {by}")


def latency(frame: pd.DataFrame, limit: int = 500) -> None:
    every = _numbered(frame)
    recent = every.tail(limit)
    long = recent.melt(id_vars=["request", "model"], value_vars=["latency_s", "ttft_s"],
                       var_name="measure", value_name="seconds").dropna()
    long["measure"] = long["measure"].map({"latency_s": "latency", "ttft_s": "first token"})
    chart = alt.Chart(long).mark_line(point=True).encode(
        x=alt.X("request:Q", title=f"request ({len(recent)} latest of {len(every)})"),
        y=alt.Y("seconds:Q"), color=alt.Color("measure:N", title=None),
        tooltip=["request", "model", "measure", alt.Tooltip("seconds:Q", format=".3f")],
    ).properties(height=240)
    columns = ["request", "started", "model", "latency_s", "ttft_s"]
    _with_table("latency", chart, recent[columns], "Latency and time to first token",
                every[columns])
