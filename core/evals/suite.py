"""Schema test suites: YAML files in evals/ that say which tool call a prompt should produce.

A suite names library tools (or defines them inline), optionally a system prompt, and cases:
messages plus an expectation for the next assistant turn. Parsing reports every problem with
its line and column, as tool files do, so a typo in CI points at the place to fix.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from core.tools.schemas import (
    Problem,
    document_from_spec,
    metaschema_problems,
    parse_text,
    set_problems,
    spec_from_document,
    structure_problems,
)
from core.types import Message, ToolCall, ToolSpec

ASSERTION_KEYS = ("equals", "matches", "one_of", "contains", "schema", "optional")
MAX_SUITE_BYTES = 1_000_000
_ROLES = ("system", "user", "assistant", "tool")


@dataclass
class ArgCheck:
    """What one argument must be; every key given must hold (optional: it may be absent)."""

    name: str
    equals: Any = None
    has_equals: bool = False
    matches: str | None = None
    one_of: list[Any] | None = None
    contains: Any = None
    has_contains: bool = False
    schema: dict[str, Any] | None = None
    optional: bool = False


@dataclass
class CallExpectation:
    """One expected call: the tool's name and the checks on its arguments."""

    tool: str
    args: list[ArgCheck] = field(default_factory=list)


@dataclass
class Expectation:
    """The next assistant turn: exactly these calls (any order), or no call at all."""

    calls: list[CallExpectation] = field(default_factory=list)
    no_tool: bool = False


@dataclass
class Case:
    name: str
    messages: list[Message]
    expect: Expectation


@dataclass
class Suite:
    name: str
    tools: list[ToolSpec]
    cases: list[Case]
    system: str = ""
    source: str = ""  # the YAML text as read, kept with every run
    path: str = ""


class SuiteError(ValueError):
    """A suite that cannot run; carries every problem, each with its line and column."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


# --- Locations ---------------------------------------------------------------------------------

class _Marks:
    """Line and column of each node by its path in the document, for problems found after
    parsing (an unknown tool name is only known once the whole file is read)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._root: Any = False  # composed on the first problem: a good suite never pays

    @property
    def root(self) -> Any:
        if self._root is False:
            try:
                self._root = yaml.compose(self.text, Loader=yaml.SafeLoader)  # bounded already
            except yaml.YAMLError:
                self._root = None
        return self._root

    def at(self, *path: Any, key: bool = False) -> tuple[int | None, int | None]:
        """Where the value at `path` starts (with `key`, where its key starts)."""
        node, found = self.root, self.root
        for i, step in enumerate(path):
            last = key and i == len(path) - 1
            if isinstance(node, yaml.MappingNode):
                node = next(((k if last else v) for k, v in node.value if k.value == step),
                            None)
            elif isinstance(node, yaml.SequenceNode) and isinstance(step, int) \
                    and step < len(node.value):
                node = node.value[step]
            else:
                node = None
            if node is None:
                break
            found = node
        if found is None:
            return None, None
        return found.start_mark.line + 1, found.start_mark.column + 1

    def problem(self, message: str, *path: Any, key: bool = False) -> Problem:
        line, column = self.at(*path, key=key)
        pointer = "/" + "/".join(str(p) for p in path) if path else ""
        return Problem(message, pointer, line, column)


# --- Parsing -----------------------------------------------------------------------------------

