"""Checking one assistant turn against a case's expectation.

Every failure is a sentence naming the assertion that failed and what the model did instead,
so a red cell explains itself. Independently of the expectation, every call is checked against
the schema that was sent: a call that breaks its own tool's schema never passes.
"""

from __future__ import annotations

import itertools
import json
import re
from dataclasses import dataclass
from typing import Any

from core.evals.suite import ArgCheck, CallExpectation, Expectation
from core.tools.schemas import argument_violations
from core.types import Message, ToolCall, ToolSpec

_MISSING = object()


@dataclass
class Verdict:
    passed: bool
    failures: list[str]


def short(value: Any, limit: int = 80) -> str:
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def check_arg(check: ArgCheck, value: Any) -> list[str]:
    """Why `value` fails `check` ([] when it holds); `_MISSING` for an absent argument."""
    name = check.name
    if value is _MISSING:
        return [] if check.optional else [f"argument {name!r} is missing"]
    out = []
    if check.has_equals and value != check.equals:
        out.append(f"{name}: expected {short(check.equals)}, got {short(value)}")
    if check.matches is not None:
        if not isinstance(value, str):
            out.append(f"{name}: matches {check.matches!r} needs text, got {short(value)}")
        elif re.search(check.matches, value) is None:
            out.append(f"{name}: {short(value)} does not match {check.matches!r}")
    if check.one_of is not None and value not in check.one_of:
        out.append(f"{name}: {short(value)} is not one of {short(check.one_of)}")
    if check.has_contains:
        needle = check.contains
        if (isinstance(value, str) and isinstance(needle, str)) or isinstance(value, list):
            holds = needle in value
        elif isinstance(value, dict) and isinstance(needle, dict):
            holds = all(value.get(k, _MISSING) == v for k, v in needle.items())
        else:
            holds = False
        if not holds:
            out.append(f"{name}: {short(value)} does not contain {short(needle)}")
    if check.schema is not None:
        for v in argument_violations(value, check.schema):
            out.append(f"{name}{v.pointer}: {v.message} (schema assertion)")
    return out


def _call_failures(expected: CallExpectation, call: ToolCall) -> list[str]:
    if call.name != expected.tool:
        return [f"expected a call to {expected.tool}, got {call.name}"]
    args, error = call.parsed_arguments()
    if error is not None:
        return [f"{call.name}: arguments are {error}"]
    if not isinstance(args, dict):
        return [f"{call.name}: arguments are {short(args)}, not an object"]
    out = []
    for check in expected.args:
        out += [f"{call.name}: {f}" for f in check_arg(check, args.get(check.name, _MISSING))]
    return out


def schema_failures(calls: list[ToolCall], tools: list[ToolSpec]) -> list[str]:
    """Every call against the schema sent with the request (unknown tools included)."""
    by_name = {t.name: t for t in tools}
    out = []
    for call in calls:
        spec = by_name.get(call.name)
        if spec is None:
            out.append(f"{call.name!r} is not a tool that was sent")
            continue
        args, error = call.parsed_arguments()
        if error is not None:
            out.append(f"{call.name}: arguments are {error}")
            continue
        for v in argument_violations(args, spec.parameters):
            out.append(f"{call.name}: breaks its schema at {v.pointer or '/'}: {v.message}")
    return out


def _names(calls: list[Any]) -> str:
    return ", ".join(str(getattr(c, "name", None) or getattr(c, "tool", "?"))
                     for c in calls) or "none"


def evaluate(expect: Expectation, message: Message, tools: list[ToolSpec]) -> Verdict:
    """The verdict on one answer: the expectation's failures, then schema failures."""
    calls = message.tool_calls
    failures: list[str] = []
    if expect.no_tool:
        if calls:
            failures.append(f"expected no tool call, got {len(calls)}: {_names(calls)}")
    elif not calls:
        said = " ".join(message.content.split())
        failures.append(f"expected a call to {_names(expect.calls)}, got no tool call"
                        + (f" (it answered: {short(said, 100)})" if said else ""))
    elif len(calls) != len(expect.calls):
        failures.append(f"expected {len(expect.calls)} call(s) ({_names(expect.calls)}), "
                        f"got {len(calls)} ({_names(calls)})")
    else:
        failures += _best_match(expect.calls, calls)
    failures += [f for f in schema_failures(calls, tools) if f not in failures]
    return Verdict(passed=not failures, failures=failures)


def _best_match(expected: list[CallExpectation], calls: list[ToolCall]) -> list[str]:
    """Parallel calls may come in any order: the pairing with the fewest failures counts."""
    best: list[str] | None = None
    orders = itertools.permutations(calls) if len(calls) <= 6 else [tuple(calls)]
    for order in orders:
        failures = [f for e, c in zip(expected, order, strict=True)
                    for f in _call_failures(e, c)]
        if best is None or len(failures) < len(best):
            best = failures
        if not best:
            break
    return best or []
