"""Tool definitions: load the YAML library and check what every provider requires.

YAML is read with `safe_load` only. A file that fails to load is reported with its error and
location instead of breaking the library.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from core.types import ToolSpec

NAME_RULE = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
MAX_TOOL_FILE_BYTES = 256_000


@dataclass
class LibraryEntry:
    """One file of the tool library: a spec, or the reason it could not be read."""

    path: Path
    spec: ToolSpec | None = None
    error: str | None = None
    source: str = ""

    @property
    def name(self) -> str:
        return self.spec.name if self.spec else self.path.stem


def spec_problems(data: Any) -> list[str]:
    """What keeps a parsed document from being a tool definition providers accept."""
    if not isinstance(data, dict):
        return ["the file must hold a mapping with name, description and parameters"]
    problems = []
    name = data.get("name")
    if not isinstance(name, str) or not NAME_RULE.match(name):
        problems.append("name must be 1-64 letters, digits, '_' or '-' "
                        f"(got {name!r})")
    if not isinstance(data.get("description"), str) or not data["description"].strip():
        problems.append("description is missing; models choose tools by it")
    params = data.get("parameters", {"type": "object", "properties": {}})
    if not isinstance(params, dict):
        problems.append("parameters must be a JSON Schema object")
    elif params.get("type") != "object":
        problems.append("parameters must have type: object at the top")
    strict = data.get("strict")
    if strict is not None and not isinstance(strict, bool):
        problems.append("strict must be true or false")
    return problems


def parse_tool_yaml(text: str) -> ToolSpec:
    """A ToolSpec from YAML text; ValueError says what is wrong and where."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ValueError(f"YAML syntax error{where}: {problem}") from None
    problems = spec_problems(data)
    if problems:
        raise ValueError("; ".join(problems))
    return ToolSpec(
        name=data["name"],
        description=data["description"],
        parameters=data.get("parameters") or {"type": "object", "properties": {}},
        strict=data.get("strict"),
    )


def load_library(directory: Path) -> list[LibraryEntry]:
    """Every *.yaml / *.yml file of the library, sorted by file name; broken ones included."""
    entries = []
    for path in sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")]):
        entry = LibraryEntry(path=path)
        try:
            if path.stat().st_size > MAX_TOOL_FILE_BYTES:
                raise ValueError(f"the file is larger than {MAX_TOOL_FILE_BYTES // 1000} kB")
            entry.source = path.read_text(encoding="utf-8")
            entry.spec = parse_tool_yaml(entry.source)
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            entry.error = str(exc)
        entries.append(entry)
    return entries
