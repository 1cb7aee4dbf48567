"""Running a suite: every case × target × repeat, concurrently, each answer stored as it comes.

Each target gets its own worker pool (its per-target limit) and its own HTTP client, so a
target that is down or rate-limited only slows itself. Requests go through core.turn.run_turn,
the Chat page's path, with its retry rules (429/529 and Retry-After honoured). A request that
fails is an "error" cell with the reason, never a "fail": the model was not asked.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass
from typing import Any

import httpx

from core.config import Endpoint
from core.evals.assertions import evaluate
from core.evals.records import CellResult, EvalRecords, Target
from core.evals.suite import Case, Suite, parse_suite, tool_documents
from core.tools.schemas import spec_from_document
from core.turn import TurnResult, client_for, run_turn
from core.types import Attempt, ChatSettings
from core.wire import wire_format
from core.wire.http import Timeouts

log = logging.getLogger("toolsmith")
HEARTBEAT_S = 5.0
DEFAULT_REPEATS = 3
DEFAULT_CONCURRENCY = 8
RATE_LIMITED = frozenset({429, 529})


@dataclass(frozen=True)
class RunSettings:
    """Request settings shared by every cell (the model comes from each target)."""

    stream: bool = False
    temperature: float | None = None
    max_tokens: int | None = None
    tool_choice: str | dict[str, Any] | None = None
    parallel_tool_calls: bool | None = None
    idle_timeout: float = 60.0
    # A rate-limited cell (429/529 after the usual retries) is sent again, as the server's
    # Retry-After asks, until this many seconds have passed since its first attempt.
    rate_limit_patience: float = 120.0

    def chat_settings(self, model: str, system: str) -> ChatSettings:
        return ChatSettings(model=model, stream=self.stream, system_prompt=system,
                            temperature=self.temperature, max_tokens=self.max_tokens,
                            tool_choice=self.tool_choice,
                            parallel_tool_calls=self.parallel_tool_calls)


@dataclass(frozen=True)
class Cell:
    case: Case
    target: Target
    repeat: int


def all_cells(suite: Suite, targets: list[Target], repeats: int) -> list[Cell]:
    """Repeat-major order: every cell's first answer arrives before any second one, so
    partial results cover the whole grid early."""
    return [Cell(case, target, r) for r in range(repeats) for case in suite.cases
            for target in targets]


def start(records: EvalRecords, suite: Suite, targets: list[Target], *, repeats: int,
          concurrency: int, settings: RunSettings) -> str:
    """Record a new run (its suite, exact tools, settings and targets); returns its id."""
    if not targets:
        raise ValueError("a run needs at least one target")
    return records.create_run(
        suite_name=suite.name, suite_path=suite.path or None, suite_source=suite.source,
        tools=tool_documents(suite), settings=asdict(settings), targets=targets,
        repeats=repeats, concurrency=concurrency,
        total_cells=len(suite.cases) * len(targets) * repeats)


def stored_suite(records: EvalRecords, run_id: str) -> tuple[Suite, list[Target], RunSettings,
                                                              int, int]:
    """A run's suite, targets and settings as stored: resuming uses exactly what ran, even
    after the files changed."""
    info = records.run(run_id)
    if info is None:
        raise KeyError(run_id)
    library = {doc["name"]: spec_from_document(doc) for doc in info.tools}
    suite, problems = parse_suite(info.suite_source, library, path=info.suite_path or "")
    if suite is None:
        raise ValueError("; ".join(str(p) for p in problems))
    suite.tools = list(library.values())  # the stored definitions, inline ones included
    suite.name = info.suite_name
    return suite, info.targets, RunSettings(**info.settings), info.repeats, info.concurrency


KeyFn = Callable[[Target], str]
ResultFn = Callable[[CellResult], None]


def execute(records: EvalRecords, run_id: str, suite: Suite, targets: list[Target], *,
            repeats: int, concurrency: int, settings: RunSettings, api_key: KeyFn,
            cancel: threading.Event | None = None, on_result: ResultFn | None = None,
            clients: dict[str, httpx.Client] | None = None) -> str:
    """Send every cell of the run not answered yet; returns the run's final status.

    `clients` (by target key) lets a caller supply transports (tests, benchmarks); otherwise
    each target gets a pooled client sized to its limit.
    """
    cancel = cancel or threading.Event()
    done = {(r.case, r.target, r.repeat) for r in records.results(run_id)}
    todo = [c for c in all_cells(suite, targets, repeats)
            if (c.case.name, c.target.key, c.repeat) not in done]
    records.set_status(run_id, "running", note="")
    own = {}
    pools = {}
    try:
        for target in targets:
            if clients is None or target.key not in clients:
                own[target.key] = _client(target, settings)
            pools[target.key] = ThreadPoolExecutor(
                max_workers=max(1, concurrency), thread_name_prefix=f"eval-{run_id[-6:]}")
        use = {**(clients or {}), **own}
        futures: set[Future[None]] = set()
        for cell in todo:
            futures.add(pools[cell.target.key].submit(
                _run_cell, records, run_id, suite, cell, settings, api_key,
                use[cell.target.key], cancel, on_result))
        beat = time.monotonic()
        while futures:
            finished, futures = wait(futures, timeout=HEARTBEAT_S, return_when=FIRST_COMPLETED)
            for future in finished:
                if future.exception() is not None:  # a bug, not a model's answer
                    log.error("eval cell crashed", exc_info=future.exception())
            if time.monotonic() - beat >= HEARTBEAT_S:  # each stored answer beats too
                records.heartbeat(run_id)
                beat = time.monotonic()
    finally:
        for pool in pools.values():
            pool.shutdown(wait=True, cancel_futures=True)
        for client in own.values():
            client.close()
    answered = len(records.results(run_id))
    total = len(suite.cases) * len(targets) * repeats
    status = "done" if answered >= total else ("cancelled" if cancel.is_set() else
                                               "interrupted")
    records.set_status(run_id, status, note="" if status == "done" else
                       f"{total - answered} of {total} cells not answered; Resume sends them")
    return status


def _client(target: Target, settings: RunSettings) -> httpx.Client:
    """A pooled client per target (httpx allows 100 connections, far above a usual limit)."""
    return client_for(Timeouts(idle=settings.idle_timeout), demo=target.preset == "demo")


def endpoint_for(target: Target, key: str, settings: RunSettings) -> Endpoint:
    return Endpoint(target.preset, target.base_url, target.model, api_key=key,
                    key_env=wire_format(target.wire).key_env, wire=target.wire,
                    bearer_auth=target.bearer_auth,
                    timeouts=Timeouts(idle=settings.idle_timeout))


def _send(endpoint: Endpoint, suite: Suite, cell: Cell, settings: RunSettings,
          client: httpx.Client, cancel: threading.Event) -> TurnResult:
    """run_turn with its retry rules; a cell still rate-limited after them is sent again
    (Retry-After honoured, with jitter so a burst of workers does not return in step) until
    the patience runs out. One exchange keeps every attempt, so the inspector shows them."""
    chat = settings.chat_settings(cell.target.model, suite.system)
    earlier: list[Attempt] = []
    first_start = None
    while True:
        result = run_turn(endpoint, cell.case.messages, suite.tools, chat, client=client,
                          sleep=lambda s: cancel.wait(s) and None)
        exchange = result.exchange
        first_start = first_start or exchange.started_at
        exchange.attempts[:0] = earlier
        exchange.started_at = first_start
        limited = result.error is not None and result.error.status in RATE_LIMITED
        if not limited or cancel.is_set() \
                or time.time() - first_start > settings.rate_limit_patience:
            return result
        earlier = list(exchange.attempts)
        asked = [a.retry_after_s for a in earlier if a.retry_after_s is not None]
        cancel.wait((asked[-1] if asked else 0.5) * random.uniform(1.0, 1.5))


def _run_cell(records: EvalRecords, run_id: str, suite: Suite, cell: Cell,
              settings: RunSettings, api_key: KeyFn, client: httpx.Client,
              cancel: threading.Event, on_result: ResultFn | None) -> None:
    if cancel.is_set():
        return
    endpoint = endpoint_for(cell.target, api_key(cell.target), settings)
    result = _send(endpoint, suite, cell, settings, client, cancel)
    exchange = result.exchange
    cell_result = CellResult(case=cell.case.name, target=cell.target.key, repeat=cell.repeat,
                             status="error", exchange_id=exchange.id,
                             latency_s=exchange.latency_s,
                             total_tokens=exchange.usage.total if exchange.usage else None)
    if result.message is None:
        if cancel.is_set():
            return  # cut short by Cancel: left for a resume to send again
        cell_result.error = str(result.error) if result.error else "no answer"
    else:
        verdict = evaluate(cell.case.expect, result.message, suite.tools)
        cell_result.status = "pass" if verdict.passed else "fail"
        cell_result.failures = verdict.failures
        cell_result.calls = [{"id": c.id, "name": c.name, "arguments": c.arguments}
                             for c in result.message.tool_calls]
        cell_result.answer = result.message.content
    if records.add_result(run_id, cell_result, exchange) and on_result is not None:
        on_result(cell_result)
