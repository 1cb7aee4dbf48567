"""Exchanges as a pandas DataFrame for the Usage page, and cost from an editable price table.

Prompt tokens are split into uncached and cached parts so a stacked chart adds up to the
prompt (tokens written to a cache count as uncached, priced at the cache-write rate);
reasoning tokens are part of completion tokens on the wire, so they are charted apart from
the rest of the completion.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from core.bounded import Limits, parse_yaml
from core.store import USAGE_COLUMNS, Store

PRICE_FIELDS = ("input", "cached_input", "output", "cache_write")


@dataclass(frozen=True)
class Price:
    """USD per 1 million tokens. `cache_write` (prompt tokens written to a cache, as Anthropic
    bills them) is optional: without it they cost the input price."""

    input: float
    cached_input: float
    output: float
    cache_write: float | None = None

    @property
    def cache_write_rate(self) -> float:
        return self.input if self.cache_write is None else self.cache_write


PRICE_LIMITS = Limits(max_bytes=1_000_000, max_depth=8)
MAX_PRICE = 1_000_000.0  # USD per 1M tokens: far above any real model, below overflow
MAX_TIME = 253_402_300_799.0  # 9999-12-31T23:59:59Z, the last second pandas can date


def parse_prices(text: str) -> dict[str, Price]:
    """A price table from YAML (read by core.bounded); ValueError names the entry or the line
    that is wrong."""
    data = parse_yaml(text, PRICE_LIMITS) or {}
    if not isinstance(data, dict):
        raise ValueError("the price table must map model names to prices")
    return {str(model): price_from_entry(model, entry) for model, entry in data.items()}


def price_from_entry(model: Any, entry: Any) -> Price:
    """One row of the price table (from the YAML file or the page's grid); ValueError names
    the model and what is wrong. cached_input defaults to input; cache_write is optional."""
    if not isinstance(entry, dict):
        raise ValueError(f"{model}: expected input, cached_input and output")
    try:
        values = [float(entry.get(f, entry.get("input", 0)) if f == "cached_input"  # type: ignore[arg-type]
                        else entry[f]) for f in PRICE_FIELDS[:3]]  # None: TypeError, caught
    except (KeyError, TypeError, ValueError):
        raise ValueError(f"{model}: input and output must be numbers") from None
    try:
        write = entry.get("cache_write")
        write = None if write is None else float(write)
    except (TypeError, ValueError):
        raise ValueError(f"{model}: cache_write must be a number") from None
    if not all(v >= 0 for v in values) or (write is not None and not write >= 0):  # NaN too
        raise ValueError(f"{model}: prices cannot be negative")
    if not all(v <= MAX_PRICE for v in values) or (write is not None and write > MAX_PRICE):
        raise ValueError(f"{model}: prices must be at most {MAX_PRICE:,.0f} USD per 1M tokens")
    return Price(values[0], values[1], values[2], cache_write=write)


def load_prices(*paths: Path) -> dict[str, Price]:
    """The first price file that exists (a user's copy before the shipped one)."""
    for path in paths:
        if path.exists():
            if path.stat().st_size > PRICE_LIMITS.max_bytes:
                raise ValueError(f"{path} is larger than 1 MB")
            try:
                text = path.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                raise ValueError(f"{path} is not UTF-8 text") from None
            return parse_prices(text)
    return {}


def dump_prices(prices: dict[str, Price]) -> str:
    return yaml.safe_dump({m: {f: getattr(p, f) for f in PRICE_FIELDS
                               if getattr(p, f) is not None}
                           for m, p in prices.items()}, sort_keys=False)


def price_for(model: str, prices: dict[str, Price]) -> Price | None:
    """Exact name first, then the longest price-table name that prefixes the model."""
    if model in prices:
        return prices[model]
    matches = [name for name in prices if model.startswith(name)]
    return prices[max(matches, key=len)] if matches else None


def once_per_request(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per request: a fork's or an import's copy shares its original's id in
    `copied_from`; the original's own row is kept while it is stored, else one copy."""
    if frame.empty or "copied_from" not in frame:
        return frame
    copy = frame["copied_from"].notna()
    if not copy.any():
        return frame
    origin = frame["copied_from"].where(copy, frame["id"])
    ranked = frame.assign(_origin=origin, _copy=copy).sort_values("_copy", kind="stable")
    return ranked.drop_duplicates("_origin").drop(columns=["_origin", "_copy"])


def exchanges_frame(store: Store) -> pd.DataFrame:
    """One row per exchange with derived token parts, latency and time to first token."""
    names, rows = store.usage_rows()
    frame = once_per_request(pd.DataFrame.from_records(rows, columns=names))
    for column in USAGE_COLUMNS:
        frame[column] = pd.to_numeric(frame[column], errors="coerce").fillna(0).astype("int64")
    frame["uncached_prompt"] = (frame["prompt_tokens"] - frame["cached_tokens"]).clip(lower=0)
    frame["completion_other"] = (frame["completion_tokens"]
                                 - frame["reasoning_tokens"]).clip(lower=0)
    # A time outside 1970..9999 (a row stored before imports were checked, or by a crafted
    # writer) is no time at all: pandas cannot date 1e20, and one such row must not take the
    # page down. Its tokens still count; it has no day, latency or time to first token.
    for column in ("started_at", "first_token_at", "ended_at"):
        values = pd.to_numeric(frame[column], errors="coerce").astype("float64")
        frame[column] = values.where(values.between(0, MAX_TIME))
    frame["started"] = pd.to_datetime(frame["started_at"], unit="s", utc=True)
    frame["latency_s"] = frame["ended_at"] - frame["started_at"]
    frame["ttft_s"] = frame["first_token_at"] - frame["started_at"]
    # Requests an eval run sent are ordinary exchanges, told apart so they can be filtered.
    # Simulated tool results are requests too, marked apart (they are not the chat's turns).
    # So are the drafts of Generate on the Tools page.
    purpose = frame["purpose"] if "purpose" in frame else pd.Series(None, index=frame.index)
    frame["traffic"] = np.select(
        [frame["eval_run_id"].notna(), purpose.eq("simulate"), purpose.eq("draft-tool")],
        ["eval", "simulated", "drafted"], "chat")
    return frame.sort_values("started_at", kind="stable").reset_index(drop=True)


@dataclass
class Filters:
    start: Any = None  # datetime.date or None
    end: Any = None
    sessions: list[str] | None = None
    models: list[str] | None = None
    providers: list[str] | None = None
    traffic: str | None = None  # "chat", "eval", "simulated" or "drafted"; None keeps all


def apply_filters(frame: pd.DataFrame, filters: Filters) -> pd.DataFrame:
    mask = np.ones(len(frame), dtype=bool)
    day = frame["started"].dt.date if len(frame) else frame["started"]
    undated = frame["started"].isna().to_numpy()  # no valid time: no date range excludes it
    if filters.start is not None:
        mask &= (day >= filters.start).to_numpy() | undated
    if filters.end is not None:
        mask &= (day <= filters.end).to_numpy() | undated
    for column, chosen in (("session_id", filters.sessions), ("model", filters.models),
                           ("provider", filters.providers)):
        if chosen:
            mask &= frame[column].isin(chosen).to_numpy()
    if filters.traffic:
        mask &= (frame["traffic"] == filters.traffic).to_numpy()
    return frame[mask]


def with_cost(frame: pd.DataFrame, prices: dict[str, Price]) -> pd.DataFrame:
    """Adds cost_usd (NaN where the model has no price)."""
    frame = frame.copy()
    if frame.empty:
        frame["cost_usd"] = pd.Series(dtype="float64")
        return frame
    # Prices looked up once per model, then spread by model code: a .map per price field
    # costs ~25 ms each on 100,000 rows of Arrow strings.
    codes, models = pd.factorize(frame["model"], use_na_sentinel=False)
    table = [price_for(str(m), prices) for m in models]
    rate = {f: np.array([getattr(p, f) if p else np.nan for p in table], dtype=float)[codes]
            for f in ("input", "cached_input", "output", "cache_write_rate")}
    written = frame["cache_write_tokens"].clip(upper=frame["uncached_prompt"])
    frame["cost_usd"] = ((frame["uncached_prompt"] - written) * rate["input"]
                         + written * rate["cache_write_rate"]
                         + frame["cached_tokens"] * rate["cached_input"]
                         + frame["completion_tokens"] * rate["output"]) / 1_000_000
    # A request that used no tokens (it failed before an answer) costs nothing, price or not.
    frame.loc[(frame["prompt_tokens"] == 0) & (frame["completion_tokens"] == 0),
              "cost_usd"] = 0.0
    return frame


def totals(frame: pd.DataFrame, by: str) -> pd.DataFrame:
    """Requests, token parts and cost per model or provider, largest first."""
    grouped = frame.groupby(by, dropna=False).agg(
        requests=("total_tokens", "size"), uncached_prompt=("uncached_prompt", "sum"),
        cached=("cached_tokens", "sum"), cache_write=("cache_write_tokens", "sum"),
        completion=("completion_tokens", "sum"),
        reasoning=("reasoning_tokens", "sum"), total=("total_tokens", "sum"),
        cost_usd=("cost_usd", lambda c: c.sum(min_count=1)),
    )
    return grouped.sort_values("total", ascending=False).reset_index()


def cumulative(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame[["started", "total_tokens"]].copy()
    out["cumulative_tokens"] = out["total_tokens"].cumsum()
    return out
