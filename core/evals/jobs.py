"""Runs that go on in the background of the app: one thread per run, owned by the process.

A Streamlit script run lasts one rerun; an eval run lasts minutes. So the thread belongs to
this module, not to a page, and pages only start, cancel and read progress from the database.
The set of live runs also tells `EvalRecords.mark_interrupted` which "running" rows are
orphans of a previous server process.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from core.evals import runner
from core.evals.records import EvalRecords, Target
from core.evals.suite import Suite

log = logging.getLogger("toolsmith")


@dataclass
class Job:
    run_id: str
    thread: threading.Thread
    cancel: threading.Event


_jobs: dict[str, Job] = {}
_lock = threading.Lock()


def live() -> set[str]:
    with _lock:
        return {run_id for run_id, job in _jobs.items() if job.thread.is_alive()}


def is_live(run_id: str) -> bool:
    return run_id in live()


def _launch(records: EvalRecords, run_id: str, suite: Suite, targets: list[Target],
            repeats: int, concurrency: int, settings: runner.RunSettings,
            api_key: runner.KeyFn) -> None:
    cancel = threading.Event()

    def work() -> None:
        try:
            runner.execute(records, run_id, suite, targets, repeats=repeats,
                           concurrency=concurrency, settings=settings, api_key=api_key,
                           cancel=cancel)
        except Exception:  # the run is marked; the page says so instead of a traceback
            log.exception("eval run %s failed", run_id)
            records.set_status(run_id, "interrupted", note="the run stopped on an internal "
                               "error (see the server log); Resume sends the missing cells")

    thread = threading.Thread(target=work, name=f"eval-run-{run_id}", daemon=True)
    with _lock:
        _jobs[run_id] = Job(run_id, thread, cancel)
    thread.start()


def start(records: EvalRecords, suite: Suite, targets: list[Target], *, repeats: int,
          concurrency: int, settings: runner.RunSettings, api_key: runner.KeyFn) -> str:
    """Record the run and start sending in the background; returns the run id at once."""
    run_id = runner.start(records, suite, targets, repeats=repeats, concurrency=concurrency,
                          settings=settings)
    _launch(records, run_id, suite, targets, repeats, concurrency, settings, api_key)
    return run_id


def resume(records: EvalRecords, run_id: str, api_key: runner.KeyFn) -> None:
    """Send the cells of an interrupted or cancelled run that were never answered."""
    if is_live(run_id):
        return
    suite, targets, settings, repeats, concurrency = runner.stored_suite(records, run_id)
    records.set_status(run_id, "running", note="")
    _launch(records, run_id, suite, targets, repeats, concurrency, settings, api_key)


def cancel(run_id: str) -> bool:
    with _lock:
        job = _jobs.get(run_id)
    if job is None or not job.thread.is_alive():
        return False
    job.cancel.set()
    return True


def wait(run_id: str, timeout: float | None = None) -> bool:
    """Block until the run's thread ends (CLI, tests); True when it did."""
    with _lock:
        job = _jobs.get(run_id)
    if job is None:
        return True
    job.thread.join(timeout)
    return not job.thread.is_alive()
