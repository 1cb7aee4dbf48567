"""Comparing two runs (typically before and after a schema edit): what changed in the tool
definitions, and per case and target how the pass rate and the calls moved.

Both sides come from what each run stored, so the comparison holds after the files changed.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any

import yaml

from core.evals.records import EvalRecords, RunInfo
from core.evals.summary import CellSummary, summarize


@dataclass
class ToolChange:
    name: str
    kind: str  # "changed" | "added" | "removed"
    diff: str = ""  # unified diff of the YAML definitions


@dataclass
class CellChange:
    case: str
    target: str  # target key
    before: CellSummary | None
    after: CellSummary | None
    calls_before: list[str] = field(default_factory=list)  # signatures, most common first
    calls_after: list[str] = field(default_factory=list)

    @property
    def delta(self) -> float | None:
        a = self.before.pass_rate if self.before else None
        b = self.after.pass_rate if self.after else None
        return None if a is None or b is None else b - a

    @property
    def calls_changed(self) -> bool:
        return set(self.calls_before) != set(self.calls_after)


@dataclass
class Comparison:
    before: RunInfo
    after: RunInfo
    tools: list[ToolChange]
    cells: list[CellChange]
    settings_changed: list[str]
    suite_changed: bool


def _yaml(doc: dict[str, Any]) -> list[str]:
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100).splitlines(True)


def tool_changes(before: list[dict[str, Any]], after: list[dict[str, Any]]) -> list[ToolChange]:
    old = {d["name"]: d for d in before}
    new = {d["name"]: d for d in after}
    out = []
    for name in [*old, *(n for n in new if n not in old)]:
        if name not in new:
            out.append(ToolChange(name, "removed"))
        elif name not in old:
            out.append(ToolChange(name, "added", "".join(_yaml(new[name]))))
        elif old[name] != new[name]:
            diff = difflib.unified_diff(_yaml(old[name]), _yaml(new[name]),
                                        f"{name} (before)", f"{name} (after)", n=2)
            out.append(ToolChange(name, "changed", "".join(diff)))
    return out


def _cells(records: EvalRecords, run: RunInfo) -> dict[tuple[str, str], CellSummary]:
    results = records.results(run.id)
    cases = list(dict.fromkeys(r.case for r in results))
    return summarize(results, cases, [t.key for t in run.targets], run.repeats)


def compare(records: EvalRecords, before_id: str, after_id: str) -> Comparison:
    before, after = records.run(before_id), records.run(after_id)
    if before is None or after is None:
        raise KeyError(before_id if before is None else after_id)
    a, b = _cells(records, before), _cells(records, after)
    cells = []
    for key in [*a, *(k for k in b if k not in a)]:
        x, y = a.get(key), b.get(key)
        if (x is None or not x.results) and (y is None or not y.results):
            continue
        cells.append(CellChange(
            key[0], key[1], x, y,
            [s for s, _ in x.call_signatures().most_common()] if x else [],
            [s for s, _ in y.call_signatures().most_common()] if y else []))
    settings = sorted(k for k in {*before.settings, *after.settings}
                      if before.settings.get(k) != after.settings.get(k))
    return Comparison(before, after, tool_changes(before.tools, after.tools), cells, settings,
                      before.suite_source != after.suite_source)
