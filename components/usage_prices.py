"""The price table: shipped as pricing.yaml, edited in the page, saved to the data directory."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import streamlit as st

from components import team
from components.untrusted import code, text
from core.usage import PRICE_FIELDS, Price, dump_prices, load_prices, price_from_entry

SHIPPED = Path(__file__).resolve().parent.parent / "pricing.yaml"


def user_copy() -> Path:
    data_dir = Path(os.environ.get("TOOLSMITH_DATA_DIR") or Path.home() / ".toolsmith")
    return data_dir.expanduser() / "prices.yaml"


def current() -> dict[str, Price]:
    try:
        return load_prices(user_copy(), SHIPPED)
    except (OSError, ValueError) as exc:
        st.warning(f"The price table could not be read ({text(exc)}); costs are not shown.")
        return {}


def editor(prices: dict[str, Price]) -> None:
    with st.expander("Price table (USD per 1M tokens)", icon=":material/attach_money:"):
        saved = st.session_state.pop("usage.prices_saved", None)
        if saved:
            st.success(saved)
        st.caption(f"Saved to `{user_copy()}`; the shipped defaults stay in `pricing.yaml`.")
        st.caption("`cache_write`: prompt tokens written to a cache (Anthropic bills them "
                   "apart); leave it empty to price them as input.")
        table = pd.DataFrame([{"model": m, **{f: getattr(p, f) for f in PRICE_FIELDS}}
                              for m, p in prices.items()], columns=["model", *PRICE_FIELDS])
        # Numbers, so an unset price is an empty cell: a column with no value at all would
        # otherwise be of objects and show "None" in every row.
        table = table.astype({f: "float64" for f in PRICE_FIELDS})
        if not team.is_admin():  # one table for the whole team: admins keep it
            st.dataframe(table, hide_index=True, width="stretch", placeholder="")
            st.caption("On this team server only admins change the price table.")
            return
        edited = st.data_editor(table, num_rows="dynamic", hide_index=True,
                                key="usage.prices", width="stretch", placeholder="")
        if st.button("Save prices", key="usage.prices_save"):
            _save(edited)


def _save(edited: pd.DataFrame) -> None:
    prices: dict[str, Price] = {}
    for row in edited.to_dict("records"):
        model = str(row.get("model") or "").strip()
        if not model:
            continue
        # An empty cell of the grid is NaN or None: left out, as in the YAML file.
        entry = {f: v for f in PRICE_FIELDS
                 if (v := row.get(f)) is not None and v == v and v != ""}
        try:
            prices[model] = price_from_entry(model, entry)
        except ValueError:
            st.error(f"{code(model)}: prices must be numbers of 0 or more. Nothing was saved.")
            return
    path = user_copy()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(dump_prices(prices), encoding="utf-8")
    except OSError as exc:
        st.error(f"The price table could not be saved: {text(exc)}")
        return
    st.session_state["usage.prices_saved"] = f"Saved {len(prices)} prices."
    st.rerun()  # costs are drawn above the table: draw them again with the new prices
