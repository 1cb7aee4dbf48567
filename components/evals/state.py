"""The Evals page's session state: the one module that writes its keys (`evals.*`).

Run progress is not here: runs go on in background threads (core.evals.jobs) and the page
reads their progress from the database, so a closed tab or a page switch loses nothing.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import streamlit as st

from components import state
from components.storage import store
from core.evals.records import EvalRecords, Target

SHIPPED_EVALS = Path(__file__).resolve().parent.parent.parent / "evals"
VIEWS = ("Suites", "Run", "Results", "Compare")


def evals_dir() -> Path:
    """The suites folder: TOOLSMITH_EVALS_DIR, else evals/ in the checkout."""
    return Path(os.environ.get("TOOLSMITH_EVALS_DIR") or SHIPPED_EVALS)


def records() -> EvalRecords | None:
    db = store()
    return None if db is None else EvalRecords(db)


# --- Which view, suite, run and cell -----------------------------------------------------------

def view() -> str:
    state.restore("evals.view", VIEWS[0])
    return st.session_state["evals.view"]


def show(name: str) -> None:
    """Switch view from a callback (before the radio is drawn again)."""
    st.session_state["evals.view"] = name
    st.session_state["kept.evals.view"] = name


def selected_suite() -> str | None:
    return st.session_state.get("evals.suite")


def select_suite(path: str | None) -> None:
    st.session_state["evals.suite"] = path
    st.session_state["evals.confirm_delete"] = False


def current_run() -> str | None:
    return st.session_state.get("evals.run")


def set_run(run_id: str | None) -> None:
    st.session_state["evals.run"] = run_id
    st.session_state["evals.cell"] = None
    st.session_state["evals.inspected"] = None


def take_picked_run() -> None:
    """Callback of the run picker."""
    set_run(st.session_state.get("evals.run_pick"))


def opened_cell() -> tuple[str, str] | None:
    return st.session_state.get("evals.cell")


def open_cell(case: str, target: str) -> None:
    st.session_state["evals.cell"] = (case, target)
    st.session_state["evals.inspected"] = None


def take_grid_selection(cases: list[str], columns: dict[str, str]) -> None:
    """Callback of the results grid (columns: label -> target key): a clicked cell opens
    its repeats."""
    picked = st.session_state.get("evals.grid") or {}
    cells = (picked.get("selection") or {}).get("cells") or []
    if not cells:
        return
    row, column = cells[0][0], cells[0][1]
    if column in columns and 0 <= row < len(cases):
        open_cell(cases[row], columns[column])


def take_cell_pick(options: dict[str, tuple[str, str]]) -> None:
    picked = options.get(st.session_state.get("evals.cell_pick") or "")
    if picked:
        open_cell(*picked)


def toggle_inspect(exchange_id: str) -> None:
    current = st.session_state.get("evals.inspected")
    st.session_state["evals.inspected"] = None if current == exchange_id else exchange_id


def inspected() -> str | None:
    return st.session_state.get("evals.inspected")


def new_suite_name() -> str:
    return str(st.session_state.get("evals.new_name") or "").strip()


def confirming_delete() -> bool:
    return bool(st.session_state.get("evals.confirm_delete"))


def ask_delete(value: bool = True) -> None:
    st.session_state["evals.confirm_delete"] = value


# --- The editor's text, kept across page switches until saved or reverted ----------------------

def editor_key(path: str) -> str:
    return f"evals.editor.{path}"


def draft(path: str) -> str | None:
    return st.session_state.get("evals.drafts", {}).get(path)


def keep_draft(path: str) -> None:
    """Callback of the text area: the text outlives the widget (page switches drop it)."""
    st.session_state.setdefault("evals.drafts", {})[path] = st.session_state.get(
        editor_key(path), "")


def set_draft(path: str, text: str) -> None:
    """Put new text in the editor (a case added by the form, Save as test case)."""
    st.session_state.setdefault("evals.drafts", {})[path] = text
    st.session_state[editor_key(path)] = text


def drop_draft(path: str) -> None:
    st.session_state.get("evals.drafts", {}).pop(path, None)
    st.session_state.pop(editor_key(path), None)


def restore_editor(path: str, saved: str) -> None:
    key = editor_key(path)
    if key not in st.session_state:
        st.session_state[key] = draft(path) if draft(path) is not None else saved



def reset_form(suite: str) -> None:
    """A fresh, empty form after a case was added: its widgets get new keys."""
    del suite  # one version for every suite's form
    st.session_state["evals.form.version"] = st.session_state.get("evals.form.version", 0) + 1


def form_version() -> int:
    return st.session_state.get("evals.form.version", 0)


# --- Targets and keys ----------------------------------------------------------------------

def sidebar_target() -> Target:
    endpoint = state.endpoint()
    return Target(endpoint.wire, endpoint.base_url, endpoint.model, preset=endpoint.preset,
                  bearer_auth=endpoint.bearer_auth)


def pending_case() -> dict[str, Any] | None:
    """A case sent here by "Save as test case" (Chat, History), waiting for a suite."""
    return st.session_state.get("evals.pending_case")


def offer_case(case: dict[str, Any]) -> None:
    st.session_state["evals.pending_case"] = case
    show("Suites")


def clear_pending_case() -> None:
    st.session_state.pop("evals.pending_case", None)
