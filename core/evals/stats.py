"""Per-target figures of a run: pass rate, tokens, estimated cost and latency.

Costs use the Usage page's price table and rules (core.usage.with_cost), so a run's cost here
and its requests' cost there agree.
"""

from __future__ import annotations

import pandas as pd

from core.evals.records import CellResult, EvalRecords, RunInfo
from core.evals.summary import CellSummary
from core.store import USAGE_COLUMNS
from core.usage import Price, with_cost


def request_frame(records: EvalRecords, run: RunInfo,
                  results: list[CellResult] | None = None) -> pd.DataFrame:
    """One row per answered cell: its target, status, latency, tokens and cost."""
    names, rows = records.usage_rows(run.id)
    usage = pd.DataFrame.from_records(rows, columns=names)
    cells = pd.DataFrame([{"exchange_id": r.exchange_id, "case": r.case, "target": r.target,
                             "repeat": r.repeat, "status": r.status}
                            for r in (records.results(run.id) if results is None
                                      else results)],
                           columns=["exchange_id", "case", "target", "repeat", "status"])
    frame = cells.merge(usage, left_on="exchange_id", right_on="id", how="left")
    for column in USAGE_COLUMNS:
        frame[column] = pd.to_numeric(frame[column], errors="coerce").fillna(0).astype("int64")
    frame["uncached_prompt"] = (frame["prompt_tokens"] - frame["cached_tokens"]).clip(lower=0)
    frame["latency_s"] = frame["ended_at"] - frame["started_at"]
    frame["model"] = frame["model"].fillna("")
    return frame


def per_target(frame: pd.DataFrame, run: RunInfo, prices: dict[str, Price],
               cells: dict[tuple[str, str], CellSummary]) -> pd.DataFrame:
    priced = with_cost(frame, prices) if len(frame) else frame.assign(cost_usd=[])
    out = []
    for target in run.targets:
        mine = priced[priced["target"] == target.key]
        answered = mine[mine["status"] != "error"]
        passed = int((mine["status"] == "pass").sum())
        cost = mine["cost_usd"].sum(min_count=1) if len(mine) else None
        out.append({
            "target": target.label,
            "pass rate": passed / len(answered) if len(answered) else None,
            "passed": passed, "failed": int((mine["status"] == "fail").sum()),
            "errors": int((mine["status"] == "error").sum()),
            "cells meeting 100%": sum(c.meets(1.0) for (_, t), c in cells.items()
                                      if t == target.key),
            "total tokens": int(mine["total_tokens"].sum()),
            "estimated cost (USD)": None if cost is None or cost != cost else float(cost),
            "latency mean (s)": _round(mine["latency_s"].mean()),
            "latency p95 (s)": _round(mine["latency_s"].quantile(0.95)) if len(mine) else None,
        })
    return pd.DataFrame(out)


def _round(value: float) -> float | None:
    return None if value != value else round(float(value), 3)


def per_case(cells: dict[tuple[str, str], CellSummary],
             labels: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame([{"case": c.case, "target": labels.get(c.target, c.target),
                          "pass rate": c.pass_rate, "passed": c.passed, "failed": c.failed,
                          "errors": c.errors, "result": c.text}
                         for c in cells.values()],
                        columns=["case", "target", "pass rate", "passed", "failed", "errors",
                                 "result"])
