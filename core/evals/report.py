"""A finished run as text for a terminal, JUnit XML for CI systems, and JSON for scripts.

JUnit has one test case per case × target (classname = suite and target), so CI dashboards
list each prompt on each model; a cell below the minimum pass rate is a <failure> naming the
failed assertions, a cell whose requests failed is an <error> with the reason.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass
from typing import Any

from core.evals.records import RunInfo
from core.evals.summary import CellSummary, Totals


@dataclass
class Report:
    run: RunInfo
    cells: dict[tuple[str, str], CellSummary]
    totals: Totals
    minimum: float

    def label(self, target_key: str) -> str:
        return next((t.label for t in self.run.targets if t.key == target_key), target_key)

    def verdict(self, cell: CellSummary) -> str:
        if cell.meets(self.minimum):
            return "PASS"
        return "ERROR" if cell.status == "error" or (cell.errors and not cell.failed) \
            else "FAIL"


def _pct(rate: float | None) -> str:
    return "—" if rate is None else f"{rate:.0%}"


def reasons(cell: CellSummary, limit: int = 3) -> list[str]:
    """The most frequent failures and errors of a cell, with how many repeats saw each."""
    seen = Counter(f for r in cell.results for f in (r.failures or ([r.error] if r.error
                                                                      else [])))
    return [f"{text} (×{n})" if n > 1 else text for text, n in seen.most_common(limit)]


def table(report: Report) -> str:
    rows = [("case", "target", "result", "verdict")]
    for cell in report.cells.values():
        rows.append((cell.case, report.label(cell.target), cell.text, report.verdict(cell)))
    widths = [min(48, max(len(r[i]) for r in rows)) for i in range(4)]
    lines = []
    for n, row in enumerate(rows):
        lines.append("  ".join(v[:w].ljust(w) for v, w in zip(row, widths, strict=True)))
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    for cell in report.cells.values():
        if not cell.meets(report.minimum):
            for reason in reasons(cell):
                lines.append(f"  {cell.case} @ {report.label(cell.target)}: {reason}")
    return "\n".join(lines)


def summary_line(report: Report) -> str:
    t = report.totals
    return (f"{t.passing}/{t.cells} cells meet the minimum pass rate {report.minimum:.0%} · "
            f"{t.passed} passed, {t.failed} failed, {t.errors} errors"
            + (f", {t.pending} not run" if t.pending else "")
            + f" · overall pass rate {_pct(t.pass_rate)} · run {report.run.id}")


def junit(report: Report) -> str:
    cells = list(report.cells.values())
    suite = ET.Element("testsuite", {
        "name": report.run.suite_name, "tests": str(len(cells)),
        "failures": str(sum(report.verdict(c) == "FAIL" for c in cells)),
        "errors": str(sum(report.verdict(c) == "ERROR" for c in cells)),
        "time": f"{_seconds(report):.3f}"})
    props = ET.SubElement(suite, "properties")
    ET.SubElement(props, "property", {"name": "run_id", "value": report.run.id})
    ET.SubElement(props, "property", {"name": "repeats", "value": str(report.run.repeats)})
    ET.SubElement(props, "property", {"name": "min_pass_rate", "value": str(report.minimum)})
    for cell in cells:
        latency = sum(r.latency_s or 0.0 for r in cell.results)
        case = ET.SubElement(suite, "testcase", {
            "classname": f"{report.run.suite_name}.{report.label(cell.target)}",
            "name": cell.case, "time": f"{latency:.3f}"})
        verdict = report.verdict(cell)
        if verdict != "PASS":
            tag = "failure" if verdict == "FAIL" else "error"
            element = ET.SubElement(case, tag, {
                "message": f"{cell.text} (minimum {report.minimum:.0%})",
                "type": "below_min_pass_rate" if tag == "failure" else "request_failed"})
            element.text = "\n".join(reasons(cell, limit=10))
        out = ET.SubElement(case, "system-out")
        out.text = "\n".join(
            f"repeat {r.repeat + 1}: {r.status}"
            + (f" — {'; '.join(r.failures)}" if r.failures else "")
            + (f" — {r.error}" if r.error else "")
            + f" — calls: {json.dumps(r.calls, ensure_ascii=False)}"
            for r in cell.results)
    root = ET.Element("testsuites")
    root.append(suite)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def _seconds(report: Report) -> float:
    end = report.run.finished_at or report.run.heartbeat_at or report.run.created_at
    return max(0.0, end - report.run.created_at)


def as_json(report: Report) -> dict[str, Any]:
    return {
        "run_id": report.run.id, "suite": report.run.suite_name,
        "status": report.run.status, "repeats": report.run.repeats,
        "min_pass_rate": report.minimum,
        "targets": [{"key": t.key, "label": t.label, "wire": t.wire, "base_url": t.base_url,
                     "model": t.model} for t in report.run.targets],
        "totals": {"cells": report.totals.cells, "meeting_minimum": report.totals.passing,
                   "passed": report.totals.passed, "failed": report.totals.failed,
                   "errors": report.totals.errors, "not_run": report.totals.pending,
                   "pass_rate": report.totals.pass_rate},
        "cells": [{
            "case": c.case, "target": c.target, "passed": c.passed, "failed": c.failed,
            "errors": c.errors, "pass_rate": c.pass_rate, "meets_minimum": c.meets(
                report.minimum),
            "repeats": [{"repeat": r.repeat, "status": r.status, "failures": r.failures,
                         "error": r.error, "calls": r.calls, "answer": r.answer,
                         "exchange_id": r.exchange_id, "latency_s": r.latency_s,
                         "total_tokens": r.total_tokens} for r in c.results],
        } for c in report.cells.values()],
    }
