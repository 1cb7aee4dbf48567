"""The Results view: a run's progress (live while it goes on), the cases × targets grid (colour
and text), per-target tokens, cost and latency, charts, and a cell's repeats as tool-call cards
with the failed assertions named and the inspector for each request."""

from __future__ import annotations

import json
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import pyarrow as pa
import streamlit as st

from components import inspector, tool_call_card, untrusted, usage_prices
from components.evals import actions
from components.evals import state as evals_state
from components.untrusted import code, text
from core.evals import jobs, runner, stats
from core.evals import report as reports
from core.evals.records import CellResult, EvalRecords, RunInfo
from core.evals.summary import CellSummary, Totals, summarize, totals
from core.types import ToolCall
from core.usage import Price

# Colour and text, never colour alone: a coloured mark, then "2/3 pass", "1 error".
MARK = {"pass": "🟩", "mixed": "🟨", "fail": "🟥", "error": "🟪", "pending": "⬜"}
LEGEND = {"pass": "every repeat passed", "mixed": "some passed", "fail": "none passed",
          "error": "requests failed (an error, not a fail)", "pending": "not answered yet"}


def render(records: EvalRecords) -> None:
    runs = records.runs()
    if not runs:
        st.info("No runs yet: pick a suite and targets in **Run**.", icon=":material/science:")
        return
    by_id = {r.id: r for r in runs}
    if evals_state.current_run() not in by_id:
        evals_state.set_run(runs[0].id)
    run_id = evals_state.current_run()
    assert run_id is not None
    ids = list(by_id)
    st.selectbox("Run", ids, index=ids.index(run_id), key="evals.run_pick",
                 format_func=lambda i: run_label(by_id[i]), on_change=evals_state.take_picked_run)
    if jobs.is_live(run_id):
        _live(records, run_id)
    else:
        section(records, by_id[run_id])


def run_label(run: RunInfo) -> str:
    """A run as a picker shows it. Nothing in it may change while the run goes on: the
    browser sends a selectbox's choice back as its label, and a label that moved on (12/36 ->
    13/36) would read as a different choice."""
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(run.created_at))
    return (f"{untrusted.visible(run.suite_name, 200)} · {when} · {len(run.targets)} "
            f"target(s) × {run.repeats} repeat(s) · {run.id}")


@st.fragment(run_every=1.0)
def _live(records: EvalRecords, run_id: str) -> None:
    """Redrawn every second while the run goes on; the whole page once when it ends."""
    run = records.run(run_id)
    if run is None:
        return
    if not jobs.is_live(run_id):
        st.rerun()
    section(records, run)


@dataclass
class View:
    """Everything the Results view draws for one run, computed once per state of the run."""

    results: list[CellResult]
    cases: list[str]
    labels: dict[str, str]
    cells: dict[tuple[str, str], CellSummary]
    total: Totals
    grid: pd.DataFrame
    per_target: pd.DataFrame
    per_case: pd.DataFrame
    estimated: bool
    charts: dict[str, dict[str, Any]] = field(default_factory=dict)  # Vega-Lite specs
    arrow: dict[str, pa.Table] = field(default_factory=dict)  # tables converted once

    def table(self, name: str) -> pd.DataFrame | pa.Table:
        """A finished run's table as Arrow (converted once), a live one's as pandas."""
        frame = getattr(self, name)
        if name not in self.arrow:
            return frame
        return self.arrow[name]


# Views of finished runs by (run, answered, status, prices): a finished run never changes, so
# a rerun (a click anywhere on the page) redraws it without recomputing or re-rendering charts.
_VIEWS: OrderedDict[tuple[Any, ...], View] = OrderedDict()


_PRICES: dict[tuple[Any, ...], dict[str, Price]] = {}


def _prices() -> dict[str, Price]:
    """The Usage page's price table, read again only when one of its files changed."""
    stamp = tuple(p.stat().st_mtime_ns if p.exists() else None
                  for p in (usage_prices.user_copy(), usage_prices.SHIPPED))
    if stamp not in _PRICES:
        _PRICES.clear()
        _PRICES[stamp] = usage_prices.current()
    return _PRICES[stamp]


def _view(records: EvalRecords, run: RunInfo, live: bool) -> View:
    prices = _prices()
    key = (run.id, run.answered, run.status, tuple(sorted(prices.items())))
    if not live and key in _VIEWS:
        _VIEWS.move_to_end(key)
        return _VIEWS[key]
    results = records.results(run.id)
    cases = list(dict.fromkeys([*_case_names(records, run), *(r.case for r in results)]))
    labels = _labels(run)
    cells = summarize(results, cases, [t.key for t in run.targets], run.repeats)
    frame = stats.request_frame(records, run, results)
    view = View(results, cases, labels, cells, totals(cells), _grid_table(cells, cases, labels),
                stats.per_target(frame, run, prices, cells), stats.per_case(cells, labels),
                bool(frame["usage_estimated"].fillna(0).astype(bool).any()))
    if not live:
        view.charts = _chart_specs(view)
        view.arrow = {name: pa.Table.from_pandas(getattr(view, name), preserve_index=False)
                      for name in ("grid", "per_target", "per_case")}
        _VIEWS[key] = view
        while len(_VIEWS) > 8:
            _VIEWS.popitem(last=False)
    return view