def parse_suite(text: str, library: dict[str, ToolSpec], *, name: str = "",
                path: str = "") -> tuple[Suite | None, list[Problem]]:
    """The suite in `text`, or every problem found (a suite with problems never runs)."""
    if len(text.encode("utf-8", "replace")) > MAX_SUITE_BYTES:
        return None, [Problem(f"the suite is larger than {MAX_SUITE_BYTES // 1000} kB")]
    data, problems = parse_text(text, "yaml")
    if problems:
        return None, problems
    marks = _Marks(text)
    if not isinstance(data, dict):
        return None, [marks.problem("a suite is a mapping with name, tools and cases")]
    problems = []
    for key in data:
        if key not in ("name", "description", "tools", "system", "cases"):
            problems.append(marks.problem(
                f"unknown key {key!r} (a suite has name, description, tools, system, cases)",
                key, key=True))
    tools = _tools(data.get("tools"), library, marks, problems)
    system = data.get("system") or ""
    if not isinstance(system, str):
        problems.append(marks.problem("system must be text", "system"))
        system = ""
    by_name = {t.name: t for t in tools}
    raw_cases = data.get("cases")
    cases: list[Case] = []
    if not isinstance(raw_cases, list) or not raw_cases:
        problems.append(marks.problem("cases must be a non-empty list", "cases"))
    else:
        seen: set[str] = set()
        for i, raw in enumerate(raw_cases):
            case = _case(raw, i, by_name, marks, problems)
            if case is None:
                continue
            if case.name in seen:
                problems.append(marks.problem(f"two cases are named {case.name!r}",
                                              "cases", i, "name"))
            seen.add(case.name)
            cases.append(case)
    suite_name = data.get("name") or name or "suite"
    if problems:
        return None, problems
    return Suite(name=str(suite_name), tools=tools, cases=cases, system=system, source=text,
                 path=path), []


def _tools(raw: Any, library: dict[str, ToolSpec], marks: _Marks,
           problems: list[Problem]) -> list[ToolSpec]:
    if not isinstance(raw, list) or not raw:
        problems.append(marks.problem(
            "tools must be a non-empty list of library tool names or inline definitions",
            "tools"))
        return []
    tools = []
    for i, item in enumerate(raw):
        if isinstance(item, str):
            spec = library.get(item)
            if spec is None:
                known = ", ".join(sorted(library)) or "none"
                problems.append(marks.problem(
                    f"unknown tool {item!r}: no valid tools/*.yaml defines it (known: {known})",
                    "tools", i))
            else:
                tools.append(spec)
        elif isinstance(item, dict):
            found = [p for p in structure_problems(item) if p.severity == "error"]
            for p in found:
                problems.append(marks.problem(f"inline tool: {p.message}"
                                              + (f" (at {p.pointer})" if p.pointer else ""),
                                              "tools", i))
            if not found:
                tools.append(spec_from_document(item))
        else:
            problems.append(marks.problem("a tool is a library name or an inline definition",
                                          "tools", i))
    for p in set_problems(tools):
        problems.append(marks.problem(p.message, "tools"))
    return tools


def _case(raw: Any, i: int, tools: dict[str, ToolSpec], marks: _Marks,
          problems: list[Problem]) -> Case | None:
    at = ("cases", i)
    if not isinstance(raw, dict):
        problems.append(marks.problem("a case is a mapping with name, messages and expect", *at))
        return None
    for key in raw:
        if key not in ("name", "messages", "expect"):
            problems.append(marks.problem(
                f"unknown key {key!r} (a case has name, messages, expect)", *at, key, key=True))
    name = str(raw.get("name") or f"case {i + 1}")
    messages = _messages(raw.get("messages"), marks, problems, (*at, "messages"))
    expect = _expectation(raw.get("expect"), tools, marks, problems, (*at, "expect"))
    if messages is None or expect is None:
        return None
    return Case(name=name, messages=messages, expect=expect)


