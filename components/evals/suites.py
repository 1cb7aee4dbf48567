"""The Suites view: the files of evals/, a YAML editor checked as you go (like the tool
editor), and a form for the common case (a prompt, the tool it should call, argument checks)."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from components.evals import actions
from components.evals import state as evals_state
from components.untrusted import code
from components.untrusted import text as prose
from core.evals.authoring import KINDS, ArgRow, case_document, dump
from core.evals.suite import SuiteFile, parse_suite
from core.types import ToolSpec

NO_TOOL = "(no tool: answer in text)"


def render(files: list[SuiteFile], library: dict[str, ToolSpec]) -> None:
    directory = evals_state.evals_dir()
    if files:
        st.markdown("\n".join(_listed(f) for f in files))
    pending = evals_state.pending_case()
    if pending and not files:
        st.info(f"A case saved from a conversation ({code(pending['name'])}) is waiting: create "
                "a suite for it with **New suite**.", icon=":material/science:")
    with st.popover("New suite" + (" for the saved case" if pending else ""),
                    icon=":material/add:"):
        st.text_input("File name", key="evals.new_name", placeholder="weather_tools")
        st.button("Create", key="evals.create", on_click=actions.create_suite,
                  args=(directory, sorted(library)[:1]))
    if not files:
        st.info(f"No suites in {code(directory, 500)} yet: create one above, or use **Save as test "
                "case** on the Chat page.", icon=":material/science:")
        return
    paths = [str(f.path) for f in files]
    chosen = evals_state.selected_suite()
    if chosen not in paths:
        evals_state.select_suite(paths[0])
    st.selectbox("Suite to edit", paths, key="evals.suite",
                 format_func=lambda p: Path(p).name)
    found = next(f for f in files if str(f.path) == evals_state.selected_suite())
    _editor(found, library)


def _listed(found: SuiteFile) -> str:
    """One suite as a line of the list. A list, not a table: a handful of files need no data
    grid, and the page's first visit then needs no grid bundle in the browser."""
    line = f"- **{prose(found.name)}** {code(found.path.name)}"
    if found.suite is None:
        return f"{line} — :red[{len(found.problems)} problem(s)]"
    tools = ", ".join(code(t.name) for t in found.suite.tools) or "none"
    return f"{line} — {len(found.suite.cases)} case(s), tools {tools} · ready"


def _editor(found: SuiteFile, library: dict[str, ToolSpec]) -> None:
    path = str(found.path)
    if not found.source and found.problems:
        st.error(f"{code(found.path.name)} cannot be opened: "
                 + "; ".join(prose(p) for p in found.problems), icon=":material/description:")
        return
    evals_state.restore_editor(path, found.source)
    text = st.session_state[evals_state.editor_key(path)]
    suite, problems = parse_suite(text, library, name=found.path.stem, path=path)
    unsaved = text != found.source
    pending = evals_state.pending_case()
    if pending:
        with st.container(border=True):
            st.markdown(f"**A case saved from a conversation is waiting:** "
                        f"{code(pending['name'])}")
            st.code(dump([pending]), language="yaml")
            cols = st.columns(2)
            cols[0].button(f"Add it to {code(found.path.name)}", key="evals.pending_add",
                           type="primary", on_click=actions.add_pending_case,
                           args=(path, text))
            cols[1].button("Discard it", key="evals.pending_drop",
                           on_click=evals_state.clear_pending_case)
    if unsaved:
        st.warning("Unsaved changes — kept while you switch pages, written to the file when "
                   "you Save.", icon=":material/edit:")
    left, right = st.columns([3, 2])
    left.text_area("Suite (YAML)", key=evals_state.editor_key(path), height=420,
                   on_change=evals_state.keep_draft, args=(path,),
                   help="Checked each time you leave the box or press Ctrl+Enter.")
    with right:
        if problems:
            st.error(f"{len(problems)} problem(s); the suite cannot run until they are "
                     "fixed:", icon=":material/block:")
            st.table([{"where": prose(p.where()), "problem": prose(p.message)}
                      for p in problems])
        elif suite is not None:
            st.success(f"Valid: {len(suite.cases)} case(s), tools "
                       f"{', '.join(code(t.name) for t in suite.tools)}.",
                       icon=":material/check_circle:")
        st.caption("Highlighted (YAML):")
        with st.container(height=360):
            st.code(text, language="yaml", line_numbers=True)
    with left:
        cols = st.columns(4)
        cols[0].button("Save", key="evals.save", type="primary", disabled=bool(problems),
                       on_click=actions.save_suite, args=(path, text), icon=":material/save:")
        cols[1].button("Revert", key="evals.revert", disabled=not unsaved,
                       on_click=actions.revert_suite, args=(path,))
        cols[2].button("Run this suite…", key="evals.to_run", disabled=suite is None,
                       on_click=evals_state.show, args=("Run",))
        if evals_state.confirming_delete():
            cols[3].button(f"Really delete {code(found.path.name)}?", key="evals.delete_yes",
                           type="primary", on_click=actions.delete_suite, args=(path,))
        else:
            cols[3].button("Delete", key="evals.delete", on_click=evals_state.ask_delete)
    if suite is not None:
        _case_form(path, text, suite.tools)


def _case_form(path: str, text: str, tools: list[ToolSpec]) -> None:
    """The common case: one prompt, the tool it should call, checks on its arguments."""
    version = evals_state.form_version()
    with st.expander("Add a case with a form", icon=":material/edit_note:"):
        name = st.text_input("Case name", key=f"evals.form.name.{path}.{version}")
        prompt = st.text_area("User message", key=f"evals.form.prompt.{path}.{version}",
                              height=80)
        tool = st.selectbox("Expected tool call", [NO_TOOL, *(t.name for t in tools)],
                            key=f"evals.form.tool.{path}.{version}")
        rows: list[ArgRow] = []
        if tool != NO_TOOL:
            spec = next(t for t in tools if t.name == tool)
            properties = list((spec.parameters.get("properties") or {}).keys())
            required = set(spec.parameters.get("required") or [])
            st.caption("Argument checks: leave a value empty to skip that argument. "
                       "`matches` is a regular expression; `one_of` a comma-separated list.")
            import pandas as pd  # here: only this form's table needs it

            edited = st.data_editor(
                pd.DataFrame({"argument": properties, "check": ["equals"] * len(properties),
                              "value": [""] * len(properties),
                              "optional": [p not in required for p in properties]}),
                column_config={"check": st.column_config.SelectboxColumn(options=list(KINDS)),
                               "argument": st.column_config.TextColumn(disabled=True)},
                hide_index=True, key=f"evals.form.rows.{path}.{version}", width="stretch",
                placeholder="")
            rows = [ArgRow(str(r["argument"]), str(r["check"] or "equals"), str(r["value"]),
                           bool(r["optional"]))
                    for r in edited.to_dict("records") if str(r["value"] or "").strip()]
        case = case_document(name.strip() or (prompt.strip()[:60] or "new case"),
                             prompt.strip(), None if tool == NO_TOOL else tool, rows)
        st.code(dump([case]), language="yaml")
        st.button("Add case", key=f"evals.form.add.{path}", disabled=not prompt.strip(),
                  on_click=actions.add_case, args=(path, text, case))
