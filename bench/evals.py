"""Eval runs: wall time against the ideal and against a peer, rate limits, and the page.

1. A local server (the demo model's brain behind real HTTP) answering every request after
   200 ms: 50 cases × 2 targets × 2 repeats = 200 requests at concurrency 20 (10 per target, two
   targets). Ideal: 200 × 0.2 s ÷ 20 = 2.0 s. Peer: promptfoo's `eval` on the same cases, same
   server, same concurrency, when `npm install promptfoo` works here (into a temp folder, in
   this benchmark's set-up); otherwise a sequential loop of the same requests (said so).
2. The same server allowing 4 requests at once, answering 429 + Retry-After: 0.1 beyond:
   the run must end with no cell in error. Ideal at 4 at once: 200 × 0.2 ÷ 4 = 10 s.
3. The Evals page rerun (AppTest) showing a finished 500-cell grid, against the page with no
   runs at all (median of 7 reruns each).
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml
from streamlit.testing.v1 import AppTest

from core.evals import runner
from core.evals.records import CellResult, EvalRecords, Target
from core.evals.suite import Suite, parse_suite
from core.store import Store
from core.types import Exchange, Usage
from tests.support.apptest import rendered_text

ROOT = Path(__file__).resolve().parent.parent
# The newest promptfoo that runs on Debian's Node 20 (0.121 and later need Node >= 22.22).
PROMPTFOO = "promptfoo@0.120"
CASES, REPEATS, CONCURRENCY, DELAY = 50, 2, 20, 0.2
CITIES = ["Boston", "Paris", "Tokyo", "London", "Berlin", "Sydney", "Chicago", "Seattle",
          "Miami", "Denver"]
WEATHER = yaml.safe_load((ROOT / "tools" / "get_current_weather.yaml").read_text())


@dataclass
class Server:
    """tests/support/eval_server.py in its own process: its JSON and planning work does not
    compete with the measured runner for this interpreter (nor with promptfoo's node)."""

    process: subprocess.Popen[str]
    base_url: str

    def stats(self) -> dict[str, int]:
        return httpx.get(self.base_url.removesuffix("/v1") + "/stats", timeout=10).json()


@contextmanager
def serving(*args: str) -> Iterator[Server]:
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.support.eval_server", *args], cwd=ROOT,
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert process.stdout is not None
        yield Server(process, process.stdout.readline().strip())
    finally:
        process.terminate()
        process.wait(timeout=10)


def _suite(n: int = CASES) -> Suite:
    cases = [{"name": f"case {i}",
              "messages": f"What's the weather like in {CITIES[i % len(CITIES)]} today? #{i}",
              "expect": {"tool": "get_current_weather"}} for i in range(n)]
    doc = {"name": "bench", "tools": [{k: WEATHER[k] for k in ("name", "description",
                                                               "parameters")}],
           "cases": cases}
    suite, problems = parse_suite(yaml.safe_dump(doc, sort_keys=False), {})
    assert suite is not None, problems
    return suite


def _toolsmith(server: Server, records: EvalRecords) -> tuple[float, dict[str, int]]:
    suite = _suite()
    targets = [Target("openai", server.base_url, m) for m in ("model-a", "model-b")]
    settings = runner.RunSettings()
    run_id = runner.start(records, suite, targets, repeats=REPEATS,
                          concurrency=CONCURRENCY // len(targets), settings=settings)
    start = time.perf_counter()
    runner.execute(records, run_id, suite, targets, repeats=REPEATS,
                   concurrency=CONCURRENCY // len(targets), settings=settings,
                   api_key=lambda t: "")
    elapsed = time.perf_counter() - start
    return elapsed, records.progress(run_id)


def _install_promptfoo() -> Path | None:
    """promptfoo from npm into a temp folder; None (and why, printed) when it will not install."""
    if shutil.which("npm") is None:
        print("  promptfoo: npm is not installed here")
        return None
    folder = Path(tempfile.gettempdir()) / "toolsmith-bench-promptfoo"  # reused across runs
    binary = folder / "node_modules" / ".bin" / "promptfoo"
    if binary.exists():
        return binary
    folder.mkdir(parents=True, exist_ok=True)
    try:
        done = subprocess.run(["npm", "install", "--no-audit", "--no-fund", PROMPTFOO],
                              cwd=folder, capture_output=True, text=True, timeout=900)
    except subprocess.TimeoutExpired:
        print("  promptfoo: npm install took longer than 15 minutes")
        return None
    if done.returncode != 0 or not binary.exists():
        print(f"  promptfoo: npm install failed: {done.stderr.strip()[-300:]}")
        return None
    return binary


def _promptfoo(binary: Path, server: Server) -> float:
    folder = Path(tempfile.mkdtemp(prefix="toolsmith-promptfoo-run-"))
    tool = {"type": "function", "function": {k: WEATHER[k] for k in ("name", "description",
                                                                     "parameters")}}
    providers = [{"id": f"openai:chat:{m}",
                  "config": {"apiBaseUrl": server.base_url, "apiKey": "sk-bench",
                             "tools": [tool]}} for m in ("model-a", "model-b")]
    tests = [{"vars": {"question": f"What's the weather like in "
                                   f"{CITIES[i % len(CITIES)]} today? #{i}"},
              "assert": [{"type": "is-valid-openai-tools-call"}]} for i in range(CASES)]
    config = folder / "promptfooconfig.yaml"
    config.write_text(yaml.safe_dump({"description": "toolsmith bench",
                                      "prompts": ["{{question}}"], "providers": providers,
                                      "tests": tests}))
    env = {**os.environ, "HOME": str(folder), "PROMPTFOO_CONFIG_DIR": str(folder / ".pf"),
           "PROMPTFOO_DISABLE_TELEMETRY": "1", "PROMPTFOO_DISABLE_UPDATE": "1",
           "PROMPTFOO_CACHE_ENABLED": "false", "OPENAI_API_KEY": "sk-bench"}
    before = server.stats()["posts"]
    start = time.perf_counter()
    done = subprocess.run([str(binary), "eval", "-c", str(config), "--max-concurrency",
                           str(CONCURRENCY), "--repeat", str(REPEATS), "--no-cache",
                           "--no-write", "--no-table", "--no-progress-bar"],
                          cwd=folder, env=env, capture_output=True, text=True, timeout=600)
    elapsed = time.perf_counter() - start
    sent = server.stats()["posts"] - before
    if sent != CASES * 2 * REPEATS:
        raise RuntimeError(f"promptfoo sent {sent} requests, not {CASES * 2 * REPEATS} "
                           f"(exit {done.returncode}): {done.stderr.strip()[-400:]}")
    return elapsed


def _sequential(server: Server) -> float:
    """The peer when promptfoo is unavailable: the same 200 requests, one after another."""
    tool = {"type": "function", "function": {k: WEATHER[k] for k in ("name", "description",
                                                                     "parameters")}}
    start = time.perf_counter()
    with httpx.Client(timeout=30) as client:
        for _ in range(REPEATS):
            for model in ("model-a", "model-b"):
                for i in range(CASES):
                    client.post(f"{server.base_url}/chat/completions", json={
                        "model": model, "tools": [tool], "messages": [{
                            "role": "user", "content": f"What's the weather in "
                            f"{CITIES[i % len(CITIES)]}? #{i}"}]}).raise_for_status()
    return time.perf_counter() - start


def _seed_grid(records: EvalRecords, cases: int = 100, targets_n: int = 5) -> str:
    """A finished run of `cases` × `targets_n` cells (one repeat), written as the runner does."""
    suite = _suite(cases)
    targets = [Target("openai", "http://127.0.0.1:9/v1", f"model-{i}") for i in range(targets_n)]
    run_id = runner.start(records, suite, targets, repeats=1, concurrency=8,
                          settings=runner.RunSettings())
    now = time.time()
    for i, case in enumerate(suite.cases):
        for j, target in enumerate(targets):
            passed = (i + j) % 4 != 0
            exchange = Exchange(provider="127.0.0.1:9", model=target.model,
                                base_url=target.base_url, request_body={"model": target.model},
                                stream=False, started_at=now, ended_at=now + 0.4, status=200,
                                usage=Usage(prompt_tokens=80, completion_tokens=20))
            records.add_result(run_id, CellResult(
                case=case.name, target=target.key, repeat=0,
                status="pass" if passed else "fail",
                failures=[] if passed else ["expected no tool call, got 1: get_weather"],
                calls=[{"id": "c1", "name": "get_current_weather",
                        "arguments": '{"location": "Boston, MA"}'}],
                exchange_id=exchange.id, latency_s=0.4, total_tokens=100), exchange)
    records.set_status(run_id, "done")
    return run_id


def _median_rerun(at: AppTest, repeat: int = 7) -> float:
    at.run()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        at.run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _page(data_dir: str, *, with_run: bool) -> float:
    os.environ["TOOLSMITH_DATA_DIR"] = data_dir
    if with_run:
        _seed_grid(EvalRecords(Store.open(f"sqlite:///{data_dir}/toolsmith.db")))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.session_state["evals.view"] = "Results"  # with no runs: "No runs yet", the empty page
    at.session_state["kept.evals.view"] = at.session_state["evals.view"]
    at.switch_page("app_pages/evals.py")
    at.run()
    assert at.radio(key="evals.view").value == "Results"
    if with_run:
        assert "500/500 answered" in rendered_text(at), "the 500-cell run did not render"
    else:
        assert "No runs yet" in rendered_text(at)
    return _median_rerun(at)


def run() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    requests = CASES * 2 * REPEATS
    ideal = requests * DELAY / CONCURRENCY
    with tempfile.TemporaryDirectory(prefix="toolsmith-bench-evals-") as tmp:
        records = EvalRecords(Store.open(f"sqlite:///{tmp}/evals.db"))
        with serving("--delay", str(DELAY)) as server:
            ours, counts = _toolsmith(server, records)
            binary = _install_promptfoo()
            peer_name, peer = "sequential loop (promptfoo did not install)", None
            if binary is not None:
                try:
                    peer, peer_name = _promptfoo(binary, server), "promptfoo eval"
                except (RuntimeError, subprocess.TimeoutExpired) as exc:
                    print(f"  promptfoo: {exc}")
            if peer is None:
                peer = _sequential(server)
        rows.append({"name": f"eval run, {requests} requests of 200 ms at concurrency "
                             f"{CONCURRENCY} ({counts.get('pass', 0)} pass): Toolsmith vs "
                             "ideal", "value": ours * 1000, "unit": "ms",
                     "peer": ideal * 1000, "ratio": ours / ideal, "target": "<= 1.25"})
        rows.append({"name": f"eval run, same requests: {peer_name} vs Toolsmith (times "
                             "slower)", "value": ours * 1000, "unit": "ms",
                     "peer": peer * 1000, "ratio": peer / ours, "target": "(reported)"})
        with serving("--delay", str(DELAY), "--max-concurrent", "4",
                     "--retry-after", "0.1") as limited:
            slow, counts = _toolsmith(limited, records)
            rejected = limited.stats()["rejected"]
        ideal4 = requests * DELAY / 4
        rows.append({"name": f"eval run against a 4-at-once server (429 + Retry-After 0.1; "
                             f"{rejected} rejected): Toolsmith vs ideal at 4 — "
                             f"{counts.get('error', 0)} cells in error",
                     "value": slow * 1000, "unit": "ms", "peer": ideal4 * 1000,
                     "ratio": slow / ideal4, "target": "0 cells in error"})
    keep = os.environ.get("TOOLSMITH_DATA_DIR")
    try:
        with tempfile.TemporaryDirectory() as empty, tempfile.TemporaryDirectory() as full:
            bare = _page(empty, with_run=False)
            grid = _page(full, with_run=True)
    finally:
        if keep is None:
            os.environ.pop("TOOLSMITH_DATA_DIR", None)
        else:
            os.environ["TOOLSMITH_DATA_DIR"] = keep
    rows.append({"name": "Evals page rerun, 500-cell results grid vs the Results view with no "
                         "runs (AppTest, median of 7)", "value": grid * 1000, "unit": "ms",
                 "peer": bare * 1000,
                 "ratio": grid / bare, "target": "<= 2.0"})
    return rows


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
