"""Evals: schema test suites — edit suites, run them against several targets in the
background, read the results grid, compare two runs."""

import streamlit as st

from components import state
from components.evals import compare_view, results, run_panel, suites
from components.evals import state as evals_state
from components.shell import guarded
from core.evals import jobs
from core.evals.suite import load_suites


def page() -> None:
    st.title("Evals")
    st.caption("Does this tool schema make models call it right? Suites of prompts with the "
               "tool call each should produce, run across models, repeated, measured.")
    flash = state.take_flash()
    if flash:
        (st.success if flash[0] == "success" else st.error)(flash[1])
    records = evals_state.records()
    if records is None:
        return
    records.mark_interrupted(jobs.live())
    evals_state.view()  # the view chosen before a page switch, kept
    view = st.radio("View", evals_state.VIEWS, key="evals.view", horizontal=True,
                    label_visibility="collapsed", on_change=state.keep, args=("evals.view",))
    if view in ("Suites", "Run"):
        library = {e.spec.name: e.spec for e in state.library() if e.spec}
        files = load_suites(evals_state.evals_dir(), library)
        if view == "Suites":
            suites.render(files, library)
        else:
            run_panel.render(files)
    elif view == "Results":
        results.render(records)
    else:
        compare_view.render(records)


guarded(page)
