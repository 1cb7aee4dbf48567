"""The eval runner against real local servers (both wire formats, real sockets) and real
databases: pass, fail, error, a target that is down, 429s with Retry-After, cancel, and resume
after the process that ran it stopped."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from core.evals import jobs, runner
from core.evals.records import EvalRecords, Target
from core.evals.suite import Suite, parse_suite
from core.evals.summary import summarize
from core.store import Store, exchanges
from core.tools.library import load_library
from core.usage import Filters, apply_filters, exchanges_frame
from tests.support.eval_server import EvalServer
from tests.support.history import BACKENDS, Backend, backend

ROOT = Path(__file__).resolve().parents[3]
LIBRARY = {e.spec.name: e.spec for e in load_library(ROOT / "tools") if e.spec}
SUITE = """
name: weather
tools: [get_current_weather, get_server_time]
cases:
  - name: boston
    messages: What's the weather like in Boston today?
    expect:
      tool: get_current_weather
      args: {location: {matches: "^Boston"}}
  - name: wrong expectation
    messages: What's the weather like in Boston today?
    expect: {no_tool: true}
"""
NO_KEY = runner.RunSettings()


def suite_of(text: str = SUITE) -> Suite:
    suite, problems = parse_suite(text, LIBRARY)
    assert suite is not None, problems
    return suite


def many_cases(n: int) -> Suite:
    cases = "".join(f"  - name: c{i}\n    messages: What's the weather in Boston?\n"
                    "    expect: {tool: get_current_weather}\n" for i in range(n))
    return suite_of(f"tools: [get_current_weather]\ncases:\n{cases}")


@pytest.fixture(params=BACKENDS)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    with backend(request.param, tmp_path) as found:
        yield found


@pytest.fixture
def records(db: Backend) -> EvalRecords:
    return EvalRecords(db.open())


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(records: EvalRecords, suite: Suite, targets: list[Target], *, repeats: int = 1,
        concurrency: int = 4, settings: runner.RunSettings = NO_KEY,
        cancel: threading.Event | None = None, on_result=None) -> tuple[str, str]:
    run_id = runner.start(records, suite, targets, repeats=repeats, concurrency=concurrency,
                          settings=settings)
    status = runner.execute(records, run_id, suite, targets, repeats=repeats,
                            concurrency=concurrency, settings=settings, api_key=lambda t: "",
                            cancel=cancel, on_result=on_result)
    return run_id, status


def test_pass_fail_error_and_a_down_target_side_by_side(records: EvalRecords) -> None:
    suite = suite_of()
    with EvalServer() as server:
        good = Target("openai", server.base_url, "gpt-test")
        anthropic = Target("anthropic", server.anthropic_base_url, "claude-test")
        broken = Target("openai", server.base_url, "fault-500")
        down = Target("openai", f"http://127.0.0.1:{closed_port()}/v1", "gpt-test")
        targets = [good, anthropic, broken, down]
        run_id, status = run(records, suite, targets, repeats=2)
    assert status == "done"
    cells = summarize(records.results(run_id), ["boston", "wrong expectation"],
                      [t.key for t in targets], 2)
    for target in (good, anthropic):
        assert cells[("boston", target.key)].text == "2/2 pass"
        wrong = cells[("wrong expectation", target.key)]
        assert wrong.status == "fail" and wrong.failed == 2
        assert "expected no tool call, got 1: get_current_weather" in wrong.results[0].failures
    for target, reason in ((broken, "500"), (down, "Could not connect")):
        cell = cells[("boston", target.key)]
        assert cell.status == "error" and cell.text == "2 errors" and cell.pass_rate is None
        assert reason in (cell.results[0].error or "")
        assert not cell.meets(0.0)
    # Each request is an ordinary exchange, marked as eval traffic, inspectable by id.
    with records.engine.connect() as conn:
        rows = conn.execute(sa.select(exchanges.c.id, exchanges.c.eval_run_id)).all()
    assert len(rows) == 16 and {r.eval_run_id for r in rows} == {run_id}
    first = records.results(run_id)[0]
    assert records.exchange(first.exchange_id).request_body["messages"]
    # Hidden from History, filterable on Usage.
    store = Store(records.engine)
    assert store.list_sessions() == []
    frame = exchanges_frame(store)
    assert len(apply_filters(frame, Filters(traffic="eval"))) == 16
    assert apply_filters(frame, Filters(traffic="chat")).empty
    info = records.run(run_id)
    assert info.status == "done" and info.answered == 16 and info.total_cells == 16
    assert [t.key for t in info.targets] == [t.key for t in targets]
    assert {t["name"] for t in info.tools} == {"get_current_weather", "get_server_time"}
    assert info.suite_source == suite.source


def test_concurrency_is_limited_per_target(records: EvalRecords) -> None:
    with EvalServer(delay=0.05) as a, EvalServer(delay=0.05) as b:
        targets = [Target("openai", a.base_url, "m"), Target("openai", b.base_url, "m")]
        _, status = run(records, many_cases(12), targets, concurrency=3)
    assert status == "done"
    assert a.peak == 3 and b.peak == 3  # each target's own limit, reached and never passed


def test_rate_limits_are_waited_out_and_no_cell_errors(records: EvalRecords) -> None:
    suite = many_cases(16)
    with EvalServer(delay=0.02, max_concurrent=2, retry_after="0.05") as server:
        target = Target("openai", server.base_url, "m")
        run_id, status = run(records, suite, [target], concurrency=8)
        rejected = server.rejected
    assert status == "done"
    assert rejected > 0
    results = records.results(run_id)
    assert {r.status for r in results} == {"pass"}, [r.error for r in results]
    limited = [records.exchange(r.exchange_id) for r in results]
    assert any(any(a.status == 429 for a in e.attempts) for e in limited)


def test_cancel_stops_sending_and_resume_sends_only_the_missing_cells(
        records: EvalRecords) -> None:
    suite = many_cases(10)
    with EvalServer(hold=True) as server:
        target = Target("openai", server.base_url, "m")
        run_id = jobs.start(records, suite, [target], repeats=2, concurrency=2,
                            settings=NO_KEY, api_key=lambda t: "")
        assert server.wait_for_posts(2)
        assert jobs.is_live(run_id) and records.run(run_id).status == "running"
        assert jobs.cancel(run_id)
        server.release()
        assert jobs.wait(run_id, timeout=10)
        info = records.run(run_id)
        assert info.status == "cancelled" and info.resumable
        answered, sent = info.answered, server.posts
        assert answered == sent == 2  # the two in flight finished; nothing new was sent
        jobs.resume(records, run_id, api_key=lambda t: "")
        assert jobs.wait(run_id, timeout=20)
        info = records.run(run_id)
        assert info.status == "done" and info.answered == 20
        assert server.posts == sent + (20 - answered)  # only the missing cells went out
    keys = [(r.case, r.repeat) for r in records.results(run_id)]
    assert len(keys) == len(set(keys)) == 20


def test_an_interrupted_run_is_marked_and_resumed_after_a_restart(db: Backend) -> None:
    suite = many_cases(6)
    first = EvalRecords(db.open())
    stop = threading.Event()
    seen: list[str] = []

    def after_three(result) -> None:
        seen.append(result.case)
        if len(seen) >= 3:
            stop.set()  # the process "dies" here: nothing more is sent

    with EvalServer() as server:
        target = Target("openai", server.base_url, "m")
        run_id, _ = run(first, suite, [target], concurrency=1, cancel=stop,
                        on_result=after_three)
        # What a killed process leaves behind: still "running", heartbeat going stale.
        first.set_status(run_id, "running")
        first.engine.dispose()
        sent_before = server.posts

        restarted = EvalRecords(db.open())  # a new server process, a new engine
        assert restarted.mark_interrupted(set()) == 0  # heartbeat still fresh
        assert restarted.mark_interrupted(set(), now=time.time() + 60) == 1
        info = restarted.run(run_id)
        assert info.status == "interrupted" and info.resumable and info.answered == 3
        stored, targets, settings, repeats, concurrency = runner.stored_suite(
            restarted, run_id)
        assert [c.name for c in stored.cases] == [c.name for c in suite.cases]
        status = runner.execute(restarted, run_id, stored, targets, repeats=repeats,
                                concurrency=concurrency, settings=settings,
                                api_key=lambda t: "")
        assert status == "done"
        assert server.posts - sent_before == 3
    assert restarted.run(run_id).answered == 6


def test_a_live_run_is_never_marked_interrupted(records: EvalRecords) -> None:
    run_id = runner.start(records, many_cases(1), [Target("openai", "http://x/v1", "m")],
                          repeats=1, concurrency=1, settings=NO_KEY)
    assert records.mark_interrupted({run_id}, now=time.time() + 600) == 0
    assert records.run(run_id).status == "running"


def test_the_shipped_example_suite_passes_with_the_demo_model(tmp_path: Path) -> None:
    from core.config import DEMO_BASE_URL, DEMO_MODEL
    from core.evals.suite import read_suite

    records = EvalRecords(Store.open(f"sqlite:///{tmp_path / 'db.sqlite'}"))
    suite = read_suite(ROOT / "evals" / "library_tools.yaml", LIBRARY).suite
    assert suite is not None
    from core.config import KEY_ENV

    targets = [Target(w, DEMO_BASE_URL, DEMO_MODEL, preset="demo") for w in KEY_ENV]
    assert len(targets) >= 3  # every registered wire format
    run_id, status = run(records, suite, targets, repeats=1)
    assert status == "done"
    failed = [(r.case, r.failures, r.error) for r in records.results(run_id)
              if r.status != "pass"]
    assert failed == []