def section(records: EvalRecords, run: RunInfo) -> None:
    live = jobs.is_live(run.id)
    view = _view(records, run, live)
    _header(run, live, view.total)
    if not view.results:
        st.caption("Waiting for the first answers…" if live else "No cell was answered.")
        return
    _grid(view)
    _cell(records, run, view.cells, view.labels)
    st.markdown("**Per target**")
    st.dataframe(view.table("per_target"), hide_index=True, width="stretch", placeholder="—",
                 column_config={"pass rate": st.column_config.NumberColumn(format="percent"),
                                "estimated cost (USD)": st.column_config.NumberColumn(
                                    format="$%.5f")})
    if view.estimated:
        st.caption("The demo model's token counts are estimates.")
    if not live:
        _charts(view)
        _downloads(run, view.cells)


_CASES: dict[str, list[str]] = {}


def _case_names(records: EvalRecords, run: RunInfo) -> list[str]:
    """The suite's case order, parsed from the run's stored source once per process (a
    stored run never changes)."""
    if run.id not in _CASES:
        try:
            _CASES[run.id] = [c.name for c in runner.stored_suite(records, run.id)[0].cases]
            while len(_CASES) > 64:
                _CASES.pop(next(iter(_CASES)))
        except (KeyError, ValueError):
            return []
    return _CASES[run.id]


def _labels(run: RunInfo) -> dict[str, str]:
    labels = {t.key: t.label for t in run.targets}
    if len(set(labels.values())) < len(labels):  # two targets that read alike: use the keys
        return {t.key: t.key for t in run.targets}
    return labels


def _header(run: RunInfo, live: bool, total: Totals) -> None:
    done = total.passed + total.failed + total.errors
    status = "running" if live else run.status
    st.markdown(f"**{text(run.suite_name, 200)}** · {status} · {run.repeats} repeat(s) · "
                f"{len(run.targets)} target(s) · run {code(run.id)}")
    st.progress(min(1.0, done / run.total_cells) if run.total_cells else 1.0,
                text=f"{done}/{run.total_cells} answered · {total.passed} pass · "
                     f"{total.failed} fail · {total.errors} error")
    if run.note and not live:
        st.caption(text(run.note))
    cols = st.columns(4)
    if live:
        cols[0].button("Cancel", key=f"evals.cancel.{run.id}", icon="⏹️",
                       on_click=actions.cancel_run, args=(run.id,))
        st.caption("Runs in the background: switch pages or close the tab, the run goes on "
                   "and its answers are saved as they come.")
    else:
        if run.resumable:
            cols[0].button(f"Resume ({run.total_cells - run.answered} missing)",
                           key=f"evals.resume.{run.id}", type="primary", icon="▶️",
                           on_click=actions.resume_run, args=(run.id,))
        cols[3].button("Delete run", key=f"evals.delete_run.{run.id}",
                       on_click=actions.delete_run, args=(run.id,))


def _cell_text(cell: CellSummary) -> str:
    return f"{MARK[cell.status]} {cell.text}"


