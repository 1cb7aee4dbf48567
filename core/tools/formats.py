"""Tool lists in the formats people paste: each wire format's `tools` (the registry's), and
MCP tools/list.

Import detects the format per item, so a mixed or wrapped list (a whole request body, a
JSON-RPC `tools/list` response) works too. Size is capped before parsing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from core.tools.schemas import EMPTY_PARAMETERS, Problem, parse_text, structure_problems
from core.types import ToolSpec
from core.wire import formats, wire_format

MAX_IMPORT_BYTES = 1_000_000
ExportFormat = str  # a wire format's name, or "mcp"
MCP = "mcp"


def export_formats() -> dict[str, str]:
    """Export targets by name, with labels: every wire format's tools list, then MCP's."""
    return {**{f.name: f"{f.label} tools" for f in formats()}, MCP: "MCP tools/list"}


def to_openai(specs: list[ToolSpec]) -> list[dict[str, Any]]:
    return [wire_format("openai").tool_to_wire(spec) for spec in specs]


def to_anthropic(specs: list[ToolSpec]) -> list[dict[str, Any]]:
    return [wire_format("anthropic").tool_to_wire(spec) for spec in specs]


def to_mcp(specs: list[ToolSpec]) -> dict[str, Any]:
    """The `result` of an MCP tools/list response."""
    return {"tools": [{"name": s.name, "description": s.description, "inputSchema": s.parameters}
                      for s in specs]}


def export(specs: list[ToolSpec], fmt: ExportFormat) -> str:
    data: Any = to_mcp(specs) if fmt == MCP else [wire_format(fmt).tool_to_wire(spec)
                                                   for spec in specs]
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


@dataclass
class ImportResult:
    specs: list[ToolSpec] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    formats: set[str] = field(default_factory=set)


def _items(data: Any) -> list[Any] | None:
    """The list of tools inside whatever wrapper was pasted."""
    if isinstance(data, list):
        return data
    if isinstance(data, dict):
        if isinstance(data.get("result"), dict):  # a JSON-RPC response
            data = data["result"]
        if isinstance(data.get("tools"), list):
            return data["tools"]
        if "name" in data or "function" in data:
            return [data]
    return None


def _document(item: Any) -> tuple[dict[str, Any] | None, str]:
    """A library document (name, description, parameters, strict) and the format it came in."""
    if not isinstance(item, dict):
        return None, ""
    for fmt in formats():
        doc = fmt.tool_from_wire(item)
        if doc is not None:
            return doc, fmt.name
    if "inputSchema" in item:
        return {"name": item.get("name"), "description": item.get("description", ""),
                "parameters": item["inputSchema"]}, "mcp"
    if "name" in item:
        return {k: v for k, v in item.items() if k in
                ("name", "description", "parameters", "strict", "results")}, "function"
    return None, ""


def parse_import(text: str) -> ImportResult:
    """Tools out of pasted or uploaded text (JSON or YAML), each checked like a library file."""
    result = ImportResult()
    if len(text.encode("utf-8", "replace")) > MAX_IMPORT_BYTES:
        result.problems.append(Problem(
            f"the import is larger than {MAX_IMPORT_BYTES // 1_000_000} MB; split it"))
        return result
    looks_json = text.lstrip()[:1] in ("[", "{")
    data, problems = parse_text(text, "json" if looks_json else "yaml")
    if problems and looks_json and "enclosed in double quotes" in problems[0].message:
        # YAML flow style ({name: x}) starts with a brace too, with keys unquoted.
        yaml_data, yaml_problems = parse_text(text, "yaml")
        if not yaml_problems:
            data, problems = yaml_data, []
    if problems:
        result.problems = problems
        return result
    items = _items(data)
    if items is None:
        result.problems.append(Problem(
            "no tool list found: paste an OpenAI tools array, an Anthropic tools list, or an "
            "MCP tools/list result"))
        return result
    seen: dict[str, int] = {}  # name -> index of its first definition
    for index, item in enumerate(items):
        doc, fmt = _document(item)
        if doc is None:
            result.problems.append(Problem("not a tool definition in any known format",
                                           f"/{index}"))
            continue
        item_problems = [p for p in structure_problems(doc) if p.severity == "error"]
        if item_problems:
            result.problems.extend(Problem(p.message, f"/{index}{p.pointer}")
                                   for p in item_problems)
            continue
        first = seen.get(doc["name"])
        if first is not None:
            result.problems.append(Problem(
                f"a second tool named {doc['name']!r} (the first is /{first}); tool names must "
                "be unique, so only the first is imported", f"/{index}"))
            continue
        seen[doc["name"]] = index
        result.formats.add(fmt)
        result.specs.append(ToolSpec(
            name=doc["name"], description=doc["description"],
            parameters=doc.get("parameters") or dict(EMPTY_PARAMETERS),
            strict=doc.get("strict"), results=dict(doc.get("results") or {}),
        ))
    return result


def import_plan(incoming: list[ToolSpec], existing: Mapping[str, ToolSpec] | set[str],
                ) -> list[tuple[str, str]]:
    """What an import will do, per tool: ("add" | "replace" [with a note], name)."""
    plan = []
    for spec in incoming:
        if spec.name not in existing:
            plan.append(("add", spec.name))
            continue
        old = existing.get(spec.name) if isinstance(existing, Mapping) else None
        kept = old.results if old is not None and old.results and not spec.results else {}
        plan.append(("replace, keeping its canned results" if kept else "replace", spec.name))
    return plan


def keep_canned_results(incoming: ToolSpec, old: ToolSpec | None) -> ToolSpec:
    """The imported tool, with the replaced tool's canned results when it brings none: the
    OpenAI, Anthropic and MCP formats have no place for them, so an import would drop them."""
    if old is None or incoming.results or not old.results:
        return incoming
    return replace(incoming, results=dict(old.results))
