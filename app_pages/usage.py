"""Usage: where the tokens went — per request, over time, by model and provider, and cost."""

import pandas as pd
import streamlit as st

from components import usage_charts, usage_prices
from components.shell import guarded
from components.storage import database_url, store, store_for
from components.untrusted import code
from core import usage


def page() -> None:
    st.title("Usage")
    db = store()
    if db is None:
        return
    with st.spinner("Reading usage…"):
        frame = _frame(database_url(), db.usage_version(), db.owner, db.all_usage)
    if frame.empty:
        st.info("No requests recorded yet. Ask something on the Chat page (the offline demo "
                "model works without a key); every request's tokens, latency and cost show up "
                "here.", icon=":material/bar_chart:")
        return
    frame = _by_user(frame, db.all_usage)
    filters = _filters(frame)
    prices = usage_prices.current()
    shown = usage.with_cost(usage.apply_filters(frame, filters), prices)
    if shown.empty:
        st.warning("No requests match these filters.")
        return
    cost = shown["cost_usd"].sum(min_count=1)
    unpriced = shown.loc[shown["cost_usd"].isna(), "model"].unique()
    cols = st.columns(5)
    cols[0].metric("Requests", f"{len(shown):,}")
    cols[1].metric("Total tokens", f"{int(shown['total_tokens'].sum()):,}")
    cols[2].metric("Cached prompt", f"{int(shown['cached_tokens'].sum()):,}")
    cols[3].metric("Reasoning", f"{int(shown['reasoning_tokens'].sum()):,}")
    cols[4].metric("Estimated cost", "no price" if cost != cost
                   else "$0" if cost == 0 else f"${cost:,.4f}",  # not "$0.0000"
                   help="From the price table below; unpriced models are left out.")
    if len(unpriced):
        st.caption("No price for: " + ", ".join(code(m) for m in unpriced)
                   + " — add them to the price table to include them.")
    if shown["usage_estimated"].any():
        st.caption("Requests to the offline demo model carry estimated token counts.")
    usage_charts.tokens_per_request(shown)
    usage_charts.cumulative_tokens(usage.cumulative(shown))
    left, right = st.columns(2)
    with left:
        usage_charts.totals_chart("by-model", usage.totals(shown, "model"), "model")
    with right:
        usage_charts.totals_chart("by-provider", usage.totals(shown, "provider"), "provider")
    usage_charts.latency(shown)
    usage_prices.editor(prices)


@st.cache_data(show_spinner=False, max_entries=4)
def _frame(url: str, version: tuple[int, float], owner: str | None,
           all_usage: bool) -> pd.DataFrame:
    """The exchanges frame, rebuilt only when the data changed (filters rerun the page). In
    team mode it holds the viewer's requests, or everyone's (with a user column) for admins."""
    del version  # part of the cache key only
    return usage.exchanges_frame(store_for(url).as_owner(owner, all_usage=all_usage))


def _by_user(frame: pd.DataFrame, everyone: bool) -> pd.DataFrame:
    """Team mode: an admin sees everyone's requests and picks whose; others see their own."""
    if not everyone or "user" not in frame:
        return frame
    users = sorted({u if isinstance(u, str) else "(local mode)" for u in frame["user"]})
    picked = st.multiselect("User", users, key="usage.users", placeholder="Everyone",
                            help="As an admin you see everyone's requests; others see "
                                 "only their own.")
    if not picked:
        return frame
    return frame[frame["user"].fillna("(local mode)").isin(picked)]


def _filters(frame: pd.DataFrame) -> usage.Filters:
    with st.expander("Filters", expanded=False, icon=":material/filter_list:"):
        dated = frame["started"].dropna()
        start = end = None
        if len(dated):
            picked = st.date_input("Date range", (dated.min().date(), dated.max().date()),
                                   key="usage.dates")
            start, end = (*picked, None)[:2] if isinstance(picked, tuple) else (picked, None)
        if len(dated) < len(frame):
            st.caption(f"{len(frame) - len(dated)} request(s) carry a time outside 1970–9999 "
                       "(an imported file?): counted, but without a date.")
        cols = st.columns(4)
        sessions = cols[0].multiselect("Session", sorted(frame["session_id"].unique()),
                                       key="usage.sessions")
        models = cols[1].multiselect("Model", sorted(frame["model"].unique()),
                                     key="usage.models")
        providers = cols[2].multiselect("Provider", sorted(frame["provider"].unique()),
                                        key="usage.providers")
        traffic = cols[3].selectbox("Traffic", ["chat and eval runs", "chat only",
                                                "eval runs only", "simulated results only",
                                                "tool drafts only"],
                                    key="usage.traffic",
                                    help="Requests sent by eval runs (Evals page, CLI), to "
                                         "simulate a tool result (Simulate in the Chat), or to "
                                         "draft a tool (Generate on the Tools page)")
    return usage.Filters(start=start, end=end, sessions=sessions, models=models,
                         providers=providers,
                         traffic={"chat only": "chat", "eval runs only": "eval",
                                  "simulated results only": "simulated",
                                  "tool drafts only": "drafted"}.get(traffic))


guarded(page)
