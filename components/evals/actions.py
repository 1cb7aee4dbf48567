"""Callbacks of the Evals page: each calls core, then updates the page's state or leaves a
message. Nothing here draws."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from components import state
from components.evals import state as evals_state
from components.untrusted import code
from components.untrusted import text as prose
from core.evals import authoring, jobs, runner
from core.evals.records import Target
from core.evals.suite import Suite

log = logging.getLogger("toolsmith")


def _say(kind: str, text: str) -> None:
    state.flash(kind, text)


def save_suite(path: str, text: str) -> None:
    try:
        authoring.save_text(Path(path), text)
    except OSError as exc:
        _say("error", f"Could not save {code(Path(path).name)}: {prose(exc)}. Your text is kept.")
        return
    evals_state.drop_draft(path)
    _say("success", f"Saved {code(Path(path).name)}.")


def revert_suite(path: str) -> None:
    evals_state.drop_draft(path)


def create_suite(directory: Path, tools: list[str]) -> None:
    name = evals_state.new_suite_name()
    try:
        path = authoring.suite_path(directory, name)
    except ValueError as exc:
        _say("error", f"Cannot create the suite: {prose(exc)}.")
        return
    if path.exists():
        _say("error", f"{code(path.name)} already exists; pick another name.")
        return
    pending = evals_state.pending_case()
    try:
        authoring.save_text(path, authoring.new_suite_text(path.stem, tools, pending))
    except OSError as exc:
        _say("error", f"Could not create {code(path.name)}: {prose(exc)}.")
        return
    evals_state.select_suite(str(path))
    if pending:
        evals_state.clear_pending_case()
        _say("success", f"Created {code(path.name)} with the saved case and the tools it expects.")
    else:
        _say("success", f"Created {code(path.name)}: edit it below, or add cases with the form.")


def delete_suite(path: str) -> None:
    try:
        Path(path).unlink(missing_ok=True)
    except OSError as exc:
        _say("error", f"Could not delete {code(Path(path).name)}: {prose(exc)}.")
        return
    evals_state.drop_draft(path)
    evals_state.select_suite(None)
    _say("success", f"Deleted {code(Path(path).name)}.")


def add_case(path: str, text: str, case: dict[str, Any]) -> None:
    """Append a case to the suite's editor text (saved with Save, like any edit)."""
    evals_state.set_draft(path, authoring.append_case(text, case))
    evals_state.reset_form(path)
    _say("success", f"Added the case {code(case['name'])} to the editor: check it, then Save.")


def add_pending_case(path: str, text: str) -> None:
    case = evals_state.pending_case()
    if case:
        add_case(path, text, case)
        evals_state.clear_pending_case()


def start_run(suite: Suite, targets: list[Target], repeats: int, concurrency: int,
              settings: runner.RunSettings) -> None:
    records = evals_state.records()
    if records is None:
        return
    key_for = state.key_resolver()  # held by the run's thread only, never stored
    try:
        run_id = jobs.start(records, suite, targets, repeats=repeats, concurrency=concurrency,
                            settings=settings, api_key=lambda t: key_for(t.wire, t.base_url))
    except (SQLAlchemyError, ValueError) as exc:
        _say("error", f"The run could not start: {exc.__class__.__name__}: {prose(exc)}")
        return
    evals_state.set_run(run_id)
    evals_state.show("Results")


def cancel_run(run_id: str) -> None:
    if not jobs.cancel(run_id):
        _say("error", "That run is not going on in this server any more.")


def resume_run(run_id: str) -> None:
    records = evals_state.records()
    if records is None:
        return
    key_for = state.key_resolver()
    try:
        jobs.resume(records, run_id, api_key=lambda t: key_for(t.wire, t.base_url))
    except (KeyError, ValueError, SQLAlchemyError) as exc:
        log.warning("resume failed", exc_info=True)
        _say("error", f"The run could not be resumed: {prose(exc)}")


def delete_run(run_id: str) -> None:
    records = evals_state.records()
    if records is None or jobs.is_live(run_id):
        return
    records.delete_run(run_id)
    evals_state.set_run(None)
    _say("success", "Deleted the run and its requests.")
