"""Eval runs in the database: the run (with the exact suite, tools, settings and targets it
used), one row per answered cell, and each request as an ordinary exchange.

Rows are written as answers arrive, each in its own short transaction, so a closed tab or a
server restart loses nothing already answered. A run's requests hang off a session row of
kind "eval" (hidden from History) and carry the run id, so the Usage page can tell them apart.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import sqlalchemy as sa

from core.config import provider_of
from core.store import (
    USAGE_COLUMNS,
    Store,
    _insert_for,
    eval_results,
    eval_runs,
    exchange_from_row,
    exchange_row,
    exchanges,
    sessions,
    writing,
)
from core.types import Exchange, new_id

STALE_AFTER_S = 30.0  # a "running" run with no heartbeat for this long was interrupted


@dataclass(frozen=True)
class Target:
    """Where a run sends requests: a wire format, a base URL and a model. No key: keys come
    from the environment, secrets or the sidebar when the run starts (and again on resume)."""

    wire: str
    base_url: str
    model: str
    preset: str = "custom"
    bearer_auth: bool = False

    @property
    def key(self) -> str:
        return f"{self.wire}|{self.base_url}|{self.model}"

    @property
    def provider(self) -> str:
        return provider_of(self.base_url, demo=self.preset == "demo")

    @property
    def label(self) -> str:
        if self.preset == "demo":
            return f"{self.model} (demo, {self.wire})"
        host = self.base_url.split("://", 1)[-1].split("/", 1)[0]
        return f"{self.model} ({self.wire}, {host})"


@dataclass
class CellResult:
    """One repeat of one case against one target."""

    case: str
    target: str  # Target.key
    repeat: int
    status: str  # "pass" | "fail" | "error"
    failures: list[str] = field(default_factory=list)
    calls: list[dict[str, Any]] = field(default_factory=list)  # {name, arguments}
    answer: str = ""
    error: str | None = None
    exchange_id: str | None = None
    latency_s: float | None = None
    total_tokens: int | None = None


@dataclass
class RunInfo:
    id: str
    suite_name: str
    suite_path: str | None
    suite_source: str
    tools: list[dict[str, Any]]
    settings: dict[str, Any]
    targets: list[Target]
    repeats: int
    concurrency: int
    total_cells: int
    status: str  # running | done | cancelled | interrupted
    created_at: float
    heartbeat_at: float | None
    finished_at: float | None
    note: str | None
    answered: int = 0

    @property
    def resumable(self) -> bool:
        return self.status in ("cancelled", "interrupted") and self.answered < self.total_cells


def _loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def _run_from_row(row: Any, answered: int = 0) -> RunInfo:
    return RunInfo(
        id=row.id, suite_name=row.suite_name, suite_path=row.suite_path,
        suite_source=row.suite_source, tools=_loads(row.tools_json) or [],
        settings=_loads(row.settings_json) or {},
        targets=[Target(**t) for t in _loads(row.targets_json) or []], repeats=row.repeats,
        concurrency=row.concurrency, total_cells=row.total_cells, status=row.status,
        created_at=row.created_at, heartbeat_at=row.heartbeat_at,
        finished_at=row.finished_at, note=row.note, answered=answered)


def _result_from_row(row: Any) -> CellResult:
    return CellResult(case=row.case_name, target=row.target, repeat=row.repeat,
                      status=row.status, failures=_loads(row.failures_json) or [],
                      calls=_loads(row.calls_json) or [], answer=row.answer or "",
                      error=row.error, exchange_id=row.exchange_id, latency_s=row.latency_s,
                      total_tokens=row.total_tokens)


@dataclass
class _Pending:
    """An answer waiting for the next group commit."""

    row: dict[str, Any]
    exchange: dict[str, Any] | None
    inserted: bool = False
    done: bool = False
    failure: Exception | None = None


class EvalRecords:
    """Reads and writes eval runs through the app's store (one engine, one schema)."""

    def __init__(self, store: Store) -> None:
        self.engine = store.engine
        self.owner = store.owner  # team mode: runs are their author's only
        # Workers of a run write one at a time: SQLite lets one writer in, and the others'
        # busy handler sleeps in steps of up to 100 ms, which would stall a fast run.
        self._writes = threading.Lock()
        self._queue_lock = threading.Lock()
        self._queue: list[_Pending] = []

    def create_run(self, *, suite_name: str, suite_path: str | None, suite_source: str,
                   tools: list[dict[str, Any]], settings: dict[str, Any],
                   targets: list[Target], repeats: int, concurrency: int,
                   total_cells: int) -> str:
        run_id = new_id("evr_")
        now = time.time()
        first = targets[0] if targets else None
        with writing(self.engine) as conn, conn.begin():
            conn.execute(eval_runs.insert().values(
                id=run_id, suite_name=suite_name, suite_path=suite_path,
                suite_source=suite_source, tools_json=json.dumps(tools),
                settings_json=json.dumps(settings),
                targets_json=json.dumps([asdict(t) for t in targets]), repeats=repeats,
                concurrency=concurrency, total_cells=total_cells, status="running",
                created_at=now, heartbeat_at=now, owner=self.owner))
            conn.execute(sessions.insert().values(
                id=run_id, title=f"Eval run: {suite_name}", created_at=now, updated_at=now,
                owner=self.owner,
                provider=first.provider if first else None,
                model=first.model if first else None, settings_json=json.dumps(settings),
                tools_json=json.dumps(tools), kind="eval"))
        return run_id

    def add_result(self, run_id: str, result: CellResult, exchange: Exchange | None) -> bool:
        """Store one answered cell with its exchange, durably, before returning; False when
        it was stored already (a resumed run never counts a cell twice).

        Group commit: answers that arrive while another is being written go together in
        the next transaction, so twenty workers finishing at once cost a few commits, not
        twenty; and plain parameter lists (not .values(**row)) compile once and are cached.
        """
        row = {
            "run_id": run_id, "case_name": result.case, "target": result.target,
            "repeat": result.repeat, "status": result.status,
            "failures_json": json.dumps(result.failures, ensure_ascii=False),
            "calls_json": json.dumps(result.calls, ensure_ascii=False),
            "answer": result.answer, "error": result.error, "exchange_id": result.exchange_id,
            "latency_s": result.latency_s, "total_tokens": result.total_tokens,
            "created_at": time.time()}
        ex_row = None if exchange is None else {**exchange_row(run_id, exchange),
                                                "eval_run_id": run_id}
        item = _Pending(row, ex_row)
        with self._queue_lock:
            self._queue.append(item)
        with self._writes:
            if not item.done:
                with self._queue_lock:
                    batch, self._queue = self._queue, []
                self._write(batch)
        if item.failure is not None:
            raise item.failure
        return item.inserted

    def _write(self, batch: list[_Pending]) -> None:
        try:
            with writing(self.engine) as conn, conn.begin():
                # RETURNING tells whether the row went in: psycopg reports rowcount -1 for
                # this statement on PostgreSQL, so a count cannot be trusted there.
                insert = (_insert_for(conn.dialect.name)(eval_results).on_conflict_do_nothing()
                          .returning(eval_results.c.run_id))
                for item in batch:
                    item.inserted = conn.execute(insert, [item.row]).first() is not None
                fresh = [i.exchange for i in batch if i.inserted and i.exchange is not None]
                if fresh:
                    conn.execute(exchanges.insert(), fresh)
        except Exception as exc:  # every waiter learns of it, not only the one writing
            for item in batch:
                item.failure = exc
        finally:
            for item in batch:
                item.done = True

    def heartbeat(self, run_id: str) -> None:
        with self._writes, writing(self.engine) as conn, conn.begin():
            conn.execute(eval_runs.update().where(eval_runs.c.id == run_id).values(
                heartbeat_at=time.time()))

    def set_status(self, run_id: str, status: str, note: str | None = None) -> None:
        values: dict[str, Any] = {"status": status, "heartbeat_at": time.time()}
        if status != "running":
            values["finished_at"] = time.time()
        if note is not None:
            values["note"] = note
        with writing(self.engine) as conn, conn.begin():
            conn.execute(eval_runs.update().where(eval_runs.c.id == run_id).values(**values))

    def mark_interrupted(self, live: set[str], now: float | None = None) -> int:
        """Runs still "running" that no live worker owns and whose heartbeat stopped: the
        process that ran them ended (a restart). They are marked so and can be resumed."""
        cutoff = (now or time.time()) - STALE_AFTER_S
        query = eval_runs.update().where(
            (eval_runs.c.status == "running") & (eval_runs.c.heartbeat_at < cutoff))
        if live:
            query = query.where(eval_runs.c.id.not_in(list(live)))
        with writing(self.engine) as conn, conn.begin():
            return conn.execute(query.values(
                status="interrupted", note="the server stopped while this run was going "
                "on; Resume sends only the cells not answered yet")).rowcount

    def _mine(self) -> Any:
        return sa.true() if self.owner is None else eval_runs.c.owner == self.owner

    def _my_run_ids(self) -> Any:
        return sa.select(eval_runs.c.id).where(self._mine())

    # Reading.
    def runs(self, limit: int = 200) -> list[RunInfo]:
        counts = (sa.select(eval_results.c.run_id, sa.func.count().label("n"))
                  .group_by(eval_results.c.run_id).subquery())
        query = (sa.select(eval_runs, counts.c.n)
                 .outerjoin(counts, counts.c.run_id == eval_runs.c.id).where(self._mine())
                 .order_by(eval_runs.c.created_at.desc()).limit(limit))
        with self.engine.connect() as conn:
            return [_run_from_row(r, r.n or 0) for r in conn.execute(query)]

    def run(self, run_id: str) -> RunInfo | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(eval_runs).where(
                (eval_runs.c.id == run_id) & self._mine())).first()
            if row is None:
                return None
            n = conn.execute(sa.select(sa.func.count()).select_from(eval_results).where(
                eval_results.c.run_id == run_id)).scalar_one()
        return _run_from_row(row, n)

    def progress(self, run_id: str) -> dict[str, int]:
        """Counts by status: one indexed aggregate, cheap enough for every rerun of a page."""
        with self.engine.connect() as conn:
            rows: list[Any] = list(conn.execute(sa.select(
                eval_results.c.status, sa.func.count()).where(
                eval_results.c.run_id == run_id).group_by(eval_results.c.status)).all())
        return {status: n for status, n in rows}

    def results(self, run_id: str) -> list[CellResult]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(eval_results).where(
                (eval_results.c.run_id == run_id)
                & eval_results.c.run_id.in_(self._my_run_ids()))).all()
        return [_result_from_row(r) for r in rows]

    def exchange(self, exchange_id: str) -> Exchange | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(exchanges).where(exchanges.c.id == exchange_id)).first()
        return None if row is None else exchange_from_row(row)

    def usage_rows(self, run_id: str) -> tuple[list[str], list[Any]]:
        """Token counts and times of the run's requests (for per-target tokens, cost and
        latency), without bodies or transcripts."""
        names = ["id", "model", "started_at", "first_token_at", "ended_at",
                 *USAGE_COLUMNS, "usage_estimated"]
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(*(exchanges.c[n] for n in names)).where(
                exchanges.c.eval_run_id == run_id)).all()
        return names, [tuple(r) for r in rows]

    def delete_run(self, run_id: str) -> None:
        with writing(self.engine) as conn, conn.begin():
            if conn.execute(sa.select(eval_runs.c.id).where(
                    (eval_runs.c.id == run_id) & self._mine())).first() is None:
                return
            conn.execute(eval_results.delete().where(eval_results.c.run_id == run_id))
            conn.execute(exchanges.delete().where(exchanges.c.session_id == run_id))
            conn.execute(sessions.delete().where(sessions.c.id == run_id))
            conn.execute(eval_runs.delete().where(eval_runs.c.id == run_id))