def _grid_table(cells: dict[tuple[str, str], CellSummary], cases: list[str],
                labels: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame({"case": cases, **{label: [_cell_text(cells[(c, key)]) for c in cases]
                                           for key, label in labels.items()}})


def _grid(view: View) -> None:
    st.markdown("**Results** — click a cell to see its answers")
    columns = {label: key for key, label in view.labels.items()}
    cases = view.cases
    st.dataframe(view.table("grid"), width="stretch", key="evals.grid", hide_index=True,
                 placeholder="—",
                 column_config={"case": st.column_config.TextColumn(pinned=True)},
                 on_select=lambda: evals_state.take_grid_selection(cases, columns),
                 selection_mode="single-cell")
    st.caption(" · ".join(f"{MARK[s]} {meaning}" for s, meaning in LEGEND.items()))
    options = {untrusted.visible(f"{c} × {view.labels[key]}"): (c, key)
               for c in cases for key in view.labels}
    st.selectbox("Or open a cell", ["", *options], key="evals.cell_pick",
                 on_change=evals_state.take_cell_pick, args=(options,),
                 format_func=lambda o: o or "(choose a case × target)")


def _cell(records: EvalRecords, run: RunInfo, cells: dict[tuple[str, str], CellSummary],
          labels: dict[str, str]) -> None:
    opened = evals_state.opened_cell()
    if not opened or opened not in cells:
        return
    cell = cells[opened]
    sent = {t["name"]: t.get("parameters") or {} for t in run.tools}
    with st.container(border=True):
        st.markdown(f"**{text(cell.case, 200)}** × "
                    f"**{text(labels.get(cell.target, cell.target), 300)}** — "
                    f"{_cell_text(cell)}")
        for result in cell.results:
            st.markdown(f"Repeat {result.repeat + 1}: {MARK.get(result.status, '')} "
                        f"**{result.status}**")
            for failure in result.failures:
                st.error(text(failure), icon=":material/block:")
            if result.error:
                st.warning(f"The request failed: {text(result.error)}",
                           icon=":material/warning:")
            for call in result.calls:
                tool_call_card.render(ToolCall(call.get("id") or "", call.get("name") or "",
                                               call.get("arguments") or ""), sent=sent)
            if result.answer:
                st.caption("Text answer:")
                untrusted.render_assistant(st.container(border=True), result.answer[:2000],
                                           key=f"evals.{run.id}.{cell.case}.{cell.target}."
                                               f"{result.repeat}")
            if result.exchange_id:
                shown = evals_state.inspected() == result.exchange_id
                st.button("Hide request" if shown else "🔍 Inspect request",
                          key=f"evals.inspect.{result.exchange_id}",
                          on_click=evals_state.toggle_inspect, args=(result.exchange_id,))
                if shown:
                    exchange = records.exchange(result.exchange_id)
                    if exchange is not None:
                        inspector.render(exchange)


def _chart_specs(view: View) -> dict[str, dict[str, Any]]:
    """Vega-Lite specs, made once per finished run: Altair's validation and serialisation
    cost more than the rest of the page together. Altair (0.6 s to import) is imported here, on
    a run's first chart, not with the page."""
    import altair as alt

    per_target, per_case = view.per_target, view.per_case
    target = alt.Chart(per_target).mark_bar().encode(
        x=alt.X("pass rate:Q", scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format="%")),
        y=alt.Y("target:N", sort="-x", title=None, axis=alt.Axis(labelLimit=320)),
        tooltip=["target", alt.Tooltip("pass rate:Q", format=".0%"), "passed", "failed",
                 "errors"]).properties(height=60 + 36 * len(per_target), width="container")
    case = alt.Chart(per_case).mark_bar().encode(
        x=alt.X("pass rate:Q", scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format="%")),
        y=alt.Y("case:N", title=None, axis=alt.Axis(labelLimit=260)),
        color=alt.Color("target:N", title=None,
                        legend=alt.Legend(orient="bottom", labelLimit=320, columns=1)),
        yOffset="target:N", tooltip=["case", "target", "result"],
    ).properties(height=60 + 18 * len(per_case), width="container")
    return {"per-target": target.to_dict(), "per-case": case.to_dict()}


def _chart_with_table(key: str, title: str, spec: dict[str, Any],
                      shown: pd.DataFrame | pa.Table, table: pd.DataFrame) -> None:
    st.markdown(f"**{title}**")
    chart_tab, table_tab = st.tabs(["Chart", "Table"])
    with chart_tab:
        st.vega_lite_chart(spec=spec, width="stretch")
    with table_tab:
        st.dataframe(shown, hide_index=True, width="stretch", placeholder="—")
    st.download_button(f"Download {title.lower()} (CSV)", lambda: table.to_csv(index=False),
                       file_name=f"toolsmith-eval-{key}.csv", mime="text/csv",
                       key=f"evals.csv.{key}", on_click="ignore")


def _charts(view: View) -> None:
    left, right = st.columns(2)
    with left:
        _chart_with_table("per-target", "Pass rate per target", view.charts["per-target"],
                          view.table("per_target"), view.per_target)
    with right:
        _chart_with_table("per-case", "Pass rate per case", view.charts["per-case"],
                          view.table("per_case"), view.per_case)


def _downloads(run: RunInfo, cells: dict[tuple[str, str], CellSummary]) -> None:
    report = reports.Report(run, cells, totals(cells), 1.0)
    cols = st.columns(2)
    cols[0].download_button("Download JUnit XML", lambda: reports.junit(report),
                            file_name=f"{run.suite_name}-{run.id}.xml",
                            mime="application/xml", key="evals.junit", on_click="ignore")
    cols[1].download_button("Download JSON",
                            lambda: json.dumps(reports.as_json(report), indent=2),
                            file_name=f"{run.suite_name}-{run.id}.json",
                            mime="application/json", key="evals.json", on_click="ignore")
