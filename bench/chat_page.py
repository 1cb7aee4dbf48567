"""Chat-page rerun cost with 10 / 100 / 1,000-message sessions, against a naive chat page,
both measured with AppTest in the same run (median of several reruns)."""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path

from streamlit.testing.v1 import AppTest

from bench.sessions import conversation
from components.state import ChatState

ROOT = Path(__file__).resolve().parent.parent


def _median_rerun(at: AppTest, repeat: int) -> float:
    at.run()  # first run: imports, caches
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        at.run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _ours(n: int, repeat: int) -> float:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.session_state["chat.state"] = ChatState(conversation=conversation(n))
    return _median_rerun(at, repeat)


def _naive(n: int, repeat: int) -> float:
    at = AppTest.from_file(str(ROOT / "bench" / "naive_chat.py"), default_timeout=120)
    at.session_state["naive.messages"] = [
        {"role": m.role, "content": m.content,
         "tool_calls": [{"id": c.id, "name": c.name, "arguments": c.arguments}
                        for c in m.tool_calls]}
        for m in conversation(n).messages]
    return _median_rerun(at, repeat)


def run(sizes: tuple[int, ...] = (10, 100, 1000)) -> list[dict[str, object]]:
    os.environ.setdefault("TOOLSMITH_DATA_DIR", tempfile.mkdtemp(prefix="toolsmith-bench-"))
    rows = []
    for n in sizes:
        repeat = 7  # medians: a shared 2-core machine has noisy single runs
        ours, naive = _ours(n, repeat), _naive(n, repeat)
        rows.append({"name": f"Chat page rerun, {n:,} messages: Toolsmith vs naive page "
                             "(AppTest)", "value": ours * 1000, "unit": "ms",
                     "peer": naive * 1000, "ratio": ours / naive,
                     "target": "<= 0.25 at 1,000" if n == 1000 else "(reported)"})
    return rows
