"""Canned results and the result box's example, fitted to the call being answered.

A tool's canned results are written once, for one example call ("Boston, MA", celsius); offered
as they are, a call for Paris in fahrenheit gets a Boston result. So a canned JSON result takes
the call's own value for every field the call names as an argument of the same kind (a string
for a string), wherever it sits in the result; fields the call does not name keep the example's
value, except that temperatures follow a unit switched between celsius and fahrenheit. A result
that is not JSON, or a field of another kind (the amount a conversion returns is not the amount
it was given), is left as written.
"""

from __future__ import annotations

import json
from typing import Any

from core.types import ToolCall

PLACEHOLDER_CHARS = 200
_TO_F = {("celsius", "fahrenheit"): lambda c: c * 9 / 5 + 32,
         ("fahrenheit", "celsius"): lambda f: (f - 32) * 5 / 9}


def _converted(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """Temperature fields in the object's new unit, when its unit changed C <-> F."""
    unit = (str(before.get("unit", "")).lower(), str(after.get("unit", "")).lower())
    convert = _TO_F.get(unit)
    if convert is None:
        return after
    return {key: round(convert(item)) if "temp" in key.lower() and isinstance(item, int | float)
            and not isinstance(item, bool) else item for key, item in after.items()}


def _fitted(value: Any, arguments: dict[str, Any]) -> Any:
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            given = arguments.get(key)
            if isinstance(item, str) and isinstance(given, str) and given.strip():
                out[key] = given
            else:
                out[key] = _fitted(item, arguments)
        return _converted(value, out)
    if isinstance(value, list):
        return [_fitted(item, arguments) for item in value]
    return value


def fit(text: str, call: ToolCall) -> str:
    """`text` (a canned result) with the call's string arguments in the fields of their name."""
    arguments, _ = call.parsed_arguments()
    if not isinstance(arguments, dict) or not arguments:
        return text
    try:
        value = json.loads(text)
    except ValueError:
        return text
    fitted = _fitted(value, arguments)
    return text if fitted == value else json.dumps(fitted, ensure_ascii=False)


def fitted_results(results: dict[str, str], call: ToolCall) -> dict[str, str]:
    """Each named canned result of the call's tool, fitted to the call."""
    return {label: fit(text, call) for label, text in results.items()}


def placeholder(results: dict[str, str], call: ToolCall) -> str:
    """The result box's example: the tool's first canned result fitted to the call, else the
    call itself named, so the example never describes another tool."""
    if results:
        example = fit(next(iter(results.values())), call)
        if len(example) > PLACEHOLDER_CHARS:
            example = example[:PLACEHOLDER_CHARS - 1] + "…"
        return f"e.g. {example}"
    arguments = call.arguments.strip()
    if len(arguments) > PLACEHOLDER_CHARS:
        arguments = arguments[:PLACEHOLDER_CHARS - 1] + "…"
    return f"What {call.name or 'the tool'}({arguments}) returned, as JSON or text"
