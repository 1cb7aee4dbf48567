"""Compare two runs: the tool definitions that changed (a diff), and per case and target the
pass-rate change and how the calls changed — "did my schema edit make things better?"."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from components.evals.results import run_label
from components.untrusted import code, text
from core.evals.compare import compare
from core.evals.records import EvalRecords


def render(records: EvalRecords) -> None:
    runs = [r for r in records.runs() if r.answered]
    if len(runs) < 2:
        st.info("Compare needs two runs with answers: run a suite, edit a tool's schema, run "
                "it again.", icon=":material/compare_arrows:")
        return
    by_id = {r.id: r for r in runs}
    ids = list(by_id)  # newest first
    cols = st.columns(2)
    after = cols[1].selectbox("After", ids, index=0, key="evals.cmp_after",
                              format_func=lambda i: run_label(by_id[i]))
    same_suite = [i for i in ids if i != after and by_id[i].suite_name ==
                  by_id[after].suite_name]
    default = ids.index(same_suite[0]) if same_suite else (1 if ids[0] == after else 0)
    before = cols[0].selectbox("Before", ids, index=default, key="evals.cmp_before",
                               format_func=lambda i: run_label(by_id[i]))
    if before == after:
        st.warning("Pick two different runs.")
        return
    result = compare(records, before, after)
    st.markdown("**Tool definitions**")
    if not result.tools:
        st.caption("The tool definitions sent were identical in both runs.")
    for change in result.tools:
        st.markdown(f"{code(change.name)} — {text(change.kind)}")
        if change.diff:
            st.code(change.diff, language="diff")
    if result.settings_changed:
        st.caption("Settings that differ: " + ", ".join(code(s) for s in result.settings_changed))
    if result.suite_changed:
        st.caption("The suite text differs between the runs (cases may have changed).")
    labels = {t.key: t.label for t in [*result.before.targets, *result.after.targets]}
    rows = []
    for cell in result.cells:
        rows.append({
            "case": cell.case, "target": labels.get(cell.target, cell.target),
            "before": cell.before.text if cell.before and cell.before.results else "not run",
            "after": cell.after.text if cell.after and cell.after.results else "not run",
            "change": _change(cell.delta),
            "calls before": " | ".join(cell.calls_before),
            "calls after": " | ".join(cell.calls_after),
            "calls changed": "yes" if cell.calls_changed else "",
        })
    table = pd.DataFrame(rows)
    better = sum(1 for c in result.cells if (c.delta or 0) > 0)
    worse = sum(1 for c in result.cells if (c.delta or 0) < 0)
    st.markdown(f"**Per case and target** — {better} better, {worse} worse, "
                f"{len(result.cells) - better - worse} unchanged or not comparable")
    st.dataframe(table, hide_index=True, width="stretch", placeholder="—")
    st.download_button("Download the comparison (CSV)", lambda: table.to_csv(index=False),
                       file_name=f"toolsmith-compare-{before}-{after}.csv", mime="text/csv",
                       key="evals.cmp_csv", on_click="ignore")


def _change(delta: float | None) -> str:
    if delta is None:
        return "—"
    if abs(delta) < 1e-9:
        return "= same"
    return f"{'▲ better' if delta > 0 else '▼ worse'} {delta:+.0%}"