def _messages(raw: Any, marks: _Marks, problems: list[Problem],
              at: tuple[Any, ...]) -> list[Message] | None:
    if isinstance(raw, str) and raw.strip():
        return [Message("user", raw)]
    if not isinstance(raw, list) or not raw:
        problems.append(marks.problem(
            "messages is one user message (text) or a non-empty list of messages", *at))
        return None
    out: list[Message] = []
    calls_open: set[str] = set()
    before = len(problems)
    for j, item in enumerate(raw):
        where = (*at, j)
        if isinstance(item, str):
            item = {"role": "user", "content": item}
        if not isinstance(item, dict) or item.get("role") not in _ROLES:
            problems.append(marks.problem(
                f"a message needs a role ({', '.join(_ROLES)}) and content", *where))
            continue
        role = item["role"]
        content = item.get("content") or ""
        if not isinstance(content, str):
            content = json.dumps(content, ensure_ascii=False)
        message = Message(role, content)
        if role == "assistant":
            for k, call in enumerate(item.get("tool_calls") or []):
                if not isinstance(call, dict) or not isinstance(call.get("name"), str):
                    problems.append(marks.problem("a tool call needs a name",
                                                  *where, "tool_calls", k))
                    continue
                args = call.get("arguments", {})
                text = args if isinstance(args, str) else json.dumps(args, ensure_ascii=False)
                call_id = str(call.get("id") or f"call_{j}_{k}")
                message.tool_calls.append(ToolCall(call_id, call["name"], text))
                calls_open.add(call_id)
        if role == "tool":
            answered = item.get("tool_call_id")
            if answered not in calls_open:
                problems.append(marks.problem(
                    f"tool_call_id {answered!r} answers no earlier assistant tool call",
                    *where))
                continue
            calls_open.discard(answered)
            message.tool_call_id = answered
            message.name = item.get("name")
            message.is_error = bool(item.get("is_error"))
        out.append(message)
    if len(problems) > before:
        return None
    if calls_open:
        problems.append(marks.problem(
            "every assistant tool call needs a tool message answering it before the turn "
            f"under test (unanswered: {', '.join(sorted(calls_open))})", *at))
        return None
    return out


def _expectation(raw: Any, tools: dict[str, ToolSpec], marks: _Marks,
                 problems: list[Problem], at: tuple[Any, ...]) -> Expectation | None:
    if not isinstance(raw, dict):
        problems.append(marks.problem(
            "expect needs `tool: NAME`, `tools: [A, B]` or `no_tool: true`", *at))
        return None
    for key in raw:
        if key not in ("tool", "tools", "no_tool", "args"):
            problems.append(marks.problem(
                f"unknown key {key!r} (expect has tool, tools, no_tool, args)", *at, key, key=True))
    given = [k for k in ("tool", "tools", "no_tool") if raw.get(k) not in (None, False)]
    if len(given) != 1:
        problems.append(marks.problem(
            "expect needs exactly one of `tool`, `tools` or `no_tool: true`", *at))
        return None
    if given == ["no_tool"]:
        if raw.get("args"):
            problems.append(marks.problem("args make no sense with no_tool", *at, "args"))
        return Expectation(no_tool=True)
    if given == ["tool"]:
        call = _call(raw["tool"], raw.get("args"), tools, marks, problems, at, "tool")
        return Expectation(calls=[call]) if call else None
    if raw.get("args"):
        problems.append(marks.problem(
            "with `tools`, give args per call: `tools: [{tool: NAME, args: {...}}, ...]`",
            *at, "args", key=True))
    items = raw["tools"]
    if not isinstance(items, list) or not items:
        problems.append(marks.problem("tools must be a non-empty list", *at, "tools"))
        return None
    calls = []
    for k, item in enumerate(items):
        if isinstance(item, dict):
            call = _call(item.get("tool"), item.get("args"), tools, marks, problems,
                         (*at, "tools", k), "tool")
        else:
            call = _call(item, None, tools, marks, problems, (*at, "tools"), k)
        if call:
            calls.append(call)
    return Expectation(calls=calls) if len(calls) == len(items) else None


def _call(name: Any, args: Any, tools: dict[str, ToolSpec], marks: _Marks,
          problems: list[Problem], at: tuple[Any, ...], key: Any) -> CallExpectation | None:
    if not isinstance(name, str) or name not in tools:
        problems.append(marks.problem(
            f"expected tool {name!r} is not one of this suite's tools "
            f"({', '.join(sorted(tools)) or 'none'})", *at, key))
        return None
    if args is None:
        return CallExpectation(name)
    if not isinstance(args, dict):
        problems.append(marks.problem("args is a mapping of argument name to assertion",
                                      *at, "args"))
        return None
    checks = []
    for arg, spec in args.items():
        check = _arg_check(str(arg), spec, marks, problems, (*at, "args", arg))
        if check:
            checks.append(check)
    return CallExpectation(name, checks) if len(checks) == len(args) else None


