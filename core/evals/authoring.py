"""Writing suites: new files, cases from a form or from a conversation, appended to the text.

A case is appended to the YAML text itself when the file ends with its `cases:` list (the usual
layout), so the author's comments and formatting survive; otherwise the document is re-dumped.
Either way the result is parsed again before it is offered for saving.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from core.types import Message

NAME_RULE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
KINDS = ("equals", "matches", "one_of", "contains")


@dataclass
class ArgRow:
    """One row of the case form: an argument, how it is checked, the value, optional."""

    argument: str
    kind: str = "equals"
    value: str = ""
    optional: bool = False


def _value(text: str) -> Any:
    """Form text as YAML would read it (42 is a number, [a, b] a list), else the text."""
    try:
        return yaml.safe_load(text) if text.strip() else ""
    except yaml.YAMLError:
        return text


def arg_assertion(row: ArgRow) -> Any:
    if row.kind == "equals" and not row.optional and not isinstance(_value(row.value), dict):
        return _value(row.value)
    if row.kind == "matches":
        spec: dict[str, Any] = {"matches": row.value}
    elif row.kind == "one_of":
        found = _value(row.value)
        spec = {"one_of": found if isinstance(found, list) else
                [v.strip() for v in row.value.split(",") if v.strip()]}
    else:
        spec = {row.kind: _value(row.value)}
    if row.optional:
        spec["optional"] = True
    return spec


def case_document(name: str, messages: Any, expected_tool: str | None,
                  rows: list[ArgRow] | None = None) -> dict[str, Any]:
    """A case as the YAML mapping a person would write."""
    expect: dict[str, Any] = {"no_tool": True} if not expected_tool else {"tool": expected_tool}
    args = {r.argument: arg_assertion(r) for r in rows or [] if r.argument.strip()}
    if expected_tool and args:
        expect["args"] = args
    return {"name": name, "messages": messages, "expect": expect}


def _message_document(message: Message) -> dict[str, Any]:
    doc: dict[str, Any] = {"role": message.role, "content": message.content}
    if message.tool_calls:
        doc["tool_calls"] = []
        for call in message.tool_calls:
            args, error = call.parsed_arguments()
            doc["tool_calls"].append({"id": call.id, "name": call.name,
                                      "arguments": call.arguments if error else args})
        if not message.content:
            doc.pop("content")
    if message.role == "tool":
        doc["tool_call_id"] = message.tool_call_id
        if message.is_error:
            doc["is_error"] = True
    return doc


def case_from_conversation(messages: list[Message], user_index: int,
                           name: str = "") -> dict[str, Any]:
    """The conversation up to the user message at `user_index` as a case; what the model did
    next (its calls with their exact arguments, or no call) is the expectation, for the user
    to loosen in the form."""
    prefix = [m for m in messages[: user_index + 1] if m.role != "system"]
    following = next((m for m in messages[user_index + 1:] if m.role == "assistant"), None)
    first = messages[user_index].content.strip().splitlines()[0] if messages[user_index].content \
        else "case"
    title = name or (first[:60] + ("…" if len(first) > 60 else ""))
    body: Any = prefix[0].content if len(prefix) == 1 else [_message_document(m)
                                                              for m in prefix]
    if following is None or not following.tool_calls:
        return {"name": title, "messages": body, "expect": {"no_tool": True}}
    calls = []
    for call in following.tool_calls:
        args, error = call.parsed_arguments()
        entry: dict[str, Any] = {"tool": call.name}
        if not error and isinstance(args, dict) and args:
            entry["args"] = {k: ({"equals": v} if isinstance(v, dict) else v)
                             for k, v in args.items()}
        calls.append(entry)
    expect = calls[0] if len(calls) == 1 else {"tools": calls}
    return {"name": title, "messages": body, "expect": expect}


def dump(document: Any) -> str:
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100)


def append_case(text: str, case: dict[str, Any]) -> str:
    """`text` with the case added at the end of its `cases:` list."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        root = None
    block = dump([case])
    if isinstance(root, yaml.MappingNode) and root.value:
        key, value = root.value[-1]
        if key.value == "cases" and isinstance(value, yaml.SequenceNode) \
                and not value.flow_style and value.value:
            indent = value.value[0].start_mark.column - 2
            lines = [(" " * indent + line) if line else line for line in block.splitlines()]
            return text.rstrip("\n") + "\n\n" + "\n".join(lines) + "\n"
    data = yaml.safe_load(text) if root is not None else None
    if not isinstance(data, dict):
        data = {"name": "suite", "tools": [], "cases": []}
    cases = data.get("cases")
    data["cases"] = [*(cases if isinstance(cases, list) else []), case]
    return dump(data)


def expected_tools(case: dict[str, Any]) -> list[str]:
    """The tool names a case's expectation names, in order."""
    expect = case.get("expect") or {}
    names = [expect["tool"]] if isinstance(expect.get("tool"), str) else [
        t if isinstance(t, str) else t.get("tool") for t in expect.get("tools") or []]
    return list(dict.fromkeys(n for n in names if isinstance(n, str)))


def new_suite_text(name: str, tools: list[str], case: dict[str, Any] | None = None) -> str:
    """A new suite: around `case` (with the tools it expects), or a first example case."""
    if case is not None:
        return dump({"name": name, "tools": list(dict.fromkeys(
            [*expected_tools(case), *tools])) or tools, "cases": [case]})
    return dump({"name": name, "tools": tools or ["get_current_weather"], "cases": [
        {"name": "first case", "messages": "What's the weather like in Boston today?",
         "expect": {"tool": (tools or ["get_current_weather"])[0]}}]})


def suite_path(directory: Path, name: str) -> Path:
    """The file for a suite name; the name must be a plain file name (no folders)."""
    stem = name.removesuffix(".yaml").removesuffix(".yml")
    if not NAME_RULE.match(stem):
        raise ValueError("a suite file name uses letters, digits, '_', '-' and '.' "
                         "(at most 64), e.g. weather_tools")
    return directory / f"{stem}.yaml"


def save_text(path: Path, text: str) -> None:
    """Write atomically: a reader (the CLI, another tab) never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".yaml")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.write(text)
    os.replace(temp, path)
