"""A run's results folded into cells (case × target): pass rate, errors, how the model called.

Pass rate counts answered repeats only: an error means the model was never asked, so it is
shown apart and never turns into a "fail". A cell meets a minimum pass rate when it has no
errors and its pass rate reaches the minimum.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field

from core.evals.records import CellResult


@dataclass
class CellSummary:
    case: str
    target: str
    passed: int = 0
    failed: int = 0
    errors: int = 0
    expected: int = 0  # repeats planned
    results: list[CellResult] = field(default_factory=list)

    @property
    def answered(self) -> int:
        return self.passed + self.failed

    @property
    def pass_rate(self) -> float | None:
        return self.passed / self.answered if self.answered else None

    @property
    def status(self) -> str:
        """pass | fail | mixed | error | pending — a word for the cell, beside its colour."""
        if not self.results:
            return "pending"
        if self.answered == 0:
            return "error"
        if self.failed == 0 and self.errors == 0:
            return "pass"
        if self.passed == 0 and self.errors == 0:
            return "fail"
        return "mixed"

    @property
    def text(self) -> str:
        """`2/3 pass`, `1/3 pass · 1 error`, `error`, `…` (pending)."""
        if not self.results:
            return "…"
        parts = [f"{self.passed}/{self.answered} pass"] if self.answered else []
        if self.errors:
            parts.append(f"{self.errors} error" + ("s" if self.errors > 1 else ""))
        missing = self.expected - len(self.results)
        if missing > 0:
            parts.append(f"{missing} pending")
        return " · ".join(parts)

    def meets(self, minimum: float) -> bool:
        rate = self.pass_rate
        return self.errors == 0 and rate is not None and rate + 1e-9 >= minimum

    def call_signatures(self) -> Counter[str]:
        """How often each distinct set of calls was made across the repeats."""
        return Counter(signature(r.calls) for r in self.results if r.status != "error")


def signature(calls: list[dict[str, object]]) -> str:
    """One line for a turn's calls: `get_weather({"location": "Boston, MA"})`, or `no call`."""
    if not calls:
        return "no call"
    parts = []
    for call in calls:
        raw = str(call.get("arguments") or "")
        try:
            args = json.dumps(json.loads(raw or "{}"), ensure_ascii=False, sort_keys=True)
        except json.JSONDecodeError:
            args = raw
        parts.append(f"{call.get('name')}({args})")
    return " + ".join(sorted(parts))


def summarize(results: list[CellResult], cases: list[str], targets: list[str],
              repeats: int) -> dict[tuple[str, str], CellSummary]:
    cells = {(c, t): CellSummary(c, t, expected=repeats) for c in cases for t in targets}
    for r in sorted(results, key=lambda r: r.repeat):
        cell = cells.setdefault((r.case, r.target), CellSummary(r.case, r.target,
                                                                expected=repeats))
        cell.results.append(r)
        if r.status == "pass":
            cell.passed += 1
        elif r.status == "fail":
            cell.failed += 1
        else:
            cell.errors += 1
    return cells


@dataclass
class Totals:
    cells: int
    passing: int  # cells meeting the minimum
    passed: int
    failed: int
    errors: int
    pending: int

    @property
    def pass_rate(self) -> float | None:
        answered = self.passed + self.failed
        return self.passed / answered if answered else None


def totals(cells: dict[tuple[str, str], CellSummary], minimum: float = 1.0) -> Totals:
    values = list(cells.values())
    return Totals(cells=len(values), passing=sum(c.meets(minimum) for c in values),
                  passed=sum(c.passed for c in values), failed=sum(c.failed for c in values),
                  errors=sum(c.errors for c in values),
                  pending=sum(max(0, c.expected - len(c.results)) for c in values))