def _arg_check(name: str, spec: Any, marks: _Marks, problems: list[Problem],
               at: tuple[Any, ...]) -> ArgCheck | None:
    """A plain value means equals; a mapping is an assertion (a typo in an assertion key must
    not turn silently into an equality with a mapping, so objects are compared via equals)."""
    if not isinstance(spec, dict):
        return ArgCheck(name, equals=spec, has_equals=True)
    before = len(problems)
    unknown = [k for k in spec if k not in ASSERTION_KEYS]
    if unknown:
        problems.append(marks.problem(
            f"unknown assertion {unknown[0]!r} (use {', '.join(ASSERTION_KEYS)}; to compare "
            "with a mapping, write `equals: {...}`)", *at, unknown[0], key=True))
    check = ArgCheck(name, optional=bool(spec.get("optional", False)))
    if "equals" in spec:
        check.equals, check.has_equals = spec["equals"], True
    if "matches" in spec:
        pattern = spec["matches"]
        try:
            re.compile(str(pattern))
            check.matches = str(pattern)
        except re.error as exc:
            problems.append(marks.problem(f"matches is not a valid regular expression: {exc}",
                                          *at, "matches"))
    if "one_of" in spec:
        if isinstance(spec["one_of"], list) and spec["one_of"]:
            check.one_of = spec["one_of"]
        else:
            problems.append(marks.problem("one_of needs a non-empty list", *at, "one_of"))
    if "contains" in spec:
        check.contains, check.has_contains = spec["contains"], True
    if "schema" in spec:
        schema = spec["schema"]
        found = metaschema_problems(schema, "") if isinstance(schema, dict) else [
            Problem("a JSON Schema is a mapping")]
        for p in found:
            problems.append(marks.problem(f"schema: {p.message}", *at, "schema"))
        if not found:
            check.schema = schema
    if not isinstance(spec.get("optional", False), bool):
        problems.append(marks.problem("optional is true or false", *at, "optional"))
    return check if len(problems) == before else None


# --- Files -------------------------------------------------------------------------------------

@dataclass
class SuiteFile:
    """One file of evals/: the suite, or the problems that keep it from running."""

    path: Path
    source: str
    suite: Suite | None
    problems: list[Problem]

    @property
    def name(self) -> str:
        return self.suite.name if self.suite else self.path.stem


# Parsed files by path, valid while the file (mtime, size) and the library's specs are the
# same: the Evals page lists every suite on each rerun.
_parsed: dict[Path, tuple[tuple[Any, ...], SuiteFile]] = {}


def read_suite(path: Path, library: dict[str, ToolSpec]) -> SuiteFile:
    try:
        stat = path.stat()
        # The library by content, not by object id: a freed spec's id can be reused by the
        # edited one, which would serve a suite parsed against the old definition.
        stamp: tuple[Any, ...] = (stat.st_mtime_ns, stat.st_size, tuple(
            (n, t.description, json.dumps(t.parameters, sort_keys=True), t.strict)
            for n, t in library.items()))
    except OSError:
        stamp = ()
    cached = _parsed.get(path)
    if stamp and cached is not None and cached[0] == stamp:
        return cached[1]
    found = _read_suite(path, library)
    if stamp:
        _parsed[path] = (stamp, found)
    return found


def _read_suite(path: Path, library: dict[str, ToolSpec]) -> SuiteFile:
    try:
        if path.stat().st_size > MAX_SUITE_BYTES:
            return SuiteFile(path, "", None, [Problem(
                f"the file is larger than {MAX_SUITE_BYTES // 1000} kB")])
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return SuiteFile(path, "", None, [Problem(f"the file cannot be read: {exc}")])
    suite, problems = parse_suite(text, library, name=path.stem, path=str(path))
    return SuiteFile(path, text, suite, problems)


def load_suites(directory: Path, library: dict[str, ToolSpec]) -> list[SuiteFile]:
    files = sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")])
    return [read_suite(p, library) for p in files]


def tool_documents(suite: Suite) -> list[dict[str, Any]]:
    """The exact tool definitions a run sends (without canned results), kept with the run."""
    docs = []
    for spec in suite.tools:
        doc = document_from_spec(spec)
        doc.pop("results", None)
        docs.append(doc)
    return docs
